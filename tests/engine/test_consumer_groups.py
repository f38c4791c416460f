"""Consumer groups through the public face: queue, pub-sub, idle members, failures, rebalances."""

from __future__ import annotations

from collections import Counter

import pytest

from engine import Cluster
from engine.errors import NoOffsetForPartitionError
from helpers import GROUP_FAST, make_cluster


def _produce(c: Cluster, n: int, start: int = 0, topic: str = "orders"):
    p = c.producers.get("p1") or c.producer("p1")
    futs = [p.send(topic, key=f"user-{i % 16}", value=f"v{i}") for i in range(start, start + n)]
    p.flush()
    assert all(f.error is None for f in futs)
    return futs


def _drain(consumers, rounds: int = 30):
    got = {k.id: [] for k in consumers}
    for _ in range(rounds):
        for k in consumers:
            got[k.id].extend(k.poll(200))
    return got


def test_queue_one_group_of_two_each_record_consumed_once():
    c = make_cluster(partitions=2, rf=3)
    _produce(c, 200)
    c1 = c.consumer("c1", group_id="group-1", topics=["orders"], config=GROUP_FAST)
    c2 = c.consumer("c2", group_id="group-1", topics=["orders"], config=GROUP_FAST)
    got = _drain([c1, c2])
    ids = [(r.partition, r.offset) for rs in got.values() for r in rs]
    assert len(ids) == 200 and len(set(ids)) == 200  # every record once for the group
    assert {r.partition for r in got["c1"]} == {0} and {r.partition for r in got["c2"]} == {1}
    g = c.snapshot().group("group-1")
    assert g.state == "Stable" and g.generation == 1 and len(g.members) == 2


def test_pub_sub_two_groups_each_see_every_record():
    c = make_cluster(partitions=2, rf=3)
    _produce(c, 120)
    a = c.consumer("c1", group_id="group-1", topics=["orders"], config=GROUP_FAST)
    b = c.consumer("c3", group_id="group-2", topics=["orders"], config=GROUP_FAST)
    got = _drain([a, b])
    for rs in got.values():
        assert len(rs) == 120 and len({(r.partition, r.offset) for r in rs}) == 120
    assert b.assignment == [("orders", 0), ("orders", 1)]  # the lone member of group-2 reads both partitions


def test_every_record_names_topic_partition_and_offset():
    c = make_cluster(partitions=2)
    _produce(c, 10)
    k = c.consumer("c1", group_id="g", topics=["orders"], config=GROUP_FAST)
    recs = _drain([k])["c1"]
    for r in recs:
        assert r.topic == "orders" and r.partition in (0, 1) and r.offset >= 0
    per_partition = {}
    for r in recs:
        per_partition.setdefault(r.partition, []).append(r.offset)
    assert all(v == list(range(len(v))) for v in per_partition.values())  # in order, no gaps
    assert "orders-" in repr(recs[0]) and "@" in repr(recs[0])


def test_third_consumer_in_a_two_partition_group_stays_idle():
    c = make_cluster(partitions=2)
    ks = [c.consumer(f"c{i}", group_id="g1", topics=["orders"], config=GROUP_FAST) for i in (1, 2, 3)]
    c.run_for(5000)
    g = c.snapshot().group("g1")
    sizes = sorted(len(m.assignment) for m in g.members)
    assert g.state == "Stable" and sizes == [0, 1, 1]
    idle = [k for k in ks if not k.assignment]
    assert len(idle) == 1
    assert "nothing (idle)" in next(e for e in c.events.events if e.kind == "assignment_received").summary


def test_crashed_consumer_partitions_move_after_session_timeout_with_redelivery():
    c = make_cluster(partitions=2, rf=3)
    cfg = {**GROUP_FAST, "enable.auto.commit": False}
    c1 = c.consumer("c1", group_id="g1", topics=["orders"], config=cfg)
    c2 = c.consumer("c2", group_id="g1", topics=["orders"], config=cfg)
    _produce(c, 100)
    _drain([c1, c2], rounds=10)
    c1.commit()  # c1 commits what it has processed so far ...
    committed = dict(c.snapshot().group("g1").committed)
    _produce(c, 40, start=100)
    late = _drain([c1], rounds=5)["c1"]  # ... then processes more without committing
    assert late, "c1 should have processed records after its commit"
    crash_time = c.now
    c1.crash()
    got = []
    for _ in range(80):
        got.extend(c2.poll(200))
    expired = next(e for e in c.events.events if e.kind == "member_expired")
    # the coordinator waits session.timeout.ms=10000 from c1's last heartbeat (sent every 3000 ms)
    assert 10000 - 3000 <= expired.time_ms - crash_time <= 10000 + 10
    assert set(c2.assignment) == {("orders", 0), ("orders", 1)}
    c1_part = late[0].partition
    redelivered = [r for r in got if r.partition == c1_part and r.offset < late[-1].offset + 1]
    assert redelivered, "records processed but not committed must be delivered again (at-least-once)"
    assert (
        min(r.offset for r in redelivered) == committed[("orders", c1_part)]
    )  # resumes at the committed offset
    polled = [e for e in c.events.events if e.kind == "records_polled" and e.actors == ("c2",)]
    assert any(f"orders-{c1_part}@{committed[('orders', c1_part)]}.." in e.summary for e in polled)


def test_close_leaves_at_once_and_auto_commit_keeps_progress():
    c = make_cluster(partitions=2)
    _produce(c, 50)
    c1 = c.consumer("c1", group_id="g1", topics=["orders"], config=GROUP_FAST)
    c2 = c.consumer("c2", group_id="g1", topics=["orders"], config=GROUP_FAST)
    first = _drain([c1, c2], rounds=10)
    c1.close()
    t = c.now
    c.run_for(5000)  # c2 hears of the rebalance on its next heartbeat (heartbeat.interval.ms=3000)
    left = next(e for e in c.events.events if e.kind == "member_left")
    assert left.time_ms - t < 100  # LeaveGroup: no session timeout wait
    assert c2.assignment == [("orders", 0), ("orders", 1)]
    rest = _drain([c2], rounds=5)["c2"]
    again = {(r.partition, r.offset) for r in rest} & {(r.partition, r.offset) for r in first["c1"]}
    assert not again  # close() committed c1's position, so nothing is processed twice


def test_member_id_required_round_trip_is_visible():
    c = make_cluster(partitions=1)
    c.consumer("c1", group_id="g1", topics=["orders"], config=GROUP_FAST)
    c.run_for(4000)
    joined = next(e for e in c.events.events if e.kind == "member_joined")
    assert joined.data["member"].startswith("c1-")
    g = c.snapshot().group("g1")
    assert g.members[0].member_id == joined.data["member"]


def test_initial_rebalance_delay_gathers_members_into_one_generation():
    c = make_cluster(partitions=4)
    for i in range(4):
        c.consumer(f"c{i}", group_id="g1", topics=["orders"], config=GROUP_FAST)
        c.run_for(500)
    c.run_for(5000)
    assert c.snapshot().group("g1").generation == 1  # group.initial.rebalance.delay.ms=3000 waited for all


def test_eager_rebalance_revokes_everything_cooperative_only_what_moves():
    def run(strategy):
        c = make_cluster(partitions=6, seed=3)
        cfg = {**GROUP_FAST, "partition.assignment.strategy": strategy}
        ks = [c.consumer(f"c{i}", group_id="g1", topics=["orders"], config=cfg) for i in (1, 2)]
        c.run_for(6000)
        before = {k.id: set(k.assignment) for k in ks}
        mark = c.events.seq
        ks.append(c.consumer("c3", group_id="g1", topics=["orders"], config=cfg))
        c.run_for(8000)
        revoked = [e for e in c.events.since(mark) if e.kind == "partitions_revoked"]
        return c, before, revoked, ks

    c, before, revoked, ks = run("range")
    assert {e.actors[0] for e in revoked} == {"c1", "c2"}
    assert sum(len(e.data["partitions"]) for e in revoked) == 6  # eager: everything handed back
    c, before, revoked, ks = run("cooperative-sticky")
    moved = sum(len(e.data["partitions"]) for e in revoked)
    assert moved == 2  # only what c3 gets
    for k in ks[:2]:
        assert len(before[k.id] & set(k.assignment)) == 2  # c1 and c2 kept 2 of their 3
    assert sorted(len(k.assignment) for k in ks) == [2, 2, 2]
    assert c.snapshot().group("g1").generation >= 3  # the revocation round plus the hand-out round


def test_manual_assign_seek_position_and_max_poll_records():
    c = make_cluster(partitions=2)
    _produce(c, 40)
    k = c.consumer("solo", config={"auto.offset.reset": "earliest", "max.poll.records": 7})
    k.assign([("orders", 0)])
    recs = k.poll(1000)
    assert 0 < len(recs) <= 7 and all(r.partition == 0 for r in recs)
    assert k.position(("orders", 0)) == recs[-1].offset + 1
    k.seek(("orders", 0), 0)
    again = k.poll(1000)
    assert again[0].offset == 0


def test_auto_offset_reset_latest_and_none():
    c = make_cluster(partitions=1)
    _produce(c, 10)
    latest = c.consumer("late", group_id="g-late", topics=["orders"], config={"session.timeout.ms": 10000})
    assert latest.poll(5000) == []
    assert latest.position(("orders", 0)) == 10  # latest = the high watermark
    _produce(c, 3, start=10)
    assert [r.offset for r in latest.poll(2000)] == [10, 11, 12]
    strict = c.consumer("strict", config={"auto.offset.reset": "none"})
    with pytest.raises(NoOffsetForPartitionError, match="auto.offset.reset=none"):
        strict.assign([("orders", 0)])


def test_lag_is_high_watermark_minus_committed():
    c = make_cluster(partitions=1)
    _produce(c, 30)
    k = c.consumer(
        "c1",
        group_id="g1",
        topics=["orders"],
        config={**GROUP_FAST, "enable.auto.commit": False, "max.poll.records": 10},
    )
    k.poll(5000)
    k.commit()
    g = c.snapshot().group("g1")
    assert g.committed[("orders", 0)] == 10 and g.lag[("orders", 0)] == 20


def test_max_poll_interval_exceeded_leaves_the_group():
    c = make_cluster(partitions=1)
    k = c.consumer(
        "slow", group_id="g1", topics=["orders"], config={**GROUP_FAST, "max.poll.interval.ms": 8000}
    )
    k.poll(4000)
    c.run_for(20_000)  # the application stops calling poll()
    assert any(e.kind == "member_left" and "max.poll.interval.ms" in e.summary for e in c.events.events)
    k.poll(6000)  # and rejoins on its next poll
    assert k.assignment == [("orders", 0)]


def test_range_assignment_in_a_live_group_matches_kafka_example():
    c = Cluster(brokers=3, seed=4)
    c.create_topic("t1", partitions=3)
    c.create_topic("t2", partitions=2)
    subs = {"c1": ["t1"], "c2": ["t1", "t2"], "c3": ["t1"]}
    ks = {
        cid: c.consumer(
            cid, group_id="g", topics=ts, config={**GROUP_FAST, "partition.assignment.strategy": "range"}
        )
        for cid, ts in subs.items()
    }
    c.run_for(6000)
    # member ids start with the client id, so sorting by member id keeps c1 < c2 < c3 as in RangeAssignorTest
    assert ks["c1"].assignment == [("t1", 0)]
    assert ks["c2"].assignment == [("t1", 1), ("t2", 0), ("t2", 1)]
    assert ks["c3"].assignment == [("t1", 2)]


def test_commits_go_to_the_consumer_offsets_log():
    c = make_cluster(partitions=1)
    _produce(c, 5)
    k = c.consumer("c1", group_id="g1", topics=["orders"], config={**GROUP_FAST, "enable.auto.commit": False})
    k.poll(5000)
    k.commit()
    tp = ("__consumer_offsets", c.offsets_partition("g1"))
    r = c.leader_replica(tp)
    keys = [kk for b in r.log.batches() for kk in b.keys]
    assert b"g1/orders/0" in keys
    counts = Counter(e.kind for e in c.events.events)
    assert counts["offsets_committed"] == 1
