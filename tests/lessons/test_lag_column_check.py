"""The group check's lag_column: kafka-consumer-groups.sh --describe's LAG, "-" where nothing is committed."""

from __future__ import annotations

from engine import Cluster
from lessons.checks import CheckContext, parse_check


def _cluster() -> Cluster:
    c = Cluster(brokers=3, seed=3)
    c.create_topic("orders", partitions=2, replication_factor=1)
    p = c.producer("p1", config={"linger.ms": 0})
    for i in range(6):
        p.send("orders", key=f"k{i}", value="v", partition=i % 2)
    p.flush()
    for gid, auto in (("committing", True), ("silent", False)):
        k = c.consumer(
            f"{gid}-1",
            group_id=gid,
            topics=["orders"],
            config={
                "auto.offset.reset": "earliest",
                "enable.auto.commit": auto,
                "auto.commit.interval.ms": 1000,
                "session.timeout.ms": 10000,
            },
        )
        k.start(100)
    c.run_for(10000)
    return c


def test_lag_column_shows_a_dash_without_a_committed_offset_and_a_number_with_one():
    c = _cluster()
    ctx = CheckContext(c, None, [], c.events.events)
    silent = parse_check({"group": "silent", "lag_column": {"orders-0": "-", "orders-1": "-"}})
    committing = parse_check({"group": "committing", "lag_column": {"orders-0": 0, "orders-1": 0}})
    assert silent.evaluate(ctx) == []
    assert committing.evaluate(ctx) == []
    assert parse_check({"group": "silent", "lag_column": {"orders-0": 0, "orders-1": 0}}).evaluate(ctx)
    # the notebook's assert says the same
    snap = c.snapshot()
    for ch in (silent, committing):
        exec("\n".join(ch.python()), {"snap": snap})  # noqa: S102 - our own generated asserts
