"""A group coordinator that takes over a group loads it from __consumer_offsets: ported from Kafka's
GroupMetadataManagerTest (replay of a GroupMetadata record, onLoaded, onUnloaded) and ConsumerCoordinatorTest
(NOT_COORDINATOR marks the coordinator unknown, without a rejoin), then the behaviour a user sees: the
coordinator's broker dies and the group goes on, same generation, same partitions, no rebalance.

Adaptation: a GroupMetadata record's value is our JSON of GroupMetadataValue's fields (generation, protocol,
leader, members with member id, group instance id, client id, subscription topics, session and rebalance
timeouts, assignment as topic-partitions instead of bytes: Kafka's `new byte[]{2}` becomes `[["foo", 2]]`).
"""

from __future__ import annotations

import json

import pytest
from _group_helpers import GROUP, ClassicGroupHarness

from engine.group import group_metadata_key
from engine.records import BATCH_OVERHEAD, RecordBatch, record_size
from helpers import GROUP_FAST, make_cluster


def _append_group_metadata(h: ClassicGroupHarness, value: dict) -> None:
    """GroupMetadataManagerTestContext.newGroupMetadataRecord, written into the group's partition."""
    c = h.cluster
    c.run_for(100)  # the broker has its LeaderAndIsr for the partition
    tp = ("__consumer_offsets", c.offsets_partition(GROUP))
    broker = c.brokers[c.coordinator_for(GROUP)]
    r = broker.replicas[tp]
    key, val = group_metadata_key(GROUP), json.dumps(value).encode()
    size = BATCH_OVERHEAD + record_size(key, val)
    batch = RecordBatch(r.leo, r.leader_epoch, (key,), (val,), (c.now,), None, -1, -1, -1, size, "none", size)
    broker.append_as_leader(r, batch)


def _replay(h: ClassicGroupHarness) -> None:
    """context.replay(record) + onLoaded(): the broker gives the partition up and is elected for it again."""
    p = h.cluster.offsets_partition(GROUP)
    h.coordinator.on_resigned(p)
    h.coordinator.on_elected(p)


def _two_members(rebalance_timeout: int) -> dict:
    return {
        "generation": 1,
        "leader": "member-0",
        "protocol": "range",
        "members": [
            {
                "member_id": f"member-{i}",
                "group_instance_id": f"group-instance-id-{i}",
                "client_id": f"client-{i}",
                "topics": ["foo"],
                "assignment": [["foo", 2]],
                "session_timeout_ms": 4000,
                "rebalance_timeout_ms": rebalance_timeout,
            }
            for i in range(2)
        ],
    }


@pytest.mark.parametrize("use_default_rebalance_timeout", [True, False])
def test_replay_group_metadata_records(use_default_rebalance_timeout):
    """GroupMetadataManagerTest.testReplayGroupMetadataRecords(useDefaultRebalanceTimeout)."""
    h = ClassicGroupHarness()
    _append_group_metadata(h, _two_members(-1 if use_default_rebalance_timeout else 9000))
    _replay(h)
    g = h.coordinator.groups[GROUP]
    assert g.generation == 1
    assert g.protocol == "range"
    assert g.leader == "member-0"
    assert g.state == "Stable"
    assert [m.member_id for m in g.members.values()] == ["member-0", "member-1"]
    for i, m in enumerate(g.members.values()):
        assert m.group_instance_id == f"group-instance-id-{i}"
        assert m.client_id == f"client-{i}"
        assert m.session_timeout_ms == 4000
        assert m.rebalance_timeout_ms == (4000 if use_default_rebalance_timeout else 9000)
        assert m.protocols == ["range"]
        assert m.assignment == [("foo", 2)]
    assert g.static_members == {"group-instance-id-0": "member-0", "group-instance-id-1": "member-1"}


def test_on_loaded_schedules_classic_group_member_heartbeats():
    """GroupMetadataManagerTest.testOnLoadedSchedulesClassicGroupMemberHeartbeats: each loaded member's
    session timer is due at now + sessionTimeout (4000 ms)."""
    h = ClassicGroupHarness()
    _append_group_metadata(h, _two_members(9000))
    _replay(h)
    now = h.cluster.now
    for m in h.coordinator.groups[GROUP].members.values():
        assert m.session_timer is not None and m.session_timer.time_ms == now + 4000
    # ...and they expire if nobody heartbeats (the clients client-0/1 do not exist here)
    h.sleep(3999)
    assert len(h.coordinator.groups[GROUP].members) == 2
    h.sleep(2)
    assert h.coordinator.groups[GROUP].members == {}


def test_loaded_member_heartbeats_on_at_the_same_generation():
    """After the load, a member's Heartbeat with its generation is answered NONE: no rejoin is needed
    (GroupMetadataManager.classicGroupHeartbeat on a Stable group)."""
    h = ClassicGroupHarness()
    _append_group_metadata(h, _two_members(9000))
    _replay(h)
    hb = h.heartbeat("member-0", 1, "group-instance-id-0")
    assert hb.done and hb.error is None


def test_classic_group_on_unloaded_empty_and_preparing_rebalance():
    """GroupMetadataManagerTest.testClassicGroupOnUnloadedEmptyAndPreparingRebalance: members waiting in
    JoinGroup are answered NOT_COORDINATOR, and the group leaves this broker's memory."""
    h = ClassicGroupHarness()
    first = h.join_dynamic()
    second = h.join_dynamic()
    assert not first.done and not second.done
    assert h.group.state == "PreparingRebalance" and len(h.group.members) == 2
    h.coordinator.on_resigned(h.cluster.offsets_partition(GROUP))
    h.settle()
    assert first.done and first.error == "NOT_COORDINATOR"
    assert second.done and second.error == "NOT_COORDINATOR"
    assert GROUP not in h.coordinator.groups


def test_not_coordinator_marks_coordinator_unknown_without_rejoin():
    """ConsumerCoordinatorTest.testNotCoordinator / testUpdateLastHeartbeatPollWhenCoordinatorUnknown: a
    Heartbeat answered NOT_COORDINATOR marks the coordinator unknown; the member keeps its generation and
    partitions (no rejoin is requested) and looks the coordinator up again."""
    c = make_cluster(partitions=2, rf=3)
    k = c.consumer("c1", group_id="g", topics=["orders"], config=GROUP_FAST)
    for _ in range(40):
        k.poll(200)
    assert k.state == "stable"
    generation, assignment = k.generation, list(k.assignment)
    k.on_heartbeat_response("g", _not_coordinator())
    assert k.coordinator is None  # coordinatorUnknown()
    assert k.state == "stable" and k.generation == generation and k.assignment == assignment
    for _ in range(5):
        k.poll(200)
    assert k.coordinator == c.coordinator_for("g")
    assert k.generation == generation and k.assignment == assignment


def _not_coordinator():
    from engine.errors import NotCoordinatorError

    return NotCoordinatorError("this broker is not the group's coordinator; find it again")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_coordinator_broker_dies_group_goes_on_without_rebalance(seed):
    """What a user sees: the broker that coordinates a Stable group crashes. Another broker becomes the leader of
    the group's __consumer_offsets partition, loads the group, and the members find it: same generation, same
    partitions, nothing revoked, and they keep consuming new records."""
    c = make_cluster(partitions=2, rf=3, seed=seed)
    p = c.producer("p1")
    for i in range(40):
        p.send("orders", key=f"k{i % 7}", value=f"v{i}")
    p.flush()
    ks = [c.consumer(f"c{i}", group_id="g", topics=["orders"], config=GROUP_FAST) for i in (1, 2)]
    for _ in range(20):
        for k in ks:
            k.poll(200)
    before = c.snapshot().group("g")
    assignments = {k.id: list(k.assignment) for k in ks}
    assert before.state == "Stable" and all(assignments.values())
    old = c.coordinator_for("g")
    mark = len(c.events.events)
    c.crash_broker(old)
    for i in range(40, 80):
        p.send("orders", key=f"k{i % 7}", value=f"v{i}")
    got = []
    for _ in range(60):
        for k in ks:
            got.extend(r.value for r in k.poll(200))
    p.flush()
    for _ in range(20):
        for k in ks:
            got.extend(r.value for r in k.poll(200))
    new = c.coordinator_for("g")
    assert new is not None and new != old
    kinds = [e.kind for e in c.events.events[mark:] if e.data.get("group") == "g" or "g" in e.actors]
    assert "group_loaded" in kinds
    assert "rebalance_started" not in kinds and "partitions_revoked" not in kinds
    after = c.snapshot().group("g")
    assert after.state == "Stable" and after.generation == before.generation
    assert {k.id: list(k.assignment) for k in ks} == assignments
    assert {f"v{i}".encode() for i in range(40, 80)} <= set(got)


# -- KIP-848 groups ---------------------------------------------------------------------------------------------
def _consumer_group_record(h: ClassicGroupHarness) -> None:
    """GroupMetadataManagerTest.testOnLoaded's group "foo" at epoch 10: foo-1 (member epoch 9, foo-0..2 assigned,
    foo-3..5 pending revocation, target foo-3..5) and foo-2 (member epoch 10), both subscribed to foo with the
    range assignor; written as our one ConsumerGroup record in the group's partition."""
    from engine.group848 import CONSUMER_GROUP_KEY

    c = h.cluster
    c.run_for(100)
    tp = ("__consumer_offsets", c.offsets_partition("foo"))
    broker = c.brokers[c.coordinator_for("foo")]
    r = broker.replicas[tp]
    foo = [["foo", p] for p in range(6)]
    value = {
        "epoch": 10,
        "target_epoch": 10,
        "target": {"foo-1": foo[3:], "foo-2": []},
        "assignor": "range",
        "metadata": {"foo": 6},
        "members": [
            {
                "member_id": "foo-1",
                "client_id": "client",
                "instance_id": None,
                "topics": ["foo"],
                "epoch": 9,
                "assigned": foo[:3],
                "owned": foo,
                "assignor": "range",
            },
            {
                "member_id": "foo-2",
                "client_id": "client",
                "instance_id": None,
                "topics": ["foo"],
                "epoch": 10,
                "assigned": [],
                "owned": [],
                "assignor": "range",
            },
        ],
    }
    key, val = CONSUMER_GROUP_KEY + b"foo", json.dumps(value).encode()
    size = BATCH_OVERHEAD + record_size(key, val)
    batch = RecordBatch(r.leo, r.leader_epoch, (key,), (val,), (c.now,), None, -1, -1, -1, size, "none", size)
    broker.append_as_leader(r, batch)


def test_on_loaded_consumer_group_members_get_session_timeouts():
    """GroupMetadataManagerTest.testOnLoaded: after the replay, all members have a session timeout in place
    (foo-1's revocation timeout is not modelled: see NOT_PORTED.md) and the group keeps its epochs."""
    h = ClassicGroupHarness()
    h.cluster.create_topic("foo", partitions=6, replication_factor=1)
    _consumer_group_record(h)
    p = h.cluster.offsets_partition("foo")
    h.coordinator.on_resigned(p)
    h.coordinator.on_elected(p)
    g = h.coordinator.kip848.groups["foo"]
    assert g.epoch == 10 and g.target_epoch == 10 and g.assignor == "range"
    assert {mid: m.epoch for mid, m in g.members.items()} == {"foo-1": 9, "foo-2": 10}
    assert g.members["foo-1"].assigned == [("foo", 0), ("foo", 1), ("foo", 2)]
    now = h.cluster.now
    session = h.cluster.broker_config.group_consumer_session_timeout_ms
    for m in g.members.values():
        assert m.timer is not None and m.timer.time_ms == now + session


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kip848_coordinator_broker_dies_members_keep_their_epochs(seed):
    """What a user sees with group.protocol=consumer: the coordinator's broker crashes, the new coordinator loads
    the group, and the members go on at the same member epoch with the same partitions (before, they were
    answered UNKNOWN_MEMBER_ID and lost their partitions)."""
    c = make_cluster(partitions=4, rf=3, seed=seed)
    p = c.producer("p1")
    for i in range(40):
        p.send("orders", key=f"k{i % 7}", value=f"v{i}")
    p.flush()
    cfg = {"group.protocol": "consumer", "auto.offset.reset": "earliest"}
    ks = [c.consumer(f"c{i}", group_id="g", topics=["orders"], config=cfg) for i in (1, 2)]
    for _ in range(60):
        for k in ks:
            k.poll(200)
    assert c.snapshot().group("g").state == "Stable"
    before = {k.id: (k.generation, list(k.assignment)) for k in ks}
    assert all(a for _, a in before.values())
    old = c.coordinator_for("g")
    mark = len(c.events.events)
    c.crash_broker(old)
    for _ in range(150):
        for k in ks:
            k.poll(200)
    assert c.coordinator_for("g") not in (None, old)
    kinds = [e.kind for e in c.events.events[mark:] if e.data.get("group") == "g" or "g" in e.actors]
    assert "group_loaded" in kinds
    assert "partitions_revoked" not in kinds and "rebalance_started" not in kinds
    assert {k.id: (k.generation, list(k.assignment)) for k in ks} == before
    assert c.snapshot().group("g").state == "Stable"
