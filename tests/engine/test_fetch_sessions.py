"""KIP-227 incremental fetch sessions between brokers: less work per fetch, the same Kafka behaviour.

`max.incremental.fetch.session.cache.slots=0` is Kafka's switch to turn sessions off (every follower fetch
names every partition). A run with sessions must be indistinguishable from one without: the same events at
the same times, and the same final state, through crashes, restarts, isolation and retention.
"""

from __future__ import annotations

import random

import pytest

from engine import Cluster
from engine.broker import Broker

OFF = {"max.incremental.fetch.session.cache.slots": 0}


def _run(seed: int, broker_config: dict) -> list:
    """A busy topic, an idle topic, a consumer group, and a seeded schedule of broker faults."""
    rng = random.Random(seed)
    c = Cluster(brokers=4, seed=seed, config={"offsets.topic.num.partitions": 10, **broker_config})
    c.create_topic(
        "t",
        partitions=4,
        replication_factor=3,
        config={"min.insync.replicas": 2, "retention.ms": 4000, "segment.ms": 500},
    )
    c.create_topic("idle", partitions=6, replication_factor=3)
    p = c.producer("p1", config={"acks": "all", "linger.ms": 5})
    k = c.consumer("c1", group_id="g", topics=["t"], config={"auto.offset.reset": "earliest"})
    down: set[int] = set()
    cut: set[int] = set()
    for _ in range(40):
        for i in range(rng.randint(0, 30)):
            p.send("t", key=f"k{i}".encode(), value=b"v" * 30)
        c.run_for(rng.randint(20, 400))
        k.poll(timeout_ms=10)
        roll = rng.random()
        b = rng.randint(1, 4)
        if roll < 0.12 and b not in down and len(down | cut) < 1:
            c.crash_broker(b)
            down.add(b)
        elif roll < 0.24 and b in down:
            c.restart_broker(b)
            down.discard(b)
        elif roll < 0.32 and b not in down | cut and len(down | cut) < 1:
            c.isolate_broker(b)
            cut.add(b)
        elif roll < 0.44 and b in cut:
            c.heal_broker(b)
            cut.discard(b)
    for b in down:
        c.restart_broker(b)
    for b in cut:
        c.heal_broker(b)
    c.run_for(40_000)  # long enough for ISR expiry (replica.lag.time.max.ms) and retention to play out
    return [(e.time_ms, e.kind, e.summary) for e in c.events.since(0)] + [
        repr(c.snapshot(include_internal=True))
    ]


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6, 7, 8])
def test_sessions_change_nothing_a_student_can_see(seed):
    with_sessions = _run(seed, {})
    without = _run(seed, OFF)
    assert len(with_sessions) > 300  # the run really did something
    for i, (a, b) in enumerate(zip(with_sessions, without, strict=True)):
        assert a == b, f"event {i} differs: with sessions {a!r}, without {b!r}"


def _fetch_sizes(monkeypatch) -> list[tuple[bool, int]]:
    """(full?, partitions named) of every follower fetch the leaders receive."""
    seen: list[tuple[bool, int]] = []
    original = Broker.on_replica_fetch

    def spy(self, follower_id, parts, fetcher_epoch, rid, full=True):
        seen.append((full, len(parts)))
        return original(self, follower_id, parts, fetcher_epoch, rid, full)

    monkeypatch.setattr(Broker, "on_replica_fetch", spy)
    return seen


def _busy_cluster(broker_config: dict) -> Cluster:
    c = Cluster(brokers=3, seed=5, config=broker_config)  # __consumer_offsets: Kafka's 50 partitions
    c.create_topic("t", partitions=1, replication_factor=3)
    c.consumer("c1", group_id="g", topics=["t"])  # creates __consumer_offsets
    c.run_for(2000)
    return c


def test_follower_fetches_name_only_partitions_that_moved(monkeypatch):
    c = _busy_cluster({})
    seen = _fetch_sizes(monkeypatch)
    p = c.producer("p1", config={"acks": "all"})
    for i in range(50):
        p.send("t", key=b"k", value=bytes(i))
        c.run_for(20)
    incremental = [n for full, n in seen if not full]
    assert incremental and not any(full for full, _ in seen)  # the sessions were already open
    assert max(incremental) <= 1  # only t-0 ever moves; ~17 offsets partitions per leader are never re-sent


def test_without_sessions_every_fetch_names_every_partition(monkeypatch):
    c = _busy_cluster(OFF)
    seen = _fetch_sizes(monkeypatch)
    p = c.producer("p1", config={"acks": "all"})
    p.send("t", key=b"k", value=b"v")
    c.run_for(1000)
    assert seen and all(full and n >= 16 for full, n in seen)


def test_restarted_leader_makes_its_followers_open_new_sessions(monkeypatch):
    c = _busy_cluster({})
    leader = c.snapshot().partition("t", 0).leader
    c.crash_broker(leader)
    c.run_for(100)
    c.restart_broker(leader)
    seen = _fetch_sizes(monkeypatch)
    c.run_for(40_000)
    assert any(full for full, _ in seen)  # after FETCH_SESSION_ID_NOT_FOUND or a timeout: a full request
    t0 = c.snapshot().partition("t", 0)
    assert sorted(t0.isr) == [1, 2, 3]  # and replication goes on: everyone is back in sync


def test_a_leader_that_lost_the_session_answers_session_not_found_and_the_follower_starts_over(monkeypatch):
    c = _busy_cluster({})
    leader = c.brokers[c.snapshot().partition("t", 0).leader]
    leader.fetch_sessions.clear()  # what a restart does to its memory (here without moving leadership)
    seen = _fetch_sizes(monkeypatch)
    p = c.producer("p1", config={"acks": "all"})
    fut = p.send("t", key=b"k", value=b"v")
    c.run_for(2000)
    assert [full for full, _ in seen[:4]].count(True) >= 2  # both followers re-opened with a full request
    assert fut.done and fut.error is None  # acks=all: both followers fetched the record again
    assert c.snapshot().partition("t", 0).high_watermark == 1
