"""Must-show 1: kafka-python creates a topic, produces 10,000 keyed records with acks=all, and a two-member
group consumes each exactly once, in per-partition order, at the partitions Kafka's partitioner picks."""

from __future__ import annotations

import threading
import time

import pytest
from conftest import Worker, wait_until

from engine.partitioner import partition_for_key

kafka = pytest.importorskip("kafka")
from kafka import KafkaConsumer, KafkaProducer  # noqa: E402
from kafka.admin import KafkaAdminClient, NewTopic  # noqa: E402

pytestmark = pytest.mark.timeout(120)
N = 10_000
PARTS = 3


def test_kafka_python_produce_and_group_consume(serve):
    cluster, h = serve()
    admin = KafkaAdminClient(bootstrap_servers=h.bootstrap, request_timeout_ms=10000)
    admin.create_topics([NewTopic("orders", PARTS, 3, topic_configs={"min.insync.replicas": "2"})])
    admin.close()
    assert h.call(lambda: cluster.topics["orders"].replication_factor) == 3

    got: dict[str, list] = {"a": [], "b": []}
    assigned: dict[str, set] = {"a": set(), "b": set()}
    stop = threading.Event()
    lock = threading.Lock()

    def consume(name: str) -> None:
        c = KafkaConsumer(
            "orders",
            bootstrap_servers=h.bootstrap,
            group_id="g1",
            auto_offset_reset="earliest",
            enable_auto_commit=True,
            auto_commit_interval_ms=500,
            client_id=f"kp-{name}",
            session_timeout_ms=10000,
            heartbeat_interval_ms=1000,
        )
        deadline = time.monotonic() + 100
        try:
            while not stop.is_set() and time.monotonic() < deadline:
                batch = c.poll(timeout_ms=200)
                assigned[name] = {tp.partition for tp in c.assignment()}
                with lock:
                    for recs in batch.values():
                        got[name].extend((r.partition, r.offset, r.key, r.value) for r in recs)
        finally:
            c.close()

    workers = [Worker(lambda n=n: consume(n), f"consumer-{n}") for n in ("a", "b")]
    for w in workers:
        w.start()
    # both members in, each owning part of the topic, before a record is written: no rebalance mid-way
    wait_until(
        lambda: assigned["a"] and assigned["b"] and len(assigned["a"] | assigned["b"]) == PARTS,
        30,
        what="two members sharing the partitions",
    )
    assert not assigned["a"] & assigned["b"]

    prod = KafkaProducer(bootstrap_servers=h.bootstrap, acks="all", linger_ms=5, client_id="kp-producer")
    futures = [
        (i, prod.send("orders", key=f"user-{i % 397}".encode(), value=str(i).encode())) for i in range(N)
    ]
    prod.flush(60)
    meta = {i: f.get(timeout=10) for i, f in futures}
    prod.close()
    for i, md in meta.items():
        assert md.partition == partition_for_key(f"user-{i % 397}".encode(), PARTS)

    wait_until(lambda: len(got["a"]) + len(got["b"]) >= N, 60, what=f"{N} records consumed")
    # the real group members are members of the simulated coordinator's group, and show in snapshots
    snap = h.call(cluster.snapshot)
    group = next(g for g in snap.groups if g.group_id == "g1")
    assert group.state == "Stable" and len(group.members) == 2
    assert all(m.alive and m.client_id.startswith("kp-") for m in group.members)
    views = {k.id: k for k in snap.consumers if k.group_id == "g1"}
    assert {m.client_id for m in group.members} <= set(views)
    assert sum(len(views[m.client_id].assignment) for m in group.members) == PARTS
    time.sleep(0.5)  # anything extra (a duplicate) would show up now
    stop.set()
    for w in workers:
        w.finish(30)

    records = got["a"] + got["b"]
    assert len(records) == N, "every record once per group"
    assert {int(v) for *_, v in records} == set(range(N))
    for name in ("a", "b"):
        parts = {p for p, *_ in got[name]}
        assert parts <= assigned[name]
        for p in parts:
            offs = [o for q, o, _k, _v in got[name] if q == p]
            vals = [int(v) for q, _o, _k, v in got[name] if q == p]
            assert offs == sorted(offs) and vals == sorted(vals), "per-partition order"
    for p, off, key, value in records:
        assert p == partition_for_key(key, PARTS)
        assert (meta[int(value)].partition, meta[int(value)].offset) == (p, off)

    # the real clients are visible inside the simulation
    snap = h.call(cluster.snapshot)
    producer = next(pv for pv in snap.producers if pv.id == "kp-producer")
    assert producer.acked == N and producer.producer_id is not None  # idempotent: InitProducerId was used
    kinds = h.call(lambda: {e.kind for e in cluster.events.events})
    assert {
        "batch_appended",
        "batch_acked",
        "member_joined",
        "assignment_received",
        "records_fetched",
        "offsets_committed",
    } <= kinds
    assert h.call(lambda: cluster.losses.lost_count) == 0
