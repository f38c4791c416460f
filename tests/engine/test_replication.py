"""Replication and failures through the public face: what really happens, including real data loss."""

from __future__ import annotations

import random

import pytest

from engine import Cluster
from engine.placement import BrokerMetadata, EngineRandom, assign_replicas_to_brokers
from helpers import GROUP_FAST, acks1_loss

SAFE = {"min.insync.replicas": 2}


def _read_all(c: Cluster, topic: str, reader: str, limit_ms: int = 30_000) -> dict[tuple[int, int], bytes]:
    """Every record a fresh reader sees from the start, by (partition, offset). A manually assigned
    consumer needs no group (whose __consumer_offsets topic needs 3 live brokers to be created)."""
    k = c.consumer(f"reader-{reader}", config={"auto.offset.reset": "earliest"})
    k.assign([(topic, p) for p in range(c.topics[topic].partitions)])
    out: dict[tuple[int, int], bytes] = {}
    idle = 0
    t_end = c.now + limit_ms
    while c.now < t_end and idle < 6:
        recs = k.poll(500)
        idle = 0 if recs else idle + 1
        for r in recs:
            out[(r.partition, r.offset)] = r.value
    return out


def test_replica_placement_is_kafkas_rack_unaware_round_robin():
    # AdminUtils: leaders round-robin from the start index, followers shifted per lap around the brokers
    placed = assign_replicas_to_brokers(
        [BrokerMetadata(b) for b in [1, 2, 3, 4, 5]], 10, 3, EngineRandom(None), 0
    )
    got = [placed[p] for p in range(10)]
    assert got[:5] == [[1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 1], [5, 1, 2]]
    assert got[5:] == [[1, 3, 4], [2, 4, 5], [3, 5, 1], [4, 1, 2], [5, 2, 3]]  # second lap: shift + 1
    c = Cluster(brokers=3, seed=5)
    c.create_topic("t", partitions=6, replication_factor=3)
    leaders = [p.leader for p in c.snapshot().partitions]
    assert sorted(leaders) == [1, 1, 2, 2, 3, 3]  # leadership is per partition, spread over brokers
    assert all(p.leader == p.replicas[0] for p in c.snapshot().partitions)  # preferred leader first


@pytest.mark.parametrize("seed", range(12))
def test_acks_all_survives_any_single_broker_crash(seed):
    rng = random.Random(seed)
    c = Cluster(brokers=3, seed=seed)
    c.create_topic("orders", partitions=3, replication_factor=3, config=SAFE)
    p = c.producer("p1", {"acks": "all", "linger.ms": 2})
    early = c.consumer("early", config={"auto.offset.reset": "earliest"})
    early.assign([("orders", part) for part in range(3)])
    victim = rng.randint(1, 3)
    crash_at = rng.randint(0, 199)
    futs = []
    for i in range(200):
        if i == crash_at:
            c.crash_broker(victim)
        futs.append(p.send("orders", key=f"k{i % 17}", value=f"v{i}"))
        early.poll(0)
        c.run_for(rng.randint(0, 30))
    p.flush()
    acked = {(f.partition, f.offset): f.value for f in futs if f.error is None}
    assert len(acked) == 200  # one broker down: min.insync.replicas=2 is still met after the election
    seen = _read_all(c, "orders", f"check-{seed}")
    for k, v in acked.items():
        assert seen.get(k) == v
    for _ in range(40):
        early.poll(250)
    assert len(early.history) == 200  # it read through the failure, and got everything
    for r in early.history:  # nothing a consumer received during the failure disappeared afterwards
        assert seen.get((r.partition, r.offset)) == r.value
    assert c.losses.lost_count == 0


def test_two_brokers_down_acks_all_fails_with_not_enough_replicas():
    c = Cluster(brokers=3, seed=1)
    c.create_topic("orders", partitions=1, replication_factor=3, config=SAFE)
    leader = c.leaders_of("orders")[0]
    for b in (1, 2, 3):
        if b != leader:
            c.crash_broker(b)
    c.run_for(12_000)  # the controller fences them and shrinks the ISR to the leader
    assert c.snapshot().partition("orders", 0).isr == (leader,)
    p = c.producer(
        "p1", {"acks": "all", "delivery.timeout.ms": 5000, "request.timeout.ms": 1000, "linger.ms": 0}
    )
    futs = [p.send("orders", value=f"v{i}") for i in range(5)]
    p.flush()
    assert all(f.error is not None for f in futs) and p.acked == 0
    assert "NOT_ENOUGH_REPLICAS" in str(futs[0].error)
    assert c.leader_replica(("orders", 0)).leo == 0  # NOT_ENOUGH_REPLICAS: nothing was written
    assert any(e.kind == "produce_rejected" for e in c.events.events)


def test_acks1_acknowledged_record_is_lost_after_a_clean_election():
    c, old_leader, safe, doomed = acks1_loss()
    assert doomed.error is None and doomed.offset == 1  # the producer was told it was written
    pv = c.snapshot().partition("orders", 0)
    assert pv.leader != old_leader and not pv.offline
    assert [(lr.offset, lr.value) for lr in pv.lost] == [(1, b"doomed")]
    assert "acks=1" in pv.lost[0].reason
    c.restart_broker(old_leader)
    c.run_for(10_000)
    trunc = [e for e in c.events.events if e.kind == "truncated"]
    assert trunc and trunc[0].data["from_offset"] == 1 and f"Broker {old_leader}" in trunc[0].summary
    seen = _read_all(c, "orders", "after")
    assert seen == {(0, 0): b"kept"}  # the returning old leader truncated it: gone everywhere
    assert len(c.snapshot().partition("orders", 0).isr) == 3


def _shrunk_isr(unclean: bool, seed: int = 4):
    c = Cluster(brokers=3, seed=seed, config={"replica.lag.time.max.ms": 2000})
    c.create_topic(
        "orders", partitions=1, replication_factor=3, config={"unclean.leader.election.enable": unclean}
    )
    leader = c.leaders_of("orders")[0]
    followers = [b for b in (1, 2, 3) if b != leader]
    p = c.producer("p1", {"acks": 1, "linger.ms": 0})
    p.send("orders", key="a", value="replicated")
    p.flush()
    c.run_for(200)
    for f in followers:
        c.crash_broker(f)
    c.run_for(12_000)  # followers fenced: the ISR is just the leader
    assert c.snapshot().partition("orders", 0).isr == (leader,)
    futs = [p.send("orders", key="b", value=f"only-on-leader-{i}") for i in range(3)]
    p.flush()
    assert all(f.error is None for f in futs)
    c.crash_broker(leader)
    for f in followers:
        c.restart_broker(f)
    c.run_for(15_000)
    return c, leader


def test_no_unclean_election_leaves_the_partition_offline():
    c, leader = _shrunk_isr(unclean=False)
    pv = c.snapshot().partition("orders", 0)
    assert pv.offline and pv.leader is None
    assert any(e.kind == "partition_offline" for e in c.events.events)
    p2 = c.producer("p2", {"delivery.timeout.ms": 3000, "request.timeout.ms": 1000, "linger.ms": 0})
    f = p2.send("orders", value="x")
    p2.flush()
    assert f.error is not None  # producers get errors while it is offline
    assert c.losses.lost_count == 0  # offline, but nothing acknowledged is lost
    c.restart_broker(leader)  # the last ISR member returns: back online with everything
    c.run_for(15_000)
    pv = c.snapshot().partition("orders", 0)
    assert pv.leader == leader and pv.high_watermark == 4


def test_unclean_election_elects_a_stale_replica_and_loses_records():
    c, leader = _shrunk_isr(unclean=True)
    pv = c.snapshot().partition("orders", 0)
    assert not pv.offline and pv.leader != leader
    elected = next(e for e in c.events.events if e.kind == "leader_elected" and e.data.get("unclean"))
    assert "UNCLEAN" in elected.summary
    assert [lr.offset for lr in pv.lost] == [1, 2, 3]
    assert all("unclean leader election" in lr.reason for lr in pv.lost)


def test_consumers_never_read_above_the_high_watermark():
    c = Cluster(brokers=3, seed=9, config={"replica.lag.time.max.ms": 60_000})
    c.create_topic("orders", partitions=1, replication_factor=3, config=SAFE)
    leader = c.leaders_of("orders")[0]
    follower = next(b for b in (1, 2, 3) if b != leader)
    c.slow_broker(follower, 400)  # the HW waits for this slow in-sync follower
    p = c.producer("p1", {"acks": 1, "linger.ms": 0})
    k = c.consumer("c1", group_id="g", topics=["orders"], config=GROUP_FAST)
    k.poll(5000)
    max_seen_vs_hw = []
    for i in range(30):
        p.send("orders", value=f"v{i}")
        for r in k.poll(20):
            hw = c.leader_replica(("orders", 0)).hw
            max_seen_vs_hw.append((r.offset, hw))
    r = c.leader_replica(("orders", 0))
    assert r.leo > r.hw  # acks=1 records are on the leader but not yet committed
    assert all(off < hw for off, hw in max_seen_vs_hw)


def test_restarted_follower_catches_up_and_rejoins_the_isr():
    c = Cluster(brokers=3, seed=2)
    c.create_topic("orders", partitions=2, replication_factor=3, config=SAFE)
    p = c.producer("p1")
    victim = (
        next(b for b in (1, 2, 3) if b not in c.leaders_of("orders"))
        if len(set(c.leaders_of("orders"))) < 3
        else 3
    )
    c.crash_broker(victim)
    for i in range(100):
        p.send("orders", key=f"k{i}", value="v")
        c.run_for(50)
    p.flush()
    assert all(victim not in pv.isr for pv in c.snapshot().partitions)
    c.restart_broker(victim)
    c.run_for(10_000)
    for pv in c.snapshot().partitions:
        assert victim in pv.isr
        rs = {r.broker: r.log_end_offset for r in pv.replica_states}
        assert rs[victim] == pv.log_end_offset
    assert any(e.kind == "isr_expand" for e in c.events.events)


def test_isolated_old_leader_cannot_commit_acks_all_and_is_fenced_when_healed():
    c = Cluster(brokers=3, seed=6)
    c.create_topic("orders", partitions=1, replication_factor=3, config=SAFE)
    old = c.leaders_of("orders")[0]
    zombie_writer = c.producer(
        "pz", {"acks": "all", "linger.ms": 0, "request.timeout.ms": 3000, "delivery.timeout.ms": 8000}
    )
    zombie_writer.send("orders", value="before")
    zombie_writer.flush()
    c.isolate_broker(old)  # clients can still reach it; the other brokers and the controller cannot
    f = zombie_writer.send("orders", value="to-the-zombie")
    c.run_for(2000)
    assert (
        not f.done
    )  # appended on the zombie, but its HW cannot move without the followers or the controller
    c.run_for(12_000)
    pv = c.snapshot().partition("orders", 0)
    assert pv.leader != old and pv.leader_epoch >= 1  # the controller fenced it and elected a new leader
    c.heal_broker(old)
    zombie_writer.flush()
    c.run_for(10_000)
    assert f.done
    r_old = c.brokers[old].replicas[("orders", 0)]
    assert not r_old.is_leader and r_old.leader_epoch == c.snapshot().partition("orders", 0).leader_epoch
    assert c.losses.lost_count == 0
    # whatever the zombie appended and never committed was truncated when it rejoined as a follower
    assert any(e.kind == "truncated" and f"Broker {old}" in e.summary for e in c.events.events)
    seen = _read_all(c, "orders", "verify")
    assert b"before" in seen.values()
    if f.error is None:  # the producer's retry went to the new leader
        assert seen[(0, f.offset)] == b"to-the-zombie"


@pytest.mark.parametrize("mode", ["kraft", "zookeeper"])
def test_controller_failover_then_elections_still_happen(mode):
    c = Cluster(brokers=3, seed=8, controller=mode)
    c.create_topic("orders", partitions=3, replication_factor=3, config=SAFE)
    first = c.controller.active
    c.crash_broker(first)
    c.run_for(25_000)
    second = c.controller.active
    assert second is not None and second != first
    assert c.snapshot().controller.epoch >= 2
    assert sum(e.kind == "controller_elected" for e in c.events.events) >= 2
    # a later failure is still handled by the new controller
    other = next(b for b in (1, 2, 3) if b not in (first, second))
    c.crash_broker(other)
    c.run_for(25_000)
    for pv in c.snapshot().partitions:
        assert pv.leader == second and not pv.offline


def _controller_elected_after_crash(config: dict) -> int:
    """Simulated ms from crashing the active controller's broker to the next controller_elected event."""
    c = Cluster(brokers=3, seed=8, config=config)
    c.create_topic("orders", partitions=1, replication_factor=3)
    c.run_for(1_000)
    crashed_at = c.now
    c.crash_broker(c.controller.active)
    c.run_for(10_000)
    elected = [
        e.time_ms for e in c.events.events if e.kind == "controller_elected" and e.time_ms > crashed_at
    ]
    assert elected, "no new controller was elected"
    return elected[0] - crashed_at


def test_the_kraft_quorum_timeouts_set_how_long_a_controller_election_takes():
    # the voters give up on the dead controller after controller.quorum.fetch.timeout.ms (checked every
    # quarter of it), then vote within controller.quorum.election.timeout.ms
    default = _controller_elected_after_crash({})
    assert 2_000 <= default <= 500 + 2_000 + 1_000
    short = _controller_elected_after_crash(
        {"controller.quorum.fetch.timeout.ms": 600, "controller.quorum.election.timeout.ms": 200}
    )
    assert 600 <= short <= 150 + 600 + 200


def test_add_broker_and_reassign_while_producing_and_consuming():
    c = Cluster(brokers=3, seed=10)
    c.create_topic("orders", partitions=3, replication_factor=2, config={"min.insync.replicas": 1})
    p = c.producer("p1", {"acks": "all"})
    k = c.consumer("c1", group_id="g1", topics=["orders"], config=GROUP_FAST)
    futs, got = [], []
    for i in range(60):
        futs.append(p.send("orders", key=f"k{i}", value=f"v{i}"))
        got.extend(k.poll(50))
    new = c.add_broker()
    assert new == 4
    moves = {("orders", part): [new, c.snapshot().partition("orders", part).replicas[0]] for part in range(3)}
    c.reassign_partitions(moves)
    for i in range(60, 200):
        futs.append(p.send("orders", key=f"k{i}", value=f"v{i}"))
        got.extend(k.poll(50))
    p.flush()
    for _ in range(40):
        got.extend(k.poll(200))
    assert sum(e.kind == "reassignment_completed" for e in c.events.events) == 3
    for pv in c.snapshot().partitions:
        assert new in pv.replicas and not pv.adding_replicas and len(pv.replicas) == 2
    assert all(f.error is None for f in futs) and c.losses.lost_count == 0
    per_part: dict[int, list[int]] = {}
    for r in got:
        per_part.setdefault(r.partition, []).append(r.offset)
    for offs in per_part.values():
        assert offs == list(range(len(offs)))  # no gap, no duplicate
    assert len(got) == 200


def test_preferred_leader_election_moves_leadership_back():
    c = Cluster(brokers=3, seed=11)
    c.create_topic("orders", partitions=3, replication_factor=3)
    c.crash_broker(1)
    c.run_for(12_000)
    c.restart_broker(1)
    c.run_for(5_000)
    assert c.snapshot().brokers[0].leaders == 0
    moved = c.preferred_leader_election()
    c.run_for(100)
    assert moved == 1 and c.snapshot().brokers[0].leaders == 1


def test_auto_leader_rebalance_restores_preferred_leaders():
    c = Cluster(brokers=3, seed=11, config={"leader.imbalance.check.interval.seconds": 30})
    c.create_topic("orders", partitions=3, replication_factor=3)
    c.crash_broker(1)
    c.run_for(12_000)
    c.restart_broker(1)
    c.run_for(5_000)
    assert c.snapshot().brokers[0].leaders == 0
    c.run_for(30_000)  # the controller's imbalance check (auto.leader.rebalance.enable=true) moves it back
    assert c.snapshot().brokers[0].leaders == 1
    assert any("Preferred leader election" in e.summary for e in c.events.events)


def test_retention_deletes_old_segments_and_consumer_resets():
    c = Cluster(
        brokers=1,
        seed=1,
        config={"log.retention.check.interval.ms": 1000, "offsets.topic.replication.factor": 1},
    )
    c.create_topic(
        "logs", partitions=1, replication_factor=1, config={"segment.bytes": 500, "retention.ms": 5000}
    )
    p = c.producer("p1", {"linger.ms": 0})
    for i in range(30):
        p.send("logs", value=f"event-{i:03d}-" + "x" * 20)
        c.run_for(100)
    p.flush()
    assert len(c.leader_replica(("logs", 0)).log.segments) > 3  # segments rolled at segment.bytes
    c.run_for(
        10_000
    )  # retention.ms passes: every segment expired, the active one too (UnifiedLog.deleteSegments)
    pv = c.snapshot().partition("logs", 0)
    assert pv.log_start_offset == pv.log_end_offset == 30
    assert any(e.kind == "segments_deleted" for e in c.events.events)
    p.send("logs", value=b"after-retention")
    p.flush()
    k = c.consumer("old", config={"auto.offset.reset": "earliest"})
    k.assign([("logs", 0)])
    k.seek(("logs", 0), 0)  # a consumer positioned below the log start offset
    recs = k.poll(3000)  # offset 0 is gone: OFFSET_OUT_OF_RANGE -> auto.offset.reset=earliest
    assert recs and recs[0].offset == pv.log_start_offset
    assert any(e.kind == "offset_reset" and "out of range" in e.summary for e in c.events.events)


def test_retention_bytes_keeps_the_log_small():
    c = Cluster(brokers=1, seed=1, config={"log.retention.check.interval.ms": 1000})
    c.create_topic("logs", partitions=1, config={"segment.bytes": 400, "retention.bytes": 1000})
    p = c.producer("p1", {"linger.ms": 0})
    for _i in range(60):
        p.send("logs", value="y" * 30)
        c.run_for(20)
    c.run_for(3000)
    log = c.leader_replica(("logs", 0)).log
    assert log.size_bytes - log.segments[0].size_bytes < 1000


def test_compaction_keeps_latest_per_key_with_gaps_and_drops_tombstones_later():
    c = Cluster(brokers=1, seed=1, config={"log.cleaner.backoff.ms": 1000})
    c.create_topic(
        "profiles",
        partitions=1,
        config={"cleanup.policy": "compact", "segment.bytes": 300, "delete.retention.ms": 5000},
    )
    p = c.producer("p1", {"linger.ms": 0})
    for i in range(40):
        p.send("profiles", key=f"user-{i % 4}", value=f"v{i}")
        c.run_for(10)
    p.send("profiles", key="user-0", value=None)  # a tombstone: delete user-0
    for i in range(6):
        p.send("profiles", key="filler", value=f"f{i}")
        c.run_for(10)
    p.flush()
    c.run_for(2000)
    log = c.leader_replica(("profiles", 0)).log
    cleaned = [(o, b.keys[i], b.values[i]) for b in log.batches() for i, o in enumerate(b.record_offsets())]
    offsets = [o for o, _, _ in cleaned]
    assert offsets == sorted(offsets) and offsets[-1] == 46  # offsets never rewritten
    assert len(offsets) < 47  # gaps appeared
    latest = {}
    for _o, k, v in cleaned:
        latest[k] = v
    assert latest[b"user-1"] == b"v37" and latest[b"user-0"] is None  # latest value per key survives
    assert (40, b"user-0", None) in cleaned  # the tombstone is still there for delete.retention.ms
    c.run_for(8000)
    cleaned = [(o, b.keys[i]) for b in log.batches() for i, o in enumerate(b.record_offsets())]
    assert all(k != b"user-0" for _, k in cleaned)  # then it is gone too
    assert any(e.kind == "log_compacted" for e in c.events.events)


def test_compacted_topic_rejects_keyless_records_with_kafkas_message():
    c = Cluster(brokers=1)
    c.create_topic("profiles", config={"cleanup.policy": "compact"})
    p = c.producer("p1", {"linger.ms": 0, "retries": 0, "enable.idempotence": False})
    f = p.send("profiles", value="no key")
    p.flush()
    assert "Compacted topic cannot accept message without key" in str(f.error)
