"""Ported from Kafka's group-coordinator `UniformHeterogeneousAssignmentBuilderTest` (UniformAssignor, members
subscribed to different topics: `UniformHeterogeneousAssignmentBuilder`).

Adapted: topic ids (Uuid) are replaced by topic names topic1..topic4; the test's Uuids sort in the same order
as the names, so Kafka's topic-id tie-break and our topic-name tie-break agree. Kafka's TestGroupSpecImpl
lists members sorted, as our assignor does. Kafka passes HETEROGENEOUS explicitly (even when subscriptions
happen to match), so these cases call the heterogeneous builder directly. Inputs and expected assignments are
copied from the Java test.
"""

from __future__ import annotations

import pytest
from _coordinator_helpers import expected, hashed, spec

from engine.server_assignors import PartitionAssignorError, uniform_heterogeneous

A, B, C = "A", "B", "C"


def test_two_members_no_topic_subscription():
    # UniformHeterogeneousAssignmentBuilderTest.testTwoMembersNoTopicSubscription
    assert uniform_heterogeneous({A: spec([]), B: spec([])}, {"topic1": 3}) == {}


def test_two_members_subscribed_to_nonexistent_topics():
    # UniformHeterogeneousAssignmentBuilderTest.testTwoMembersSubscribedToNonexistentTopics
    with pytest.raises(PartitionAssignorError):
        uniform_heterogeneous({A: spec(["topic3"]), B: spec(["topic2"])}, {"topic1": 3})


def test_first_assignment_two_members_two_topics():
    # UniformHeterogeneousAssignmentBuilderTest.testFirstAssignmentTwoMembersTwoTopics
    members = {A: spec(["topic1", "topic3"]), B: spec(["topic3"])}
    assert uniform_heterogeneous(members, {"topic1": 3, "topic3": 6}) == expected(
        A={"topic1": (0, 1, 2), "topic3": (4,)}, B={"topic3": (0, 1, 2, 3, 5)}
    )


def test_first_assignment_num_members_greater_than_total_num_partitions():
    # UniformHeterogeneousAssignmentBuilderTest.testFirstAssignmentNumMembersGreaterThanTotalNumPartitions
    members = {A: spec(["topic3"]), B: spec(["topic3"]), C: spec(["topic1"])}
    assert uniform_heterogeneous(members, {"topic3": 1, "topic1": 2}) == expected(
        A={"topic3": (0,)}, B={}, C={"topic1": (0, 1)}
    )


def test_reassignment_for_two_members_three_topics_given_unbalanced_prev_assignment():
    # UniformHeterogeneousAssignmentBuilderTest.testReassignmentForTwoMembersThreeTopicsGivenUnbalancedPrevAssignment
    members = {
        A: spec(["topic1"], hashed(topic1=(0, 1, 2))),
        B: spec(["topic1", "topic2"], hashed(topic1=(3,), topic2=(0,))),
        C: spec(["topic1", "topic2", "topic3"], hashed(topic1=(4, 5), topic2=(1, 2, 3), topic3=(0, 1, 2, 3))),
    }
    assert uniform_heterogeneous(members, {"topic1": 6, "topic2": 4, "topic3": 4}) == expected(
        A={"topic1": (0, 1, 2, 5)},
        B={"topic1": (3,), "topic2": (0, 1, 2, 3)},
        C={"topic1": (4,), "topic3": (0, 1, 2, 3)},
    )


def test_reassignment_when_partitions_are_added_for_two_members():
    # UniformHeterogeneousAssignmentBuilderTest.testReassignmentWhenPartitionsAreAddedForTwoMembers
    members = {
        A: spec(["topic1", "topic3"], hashed(topic1=(0, 1, 2, 3), topic3=(0, 1))),
        B: spec(["topic1", "topic2", "topic3", "topic4"], hashed(topic2=(0, 1, 2), topic4=(0, 1, 2))),
    }
    assert uniform_heterogeneous(members, {"topic1": 6, "topic2": 5, "topic3": 3, "topic4": 3}) == expected(
        A={"topic1": (0, 1, 2, 3, 4, 5), "topic3": (0, 1, 2)},
        B={"topic2": (0, 1, 2, 3, 4), "topic4": (0, 1, 2)},
    )


def test_reassignment_when_one_member_added_and_partitions_added_two_members_two_topics():
    # UniformHeterogeneousAssignmentBuilderTest.testReassignmentWhenOneMemberAddedAndPartitionsAddedTwoMembersTwoTopics
    members = {
        A: spec(["topic1"], hashed(topic1=(0, 2), topic2=(0,))),
        B: spec(["topic1", "topic2"], hashed(topic1=(1,), topic2=(1, 2))),
        C: spec(["topic1", "topic2"]),
    }
    assert uniform_heterogeneous(members, {"topic1": 6, "topic2": 7}) == expected(
        A={"topic1": (0, 2, 3, 4, 5)}, B={"topic1": (1,), "topic2": (1, 2, 6)}, C={"topic2": (0, 3, 4, 5)}
    )


def test_reassignment_when_one_member_removed_after_initial_assignment_with_three_members_three_topics():
    # UniformHeterogeneousAssignmentBuilderTest.testReassignmentWhenOneMemberRemovedAfterInitialAssignmentWithThreeMembersThreeTopics
    members = {
        A: spec(["topic1", "topic3"], hashed(topic1=(0, 1, 2), topic3=(0, 1))),
        B: spec(["topic2"], hashed(topic2=(3, 4, 5, 6))),
    }
    assert uniform_heterogeneous(members, {"topic1": 3, "topic2": 8, "topic3": 3}) == expected(
        A={"topic1": (0, 1, 2), "topic3": (0, 1, 2)}, B={"topic2": (0, 1, 2, 3, 4, 5, 6, 7)}
    )


def test_reassignment_when_one_subscription_removed_after_initial_assignment_with_two_members_two_topics():
    # UniformHeterogeneousAssignmentBuilderTest.testReassignmentWhenOneSubscriptionRemovedAfterInitialAssignmentWithTwoMembersTwoTopics
    members = {
        A: spec(["topic1"], hashed(topic1=(0, 2), topic2=(1, 3))),
        B: spec(["topic1", "topic2"], hashed(topic1=(1,), topic2=(0, 2, 4))),
    }
    assert uniform_heterogeneous(members, {"topic1": 3, "topic2": 5}) == expected(
        A={"topic1": (0, 1, 2)}, B={"topic2": (0, 1, 2, 3, 4)}
    )


def test_reassignment_when_topic_partitions_run_out_and_members_have_no_partitions():
    # UniformHeterogeneousAssignmentBuilderTest.testReassignmentWhenTopicPartitionsRunOutAndMembersHaveNoPartitions
    t123 = ["topic1", "topic2", "topic3"]
    members = {A: spec(t123, hashed(topic1=(0, 1), topic2=(0, 1), topic3=(0, 1))), B: spec(t123)}
    assert uniform_heterogeneous(members, {"topic1": 2, "topic2": 2, "topic3": 2}) == expected(
        A={"topic2": (0,), "topic3": (0, 1)}, B={"topic1": (0, 1), "topic2": (1,)}
    )


def test_first_assignment_with_two_members_including_one_without_subscriptions():
    # UniformHeterogeneousAssignmentBuilderTest.testFirstAssignmentWithTwoMembersIncludingOneWithoutSubscriptions
    members = {A: spec(["topic1"]), B: spec([])}
    assert uniform_heterogeneous(members, {"topic1": 3}) == expected(A={"topic1": (0, 1, 2)}, B={})
