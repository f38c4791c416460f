"""Ports of Kafka's clients/src/test/java/org/apache/kafka/clients/consumer/RoundRobinAssignorTest.java.

Inputs and expected assignments copied from Kafka. ``Subscription.setGroupInstanceId`` is our
``group_instance_ids`` option of ``engine.assignors.assign_detailed``.
"""

from __future__ import annotations

from engine.assignors import assign, assign_detailed

TOPIC, T1, T2 = "topic", "topic1", "topic2"
C, C1, C2, C3, C4 = "consumer", "consumer1", "consumer2", "consumer3", "consumer4"


def _static(subs: dict[str, list[str]], counts: dict[str, int], instances: dict[str, str]) -> dict:
    return assign_detailed("roundrobin", subs, counts, group_instance_ids=instances).assignment


def test_one_consumer_no_topic() -> None:
    """RoundRobinAssignorTest.testOneConsumerNoTopic"""
    assert assign("roundrobin", {C: []}, {}) == {C: []}


def test_one_consumer_nonexistent_topic() -> None:
    """RoundRobinAssignorTest.testOneConsumerNonexistentTopic"""
    assert assign("roundrobin", {C: [TOPIC]}, {}) == {C: []}


def test_one_consumer_one_topic() -> None:
    """RoundRobinAssignorTest.testOneConsumerOneTopic"""
    assert assign("roundrobin", {C: [TOPIC]}, {TOPIC: 3}) == {C: [(TOPIC, 0), (TOPIC, 1), (TOPIC, 2)]}


def test_only_assigns_partitions_from_subscribed_topics() -> None:
    """RoundRobinAssignorTest.testOnlyAssignsPartitionsFromSubscribedTopics"""
    out = assign("roundrobin", {C: [TOPIC]}, {TOPIC: 3, "other": 3})
    assert out == {C: [(TOPIC, 0), (TOPIC, 1), (TOPIC, 2)]}


def test_one_consumer_multiple_topics() -> None:
    """RoundRobinAssignorTest.testOneConsumerMultipleTopics"""
    assert assign("roundrobin", {C: [T1, T2]}, {T1: 1, T2: 2}) == {C: [(T1, 0), (T2, 0), (T2, 1)]}


def test_two_consumers_one_topic_one_partition() -> None:
    """RoundRobinAssignorTest.testTwoConsumersOneTopicOnePartition"""
    assert assign("roundrobin", {C1: [TOPIC], C2: [TOPIC]}, {TOPIC: 1}) == {C1: [(TOPIC, 0)], C2: []}


def test_two_consumers_one_topic_two_partitions() -> None:
    """RoundRobinAssignorTest.testTwoConsumersOneTopicTwoPartitions"""
    out = assign("roundrobin", {C1: [TOPIC], C2: [TOPIC]}, {TOPIC: 2})
    assert out == {C1: [(TOPIC, 0)], C2: [(TOPIC, 1)]}


def test_multiple_consumers_mixed_topics() -> None:
    """RoundRobinAssignorTest.testMultipleConsumersMixedTopics"""
    out = assign("roundrobin", {C1: [T1], C2: [T1, T2], C3: [T1]}, {T1: 3, T2: 2})
    assert out == {C1: [(T1, 0)], C2: [(T1, 1), (T2, 0), (T2, 1)], C3: [(T1, 2)]}


def test_two_dynamic_consumers_two_topics_six_partitions() -> None:
    """RoundRobinAssignorTest.testTwoDynamicConsumersTwoTopicsSixPartitions"""
    out = assign("roundrobin", {C1: [T1, T2], C2: [T1, T2]}, {T1: 3, T2: 3})
    assert out == {C1: [(T1, 0), (T1, 2), (T2, 1)], C2: [(T1, 1), (T2, 0), (T2, 2)]}


def test_two_static_consumers_two_topics_six_partitions() -> None:
    """RoundRobinAssignorTest.testTwoStaticConsumersTwoTopicsSixPartitions: instance ids decide the order."""
    b, a = "consumer-b", "consumer-a"
    out = _static({b: [T1, T2], a: [T1, T2]}, {T1: 3, T2: 3}, {b: "instance1", a: "instance2"})
    assert out == {b: [(T1, 0), (T1, 2), (T2, 1)], a: [(T1, 1), (T2, 0), (T2, 2)]}


def test_one_static_consumer_and_one_dynamic_consumer_two_topics_six_partitions() -> None:
    """RoundRobinAssignorTest.testOneStaticConsumerAndOneDynamicConsumerTwoTopicsSixPartitions"""
    b, a = "consumer-b", "consumer-a"
    out = _static({b: [T1, T2], a: [T1, T2]}, {T1: 3, T2: 3}, {b: "instance1"})
    assert out == {b: [(T1, 0), (T1, 2), (T2, 1)], a: [(T1, 1), (T2, 0), (T2, 2)]}


def test_static_member_round_robin_assignment_persistent() -> None:
    """RoundRobinAssignorTest.testStaticMemberRoundRobinAssignmentPersistent"""
    instances = {C1: "instance1", C2: "instance2", C3: "instance3"}
    subs = {m: [T1, T2] for m in (C1, C2, C3, C4)}
    expected = {C1: [(T1, 0), (T2, 1)], C2: [(T1, 1), (T2, 2)], C3: [(T1, 2)], C4: [(T2, 0)]}
    assert _static(subs, {T1: 3, T2: 3}, instances) == expected
    del subs[C4]
    subs["consumer5"] = [T1, T2]
    expected["consumer5"] = expected.pop(C4)
    assert _static(subs, {T1: 3, T2: 3}, instances) == expected


def test_static_member_round_robin_assignment_persistent_after_member_id_changes() -> None:
    """RoundRobinAssignorTest.testStaticMemberRoundRobinAssignmentPersistentAfterMemberIdChanges"""
    counts = {T1: 5, T2: 5}
    instances = {C1: "instance1", C2: "instance2", C3: "instance3"}
    out = _static({m: [T1, T2] for m in instances}, counts, instances)
    by_instance = {instances[m]: tps for m, tps in out.items()}
    assert by_instance == {
        "instance1": [(T1, 0), (T1, 3), (T2, 1), (T2, 4)],
        "instance2": [(T1, 1), (T1, 4), (T2, 2)],
        "instance3": [(T1, 2), (T2, 0), (T2, 3)],
    }
    instances2 = {C1: "instance1", C4: "instance3", "consumer5": "instance2"}
    out2 = _static({m: [T1, T2] for m in instances2}, counts, instances2)
    assert {instances2[m]: tps for m, tps in out2.items()} == by_instance
