"""The application's happy path against a simulated 3-broker cluster (the kafka_bootstrap fixture)."""

import pytest
from kafka import KafkaConsumer
from orders import TOPIC, Totals, order, publish

ORDERS = [
    order("alice", 5),
    order("bob", 7),
    order("alice", 3),
]


def test_totals_per_customer(kafka_bootstrap):
    kafka_bootstrap.create_topic(TOPIC, partitions=3)
    publish(kafka_bootstrap.bootstrap, ORDERS)
    app = Totals(kafka_bootstrap.bootstrap)
    try:
        assert app.run(3) == {"alice": 8, "bob": 7}
    finally:
        app.close()


def test_one_customer_stays_on_one_partition_in_order(kafka_bootstrap):
    kafka_bootstrap.create_topic(TOPIC, partitions=6)
    placed = publish(kafka_bootstrap.bootstrap, [order("alice", i) for i in range(10)])
    assert len({p for p, _ in placed}) == 1  # the key's murmur2 hash picks the partition
    assert [o for _, o in placed] == list(range(10))


def test_a_restarted_app_resumes_after_its_committed_offset(kafka_bootstrap):
    kafka_bootstrap.create_topic(TOPIC)
    publish(kafka_bootstrap.bootstrap, ORDERS)
    first = Totals(kafka_bootstrap.bootstrap)
    first.run(3)
    first.close()
    publish(kafka_bootstrap.bootstrap, [order("carol", 1)])
    second = Totals(kafka_bootstrap.bootstrap)  # same group: starts at the committed offset
    try:
        assert second.run(1) == {"carol": 1}
    finally:
        second.close()


def test_a_topic_is_created_on_first_use(kafka_bootstrap):
    # auto.create.topics.enable=true (Kafka's default): the first Metadata request for it creates it
    publish(kafka_bootstrap.bootstrap, ORDERS[:1])
    assert kafka_bootstrap.leader(TOPIC, 0) is not None


@pytest.mark.kafka(brokers=1)
def test_a_single_broker_cluster_like_a_docker_compose_one(kafka_bootstrap):
    assert len(kafka_bootstrap.brokers) == 1
    publish(kafka_bootstrap.bootstrap, ORDERS)
    consumer = KafkaConsumer(
        TOPIC,
        bootstrap_servers=kafka_bootstrap.bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=10000,
    )
    try:
        assert len([next(consumer) for _ in ORDERS]) == 3
    finally:
        consumer.close()
