"""add_consumer with a group_instance_id: a second process claiming a running static member's group.instance.id
takes its place and fences it (KIP-345, ClassicGroup.replaceStaticMember), as a deployment mistake would."""

from __future__ import annotations

from engine.scenario import GroupSpec, Scenario, TopicSpec
from engine.timeline import Timeline


def _static_group() -> Timeline:
    s = Scenario(
        seed=4,
        topics=[TopicSpec(name="orders", partitions=4, replication_factor=1)],
        groups=[
            GroupSpec(
                group_id="g",
                topics=["orders"],
                members=2,
                member_ids=["s1", "s2"],
                static_membership=True,
                config={"session.timeout.ms": 10_000},
            )
        ],
    )
    tl = Timeline(s)
    tl.apply({"op": "run_for", "ms": 8000})
    return tl


def test_add_consumer_with_a_running_members_instance_id_fences_that_member():
    tl = _static_group()
    c = tl.cluster
    before, gen = list(c.consumers["s1"].assignment), c.group_state("g").generation
    seq = c.events.seq
    tl.apply({"op": "add_consumer", "group": "g", "consumer": "s1-copy", "group_instance_id": "s1"})
    tl.apply({"op": "run_for", "ms": 3000})
    assert c.consumers["s1-copy"].config.group_instance_id == "s1"
    assert c.consumers["s1"].state == "fenced" and c.consumers["s1-copy"].assignment == before
    assert c.group_state("g").generation == gen
    assert not [e for e in c.events.since(seq) if e.kind == "rebalance_started"]
    assert type(tl).from_state(tl.to_state()).cluster.snapshot() == c.snapshot()  # the field replays


def test_add_consumer_with_a_new_instance_id_joins_as_another_static_member():
    tl = _static_group()
    tl.apply({"op": "add_consumer", "group": "g", "consumer": "s3", "group_instance_id": "host-3"})
    tl.apply({"op": "run_for", "ms": 8000})
    g = tl.cluster.group_state("g")
    assert set(g.static_members) == {"s1", "s2", "host-3"} and len(g.members) == 3
