"""Must-show 3: crash the partition leader's broker through the engine while a kafka-python producer runs.

The client's connection is reset, it refreshes metadata, finds the newly elected leader and carries on; with
acks=all, RF=3 and min.insync.replicas=2 nothing it was told is acknowledged goes missing. A preferred-leader
election afterwards shows NOT_LEADER_OR_FOLLOWER reaching the client and being retried."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from conftest import Worker, wait_until

kafka = pytest.importorskip("kafka")
from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import KafkaAdminClient, NewTopic  # noqa: E402

pytestmark = pytest.mark.timeout(120)
TOPIC = "ledger"


def _leader(cluster, p: int = 0):
    return cluster.controller.partitions[(TOPIC, p)].leader


def test_leader_crash_while_producing(serve, caplog):
    caplog.set_level(logging.INFO, logger="kafka")
    cluster, h = serve()
    admin = KafkaAdminClient(bootstrap_servers=h.bootstrap, request_timeout_ms=10000)
    admin.create_topics([NewTopic(TOPIC, 1, 3, topic_configs={"min.insync.replicas": "2"})])
    admin.close()

    prod = KafkaProducer(
        bootstrap_servers=h.bootstrap,
        acks="all",
        linger_ms=2,
        client_id="kp-failover",
        compression_type="gzip",
        request_timeout_ms=5000,
        delivery_timeout_ms=60000,
        retry_backoff_ms=100,
    )
    acked: dict[int, int] = {}
    failed: list = []
    lock = threading.Lock()
    phase = {"n": 0, "stop_at": 0}

    def on_ok(i: int, md) -> None:
        with lock:
            acked[i] = md.offset

    def on_err(i: int, exc) -> None:
        with lock:
            failed.append((i, exc))

    def produce(count: int) -> None:
        start = phase["n"]
        for i in range(start, start + count):
            f = prod.send(TOPIC, key=f"acct-{i % 50}".encode(), value=str(i).encode())
            f.add_callback(lambda md, i=i: on_ok(i, md))
            f.add_errback(lambda exc, i=i: on_err(i, exc))
            phase["n"] = i + 1
            time.sleep(0.001)
        prod.flush(60)

    # phase 1: crash the leader while records are flowing
    w = Worker(lambda: produce(3000), "producer-1")
    w.start()
    wait_until(lambda: len(acked) >= 500, 30, what="500 acknowledged records")
    old = h.call(_leader, cluster)
    h.call(cluster.crash_broker, old)
    w.finish(90)
    new = h.call(_leader, cluster)
    assert new is not None and new != old
    assert not failed, failed[:3]
    assert len(acked) == 3000
    assert prod._metadata.leader_for_partition(TopicPartition(TOPIC, 0)) == new, "client refreshed metadata"
    crash_seen = h.call(lambda: next(e.seq for e in cluster.events.events if e.kind == "broker_crashed"))
    sent_after = h.call(
        lambda: [
            e
            for e in cluster.events.since(crash_seen)
            if e.kind == "batch_sent" and "kp-failover" in e.actors
        ]
    )
    assert sent_after and all(e.data["broker"] == new for e in sent_after)
    log_text = caplog.text
    assert any(s in log_text for s in ("Connection refused", "disconnected", "Disconnected", "NotLeader")), (
        "the client noticed the leader's connection going away"
    )

    # phase 2: the old broker comes back, catches up, and a preferred-leader election moves leadership back
    h.call(cluster.restart_broker, old)
    wait_until(
        lambda: h.call(lambda: old in cluster.controller.partitions[(TOPIC, 0)].isr),
        30,
        what="restarted broker back in the ISR",
    )
    caplog.clear()
    w = Worker(lambda: produce(1500), "producer-2")
    w.start()
    wait_until(lambda: len(acked) >= 3300, 30, what="producing again")
    assert h.call(cluster.preferred_leader_election, TOPIC) == 1
    w.finish(90)
    assert not failed, failed[:3]
    assert len(acked) == 4500
    assert h.call(_leader, cluster) == old
    assert "NotLeader" in caplog.text, "NOT_LEADER_OR_FOLLOWER reached the client, which retried"
    prod.close()

    # nothing acknowledged is lost: every acked record is at its acked offset, read back over the wire
    assert h.call(lambda: cluster.losses.lost_count) == 0
    snap = h.call(cluster.snapshot)
    assert next(pv for pv in snap.producers if pv.id == "kp-failover").config["compression.type"] == "gzip"
    c = KafkaConsumer(bootstrap_servers=h.bootstrap, enable_auto_commit=False, client_id="kp-check")
    tp = TopicPartition(TOPIC, 0)
    c.assign([tp])
    c.seek_to_beginning(tp)
    seen: dict[int, int] = {}
    deadline = time.monotonic() + 30
    while len(seen) < len(acked) and time.monotonic() < deadline:
        for recs in c.poll(timeout_ms=300).values():
            for r in recs:
                seen.setdefault(int(r.value), r.offset)
    c.close()
    missing = [i for i in acked if i not in seen]
    assert not missing, f"{len(missing)} acknowledged records missing, e.g. {missing[:5]}"
    assert all(seen[i] == off for i, off in acked.items())
