"""Ported from Kafka's group-coordinator `OptimizedUniformAssignmentBuilderTest` (UniformAssignor, all members
subscribed to the same topics: `UniformHomogeneousAssignmentBuilder`).

Adapted: topic ids (Uuid) are replaced by topic names topic1..topic3. Kafka's builder walks its subscribed
topics, and every `mkAssignment` map, in the HashSet/HashMap order of the test's fixed Uuids; the helpers hand
our assignor topics in that same order (see `_coordinator_helpers.java_hash_order`). Inputs and expected
assignments are copied from the Java test, and each case runs Kafka's `checkValidityAndBalance` too.
"""

from __future__ import annotations

import pytest
from _coordinator_helpers import check_validity_and_balance, expected, hashed, metadata, ordered, spec

from engine.server_assignors import PartitionAssignorError, uniform_assign, uniform_homogeneous

A, B, C = "A", "B", "C"
T12 = ["topic1", "topic2"]


def _run(members, topic_metadata):
    computed = uniform_homogeneous(members, topic_metadata)
    check_validity_and_balance(members, computed)
    return computed


def test_one_member_no_topic_subscription():
    # OptimizedUniformAssignmentBuilderTest.testOneMemberNoTopicSubscription
    assert uniform_assign({A: spec([])}, metadata(topic1=3)) == {}


def test_one_member_subscribed_to_nonexistent_topic():
    # OptimizedUniformAssignmentBuilderTest.testOneMemberSubscribedToNonexistentTopic
    with pytest.raises(PartitionAssignorError):
        uniform_assign({A: spec(["topic2"])}, metadata(topic1=3))


def test_first_assignment_two_members_two_topics_no_member_racks():
    # OptimizedUniformAssignmentBuilderTest.testFirstAssignmentTwoMembersTwoTopicsNoMemberRacks
    members = {A: spec(["topic1", "topic3"]), B: spec(["topic1", "topic3"])}
    assert _run(members, metadata(topic1=3, topic3=2)) == expected(
        A={"topic1": (0,), "topic3": (0, 1)}, B={"topic1": (1, 2)}
    )


def test_first_assignment_num_members_greater_than_total_num_partitions():
    # OptimizedUniformAssignmentBuilderTest.testFirstAssignmentNumMembersGreaterThanTotalNumPartitions
    members = {m: spec(["topic3"]) for m in (A, B, C)}
    assert _run(members, metadata(topic3=2)) == expected(A={"topic3": (0,)}, B={"topic3": (1,)}, C={})


def test_validity_and_balance_for_large_sample_set():
    # OptimizedUniformAssignmentBuilderTest.testValidityAndBalanceForLargeSampleSet (99 topics x 3, 49 members)
    topics = {f"topic-{i}": 3 for i in range(1, 100)}
    members = {f"member{i}": spec(topics) for i in range(1, 50)}
    computed = _run(members, topics)
    assert sum(len(v) for v in computed.values()) == 297


def test_reassignment_for_two_members_two_topics_given_unbalanced_prev_assignment():
    # OptimizedUniformAssignmentBuilderTest.testReassignmentForTwoMembersTwoTopicsGivenUnbalancedPrevAssignment
    members = {
        A: spec(T12, ordered(("topic1", (0, 1)), ("topic2", (0, 1)))),
        B: spec(T12, ordered(("topic1", (2,)), ("topic2", (2,)))),
    }
    assert _run(members, metadata(topic1=3, topic2=3)) == expected(
        A={"topic1": (0, 1), "topic2": (0,)}, B={"topic1": (2,), "topic2": (1, 2)}
    )


def test_reassignment_when_partitions_are_added_for_two_members_two_topics():
    # OptimizedUniformAssignmentBuilderTest.testReassignmentWhenPartitionsAreAddedForTwoMembersTwoTopics
    members = {
        A: spec(T12, ordered(("topic1", (0, 2)), ("topic2", (0,)))),
        B: spec(T12, ordered(("topic1", (1,)), ("topic2", (1, 2)))),
    }
    assert _run(members, metadata(topic1=6, topic2=5)) == expected(
        A={"topic1": (0, 2, 3), "topic2": (0, 3, 4)}, B={"topic1": (1, 4, 5), "topic2": (1, 2)}
    )


def test_reassignment_when_one_member_added_after_initial_assignment_with_two_members_two_topics():
    # OptimizedUniformAssignmentBuilderTest.testReassignmentWhenOneMemberAddedAfterInitialAssignmentWithTwoMembersTwoTopics
    members = {
        A: spec(T12, ordered(("topic1", (0, 2)), ("topic2", (0,)))),
        B: spec(T12, ordered(("topic1", (1,)), ("topic2", (1, 2)))),
        C: spec(T12),
    }
    assert _run(members, metadata(topic1=3, topic2=3)) == expected(
        A={"topic1": (0, 2)}, B={"topic1": (1,), "topic2": (1,)}, C={"topic2": (0, 2)}
    )


def test_reassignment_when_one_member_removed_after_initial_assignment_with_three_members_two_topics():
    # OptimizedUniformAssignmentBuilderTest.testReassignmentWhenOneMemberRemovedAfterInitialAssignmentWithThreeMembersTwoTopics
    members = {A: spec(T12, hashed(topic1=(0,), topic2=(0,))), B: spec(T12, hashed(topic1=(1,), topic2=(1,)))}
    assert _run(members, metadata(topic1=3, topic2=3)) == expected(
        A={"topic1": (0,), "topic2": (0, 2)}, B={"topic1": (1, 2), "topic2": (1,)}
    )


def test_reassignment_when_one_subscription_removed_after_initial_assignment_with_two_members_two_topics():
    # OptimizedUniformAssignmentBuilderTest.testReassignmentWhenOneSubscriptionRemovedAfterInitialAssignmentWithTwoMembersTwoTopics
    members = {
        A: spec(["topic2"], hashed(topic1=(0,), topic2=(0,))),
        B: spec(["topic2"], hashed(topic1=(1,), topic2=(1,))),
    }
    assert _run(members, metadata(topic1=2, topic2=2)) == expected(A={"topic2": (0,)}, B={"topic2": (1,)})
