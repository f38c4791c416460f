"""A user's own test file, run against the installed wheel in a fresh virtual environment by test_wheel.py
(copied there as test_external.py): kafka-python against the `kafka_bootstrap` fixture, which the installed
package's pytest11 entry point provides. Nothing here comes from the checkout."""

import sys

import pytest
from kafka import KafkaConsumer, KafkaProducer


def test_the_plugin_loads_no_ui_library():
    assert not {"streamlit", "plotly", "networkx"} & set(sys.modules)


@pytest.mark.kafka(brokers=3, config={"min.insync.replicas": 2})
def test_group_keeps_consuming_after_the_leader_crashes(kafka_bootstrap):
    kafka_bootstrap.create_topic("orders", partitions=1, replication_factor=3)
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap.bootstrap, acks="all", retry_backoff_ms=100)
    consumer = KafkaConsumer(
        "orders",
        bootstrap_servers=kafka_bootstrap.bootstrap,
        group_id="billing",
        auto_offset_reset="earliest",
        consumer_timeout_ms=20000,
        retry_backoff_ms=100,
    )
    for i in range(5):
        producer.send("orders", key=b"k", value=b"before-%d" % i).get(timeout=20)
    seen = [next(consumer).value for _ in range(5)]
    assert seen == [b"before-%d" % i for i in range(5)]
    consumer.commit()

    leader = kafka_bootstrap.wait_for_leader("orders", 0)
    kafka_bootstrap.crash_broker(leader)
    new = kafka_bootstrap.wait_for_leader("orders", 0, other_than=leader)
    assert new != leader
    for i in range(5):
        producer.send("orders", key=b"k", value=b"after-%d" % i).get(timeout=30)
    seen = [next(consumer).value for _ in range(5)]
    assert seen == [b"after-%d" % i for i in range(5)]
    producer.close()
    consumer.close()
