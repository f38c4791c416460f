"""KIP-848 (group.protocol=consumer) beside the classic eager protocol: who stops when a member joins."""

from __future__ import annotations

from engine import Cluster


def _grow_group(protocol: str):
    c = Cluster(brokers=3, seed=21)
    c.create_topic("orders", partitions=6, replication_factor=3)
    p = c.producer("p1", {"linger.ms": 0})
    base = {
        "auto.offset.reset": "earliest"
    }  # a KIP-848 member may not set session.timeout.ms: the broker does
    cfg = (
        {**base, "group.protocol": "consumer"}
        if protocol == "consumer"
        else {**base, "session.timeout.ms": 10000, "partition.assignment.strategy": "range"}
    )
    ks = [c.consumer(f"c{i}", group_id="g", topics=["orders"], config=cfg) for i in (1, 2, 3)]
    for k in ks:
        k.start(100)
    for i in range(60):
        p.send("orders", key=f"k{i}", value="v")
    c.run_for(12_000)
    before = {k.id: set(k.assignment) for k in ks}
    assert sorted(len(v) for v in before.values()) == [2, 2, 2]
    mark = c.events.seq
    joined_at = c.now
    new = c.consumer("c4", group_id="g", topics=["orders"], config=cfg)
    new.start(100)
    for i in range(60, 400):  # keep producing while the group changes
        p.send("orders", key=f"k{i}", value="v")
        c.run_for(50)
    events = c.events.since(mark)
    return c, ks, new, before, events, joined_at


def test_kip848_moves_only_what_the_new_member_gets_and_nobody_stops():
    c, ks, new, before, events, joined_at = _grow_group("consumer")
    revoked = [e for e in events if e.kind == "partitions_revoked"]
    moved = sum(len(e.data["partitions"]) for e in revoked)
    assert moved == len(new.assignment) == 1  # 6 partitions over 4 members: c4 takes exactly one
    for k in ks:
        assert len(before[k.id] & set(k.assignment)) >= 1  # everyone kept what did not move
    assert not any(e.kind == "rebalance_completed" for e in events)  # no JoinGroup/SyncGroup round at all
    settled = max(e.time_ms for e in revoked)
    # no stop-the-world: while the assignment changed, the old members kept polling records
    for k in ks:
        polled = [
            e
            for e in events
            if e.kind == "records_polled" and e.actors == (k.id,) and joined_at <= e.time_ms <= settled + 1000
        ]
        assert polled, f"{k.id} stopped consuming during the KIP-848 rebalance"
    g = c.snapshot().group("g")
    assert g.state == "Stable" and len(g.members) == 4


def test_classic_eager_protocol_stops_everyone_in_the_same_situation():
    c, ks, new, before, events, joined_at = _grow_group("classic")
    revoked = [e for e in events if e.kind == "partitions_revoked"]
    assert {e.actors[0] for e in revoked} >= {"c1", "c2", "c3"}  # every old member gave up everything
    assert sum(len(e.data["partitions"]) for e in revoked) >= 6
    assert any(e.kind == "rebalance_completed" for e in events)  # the JoinGroup barrier
    g = c.snapshot().group("g")
    assert g.state == "Stable" and sorted(len(m.assignment) for m in g.members) == [1, 1, 2, 2]
