"""Static membership with the KIP-848 consumer protocol (`group.protocol=consumer` + `group.instance.id`),
ported from Apache Kafka's GroupMetadataManagerTest (group-coordinator, trunk ~4.0).

Kafka's tests build a group with ConsumerGroupBuilder and a MockPartitionAssignor; here the same group is put
into our coordinator (ConsumerGroupHarness.with_group) and its server-side assignor is `range`. Topic ids
become topic names (foo: 6 partitions, bar: 3). Where Kafka's expected assignment comes from the mock
assignor's prepared answer, only the epochs are ported.
"""

from __future__ import annotations

import pytest
from _group_helpers import ConsumerGroupHarness

from engine import Cluster
from engine.errors import FencedInstanceIdError

M1 = "member-1"
M2 = "member-2"
M1_ASSIGNED = [("foo", 0), ("foo", 1), ("foo", 2), ("bar", 0), ("bar", 1)]
M2_ASSIGNED = [("foo", 3), ("foo", 4), ("foo", 5), ("bar", 2)]


@pytest.fixture
def h() -> ConsumerGroupHarness:
    return ConsumerGroupHarness()


def _two_static_members(h: ConsumerGroupHarness):
    return h.with_group(10, {M1: M1_ASSIGNED, M2: M2_ASSIGNED})


def test_static_member_gets_back_assignment_upon_rejoin(h):
    """GroupMetadataManagerTest.testStaticMemberGetsBackAssignmentUponRejoin"""
    g = _two_static_members(h)
    leave = h.heartbeat848(M2, M2, -2)
    assert leave.error is None and leave.member_epoch == -2
    assert g.members[M2].epoch == -2 and g.members[M2].assigned == sorted(M2_ASSIGNED)
    rejoin = h.heartbeat848("member-2-rejoin", M2, 0)
    assert rejoin.error is None and rejoin.member_epoch == 10
    assert sorted(rejoin.assignment) == sorted(M2_ASSIGNED)
    assert M2 not in g.members and g.static[M2] == "member-2-rejoin" and g.epoch == 10


def test_static_member_rejoins_with_new_subscribed_topics(h):
    """GroupMetadataManagerTest.testStaticMemberRejoinsWithNewSubscribedTopics: a new subscription on rejoin bumps
    the group epoch (the mock assignor's answer is also what range gives here)."""
    g = h.with_group(
        10,
        {"member-1": [("foo", 0), ("foo", 1), ("foo", 2)], "member-2": [("foo", 3), ("foo", 4), ("foo", 5)]},
        topics=["foo"],
    )
    assert h.heartbeat848("member-2", "member-2", -2, topics=["foo"]).member_epoch == -2
    r = h.heartbeat848("member-2-rejoin", "member-2", 0, topics=["foo", "bar"])
    assert r.error is None and r.member_epoch == 11 and g.epoch == 11
    assert sorted(r.assignment) == [("bar", 0), ("bar", 1), ("bar", 2), ("foo", 3), ("foo", 4), ("foo", 5)]


def test_no_group_epoch_bump_when_static_member_temporarily_leaves(h):
    """GroupMetadataManagerTest.testNoGroupEpochBumpWhenStaticMemberTemporarilyLeaves"""
    g = _two_static_members(h)
    leave = h.heartbeat848(M2, M2, -2)
    assert leave.member_epoch == -2 and g.epoch == 10
    assert g.members[M2].epoch == -2 and g.members[M2].assigned == sorted(M2_ASSIGNED)


def test_leaving_static_member_bumps_group_epoch(h):
    """GroupMetadataManagerTest.testLeavingStaticMemberBumpsGroupEpoch: member epoch -1 leaves for good."""
    g = _two_static_members(h)
    h.heartbeat848(M2, M2, -1)
    assert g.epoch == 11 and M2 not in g.members and M2 not in g.static


def test_group_epoch_bump_when_new_static_member_joins(h):
    """GroupMetadataManagerTest.testGroupEpochBumpWhenNewStaticMemberJoins (epochs; the assignment came from a mock)"""
    g = _two_static_members(h)
    r = h.heartbeat848("member-3", "member-3", 0)
    assert r.error is None and r.member_epoch == 11 and g.epoch == 11
    assert g.static["member-3"] == "member-3"


def test_should_throw_unreleased_instance_id_exception_when_new_member_joins_with_in_use_instance_id(h):
    """GroupMetadataManagerTest.testShouldThrownUnreleasedInstanceIdExceptionWhenNewMemberJoinsWithInUseInstanceId"""
    h.with_group(10, {M1: [("foo", 0), ("foo", 1), ("foo", 2)]}, topics=["foo"])
    assert h.heartbeat848(M2, M1, 0, topics=["foo"]).error == "UNRELEASED_INSTANCE_ID"


def test_should_throw_unknown_member_id_exception_when_unknown_static_member_joins(h):
    """GroupMetadataManagerTest.testShouldThrownUnknownMemberIdExceptionWhenUnknownStaticMemberJoins"""
    h.with_group(10, {M1: [("foo", 0), ("foo", 1), ("foo", 2)]}, topics=["foo"])
    assert h.heartbeat848(M2, M2, 10, topics=["foo"]).error == "UNKNOWN_MEMBER_ID"


def test_should_throw_fenced_instance_id_exception_when_static_member_with_different_member_id_joins(h):
    """GroupMetadataManagerTest.testShouldThrowFencedInstanceIdExceptionWhenStaticMemberWithDifferentMemberIdJoins"""
    h.with_group(10, {M1: [("foo", 0), ("foo", 1), ("foo", 2)]}, topics=["foo"])
    assert h.heartbeat848("unknown-" + M1, M1, 11, topics=["foo"]).error == "FENCED_INSTANCE_ID"


def test_consumer_group_member_epoch_validation_for_static_member(h):
    """GroupMetadataManagerTest.testConsumerGroupMemberEpochValidationForStaticMember (previous epoch 99 with its
    owned partitions accepted; the sub-case of 99 with other partitions is in NOT_PORTED-group.md)"""
    h.with_group(100, {M1: [("foo", 1), ("foo", 2), ("foo", 3)]}, topics=["foo"])
    assert h.heartbeat848(M1, M1, 200, topics=["foo"]).error == "FENCED_MEMBER_EPOCH"
    assert h.heartbeat848(M1, M1, 50, topics=["foo"]).error == "FENCED_MEMBER_EPOCH"
    ok = h.heartbeat848(M1, M1, 99, topics=["foo"], owned=[("foo", 1), ("foo", 2), ("foo", 3)])
    assert ok.error is None and ok.member_epoch == 100


def test_should_throw_unknown_member_id_exception_when_unknown_static_member_leaves(h):
    """GroupMetadataManagerTest.testShouldThrowUnknownMemberIdExceptionWhenUnknownStaticMemberLeaves"""
    h.with_group(10, {M1: [("foo", 0), ("foo", 1), ("foo", 2)]}, topics=["foo"])
    assert h.heartbeat848(M1, "unknown-" + M1, -2, topics=["foo"]).error == "UNKNOWN_MEMBER_ID"


def test_should_throw_fenced_instance_id_exception_when_static_member_with_different_member_id_leaves(h):
    """GroupMetadataManagerTest.testShouldThrowFencedInstanceIdExceptionWhenStaticMemberWithDifferentMemberIdLeaves"""
    h.with_group(10, {M1: [("foo", 0), ("foo", 1), ("foo", 2)]}, topics=["foo"])
    assert h.heartbeat848("unknown-" + M1, M1, -2, topics=["foo"]).error == "FENCED_INSTANCE_ID"


def test_session_timeout_expiration_static_member(h):
    """GroupMetadataManagerTest.testSessionTimeoutExpirationStaticMember"""
    first = h.heartbeat848("member", "member", 0, topics=["foo"])
    assert first.member_epoch == 1
    leave = h.heartbeat848("member", "member", -2, topics=["foo"])
    assert leave.member_epoch == -2
    g = h.kip848.groups[h.GROUP]
    h.sleep(45000 + 1)
    assert not g.members and g.epoch == 2


# -- end to end: real consumers -------------------------------------------------------------------------------------
def _cluster() -> Cluster:
    c = Cluster(brokers=3, seed=1)
    c.create_topic("orders", partitions=4, replication_factor=1)
    for cid in ("c1", "c2"):
        c.consumer(
            cid,
            group_id="g",
            topics=["orders"],
            config={"group.protocol": "consumer", "group.instance.id": f"{cid}-host"},
        ).start(100)
    c.run_for(12000)
    return c


def test_kip848_static_member_closes_with_epoch_minus_2_and_comes_back_without_a_new_group_epoch():
    """Issue 15 static membership (KIP-848): close() sends member epoch -2; the restarted process gets its partitions."""
    c = _cluster()
    g = c.brokers[c.coordinator_for("g")].coordinator.kip848.groups["g"]
    epoch, before = g.epoch, list(c.consumers["c1"].assignment)
    c.consumers["c1"].close()
    c.run_for(3000)
    c.restart_consumer("c1")
    c.run_for(3000)
    assert g.epoch == epoch and c.consumers["c1"].assignment == before and before
    assert any(e.kind == "static_member_rejoined" for e in c.events.since(0))


def test_kip848_static_member_restarted_after_a_crash_gets_unreleased_instance_id():
    """A crashed static member never released its instance id: the new process is refused (fatal for the client)."""
    c = _cluster()
    c.consumers["c1"].crash()
    c.run_for(3000)
    k = c.restart_consumer("c1")
    c.run_for(3000)
    assert k.state == "fenced"
    assert any(
        e.kind == "consumer_fenced" and "UNRELEASED_INSTANCE_ID" in e.summary for e in c.events.since(0)
    )
    with pytest.raises(FencedInstanceIdError):
        k.poll(0)
