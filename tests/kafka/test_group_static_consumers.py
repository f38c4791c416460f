"""Static membership (KIP-345) end to end: real consumers with `group.instance.id` on a simulated cluster.

What a student sees: a static member that restarts within session.timeout.ms keeps its partitions with no
rebalance; closing it sends no LeaveGroup; one that stays away is removed with a rebalance when its session
expires; a second process with the same instance id fences the first (FENCED_INSTANCE_ID).
"""

from __future__ import annotations

import pytest

from engine import Cluster
from engine.commands import apply_command, parse_command
from engine.errors import ConfigError, FencedInstanceIdError

SESSION = 10_000


def _cluster(static: bool = True) -> Cluster:
    c = Cluster(brokers=3, seed=3)
    c.create_topic("orders", partitions=4, replication_factor=1)
    for cid in ("c1", "c2"):
        cfg = {"session.timeout.ms": SESSION, "heartbeat.interval.ms": 1000}
        if static:
            cfg["group.instance.id"] = f"{cid}-host"
        c.consumer(cid, group_id="g", topics=["orders"], config=cfg).start(100)
    c.run_for(8000)
    assert c.group_state("g").state == "Stable"
    return c


def _rebalances(c: Cluster, since: int) -> list:
    return [e for e in c.events.since(since) if e.kind == "rebalance_started"]


def test_static_member_restart_within_session_timeout_keeps_partitions_without_rebalance():
    """Issue 15 static membership: crash + restart with the same group.instance.id within session.timeout.ms."""
    c = _cluster()
    g = c.group_state("g")
    gen, before = g.generation, list(c.consumers["c1"].assignment)
    seq = c.events.seq
    c.consumers["c1"].crash()
    c.run_for(3000)
    apply_command(c, parse_command({"op": "restart_consumer", "consumer": "c1"}))
    c.run_for(3000)
    assert not _rebalances(c, seq)
    assert g.generation == gen and g.state == "Stable"
    assert c.consumers["c1"].alive and c.consumers["c1"].assignment == before
    ev = [e for e in c.events.since(seq) if e.kind == "static_member_rejoined"]
    assert len(ev) == 1 and "within session.timeout.ms" in ev[0].summary and "no rebalance" in ev[0].summary
    assert "orders-0, orders-1" in ev[0].summary or "orders-2, orders-3" in ev[0].summary
    views = {m.client_id: m for m in c.snapshot().groups[0].members}
    assert views["c1"].group_instance_id == "c1-host" and views["c1"].alive


def test_dynamic_member_restart_rebalances():
    """The contrast: without group.instance.id the restarted process is a new member and the group rebalances."""
    c = _cluster(static=False)
    gen = c.group_state("g").generation
    seq = c.events.seq
    c.consumers["c1"].crash()
    c.run_for(3000)
    c.restart_consumer("c1")
    c.run_for(SESSION + 5000)
    assert _rebalances(c, seq) and c.group_state("g").generation > gen


def test_static_member_close_sends_no_leave_group():
    """AbstractCoordinator.maybeLeaveGroup: only dynamic members send LeaveGroup; the group waits for the session."""
    c = _cluster()
    gen = c.group_state("g").generation
    seq = c.events.seq
    c.consumers["c1"].close()
    c.run_for(SESSION - 2000)
    assert not _rebalances(c, seq) and c.group_state("g").generation == gen
    assert not any(m.kind == "LeaveGroup" for m in c.network.in_flight.values())
    assert "sent no LeaveGroup" in next(e for e in c.events.since(seq) if e.kind == "consumer_closed").summary


def test_static_member_that_stays_away_is_removed_with_a_rebalance():
    """A static member that does not come back within session.timeout.ms is removed and the group rebalances."""
    c = _cluster()
    gen = c.group_state("g").generation
    seq = c.events.seq
    c.consumers["c1"].crash()
    c.run_for(SESSION + 5000)
    g = c.group_state("g")
    assert any(
        e.kind == "member_expired" and "static member 'c1-host'" in e.summary for e in c.events.since(seq)
    )
    assert g.generation > gen and "c1-host" not in g.static_members
    assert sorted(c.consumers["c2"].assignment) == [("orders", p) for p in range(4)]
    c.restart_consumer("c1")  # coming back later is a plain new static member: one more rebalance
    c.run_for(5000)
    assert c.group_state("g").static_members.keys() == {"c1-host", "c2-host"}
    assert len(c.consumers["c1"].assignment) == 2


def test_second_process_with_same_instance_id_fences_the_first():
    """KIP-345: an unknown member id with a known instance id replaces the member; the old process is fenced."""
    c = _cluster()
    old = c.consumers["c1"]
    twin = c.consumer(
        "c1-twin",
        group_id="g",
        topics=["orders"],
        config={"group.instance.id": "c1-host", "session.timeout.ms": SESSION, "heartbeat.interval.ms": 1000},
    )
    twin.start(100)
    c.run_for(3000)
    assert old.state == "fenced" and twin.alive and len(twin.assignment) == 2
    assert any(e.kind == "consumer_fenced" and "c1" in e.actors for e in c.events.since(0))
    with pytest.raises(FencedInstanceIdError):
        old.poll(0)


@pytest.mark.parametrize("bad", ["", "has space", "x" * 250])
def test_group_instance_id_must_be_a_legal_id(bad):
    """JoinGroupRequest.validateGroupInstanceId: non-empty, at most 249 of [a-zA-Z0-9._-]."""
    c = Cluster(brokers=1, seed=0)
    with pytest.raises(ConfigError, match="group.instance.id"):
        c.consumer("c1", group_id="g", config={"group.instance.id": bad})


def test_restart_consumer_command_for_unknown_consumer_names_the_consumers():
    c = _cluster()
    with pytest.raises(ConfigError, match="c1"):
        apply_command(c, parse_command({"op": "restart_consumer", "consumer": "nope"}))


def _static_timeline():
    from engine.scenario import GroupSpec, Scenario, TopicSpec
    from engine.timeline import Timeline

    s = Scenario(
        seed=4,
        topics=[TopicSpec(name="orders", partitions=4, replication_factor=3)],
        groups=[
            GroupSpec(
                group_id="g",
                topics=["orders"],
                members=2,
                member_ids=["c1", "c2"],
                static_membership=True,
                config={"session.timeout.ms": SESSION, "heartbeat.interval.ms": 1000},
            )
        ],
    )
    tl = Timeline(s)
    tl.apply({"op": "run_for", "ms": 8000})
    return tl


def test_scenario_static_membership_gives_each_member_its_own_instance_id_and_replays_exactly():
    """A scenario group with static_membership: group.instance.id = member id; restart keeps partitions; the
    run replays to the same snapshot (determinism)."""
    tl = _static_timeline()
    c = tl.cluster
    assert {k.config.group_instance_id for k in c.consumers.values()} == {"c1", "c2"}
    before = list(c.consumers["c2"].assignment)
    gen = c.group_state("g").generation
    tl.apply({"op": "crash_consumer", "consumer": "c2"})
    tl.apply({"op": "run_for", "ms": 2000})
    tl.apply({"op": "restart_consumer", "consumer": "c2"})
    tl.apply({"op": "run_for", "ms": 3000})
    assert c.consumers["c2"].assignment == before and c.group_state("g").generation == gen
    assert type(tl).from_state(tl.to_state()).cluster.snapshot() == c.snapshot()


def test_add_consumer_to_a_static_group_gets_its_own_instance_id():
    """Copying a peer's group.instance.id would fence the peer; the new member is static under its own id."""
    tl = _static_timeline()
    tl.apply({"op": "add_consumer", "group": "g", "consumer": "c3"})
    tl.apply({"op": "run_for", "ms": 8000})
    c = tl.cluster
    assert c.consumers["c3"].config.group_instance_id == "c3"
    assert all(k.state == "stable" for k in c.consumers.values())
    assert set(c.group_state("g").static_members) == {"c1", "c2", "c3"}
