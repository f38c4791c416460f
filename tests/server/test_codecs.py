"""Every compression.type a real client may set (gzip, snappy, lz4, zstd) works end to end: confluent-kafka,
kafka-python and aiokafka produce compressed batches, the simulated leader stores them with that codec, and
the same client reads every record back from the server's re-encoded (re-compressed) batches."""

from __future__ import annotations

import asyncio
from itertools import islice

import pytest

pytestmark = pytest.mark.timeout(120)
CODECS = ["gzip", "snappy", "lz4", "zstd"]
N = 200


def _values() -> list[bytes]:
    # compressible, or a client may send the batch uncompressed (kafka-python does when it saves nothing)
    return [f"order-{i:05d}:{'payload ' * 20}".encode() for i in range(N)]


def _confluent_kafka(ck, bootstrap: str, topic: str, codec: str) -> list[bytes]:
    prod = ck.Producer({"bootstrap.servers": bootstrap, "compression.type": codec, "linger.ms": 20})
    errors = []
    for v in _values():
        prod.produce(topic, value=v, on_delivery=lambda err, _m: errors.append(err) if err else None)
    assert prod.flush(30) == 0 and not errors, errors
    cons = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": "ck", "enable.auto.commit": False})
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
    return got


def _kafka_python(kafka, bootstrap: str, topic: str, codec: str) -> list[bytes]:
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition

    prod = KafkaProducer(bootstrap_servers=bootstrap, compression_type=codec, linger_ms=20)
    futures = [prod.send(topic, value=v) for v in _values()]
    prod.flush(30)
    prod.close()
    assert all(f.succeeded() for f in futures)
    cons = KafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=10000)
    cons.assign([TopicPartition(topic, 0)])
    try:
        return [rec.value for rec in islice(cons, N)]  # the iteration ends after consumer_timeout_ms idle
    finally:
        cons.close()


def _aiokafka(aiokafka, bootstrap: str, topic: str, codec: str) -> list[bytes]:
    async def run() -> list[bytes]:
        prod = aiokafka.AIOKafkaProducer(bootstrap_servers=bootstrap, compression_type=codec, linger_ms=20)
        await prod.start()
        try:
            futures = [await prod.send(topic, value=v) for v in _values()]
            await asyncio.gather(*futures)
        finally:
            await prod.stop()
        cons = aiokafka.AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest")
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

    return asyncio.run(run())


# the client's module -> produce every value with compression.type=codec, then read them back
CLIENTS = {"confluent_kafka": _confluent_kafka, "kafka": _kafka_python, "aiokafka": _aiokafka}


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("client", list(CLIENTS))
def test_codec_round_trip(serve, client, codec):
    lib = pytest.importorskip(client)
    if client == "kafka" and codec != "gzip" and not getattr(lib.codec, f"has_{codec}")():
        pytest.skip(f"kafka-python has no {codec} library (the dev extra installs them)")
    cluster, h = serve(brokers=1, config={"offsets.topic.replication.factor": 1})
    topic = f"{client}-{codec}"
    h.call(cluster.create_topic, topic, 1, 1)

    got = CLIENTS[client](lib, h.bootstrap, topic, codec)

    def stored() -> set[str]:
        leader = cluster.controller.partitions[(topic, 0)].leader
        return {b.compression for b in cluster.brokers[leader].replicas[(topic, 0)].log.batches()}

    assert got == _values()
    # the leader stored the batches with `codec` (a client sends a small batch that compression would not
    # shrink uncompressed, as librdkafka and kafka-python do: a loaded machine may split batches)
    codecs = h.call(stored)
    assert codec in codecs and codecs <= {codec, "none"}, codecs
