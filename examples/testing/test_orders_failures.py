"""The application under broker failures: the fixture's fault injection acts on the running cluster."""

import time

import pytest
from kafka import KafkaProducer
from kafka.errors import KafkaTimeoutError, NotEnoughReplicasError
from orders import TOPIC, Totals, order, publish


def test_consuming_goes_on_after_the_leader_crashes(kafka_bootstrap):
    kafka_bootstrap.create_topic(TOPIC, partitions=1, replication_factor=3)
    app = Totals(kafka_bootstrap.bootstrap)
    try:
        publish(kafka_bootstrap.bootstrap, [order("alice", 1)])
        app.run(1)
        leader = kafka_bootstrap.wait_for_leader(TOPIC, 0)
        kafka_bootstrap.crash_broker(leader)
        assert kafka_bootstrap.wait_for_leader(TOPIC, 0, other_than=leader) != leader
        publish(kafka_bootstrap.bootstrap, [order("alice", 2)])
        assert app.run(1) == {"alice": 3}
    finally:
        app.close()


def test_a_restarted_broker_catches_up_and_rejoins_the_isr(kafka_bootstrap):
    kafka_bootstrap.create_topic(TOPIC, partitions=1, replication_factor=3)
    leader = kafka_bootstrap.wait_for_leader(TOPIC, 0)
    follower = next(b for b in kafka_bootstrap.brokers if b != leader)
    kafka_bootstrap.crash_broker(follower)
    publish(kafka_bootstrap.bootstrap, [order("bob", i) for i in range(20)])
    kafka_bootstrap.restart_broker(follower)
    deadline = time.monotonic() + 20
    while follower not in kafka_bootstrap.isr(TOPIC, 0):
        assert time.monotonic() < deadline, (
            f"broker {follower} never rejoined: {kafka_bootstrap.isr(TOPIC, 0)}"
        )
        time.sleep(0.05)


@pytest.mark.kafka(config={"min.insync.replicas": 3})
def test_acks_all_is_refused_while_too_few_replicas_are_in_sync(kafka_bootstrap):
    kafka_bootstrap.create_topic(TOPIC, partitions=1, replication_factor=3)
    leader = kafka_bootstrap.wait_for_leader(TOPIC, 0)
    follower = next(b for b in kafka_bootstrap.brokers if b != leader)
    kafka_bootstrap.crash_broker(follower)
    while len(kafka_bootstrap.isr(TOPIC, 0)) == 3:  # fenced after broker.session.timeout.ms
        time.sleep(0.05)
    producer = KafkaProducer(
        bootstrap_servers=kafka_bootstrap.bootstrap, acks="all", retries=0, request_timeout_ms=5000
    )
    try:
        with pytest.raises((NotEnoughReplicasError, KafkaTimeoutError)):
            producer.send(TOPIC, b"refused").get(timeout=10)
    finally:
        producer.close()


def test_an_isolated_leader_is_replaced(kafka_bootstrap):
    kafka_bootstrap.create_topic(TOPIC, partitions=1, replication_factor=3)
    leader = kafka_bootstrap.wait_for_leader(TOPIC, 0)
    kafka_bootstrap.isolate_broker(leader, clients_can_reach=False)  # its requests go unanswered
    new = kafka_bootstrap.wait_for_leader(TOPIC, 0, other_than=leader)
    # a client on the majority side of the partition: it knows only the brokers it can reach
    reachable = ",".join(f"127.0.0.1:{port}" for b, port in kafka_bootstrap.ports.items() if b != leader)
    assert publish(reachable, [order("dan", 1)]) == [(0, 0)]
    assert kafka_bootstrap.leader(TOPIC, 0) == new
