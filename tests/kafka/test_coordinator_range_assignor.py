"""Ported from Kafka's group-coordinator `RangeAssignorTest` (the KIP-848 server-side range assignor).

Adapted: topic ids (Uuid) are replaced by topic names topic1..topic3; Kafka's GroupSpec subscription type is
derived from the members' subscriptions (both of Kafka's paths give the same ranges). Inputs and expected
assignments are copied from the Java test.
"""

from __future__ import annotations

import pytest
from _coordinator_helpers import expected, spec

from engine.server_assignors import PartitionAssignorError, range_assign

A, B, C = "A", "B", "C"


def test_one_member_no_topic():
    # RangeAssignorTest.testOneMemberNoTopic
    assert range_assign({A: spec([])}, {"topic1": 3}) == {A: []}


def test_one_member_subscribed_to_non_existent_topic():
    # RangeAssignorTest.testOneMemberSubscribedToNonExistentTopic
    with pytest.raises(PartitionAssignorError):
        range_assign({A: spec(["topic2"])}, {"topic1": 3})


def test_first_assignment_two_members_two_topics_same_subscriptions():
    # RangeAssignorTest.testFirstAssignmentTwoMembersTwoTopicsSameSubscriptions
    members = {A: spec(["topic1", "topic3"]), B: spec(["topic1", "topic3"])}
    assert range_assign(members, {"topic1": 3, "topic3": 2}) == expected(
        A={"topic1": (0, 1), "topic3": (0,)}, B={"topic1": (2,), "topic3": (1,)}
    )


def test_first_assignment_three_members_three_topics_different_subscriptions():
    # RangeAssignorTest.testFirstAssignmentThreeMembersThreeTopicsDifferentSubscriptions
    members = {A: spec(["topic1", "topic2"]), B: spec(["topic3"]), C: spec(["topic2", "topic3"])}
    assert range_assign(members, {"topic1": 3, "topic2": 3, "topic3": 2}) == expected(
        A={"topic1": (0, 1, 2), "topic2": (0, 1)}, B={"topic3": (0,)}, C={"topic2": (2,), "topic3": (1,)}
    )


def test_first_assignment_num_members_greater_than_num_partitions():
    # RangeAssignorTest.testFirstAssignmentNumMembersGreaterThanNumPartitions
    members = {m: spec(["topic1", "topic3"]) for m in (A, B, C)}
    assert range_assign(members, {"topic1": 3, "topic3": 2}) == expected(
        A={"topic1": (0,), "topic3": (0,)}, B={"topic1": (1,), "topic3": (1,)}, C={"topic1": (2,)}
    )


def test_static_membership():
    # RangeAssignorTest.testStaticMembership: a static member back with a new member id keeps its partitions
    metadata = {"topic1": 3}
    members = {A: spec(["topic1"], instance_id="instanceA"), B: spec(["topic1"], instance_id="instanceB")}
    initial = range_assign(members, metadata)
    del members[A]
    members["memberA1"] = spec(["topic1"], instance_id="instanceA")
    again = range_assign(members, metadata)
    assert again["memberA1"] == initial[A]
    assert again[B] == initial[B]


def test_mixed_static_membership():
    # RangeAssignorTest.testMixedStaticMembership
    metadata = {"topic1": 5}
    members = {
        A: spec(["topic1"], instance_id="instanceA"),
        C: spec(["topic1"], instance_id="instanceC"),
        B: spec(["topic1"]),
    }
    initial = range_assign(members, metadata)
    del members[A]
    members["memberA1"] = spec(["topic1"], instance_id="instanceA")
    again = range_assign(members, metadata)
    assert again["memberA1"] == initial[A]
    assert again[B] == initial[B]
    assert again[C] == initial[C]


def test_reassignment_num_members_greater_than_num_partitions_when_one_member_added():
    # RangeAssignorTest.testReassignmentNumMembersGreaterThanNumPartitionsWhenOneMemberAdded
    members = {
        A: spec(["topic1", "topic2"], [("topic1", 0), ("topic2", 0)]),
        B: spec(["topic1", "topic2"], [("topic1", 1), ("topic2", 1)]),
        C: spec(["topic1", "topic2"]),
    }
    assert range_assign(members, {"topic1": 2, "topic2": 2}) == expected(
        A={"topic1": (0,), "topic2": (0,)}, B={"topic1": (1,), "topic2": (1,)}, C={}
    )


def test_reassignment_when_one_partition_added_for_two_members_two_topics():
    # RangeAssignorTest.testReassignmentWhenOnePartitionAddedForTwoMembersTwoTopics
    members = {
        A: spec(["topic1", "topic2"], [("topic1", 0), ("topic1", 1), ("topic2", 0), ("topic2", 1)]),
        B: spec(["topic1", "topic2"], [("topic1", 2), ("topic2", 2)]),
    }
    assert range_assign(members, {"topic1": 4, "topic2": 4}) == expected(
        A={"topic1": (0, 1), "topic2": (0, 1)}, B={"topic1": (2, 3), "topic2": (2, 3)}
    )


def test_reassignment_when_one_member_added_after_initial_assignment_with_two_members_two_topics():
    # RangeAssignorTest.testReassignmentWhenOneMemberAddedAfterInitialAssignmentWithTwoMembersTwoTopics
    members = {
        A: spec(["topic1", "topic2"], [("topic1", 0), ("topic1", 1), ("topic2", 0), ("topic2", 1)]),
        B: spec(["topic1", "topic2"], [("topic1", 2), ("topic2", 2)]),
        C: spec(["topic1", "topic2"]),
    }
    assert range_assign(members, {"topic1": 3, "topic2": 3}) == expected(
        A={"topic1": (0,), "topic2": (0,)},
        B={"topic1": (1,), "topic2": (1,)},
        C={"topic1": (2,), "topic2": (2,)},
    )


def test_reassignment_when_one_member_added_and_one_partition_after_initial_assignment():
    # RangeAssignorTest.testReassignmentWhenOneMemberAddedAndOnePartitionAfterInitialAssignmentWithTwoMembersTwoTopics
    members = {
        A: spec(["topic1", "topic2"], [("topic1", 0), ("topic1", 1), ("topic2", 0), ("topic2", 1)]),
        B: spec(["topic1", "topic2"], [("topic1", 2), ("topic2", 2)]),
        C: spec(["topic1"]),
    }
    assert range_assign(members, {"topic1": 4, "topic2": 3}) == expected(
        A={"topic1": (0, 1), "topic2": (0, 1)}, B={"topic1": (2,), "topic2": (2,)}, C={"topic1": (3,)}
    )


def test_reassignment_when_one_member_removed_after_initial_assignment_with_two_members_two_topics():
    # RangeAssignorTest.testReassignmentWhenOneMemberRemovedAfterInitialAssignmentWithTwoMembersTwoTopics
    members = {B: spec(["topic1", "topic2"], [("topic1", 2), ("topic2", 2)])}
    assert range_assign(members, {"topic1": 3, "topic2": 3}) == expected(
        B={"topic1": (0, 1, 2), "topic2": (0, 1, 2)}
    )


def test_reassignment_when_multiple_subscriptions_removed_after_initial_assignment():
    # RangeAssignorTest.testReassignmentWhenMultipleSubscriptionsRemovedAfterInitialAssignmentWithThreeMembersTwoTopics
    members = {
        A: spec(["topic1"], [("topic1", 0), ("topic1", 1), ("topic1", 2), ("topic2", 0)]),
        B: spec(["topic1", "topic2", "topic3"], [("topic2", 1)]),
        C: spec(["topic2"], [("topic2", 2), ("topic3", 0), ("topic3", 1)]),
    }
    assert range_assign(members, {"topic1": 3, "topic2": 3, "topic3": 2}) == expected(
        A={"topic1": (0, 1)}, B={"topic1": (2,), "topic2": (0, 1), "topic3": (0, 1)}, C={"topic2": (2,)}
    )
