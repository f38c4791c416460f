"""Static membership (KIP-345) in the classic group coordinator, ported from Apache Kafka's
GroupMetadataManagerTest and ClassicGroupTest (group-coordinator module, trunk ~4.0).

Each test names the Java method it came from. Requests go straight into our GroupCoordinator through the
harness in _group_helpers.py (see its docstring for the adaptations: topic-partition lists for assignment
bytes; a dynamic member's join takes the MEMBER_ID_REQUIRED round first). Kafka's
`group.transitionTo(STABLE)` ("simulate successful sync group phase") is done with a real SyncGroup.
Parametrized cases with `supportSkippingAssignment=false` (JoinGroup before v9) are listed in
NOT_PORTED-group.md: our coordinator speaks the current protocol only.
"""

from __future__ import annotations

import pytest
from _group_helpers import (
    FOLLOWER_ASSIGNMENT,
    PROTOCOL_SUPERSET,
    ClassicGroupHarness,
    Pending,
)

from engine.group import Member

COMPLETING, PREPARING, STABLE = "CompletingRebalance", "PreparingRebalance", "Stable"


@pytest.fixture
def h() -> ClassicGroupHarness:
    return ClassicGroupHarness()


def _stable_single_static_member(h: ClassicGroupHarness, protocols: list[str], **kw) -> Pending:
    """joinClassicGroupAndCompleteJoin + transitionTo(STABLE): one static member, generation 1."""
    first = h.join_and_complete(instance_id="group-instance-id", protocols=protocols, **kw)
    assert first.error is None
    g = h.group
    assert len(g.members) == 1 and g.generation == 1 and g.state == COMPLETING
    assert h.sync(first.member_id, 1, "group-instance-id", {first.member_id: []}).error is None
    assert g.state == STABLE
    return first


# -- joining ------------------------------------------------------------------------------------------------------
def test_static_member_join_as_first_member(h):
    """GroupMetadataManagerTest.testStaticMemberJoinAsFirstMember: no MEMBER_ID_REQUIRED round for a static member."""
    r = h.join_and_complete(instance_id="group-instance-id")
    assert r.error is None
    assert r.member_id.startswith(
        "group-instance-id-"
    )  # ClassicGroup.generateMemberId: instance id + "-" + uuid


def test_static_member_rejoin_with_explicit_unknown_member_id(h):
    """GroupMetadataManagerTest.testStaticMemberRejoinWithExplicitUnknownMemberId"""
    r = h.join_and_complete(
        instance_id="group-instance-id", session_timeout_ms=5000, rebalance_timeout_ms=5000
    )
    assert r.error is None
    again = h.join(
        member_id="unknown-member-id",
        instance_id="group-instance-id",
        session_timeout_ms=5000,
        rebalance_timeout_ms=5000,
    )
    assert again.done and again.error == "FENCED_INSTANCE_ID"


def test_join_group_replace_static_member(h):
    """GroupMetadataManagerTest.testJoinGroupReplaceStaticMember"""
    old = h.join(instance_id="group-instance-id", session_timeout_ms=5000)
    g = h.group
    assert not old.done and sum(m.awaiting_join for m in g.members.values()) == 1 and len(g.members) == 1
    new = h.join(instance_id="group-instance-id", session_timeout_ms=5000)
    assert not new.done
    assert old.done and old.error == "FENCED_INSTANCE_ID"
    assert sum(m.awaiting_join for m in g.members.values()) == 1 and len(g.members) == 1
    h.sleep(3000)  # classicGroupInitialRebalanceDelayMs
    assert new.done and new.error is None
    assert sum(m.awaiting_join for m in g.members.values()) == 0 and len(g.members) == 1


def test_static_member_rejoin_with_known_member_id(h):
    """GroupMetadataManagerTest.testStaticMemberRejoinWithKnownMemberId: same metadata during CompletingRebalance
    is answered at once, and the SyncGroup that follows makes the group Stable."""
    first = h.join_and_complete(instance_id="group-instance-id")
    assert first.error is None
    again = h.join(member_id=first.member_id, instance_id="group-instance-id")
    assert h.group.state == COMPLETING
    assert again.done and again.error is None
    sync = h.sync(first.member_id, first.generation_id, "group-instance-id", {first.member_id: []})
    assert sync.done and sync.error is None and h.group.state == STABLE


# -- replacing a static member in a Stable group: no rebalance ---------------------------------------------------
def test_replace_static_member_in_stable_state_no_error(h):
    """GroupMetadataManagerTest.testReplaceStaticMemberInStableStateNoError[supportSkippingAssignment=true]"""
    old = _stable_single_static_member(h, ["range"])
    r = h.join(
        instance_id="group-instance-id",
        protocols=["range", "roundrobin"],
        rebalance_timeout_ms=7000,
        session_timeout_ms=4500,
    )
    g = h.group
    new_id = g.static_members["group-instance-id"]
    assert r.done and r.error is None
    assert r.member_id == new_id != old.member_id
    assert r.payload["leader"] == new_id and r.payload["skip_assignment"] is True
    assert r.payload["generation"] == 1 and r.payload["protocol"] == "range"
    assert list(r.payload["members"]) == [new_id]
    m = g.members[new_id]
    assert m.group_instance_id == "group-instance-id"
    assert (m.rebalance_timeout_ms, m.session_timeout_ms) == (7000, 4500)
    assert m.protocols == ["range", "roundrobin"]
    assert len(g.members) == 1 and g.generation == 1 and g.state == STABLE


def test_replace_static_member_in_stable_state_succeeds(h):
    """GroupMetadataManagerTest.testReplaceStaticMemberInStableStateSucceeds[supportSkippingAssignment=true]"""
    old = _stable_single_static_member(h, ["range"])
    r = h.join(
        instance_id="group-instance-id",
        protocols=["range", "roundrobin"],
        rebalance_timeout_ms=7000,
        session_timeout_ms=6000,
    )
    g = h.group
    assert r.error is None and r.payload["skip_assignment"] is True
    assert (
        r.payload["leader"] == r.member_id
        and r.payload["generation"] == 1
        and r.payload["protocol"] == "range"
    )
    m = g.members[g.static_members["group-instance-id"]]
    assert m.member_id != old.member_id and m.group_instance_id == "group-instance-id"
    assert (m.rebalance_timeout_ms, m.session_timeout_ms) == (7000, 6000)
    assert m.protocols == ["range", "roundrobin"]
    assert len(g.members) == 1 and g.generation == 1 and g.state == STABLE


def test_replace_static_member_in_stable_state_with_updated_protocol_triggers_rebalance(h):
    """GroupMetadataManagerTest.testReplaceStaticMemberInStableStateWithUpdatedProtocolTriggersRebalance"""
    _stable_single_static_member(h, ["range", "roundrobin"])
    r = h.join(instance_id="group-instance-id", protocols=["roundrobin"])
    g = h.group
    assert r.done and r.error is None
    assert len(g.members) == 1 and g.generation == 2 and g.state == COMPLETING


def test_replace_static_member_in_completing_rebalance_state_triggers_rebalance(h):
    """GroupMetadataManagerTest.testReplaceStaticMemberInCompletingRebalanceStateTriggersRebalance"""
    first = h.join_and_complete(instance_id="group-instance-id")
    assert first.error is None
    g = h.group
    assert len(g.members) == 1 and g.generation == 1 and g.state == COMPLETING
    r = h.join(instance_id="group-instance-id")
    assert r.done and r.error is None
    assert len(g.members) == 1 and g.generation == 2 and g.state == COMPLETING


# -- two static members: leader and follower (staticMembersJoinAndRebalance) ---------------------------------------
def test_static_members_join_and_rebalance(h):
    """GroupMetadataManagerTestContext.staticMembersJoinAndRebalance (the setup most static tests share)."""
    r = h.static_members_join_and_rebalance()
    assert r.generation == 1 and r.follower_assignment == FOLLOWER_ASSIGNMENT
    assert set(h.group.static_members) == {"leader-instance-id", "follower-instance-id"}


def test_static_member_rejoin_with_leader_id_and_unknown_member_id(h):
    """GroupMetadataManagerTest.testStaticMemberRejoinWithLeaderIdAndUnknownMemberId[supportSkippingAssignment=true]"""
    r = h.static_members_join_and_rebalance()
    g = h.group
    j = h.join(instance_id="leader-instance-id", protocols=PROTOCOL_SUPERSET)
    assert j.done and j.error is None
    assert j.payload["generation"] == r.generation and j.payload["leader"] == j.member_id
    assert j.payload["protocol"] == "range" and j.payload["skip_assignment"] is True
    assert set(j.payload["members"]) == set(g.members) and len(g.members) == 2
    assert g.state == STABLE
    old_join = h.join(member_id=r.leader_id, instance_id="leader-instance-id", protocols=PROTOCOL_SUPERSET)
    assert old_join.done and old_join.error == "FENCED_INSTANCE_ID"
    old_sync = h.sync(r.leader_id, r.generation, "leader-instance-id")
    assert old_sync.done and old_sync.error == "FENCED_INSTANCE_ID"
    no_instance = h.sync(r.leader_id, r.generation, None)
    assert no_instance.done and no_instance.error == "UNKNOWN_MEMBER_ID"


def test_static_member_rejoin_with_leader_id_and_known_member_id(h):
    """GroupMetadataManagerTest.testStaticMemberRejoinWithLeaderIdAndKnownMemberId: the leader's rejoin starts a
    rebalance; the follower's session (5 s) runs out during it and it is removed."""
    r = h.static_members_join_and_rebalance()
    j = h.join(member_id=r.leader_id, instance_id="leader-instance-id", rebalance_timeout_ms=10000)
    h.sleep_until(lambda: j.done, 10000)
    g = h.group
    assert r.follower_id not in g.members
    assert j.done and j.error is None
    assert j.payload["generation"] == r.generation + 1
    assert j.payload["member_id"] == j.payload["leader"] == r.leader_id
    assert j.payload["protocol"] == "range" and set(j.payload["members"]) == {r.leader_id}
    assert g.state == COMPLETING and set(g.static_members) == {"leader-instance-id"}


def test_static_member_rejoin_with_leader_id_and_unexpected_empty_group(h):
    """GroupMetadataManagerTest.testStaticMemberRejoinWithLeaderIdAndUnexpectedEmptyGroup"""
    r = h.static_members_join_and_rebalance()
    h.group.state = "Empty"  # Kafka: group.transitionTo(PREPARING_REBALANCE); group.transitionTo(EMPTY)
    j = h.join(member_id=r.leader_id, instance_id="leader-instance-id")
    assert j.done and j.error == "UNKNOWN_MEMBER_ID"


def test_static_member_rejoin_with_follower_id_and_change_of_protocol(h):
    """GroupMetadataManagerTest.testStaticMemberRejoinWithFollowerIdAndChangeOfProtocol: the old leader does not
    rejoin within the rebalance timeout; it stays (static) and the follower becomes leader."""
    r = h.static_members_join_and_rebalance(rebalance_timeout_ms=10000, session_timeout_ms=15000)
    j = h.join(
        member_id=r.follower_id,
        instance_id="follower-instance-id",
        protocols=["roundrobin"],
        rebalance_timeout_ms=10000,
        session_timeout_ms=15000,
    )
    assert not j.done
    h.sleep(10000)
    g = h.group
    assert j.done and j.error is None
    assert "leader-instance-id" in g.static_members and g.leader == r.follower_id
    assert j.payload["generation"] == r.generation + 1 and j.payload["leader"] == r.follower_id
    assert j.payload["protocol"] == "roundrobin"
    assert set(j.payload["members"]) == {r.leader_id, r.follower_id}
    assert g.state == COMPLETING


def test_static_member_rejoin_with_unknown_member_id_and_change_of_protocol_with_selected_protocol_changed(h):
    """GroupMetadataManagerTest.testStaticMemberRejoinWithUnknownMemberIdAndChangeOfProtocolWithSelectedProtocolChanged"""
    r = h.static_members_join_and_rebalance(rebalance_timeout_ms=10000, session_timeout_ms=15000)
    g = h.group
    assert h.coordinator._choose_protocol(g) != "roundrobin"
    j = h.join(
        instance_id="follower-instance-id",
        protocols=["roundrobin"],
        rebalance_timeout_ms=10000,
        session_timeout_ms=15000,
    )
    assert not j.done
    assert h.coordinator._choose_protocol(g) == "roundrobin"
    h.sleep(10000)
    assert j.done and j.error is None
    assert "leader-instance-id" in g.static_members
    assert g.leader == j.member_id != r.follower_id
    assert j.payload["generation"] == r.generation + 1 and j.payload["protocol"] == "roundrobin"
    assert set(j.payload["members"]) == {r.leader_id, j.member_id}
    assert g.state == COMPLETING


def test_static_member_rejoin_with_unknown_member_id_and_change_of_protocol_while_select_protocol_unchanged(
    h,
):
    """GroupMetadataManagerTest.testStaticMemberRejoinWithUnknownMemberIdAndChangeOfProtocolWhileSelectProtocolUnchanged"""
    r = h.static_members_join_and_rebalance()
    g = h.group
    j = h.join(instance_id="follower-instance-id", protocols=[h.coordinator._choose_protocol(g)])
    assert j.done and j.error is None
    assert j.payload["generation"] == r.generation and j.payload["leader"] == r.leader_id
    assert j.payload["protocol"] == "range" and j.payload["skip_assignment"] is False
    assert j.payload["members"] is None and g.state == STABLE
    new_id = j.member_id
    assert new_id != r.follower_id
    stale = h.join(member_id=r.follower_id, instance_id="follower-instance-id", protocols=["range"])
    assert stale.error == "FENCED_INSTANCE_ID"
    stale_sync = h.sync(r.follower_id, r.generation, "follower-instance-id", {})
    assert stale_sync.done and stale_sync.error == "FENCED_INSTANCE_ID"
    sync = h.sync(new_id, r.generation, "follower-instance-id", {})
    assert sync.done and sync.error is None and sync.assignment == r.follower_assignment


def test_static_member_rejoin_with_known_leader_id_to_trigger_rebalance_and_follower_with_change_of_protocol(
    h,
):
    """GroupMetadataManagerTest.testStaticMemberRejoinWithKnownLeaderIdToTriggerRebalanceAndFollowerWithChangeofProtocol"""
    r = h.static_members_join_and_rebalance()
    g = h.group
    kw = {"protocols": PROTOCOL_SUPERSET, "rebalance_timeout_ms": 10000, "session_timeout_ms": 5000}
    leader = h.join(member_id=r.leader_id, instance_id="leader-instance-id", **kw)
    assert not leader.done
    follower = h.join(member_id=r.follower_id, instance_id="follower-instance-id", **kw)
    assert leader.done and follower.done and g.state == COMPLETING and g.generation == 2
    assert leader.payload["generation"] == r.generation + 1 and leader.payload["leader"] == r.leader_id
    assert set(leader.payload["members"]) == {r.leader_id, r.follower_id}
    assert follower.payload["leader"] == r.leader_id and follower.payload["members"] is None
    # the follower's protocols change from the superset to ["range"]: a new rebalance
    follower = h.join(
        member_id=r.follower_id,
        instance_id="follower-instance-id",
        protocols=["range"],
        rebalance_timeout_ms=10000,
        session_timeout_ms=5000,
    )
    assert not follower.done and g.state == PREPARING
    h.sleep(5000)  # the leader's session expires; the follower, waiting in JoinGroup, is kept
    assert follower.done and follower.error is None
    assert follower.payload["generation"] == r.generation + 2
    assert follower.payload["leader"] == follower.member_id == r.follower_id
    assert follower.payload["protocol"] == "range" and set(follower.payload["members"]) == {r.follower_id}
    assert g.state == COMPLETING and set(g.static_members) == {"follower-instance-id"}


def test_static_member_rejoin_as_follower_with_unknown_member_id(h):
    """GroupMetadataManagerTest.testStaticMemberRejoinAsFollowerWithUnknownMemberId: no rebalance, same
    generation, and SyncGroup gives the follower its old assignment back."""
    r = h.static_members_join_and_rebalance()
    g = h.group
    j = h.join(instance_id="follower-instance-id", protocols=PROTOCOL_SUPERSET)
    assert j.done and j.error is None
    assert "leader-instance-id" in g.static_members
    assert j.payload["generation"] == r.generation and j.payload["leader"] == r.leader_id
    assert j.payload["protocol"] == "range" and j.payload["skip_assignment"] is False
    assert j.payload["members"] is None and g.state == STABLE
    assert j.member_id != r.follower_id
    sync = h.sync(j.member_id, r.generation, "follower-instance-id")
    assert sync.done and sync.error is None and sync.assignment == r.follower_assignment


def test_static_member_rejoin_as_follower_with_known_member_id_and_no_protocol_change(h):
    """GroupMetadataManagerTest.testStaticMemberRejoinAsFollowerWithKnownMemberIdAndNoProtocolChange"""
    r = h.static_members_join_and_rebalance()
    g = h.group
    j = h.join(member_id=r.follower_id, instance_id="follower-instance-id", protocols=PROTOCOL_SUPERSET)
    assert j.done and j.error is None
    assert "leader-instance-id" in g.static_members
    assert j.payload["generation"] == r.generation and j.member_id == r.follower_id
    assert j.payload["leader"] == r.leader_id and j.payload["protocol"] == "range"
    assert j.payload["members"] is None and g.state == STABLE


def test_static_member_rejoin_as_follower_with_mismatched_instance_id(h):
    """GroupMetadataManagerTest.testStaticMemberRejoinAsFollowerWithMismatchedInstanceId"""
    r = h.static_members_join_and_rebalance()
    j = h.join(member_id=r.follower_id, instance_id="leader-instance-id", protocols=PROTOCOL_SUPERSET)
    assert j.done and j.error == "FENCED_INSTANCE_ID"


def test_static_member_rejoin_as_leader_with_mismatched_instance_id(h):
    """GroupMetadataManagerTest.testStaticMemberRejoinAsLeaderWithMismatchedInstanceId"""
    r = h.static_members_join_and_rebalance()
    j = h.join(member_id=r.leader_id, instance_id="follower-instance-id", protocols=PROTOCOL_SUPERSET)
    assert j.done and j.error == "FENCED_INSTANCE_ID"


def test_static_member_sync_as_leader_with_invalid_member_id(h):
    """GroupMetadataManagerTest.testStaticMemberSyncAsLeaderWithInvalidMemberId"""
    h.static_members_join_and_rebalance()
    s = h.sync("invalid-member-id", 0, "follower-instance-id")
    assert s.done and s.error == "FENCED_INSTANCE_ID"


def test_get_different_static_member_id_after_each_rejoin(h):
    """GroupMetadataManagerTest.testGetDifferentStaticMemberIdAfterEachRejoin"""
    r = h.static_members_join_and_rebalance()
    last = r.leader_id
    for _ in range(5):
        j = h.join(instance_id="leader-instance-id", protocols=PROTOCOL_SUPERSET)
        assert j.done and j.error is None
        assert h.group.static_members["leader-instance-id"] == j.member_id != last
        last = j.member_id


def test_static_member_join_with_unknown_instance_id_and_known_member_id(h):
    """GroupMetadataManagerTest.testStaticMemberJoinWithUnknownInstanceIdAndKnownMemberId"""
    r = h.static_members_join_and_rebalance()
    j = h.join(member_id=r.leader_id, instance_id="unknown-instance-id", protocols=PROTOCOL_SUPERSET)
    assert j.done and j.error == "UNKNOWN_MEMBER_ID"


# -- fencing duplicates ------------------------------------------------------------------------------------------
def test_static_member_fence_duplicate_rejoined_follower(h):
    """GroupMetadataManagerTest.testStaticMemberFenceDuplicateRejoinedFollower"""
    r = h.static_members_join_and_rebalance()
    g = h.group
    h.join_dynamic()  # a third member joins: rebalance
    assert g.state == PREPARING
    old = h.join(member_id=r.follower_id, instance_id="follower-instance-id")
    assert not old.done
    h.join(instance_id="follower-instance-id")  # a duplicate with an unknown member id replaces it
    assert old.done and old.error == "FENCED_INSTANCE_ID" and g.state == PREPARING


def test_static_member_fence_duplicate_syncing_follower_after_member_id_changed(h):
    """GroupMetadataManagerTest.testStaticMemberFenceDuplicateSyncingFollowerAfterMemberIdChanged"""
    r = h.static_members_join_and_rebalance()
    g = h.group
    kw = {"protocols": PROTOCOL_SUPERSET, "rebalance_timeout_ms": 10000}
    leader = h.join(member_id=r.leader_id, instance_id="leader-instance-id", **kw)
    assert not leader.done and g.state == PREPARING
    old = h.join(member_id=r.follower_id, instance_id="follower-instance-id", **kw)
    assert old.done and leader.done
    assert leader.payload["generation"] == r.generation + 1 and leader.payload["leader"] == r.leader_id
    assert leader.member_id == r.leader_id and set(leader.payload["members"]) == {r.leader_id, r.follower_id}
    assert old.error is None and old.payload["generation"] == r.generation + 1
    assert old.member_id == r.follower_id and old.payload["leader"] == r.leader_id and g.state == COMPLETING
    old_sync = h.sync(old.member_id, old.generation_id, "follower-instance-id")
    assert not old_sync.done
    dup = h.join(instance_id="follower-instance-id", **kw)
    assert g.state == PREPARING and not dup.done
    assert old_sync.done and old_sync.error == "FENCED_INSTANCE_ID"
    # the leader's session expires, the duplicate follower completes the join (Kafka: sleep(10000))
    h.sleep_until(lambda: dup.done, 10000)
    assert dup.done and g.state == COMPLETING and g.generation == 3
    assert list(g.members) == [dup.member_id] and dup.payload["leader"] == dup.member_id


def test_static_member_fence_duplicate_rejoining_follower_after_member_id_changed(h):
    """GroupMetadataManagerTest.testStaticMemberFenceDuplicateRejoiningFollowerAfterMemberIdChanged"""
    r = h.static_members_join_and_rebalance()
    g = h.group
    leader = h.join(member_id=r.leader_id, instance_id="leader-instance-id", rebalance_timeout_ms=10000)
    assert not leader.done and g.state == PREPARING
    dup = h.join(instance_id="follower-instance-id", rebalance_timeout_ms=10000)
    assert dup.done  # the replaced follower was the last one missing: the join phase completes
    old = h.join(member_id=r.follower_id, instance_id="follower-instance-id", rebalance_timeout_ms=10000)
    assert old.done and leader.done
    assert leader.payload["generation"] == r.generation + 1 and leader.member_id == leader.payload["leader"]
    assert leader.member_id == r.leader_id and set(leader.payload["members"]) == {r.leader_id, dup.member_id}
    assert dup.error is None and dup.payload["generation"] == r.generation + 1
    assert dup.payload["leader"] == r.leader_id and dup.payload["members"] is None
    assert old.error == "FENCED_INSTANCE_ID" and g.state == COMPLETING


# -- missing a rebalance: static members are kept -----------------------------------------------------------------
def test_static_member_follower_fail_to_rejoin_before_rebalance_timeout(h):
    """GroupMetadataManagerTest.testStaticMemberFollowerFailToRejoinBeforeRebalanceTimeout"""
    r = h.static_members_join_and_rebalance(rebalance_timeout_ms=10000, session_timeout_ms=15000)
    g = h.group
    new = h.join(instance_id="new-member-instance-id", protocols=PROTOCOL_SUPERSET)
    assert not new.done and g.state == PREPARING
    leader = h.join(member_id=r.leader_id, instance_id="leader-instance-id", protocols=PROTOCOL_SUPERSET)
    assert not leader.done
    h.sleep(10000)
    assert leader.done and new.done
    assert leader.payload["generation"] == r.generation + 1 and leader.payload["leader"] == r.leader_id
    assert leader.member_id == r.leader_id and leader.payload["protocol"] == "range"
    assert set(leader.payload["members"]) == {r.leader_id, r.follower_id, new.member_id}
    assert new.payload["generation"] == r.generation + 1 and new.payload["leader"] == r.leader_id
    assert new.payload["members"] is None and g.state == COMPLETING
    assert set(g.static_members) == {"leader-instance-id", "follower-instance-id", "new-member-instance-id"}


def test_static_member_leader_fail_to_rejoin_before_rebalance_timeout(h):
    """GroupMetadataManagerTest.testStaticMemberLeaderFailToRejoinBeforeRebalanceTimeout"""
    r = h.static_members_join_and_rebalance(rebalance_timeout_ms=10000, session_timeout_ms=15000)
    g = h.group
    new = h.join(instance_id="new-member-instance-id", protocols=PROTOCOL_SUPERSET)
    assert not new.done and g.state == PREPARING
    follower = h.join(
        member_id=r.follower_id, instance_id="follower-instance-id", protocols=PROTOCOL_SUPERSET
    )
    assert not follower.done
    h.sleep(10000)
    assert follower.done and new.done
    new_leader, new_follower = (
        (follower, new) if follower.payload["leader"] == follower.member_id else (new, follower)
    )
    assert new_leader.payload["generation"] == r.generation + 1
    assert new_leader.payload["leader"] == new_leader.member_id != r.leader_id
    assert set(new_leader.payload["members"]) == {r.leader_id, r.follower_id, new.member_id}
    assert new_follower.payload["generation"] == r.generation + 1
    assert new_follower.payload["leader"] == new_leader.member_id and new_follower.payload["members"] is None
    assert g.state == COMPLETING and "leader-instance-id" in g.static_members


def test_group_stuck_in_rebalance_timeout_due_to_nonjoined_static_member(h):
    """GroupMetadataManagerTest.testGroupStuckInRebalanceTimeoutDueToNonjoinedStaticMember"""
    r = h.static_members_join_and_rebalance(rebalance_timeout_ms=5000, session_timeout_ms=10000)
    g = h.group
    j = h.join_dynamic(protocols=PROTOCOL_SUPERSET, session_timeout_ms=10000)
    h.sleep(5000)
    assert j.done and j.error is None and j.payload["leader"] == j.member_id
    assert len(j.payload["members"]) == 3 and j.payload["generation"] == 2 and g.state == COMPLETING
    assert set(g.members) == {r.leader_id, r.follower_id, j.member_id}
    assert set(g.static_members.values()) == {r.leader_id, r.follower_id}
    assert h.leave(r.follower_id, "follower-instance-id") is None
    assert g.state == PREPARING
    h.sleep(5000)
    # only the static leader is kept; nobody rejoined, so the group waits in PreparingRebalance
    assert set(g.members) == {r.leader_id} and g.generation == 2 and g.state == PREPARING


# -- heartbeats and LeaveGroup ------------------------------------------------------------------------------------
def test_static_member_heartbeat_leader_with_invalid_member_id(h):
    """GroupMetadataManagerTest.testStaticMemberHeartbeatLeaderWithInvalidMemberId"""
    r = h.static_members_join_and_rebalance()
    s = h.sync(r.leader_id, r.generation, "leader-instance-id")
    assert s.done and s.error is None
    assert h.heartbeat(r.leader_id, r.generation).error is None
    assert h.heartbeat("invalid-member-id", r.generation, "leader-instance-id").error == "FENCED_INSTANCE_ID"


def test_leave_group_with_fenced_instance_id(h):
    """GroupMetadataManagerTest.testLeaveGroupWithFencedInstanceId"""
    h.join_and_complete(instance_id="group-instance-id")
    assert h.leave("other-member-id", "group-instance-id") == "FENCED_INSTANCE_ID"
    assert "group-instance-id" in h.group.static_members


def test_leave_group_static_member_with_unknown_member_id(h):
    """GroupMetadataManagerTest.testLeaveGroupStaticMemberWithUnknownMemberId"""
    h.join_and_complete(instance_id="group-instance-id")
    assert h.leave("", "group-instance-id") is None
    assert not h.group.members


def test_static_members_valid_batch_leave_group(h):
    """GroupMetadataManagerTest.testStaticMembersValidBatchLeaveGroup (one LeaveGroup per member identity)"""
    h.static_members_join_and_rebalance()
    assert [h.leave("", "leader-instance-id"), h.leave("", "follower-instance-id")] == [None, None]


def test_static_members_fenced_instance_batch_leave_group(h):
    """GroupMetadataManagerTest.testStaticMembersFencedInstanceBatchLeaveGroup"""
    h.static_members_join_and_rebalance()
    results = [h.leave("", "leader-instance-id"), h.leave("invalid-member-id", "follower-instance-id")]
    assert results == [None, "FENCED_INSTANCE_ID"]


def test_static_members_unknown_instance_batch_leave_group(h):
    """GroupMetadataManagerTest.testStaticMembersUnknownInstanceBatchLeaveGroup"""
    h.static_members_join_and_rebalance()
    results = [h.leave("", "unknown-instance-id"), h.leave("", "follower-instance-id")]
    assert results == ["UNKNOWN_MEMBER_ID", None]


# -- ClassicGroup.replaceStaticMember -----------------------------------------------------------------------------
def test_replace_group_instance(h):
    """ClassicGroupTest.testReplaceGroupInstance: the old member's waiting JoinGroup and SyncGroup are fenced."""
    co = h.coordinator
    g = h.group
    joiner, syncer, newcomer = Pending("join"), Pending("sync"), Pending("new")
    m = Member("memberId", joiner, ["foo"], ["roundrobin"], [], 10000, 10000, "groupInstanceId")
    m.awaiting_join = m.awaiting_sync = True
    g.members["memberId"], g.static_members["groupInstanceId"], g.leader = m, "memberId", "memberId"
    g.state = "PreparingRebalance"
    joiner.on_sync_response = syncer.on_sync_response  # the member waits in both, as in the Java test
    co._replace_static_member(
        g, "memberId", "newMemberId", "groupInstanceId", (newcomer, ["foo"], ["roundrobin"], [], 10000, 10000)
    )
    h.settle()
    assert g.leader == "newMemberId" and g.static_members["groupInstanceId"] == "newMemberId"
    assert joiner.error == "FENCED_INSTANCE_ID" and syncer.error == "FENCED_INSTANCE_ID"
    assert not m.awaiting_join and not m.awaiting_sync
