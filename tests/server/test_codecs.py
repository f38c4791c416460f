"""Every compression.type a real client may set (gzip, snappy, lz4, zstd) works end to end: confluent-kafka,
kafka-python and aiokafka produce compressed batches, the simulated leader stores them with that codec, and
the same client reads every record back from the server's re-encoded (re-compressed) batches."""

from __future__ import annotations

import asyncio

import pytest

pytestmark = pytest.mark.timeout(120)
CODECS = ["gzip", "snappy", "lz4", "zstd"]
N = 200


def _values() -> list[bytes]:
    # compressible, or a client may send the batch uncompressed (kafka-python does when it saves nothing)
    return [f"order-{i:05d}:{'payload ' * 20}".encode() for i in range(N)]


def _assert_stored(cluster, h, topic: str, codec: str) -> None:
    """The leader stored the client's batches with `codec` (a client sends a small batch that compression
    would not shrink uncompressed, as librdkafka and kafka-python do: a loaded machine may split batches)."""

    def read() -> set[str]:
        leader = cluster.controller.partitions[(topic, 0)].leader
        return {b.compression for b in cluster.brokers[leader].replicas[(topic, 0)].log.batches()}

    stored = h.call(read)
    assert codec in stored and stored <= {codec, "none"}, stored


@pytest.mark.parametrize("codec", CODECS)
def test_confluent_kafka_codec(serve, codec):
    ck = pytest.importorskip("confluent_kafka")
    cluster, h = serve(brokers=1, config={"offsets.topic.replication.factor": 1})
    topic = f"ck-{codec}"
    h.call(cluster.create_topic, topic, 1, 1)
    prod = ck.Producer({"bootstrap.servers": h.bootstrap, "compression.type": codec, "linger.ms": 20})
    errors = []
    for v in _values():
        prod.produce(topic, value=v, on_delivery=lambda err, _m: errors.append(err) if err else None)
    assert prod.flush(30) == 0 and not errors, errors
    _assert_stored(cluster, h, topic, codec)
    cons = ck.Consumer({"bootstrap.servers": h.bootstrap, "group.id": "ck", "enable.auto.commit": False})
    cons.assign([ck.TopicPartition(topic, 0, 0)])
    got = []
    try:
        for _ in range(200):
            m = cons.poll(0.2)
            if m is not None:
                assert m.error() is None, m.error()
                got.append(m.value())
            if len(got) >= N:
                break
    finally:
        cons.close()
    assert got == _values()


@pytest.mark.parametrize("codec", CODECS)
def test_kafka_python_codec(serve, codec):
    kafka = pytest.importorskip("kafka")
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition

    if not {"gzip": lambda: True, **{c: getattr(kafka.codec, f"has_{c}") for c in CODECS[1:]}}[codec]():
        pytest.skip(f"kafka-python has no {codec} library (the dev extra installs them)")
    cluster, h = serve(brokers=1, config={"offsets.topic.replication.factor": 1})
    topic = f"kp-{codec}"
    h.call(cluster.create_topic, topic, 1, 1)
    prod = KafkaProducer(bootstrap_servers=h.bootstrap, compression_type=codec, linger_ms=20)
    futures = [prod.send(topic, value=v) for v in _values()]
    prod.flush(30)
    prod.close()
    assert all(f.succeeded() for f in futures)
    _assert_stored(cluster, h, topic, codec)
    cons = KafkaConsumer(
        bootstrap_servers=h.bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=10000
    )
    cons.assign([TopicPartition(topic, 0)])
    got = []
    try:
        for rec in cons:
            got.append(rec.value)
            if len(got) >= N:
                break
    finally:
        cons.close()
    assert got == _values()


@pytest.mark.parametrize("codec", CODECS)
def test_aiokafka_codec(serve, codec):
    aiokafka = pytest.importorskip("aiokafka")
    cluster, h = serve(brokers=1, config={"offsets.topic.replication.factor": 1})
    topic = f"aio-{codec}"
    h.call(cluster.create_topic, topic, 1, 1)

    async def run() -> list[bytes]:
        prod = aiokafka.AIOKafkaProducer(bootstrap_servers=h.bootstrap, compression_type=codec, linger_ms=20)
        await prod.start()
        try:
            futures = [await prod.send(topic, value=v) for v in _values()]
            await asyncio.gather(*futures)
        finally:
            await prod.stop()
        cons = aiokafka.AIOKafkaConsumer(bootstrap_servers=h.bootstrap, auto_offset_reset="earliest")
        await cons.start()
        got: list[bytes] = []
        try:
            cons.assign([aiokafka.TopicPartition(topic, 0)])
            await cons.seek_to_beginning()
            while len(got) < N:
                batch = await asyncio.wait_for(cons.getmany(timeout_ms=500), 30)
                for recs in batch.values():
                    got.extend(r.value for r in recs)
        finally:
            await cons.stop()
        return got

    got = asyncio.run(run())
    _assert_stored(cluster, h, topic, codec)
    assert got == _values()
