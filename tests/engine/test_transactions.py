"""Transactions and exactly-once (KIP-98/447): fencing, markers, read_committed vs read_uncommitted."""

from __future__ import annotations

import random

import pytest

from engine import Cluster
from engine.errors import ConfigError, InvalidTxnStateError, ProducerFencedError

SAFE = {"min.insync.replicas": 2}
_state: dict = {}


def _read(c: Cluster, topic: str, isolation: str, name: str) -> list[bytes]:
    k = c.consumer(name, config={"auto.offset.reset": "earliest", "isolation.level": isolation})
    k.assign([(topic, p) for p in range(c.topics[topic].partitions)])
    out, idle = [], 0
    while idle < 6:
        recs = k.poll(500)
        idle = 0 if recs else idle + 1
        out.extend(r.value for r in recs)
    return out


def test_zombie_producer_is_fenced_after_a_new_instance_inits():
    c = Cluster(brokers=3, seed=1)
    c.create_topic("out", partitions=2, replication_factor=3, config=SAFE)
    old = c.producer("app-1", {"transactional.id": "payments-app"})
    old.init_transactions()
    old.begin_transaction()
    old.send("out", key="k", value="from-the-zombie")
    old.flush()
    new = c.producer("app-2", {"transactional.id": "payments-app"})
    new.init_transactions()  # bumps the epoch and aborts what the old instance left open
    with pytest.raises(ProducerFencedError, match="payments-app"):
        old.commit_transaction()
    new.begin_transaction()
    new.send("out", key="k", value="from-the-new-instance")
    new.commit_transaction()
    assert _read(c, "out", "read_committed", "rc") == [b"from-the-new-instance"]
    assert sorted(_read(c, "out", "read_uncommitted", "ru")) == [b"from-the-new-instance", b"from-the-zombie"]
    kinds = [e.kind for e in c.events.events]
    assert "txn_init" in kinds and "txn_completed" in kinds


def test_aborted_records_are_skipped_only_by_read_committed():
    c = Cluster(brokers=3, seed=2)
    c.create_topic("out", partitions=1, replication_factor=3, config=SAFE)
    p = c.producer("p", {"transactional.id": "t1"})
    p.init_transactions()
    p.begin_transaction()
    for i in range(3):
        p.send("out", value=f"kept-{i}")
    p.commit_transaction()
    p.begin_transaction()
    for i in range(3):
        p.send("out", value=f"aborted-{i}")
    p.flush()
    p.abort_transaction()
    p.begin_transaction()
    p.send("out", value="kept-3")
    p.commit_transaction()
    assert _read(c, "out", "read_committed", "rc") == [b"kept-0", b"kept-1", b"kept-2", b"kept-3"]
    ru = _read(c, "out", "read_uncommitted", "ru")
    assert ru == [b"kept-0", b"kept-1", b"kept-2", b"aborted-0", b"aborted-1", b"aborted-2", b"kept-3"]
    log = c.leader_replica(("out", 0)).log
    assert [b.control for b in log.batches() if b.control] == [
        "COMMIT",
        "ABORT",
        "COMMIT",
    ]  # markers take offsets


def test_read_committed_waits_below_the_last_stable_offset():
    c = Cluster(brokers=3, seed=3)
    c.create_topic("out", partitions=1, replication_factor=3, config=SAFE)
    p = c.producer("p", {"transactional.id": "t1"})
    p.init_transactions()
    p.begin_transaction()
    p.send("out", value="open")
    p.flush()  # acknowledged and below the HW, but the transaction is still open
    rc = c.consumer("rc", config={"auto.offset.reset": "earliest", "isolation.level": "read_committed"})
    rc.assign([("out", 0)])
    assert rc.poll(2000) == []
    p.commit_transaction()
    assert [r.value for r in rc.poll(2000)] == [b"open"]


def test_transactional_calls_out_of_order_and_bad_configs():
    c = Cluster(brokers=3, seed=4)
    c.create_topic("out", partitions=1, replication_factor=3)
    p = c.producer("p", {"transactional.id": "t1"})
    with pytest.raises(InvalidTxnStateError, match="init_transactions"):
        p.begin_transaction()
    p.init_transactions()
    with pytest.raises(InvalidTxnStateError, match="begin_transaction"):
        p.send("out", value="x")
    with pytest.raises(ConfigError, match="transactional.id needs the idempotent producer"):
        c.producer("q", {"transactional.id": "t2", "acks": "1"})


def _eos_run(seed: int) -> tuple[list[bytes], list[bytes], int]:
    """Consume-transform-produce with transactions; the app and one broker crash at random moments."""
    rng = random.Random(seed)
    c = Cluster(brokers=3, seed=seed)
    c.create_topic("in", partitions=3, replication_factor=3, config=SAFE)
    c.create_topic("out", partitions=3, replication_factor=3, config=SAFE)
    src = c.producer("source")
    n = 60
    for i in range(n):
        src.send("in", key=f"k{i % 7}", value=f"order-{i}")
    src.flush()
    group_cfg = {
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 2000,
        "max.poll.records": 7,
    }
    app_crash_at = rng.randint(1, 4)
    broker_crash_at = rng.randint(0, 6)
    generation = 0
    crashes = 0

    def start_app():
        nonlocal generation
        generation += 1
        k = c.consumer(f"app-consumer-{generation}", group_id="eos", topics=["in"], config=group_cfg)
        p = c.producer(f"app-producer-{generation}", {"transactional.id": "eos-app"})
        p.init_transactions()
        return k, p

    k, p = start_app()
    rounds = 0
    while rounds < 200:
        rounds += 1
        recs = k.poll(1000)
        if rounds == broker_crash_at + 3:
            c.crash_broker(rng.randint(1, 3))
        if not recs:
            if rounds > 30 and all(not x for x in [k.poll(500), k.poll(500)]):
                break
            continue
        p.begin_transaction()
        for r in recs:
            p.send("out", key=r.key, value=r.value + b"!")
        offsets = {}
        for r in recs:
            offsets[(r.topic, r.partition)] = max(offsets.get((r.topic, r.partition), 0), r.offset + 1)
        p.send_offsets_to_transaction(offsets, "eos")
        if crashes == 0 and rounds >= app_crash_at:
            p.flush()  # the outputs are in the log, uncommitted ...
            p.crash()  # ... when the whole app dies
            k.crash()
            crashes += 1
            k, p = start_app()  # the replacement fences the zombie and aborts its transaction
            continue
        p.commit_transaction()
    _state["last"] = c
    expected = sorted(f"order-{i}!".encode() for i in range(n))
    return expected, _read(c, "out", "read_committed", "rc"), len(_read(c, "out", "read_uncommitted", "ru"))


@pytest.mark.parametrize("seed", range(6))
def test_exactly_once_consume_transform_produce_survives_crashes(seed):
    expected, committed, uncommitted_count = _eos_run(seed)
    assert sorted(committed) == expected  # every input's result exactly once
    assert uncommitted_count > len(committed)  # read_uncommitted also sees the aborted attempt's outputs
