"""Share groups (KIP-932): records, not partitions, are shared; released records come back; poison ones stop."""

from __future__ import annotations

import pytest

from engine import Cluster
from engine.errors import ConfigError, IllegalStateError


def _cluster(n: int = 30, config: dict | None = None) -> Cluster:
    c = Cluster(brokers=3, seed=5, config=config)
    c.create_topic("jobs", partitions=1, replication_factor=3)
    p = c.producer("p1")
    for i in range(n):
        p.send("jobs", key=f"job-{i}", value=f"payload-{i}")
    p.flush()
    return c


def test_three_share_consumers_all_get_work_from_one_partition():
    c = _cluster(60)
    cfg = {"share.auto.offset.reset": "earliest", "max.poll.records": 5}
    ks = [c.share_consumer(f"s{i}", "workers", ["jobs"], cfg) for i in (1, 2, 3)]
    got = {k.id: [] for k in ks}
    for _ in range(10):
        for k in ks:
            got[k.id].extend(k.poll(300))
    assert all(got[k.id] for k in ks)  # more consumers than partitions, and nobody is idle
    offsets = [r.offset for rs in got.values() for r in rs]
    assert sorted(offsets) == list(range(60))  # every record delivered once (all accepted)
    assert all(k.assignment == [("jobs", 0)] for k in ks)
    # contrast: a consumer group of three on one partition leaves two members idle
    cg = [
        c.consumer(f"c{i}", group_id="classic", topics=["jobs"], config={"auto.offset.reset": "earliest"})
        for i in (1, 2, 3)
    ]
    c.run_for(6000)
    assert sorted(len(k.assignment) for k in cg) == [0, 0, 1]


def test_released_record_is_redelivered_with_delivery_count_two():
    c = _cluster(3)
    cfg = {"share.auto.offset.reset": "earliest", "share.acknowledgement.mode": "explicit"}
    a = c.share_consumer("s1", "workers", ["jobs"], cfg)
    b = c.share_consumer("s2", "workers", ["jobs"], cfg)
    first = a.poll(2000)
    assert [r.delivery_count for r in first] == [1, 1, 1]
    a.acknowledge(first[0], "ACCEPT")
    a.acknowledge(first[1], "RELEASE")  # give it back
    a.acknowledge(first[2], "ACCEPT")
    a.commit()
    again = b.poll(2000) or a.poll(2000)
    assert [(r.offset, r.delivery_count) for r in again] == [(1, 2)]
    snap = c.snapshot().share_groups[0].partitions[0]
    assert snap.start_offset == 1 and snap.records[0].state == "Acquired"


def test_after_the_delivery_limit_a_record_is_archived_and_never_delivered_again():
    c = _cluster(1, {"group.share.delivery.count.limit": 3})  # a broker (share group) config
    cfg = {"share.auto.offset.reset": "earliest", "share.acknowledgement.mode": "explicit"}
    k = c.share_consumer("s1", "workers", ["jobs"], cfg)
    counts = []
    for _ in range(6):
        for r in k.poll(1000):
            counts.append(r.delivery_count)
            k.acknowledge(r, "RELEASE")  # a poison message: processing always fails
        k.commit()
    assert counts == [1, 2, 3]
    assert k.poll(2000) == []
    assert c.snapshot().share_groups[0].partitions[0].start_offset == 1  # archived: the SPSO moved past it
    assert any("archived" in e.summary for e in c.events.events if e.kind == "share_acknowledged")


def test_lock_expiry_gives_a_crashed_consumers_records_to_another():
    c = _cluster(5)
    cfg = {"share.auto.offset.reset": "earliest", "group.share.record.lock.duration.ms": 2000}
    a = c.share_consumer("s1", "workers", ["jobs"], cfg)
    b = c.share_consumer("s2", "workers", ["jobs"], cfg)
    taken = a.poll(2000)
    assert taken
    a.crash()
    got = []
    for _ in range(10):
        got.extend(b.poll(500))
    assert sorted(r.offset for r in got) == [r.offset for r in taken]
    assert all(r.delivery_count == 2 for r in got)
    assert any(e.kind == "share_lock_expired" for e in c.events.events)


def test_share_consumer_input_errors():
    c = _cluster(1)
    with pytest.raises(ConfigError, match="group.share.delivery.count.limit"):
        Cluster(config={"group.share.delivery.count.limit": 50})  # ShareGroupConfig: between 2 and 10
    k = c.share_consumer(
        "s2", "w", ["jobs"], {"share.acknowledgement.mode": "explicit", "share.auto.offset.reset": "earliest"}
    )
    r = k.poll(2000)[0]
    with pytest.raises(ConfigError, match="ACCEPT, RELEASE, REJECT"):
        k.acknowledge(r, "MAYBE")
    k.acknowledge(r, "REJECT")
    with pytest.raises(IllegalStateError):
        k.acknowledge(r, "ACCEPT")
