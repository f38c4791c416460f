"""Must-show 2: the same with confluent-kafka (librdkafka) as admin, producer and two group members."""

from __future__ import annotations

import threading
import time

import pytest
from conftest import Worker, wait_until

from engine.partitioner import partition_for_key

ck = pytest.importorskip("confluent_kafka")
from confluent_kafka import Consumer, Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

pytestmark = pytest.mark.timeout(120)
N = 10_000
PARTS = 3


def test_confluent_produce_and_group_consume(serve):
    cluster, h = serve()
    admin = AdminClient({"bootstrap.servers": h.bootstrap})
    fs = admin.create_topics(
        [NewTopic("payments", PARTS, 3, config={"min.insync.replicas": "2"})], request_timeout=10
    )
    fs["payments"].result(timeout=15)
    assert h.call(lambda: "payments" in cluster.topics)

    got: dict[str, list] = {"a": [], "b": []}
    assigned: dict[str, set] = {"a": set(), "b": set()}
    stop = threading.Event()
    lock = threading.Lock()

    def consume(name: str) -> None:
        c = Consumer(
            {
                "bootstrap.servers": h.bootstrap,
                "group.id": "g2",
                "client.id": f"rd-{name}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": True,
                "auto.commit.interval.ms": 500,
                "session.timeout.ms": 10000,
                "heartbeat.interval.ms": 1000,
            }
        )
        c.subscribe(["payments"])
        deadline = time.monotonic() + 100
        try:
            while not stop.is_set() and time.monotonic() < deadline:
                msgs = c.consume(num_messages=500, timeout=0.2)
                assigned[name] = {tp.partition for tp in c.assignment()}
                with lock:
                    for m in msgs:
                        assert m.error() is None, m.error()
                        got[name].append((m.partition(), m.offset(), m.key(), m.value()))
        finally:
            c.close()

    workers = [Worker(lambda n=n: consume(n), f"consumer-{n}") for n in ("a", "b")]
    for w in workers:
        w.start()
    wait_until(
        lambda: assigned["a"] and assigned["b"] and len(assigned["a"] | assigned["b"]) == PARTS,
        40,
        what="two members sharing the partitions",
    )
    assert not assigned["a"] & assigned["b"]

    acked: dict[int, tuple[int, int]] = {}
    errors: list = []

    def delivered(err, msg) -> None:
        if err is not None:
            errors.append(err)
        else:
            acked[int(msg.value())] = (msg.partition(), msg.offset())

    # librdkafka's default partitioner is CRC32-based; murmur2_random is the Java client's (Kafka's) choice
    prod = Producer(
        {
            "bootstrap.servers": h.bootstrap,
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 5,
            "partitioner": "murmur2_random",
            "client.id": "rd-producer",
        }
    )
    for i in range(N):
        while True:
            try:
                prod.produce(
                    "payments", key=f"user-{i % 397}".encode(), value=str(i).encode(), on_delivery=delivered
                )
                break
            except BufferError:
                prod.poll(0.05)
        prod.poll(0)
    assert prod.flush(60) == 0
    assert not errors and len(acked) == N
    for i, (p, _off) in acked.items():
        assert p == partition_for_key(f"user-{i % 397}".encode(), PARTS)

    wait_until(lambda: len(got["a"]) + len(got["b"]) >= N, 60, what=f"{N} records consumed")
    snap = h.call(cluster.snapshot)
    group = next(g for g in snap.groups if g.group_id == "g2")
    assert group.state == "Stable" and len(group.members) == 2 and all(m.alive for m in group.members)
    time.sleep(0.5)
    stop.set()
    for w in workers:
        w.finish(30)

    records = got["a"] + got["b"]
    assert len(records) == N, "every record once per group"
    assert {int(v) for *_, v in records} == set(range(N))
    for name in ("a", "b"):
        for p in {p for p, *_ in got[name]}:
            assert p in assigned[name]
            offs = [o for q, o, _k, _v in got[name] if q == p]
            vals = [int(v) for q, _o, _k, v in got[name] if q == p]
            assert offs == sorted(offs) and vals == sorted(vals), "per-partition order"
    for p, off, key, value in records:
        assert p == partition_for_key(key, PARTS)
        assert acked[int(value)] == (p, off)
    snap = h.call(cluster.snapshot)
    producer = next(pv for pv in snap.producers if pv.id == "rd-producer")
    assert producer.acked == N and producer.producer_id is not None
    assert h.call(lambda: cluster.losses.lost_count) == 0
