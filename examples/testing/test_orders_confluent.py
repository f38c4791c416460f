"""The same cluster for a confluent-kafka (librdkafka) client."""

from confluent_kafka import Consumer, Producer
from orders import TOPIC


def test_confluent_producer_and_group_consumer(kafka_bootstrap):
    kafka_bootstrap.create_topic(TOPIC, partitions=2)
    producer = Producer({"bootstrap.servers": kafka_bootstrap.bootstrap, "enable.idempotence": True})
    acked = []
    for i in range(10):
        producer.produce(TOPIC, key=f"c{i % 3}", value=str(i), on_delivery=lambda e, m: acked.append(e))
    assert producer.flush(15) == 0 and acked == [None] * 10

    consumer = Consumer(
        {"bootstrap.servers": kafka_bootstrap.bootstrap, "group.id": "audit", "auto.offset.reset": "earliest"}
    )
    consumer.subscribe([TOPIC])
    got = []
    try:
        while len(got) < 10:
            msg = consumer.poll(15)
            assert msg is not None, f"only {len(got)} of 10 records arrived"
            assert msg.error() is None, msg.error()
            got.append(int(msg.value()))
    finally:
        consumer.close()
    assert sorted(got) == list(range(10))
