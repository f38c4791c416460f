"""Ports of Kafka's clients/src/test/java/org/apache/kafka/clients/consumer/RangeAssignorTest.java.

Inputs and expected assignments are copied from Kafka; racks come from the same helpers Kafka's test uses
(tests/kafka/_clients_helpers.py). Each RackConfig / hasConsumerRack parameter is one pytest case.
``Subscription.setGroupInstanceId`` is our ``group_instance_ids``; ``preferRackAwareLogic`` our
``prefer_rack_aware``.
"""

from __future__ import annotations

import pytest
from _clients_helpers import (
    ALL_RACKS,
    RACK_CONFIGS,
    RackSetup,
    null_racks,
    racks,
    replica_racks_n,
    verify_rack_assignment,
)

T1, T2 = "topic1", "topic2"
C1, C2, C3 = "consumer1", "consumer2", "consumer3"


def _run(setup: RackSetup, subs: dict[str, list[str]], counts: dict[str, int], instances=None):  # noqa: ANN001, ANN202
    return setup.run("range", subs, counts, group_instance_ids=instances or {}).assignment


def _setup(rack_config: str, max_consumers: int = 3) -> RackSetup:
    return RackSetup(rack_config, max_consumers)


def _two_topics(setup: RackSetup, n1: int, n2: int) -> dict[str, int]:
    """setupPartitionsPerTopicWithTwoTopics (RangeAssignorTest places every topic from node 0)."""
    return {T1: setup.partitions(T1, n1, advance=False), T2: setup.partitions(T2, n2, advance=False)}


@pytest.mark.parametrize("has_consumer_rack", [True, False])
def test_one_consumer_no_topic(has_consumer_rack: bool) -> None:
    """RangeAssignorTest.testOneConsumerNoTopic"""
    s = _setup("BROKER_AND_CONSUMER_RACK" if has_consumer_rack else "NO_CONSUMER_RACK")
    assert _run(s, {s.member(C1, 0): []}, {}) == {C1: []}


@pytest.mark.parametrize("has_consumer_rack", [True, False])
def test_one_consumer_nonexistent_topic(has_consumer_rack: bool) -> None:
    """RangeAssignorTest.testOneConsumerNonexistentTopic"""
    s = _setup("BROKER_AND_CONSUMER_RACK" if has_consumer_rack else "NO_CONSUMER_RACK")
    assert _run(s, {s.member(C1, 0): [T1]}, {}) == {C1: []}


@pytest.mark.parametrize("rack_config", RACK_CONFIGS)
def test_one_consumer_one_topic(rack_config: str) -> None:
    """RangeAssignorTest.testOneConsumerOneTopic"""
    s = _setup(rack_config)
    counts = {T1: s.partitions(T1, 3, advance=False)}
    assert _run(s, {s.member(C1, 0): [T1]}, counts) == {C1: [(T1, 0), (T1, 1), (T1, 2)]}


@pytest.mark.parametrize("rack_config", RACK_CONFIGS)
def test_only_assigns_partitions_from_subscribed_topics(rack_config: str) -> None:
    """RangeAssignorTest.testOnlyAssignsPartitionsFromSubscribedTopics"""
    s = _setup(rack_config)
    counts = {T1: s.partitions(T1, 3, advance=False), "other": s.partitions("other", 3, advance=False)}
    assert _run(s, {s.member(C1, 0): [T1]}, counts) == {C1: [(T1, 0), (T1, 1), (T1, 2)]}


@pytest.mark.parametrize("rack_config", RACK_CONFIGS)
def test_one_consumer_multiple_topics(rack_config: str) -> None:
    """RangeAssignorTest.testOneConsumerMultipleTopics"""
    s = _setup(rack_config)
    counts = _two_topics(s, 1, 2)
    assert _run(s, {s.member(C1, 0): [T1, T2]}, counts) == {C1: [(T1, 0), (T2, 0), (T2, 1)]}


@pytest.mark.parametrize("rack_config", RACK_CONFIGS)
def test_two_consumers_one_topic_one_partition(rack_config: str) -> None:
    """RangeAssignorTest.testTwoConsumersOneTopicOnePartition"""
    s = _setup(rack_config)
    counts = {T1: s.partitions(T1, 1, advance=False)}
    out = _run(s, {s.member(C1, 0): [T1], s.member(C2, 1): [T1]}, counts)
    assert out == {C1: [(T1, 0)], C2: []}


@pytest.mark.parametrize("rack_config", RACK_CONFIGS)
def test_two_consumers_one_topic_two_partitions(rack_config: str) -> None:
    """RangeAssignorTest.testTwoConsumersOneTopicTwoPartitions"""
    s = _setup(rack_config)
    counts = {T1: s.partitions(T1, 2, advance=False)}
    out = _run(s, {s.member(C1, 0): [T1], s.member(C2, 1): [T1]}, counts)
    assert out == {C1: [(T1, 0)], C2: [(T1, 1)]}


@pytest.mark.parametrize("rack_config", RACK_CONFIGS)
def test_multiple_consumers_mixed_topics(rack_config: str) -> None:
    """RangeAssignorTest.testMultipleConsumersMixedTopics"""
    s = _setup(rack_config)
    counts = _two_topics(s, 3, 2)
    out = _run(s, {s.member(C1, 0): [T1], s.member(C2, 1): [T1, T2], s.member(C3, 2): [T1]}, counts)
    assert out == {C1: [(T1, 0)], C2: [(T1, 1), (T2, 0), (T2, 1)], C3: [(T1, 2)]}


@pytest.mark.parametrize("rack_config", RACK_CONFIGS)
def test_two_consumers_two_topics_six_partitions(rack_config: str) -> None:
    """RangeAssignorTest.testTwoConsumersTwoTopicsSixPartitions"""
    s = _setup(rack_config)
    counts = _two_topics(s, 3, 3)
    out = _run(s, {s.member(C1, 0): [T1, T2], s.member(C2, 1): [T1, T2]}, counts)
    assert out == {C1: [(T1, 0), (T1, 1), (T2, 0), (T2, 1)], C2: [(T1, 2), (T2, 2)]}


@pytest.mark.parametrize("rack_config", RACK_CONFIGS)
def test_two_static_consumers_two_topics_six_partitions(rack_config: str) -> None:
    """RangeAssignorTest.testTwoStaticConsumersTwoTopicsSixPartitions: instance ids, not member ids, order."""
    s = _setup(rack_config)
    counts = _two_topics(s, 3, 3)
    low, high = "consumer-b", "consumer-a"
    subs = {s.member(low, 0): [T1, T2], s.member(high, 1): [T1, T2]}
    out = _run(s, subs, counts, {low: "instance1", high: "instance2"})
    assert out == {low: [(T1, 0), (T1, 1), (T2, 0), (T2, 1)], high: [(T1, 2), (T2, 2)]}


@pytest.mark.parametrize("rack_config", RACK_CONFIGS)
def test_one_static_consumer_and_one_dynamic_consumer_two_topics_six_partitions(rack_config: str) -> None:
    """RangeAssignorTest.testOneStaticConsumerAndOneDynamicConsumerTwoTopicsSixPartitions"""
    s = _setup(rack_config)
    counts = _two_topics(s, 3, 3)
    low, high = "consumer-b", "consumer-a"
    subs = {s.member(low, 0): [T1, T2], s.member(high, 1): [T1, T2]}
    out = _run(s, subs, counts, {low: "instance1"})
    assert out == {low: [(T1, 0), (T1, 1), (T2, 0), (T2, 1)], high: [(T1, 2), (T2, 2)]}


@pytest.mark.parametrize("rack_config", RACK_CONFIGS)
def test_static_member_range_assignment_persistent(rack_config: str) -> None:
    """RangeAssignorTest.testStaticMemberRangeAssignmentPersistent"""
    s = _setup(rack_config, 5)
    counts = _two_topics(s, 5, 4)
    instances = {C1: "instance1", C2: "instance2", C3: "instance3"}
    subs = {s.member(m, i): [T1, T2] for i, m in enumerate([C1, C2, C3, "consumer4"])}
    expected = {
        C1: [(T1, 0), (T1, 1), (T2, 0)],
        C2: [(T1, 2), (T2, 1)],
        C3: [(T1, 3), (T2, 2)],
        "consumer4": [(T1, 4), (T2, 3)],
    }
    assert _run(s, subs, counts, instances) == expected
    del subs["consumer4"]
    subs[s.member("consumer5", 4)] = [T1, T2]
    expected["consumer5"] = expected.pop("consumer4")
    assert _run(s, subs, counts, instances) == expected


def _by_instance(out: dict, instances: dict[str, str]) -> dict:  # noqa: ANN401
    return {instances[m]: tps for m, tps in out.items() if m in instances}


@pytest.mark.parametrize("rack_config", RACK_CONFIGS)
def test_static_member_range_assignment_persistent_after_member_id_changes(rack_config: str) -> None:
    """RangeAssignorTest.testStaticMemberRangeAssignmentPersistentAfterMemberIdChanges"""
    s = _setup(rack_config)
    counts = _two_topics(s, 5, 5)
    instances = {C1: "instance1", C2: "instance2", C3: "instance3"}
    subs = {s.member(m, i): [T1, T2] for i, m in enumerate([C1, C2, C3])}
    first = _by_instance(_run(s, subs, counts, instances), instances)
    assert first == {
        "instance1": [(T1, 0), (T1, 1), (T2, 0), (T2, 1)],
        "instance2": [(T1, 2), (T1, 3), (T2, 2), (T2, 3)],
        "instance3": [(T1, 4), (T2, 4)],
    }
    # member.ids change, instance ids (and racks) travel with the subscriptions
    s.member_racks["consumer4"], s.member_racks["consumer5"] = s.member_racks[C3], s.member_racks[C2]
    subs2 = {C1: [T1, T2], "consumer4": [T1, T2], "consumer5": [T1, T2]}
    instances2 = {C1: "instance1", "consumer4": "instance3", "consumer5": "instance2"}
    assert _by_instance(_run(s, subs2, counts, instances2), instances2) == first


def test_rack_aware_static_member_range_assignment_persistent_after_member_id_changes() -> None:
    """RangeAssignorTest.testRackAwareStaticMemberRangeAssignmentPersistentAfterMemberIdChanges"""
    s = _setup("BROKER_AND_CONSUMER_RACK")
    s.partition_racks = {**replica_racks_n(T1, 5, 2, 3, 0), **replica_racks_n(T2, 5, 2, 3, 0)}
    counts = {T1: 5, T2: 5}
    instances = {C1: "instance1", C2: "instance2", C3: "instance3"}
    s.member_racks = {C1: ALL_RACKS[0], C2: ALL_RACKS[1], C3: ALL_RACKS[2]}
    subs = {m: [T1, T2] for m in (C1, C2, C3)}
    first = _by_instance(_run(s, subs, counts, instances), instances)
    assert first == {
        "instance1": [(T1, 0), (T1, 2), (T2, 0), (T2, 2)],
        "instance2": [(T1, 1), (T1, 3), (T2, 1), (T2, 3)],
        "instance3": [(T1, 4), (T2, 4)],
    }
    s.member_racks.update({"consumer4": ALL_RACKS[2], "consumer5": ALL_RACKS[1]})
    subs2 = {C1: [T1, T2], "consumer4": [T1, T2], "consumer5": [T1, T2]}
    instances2 = {C1: "instance1", "consumer4": "instance3", "consumer5": "instance2"}
    assert _by_instance(_run(s, subs2, counts, instances2), instances2) == first


def _non_rack_aware(counts: dict[str, int], topics: list[list[str]], expected: list[str]) -> None:
    """RangeAssignorTest.verifyNonRackAwareAssignment: combinations where rack-aware logic is not used."""
    verify_rack_assignment("range", counts, 3, null_racks(3), racks(3), topics, expected, -1)
    verify_rack_assignment("range", counts, 3, racks(3), null_racks(3), topics, expected, -1)
    verify_rack_assignment("range", counts, 3, racks(3), racks(3), topics, expected, 0)
    verify_rack_assignment("range", counts, 4, racks(4), racks(3), topics, expected, 0)
    verify_rack_assignment("range", counts, 3, racks(3), ["d", "e", "f"], topics, expected, -1)
    verify_rack_assignment("range", counts, 3, racks(3), [None, "e", "f"], topics, expected, -1)
    verify_rack_assignment(
        "range", counts, 3, racks(3), racks(3), topics, expected, 0, prefer_rack_aware=True
    )


def test_rack_aware_assignment_with_uniform_subscription() -> None:
    """RangeAssignorTest.testRackAwareAssignmentWithUniformSubscription"""
    counts = {"t1": 6, "t2": 7, "t3": 2}
    every = ["t1", "t2", "t3"]
    topics = [every, every, every]
    _non_rack_aware(
        counts,
        topics,
        ["t1-0, t1-1, t2-0, t2-1, t2-2, t3-0", "t1-2, t1-3, t2-3, t2-4, t3-1", "t1-4, t1-5, t2-5, t2-6"],
    )
    verify_rack_assignment(
        "range", counts, 1, racks(3), racks(3), topics,
        ["t1-0, t1-3, t2-0, t2-3, t2-6", "t1-1, t1-4, t2-1, t2-4, t3-0", "t1-2, t1-5, t2-2, t2-5, t3-1"], 0,
    )  # fmt: skip
    verify_rack_assignment(
        "range", counts, 2, racks(3), racks(3), topics,
        ["t1-0, t1-2, t2-0, t2-2, t2-3, t3-1", "t1-1, t1-3, t2-1, t2-4, t3-0", "t1-4, t1-5, t2-5, t2-6"], 1,
    )  # fmt: skip
    verify_rack_assignment(
        "range", counts, 3, racks(2), racks(3), topics,
        ["t1-0, t1-1, t2-0, t2-1, t2-2, t3-0", "t1-2, t1-3, t2-3, t2-4, t3-1", "t1-4, t1-5, t2-5, t2-6"], 4,
    )  # fmt: skip


def test_rack_aware_assignment_with_non_equal_subscription() -> None:
    """RangeAssignorTest.testRackAwareAssignmentWithNonEqualSubscription"""
    counts = {"t1": 6, "t2": 7, "t3": 2}
    every = ["t1", "t2", "t3"]
    topics = [every, every, ["t1", "t3"]]
    _non_rack_aware(
        counts,
        topics,
        ["t1-0, t1-1, t2-0, t2-1, t2-2, t2-3, t3-0", "t1-2, t1-3, t2-4, t2-5, t2-6, t3-1", "t1-4, t1-5"],
    )
    verify_rack_assignment(
        "range", counts, 1, racks(3), racks(3), topics,
        ["t1-0, t1-3, t2-0, t2-2, t2-3, t2-6", "t1-1, t1-4, t2-1, t2-4, t2-5, t3-0", "t1-2, t1-5, t3-1"], 2,
    )  # fmt: skip
    verify_rack_assignment(
        "range", counts, 2, racks(3), racks(3), topics,
        ["t1-0, t1-2, t2-0, t2-2, t2-3, t2-5, t3-1", "t1-1, t1-3, t2-1, t2-4, t2-6, t3-0", "t1-4, t1-5"], 0,
    )  # fmt: skip
    verify_rack_assignment(
        "range", counts, 3, racks(2), racks(3), topics,
        ["t1-0, t1-1, t2-0, t2-1, t2-2, t2-3, t3-0", "t1-2, t1-3, t2-4, t2-5, t2-6, t3-1", "t1-4, t1-5"], 2,
    )  # fmt: skip


def test_rack_aware_assignment_with_uniform_partitions() -> None:
    """RangeAssignorTest.testRackAwareAssignmentWithUniformPartitions: co-partitioning beats rack alignment."""
    counts = {"t1": 5, "t2": 5, "t3": 5}
    every = ["t1", "t2", "t3"]
    topics = [every, every, every]
    plain = ["t1-0, t1-1, t2-0, t2-1, t3-0, t3-1", "t1-2, t1-3, t2-2, t2-3, t3-2, t3-3", "t1-4, t2-4, t3-4"]
    _non_rack_aware(counts, topics, plain)
    verify_rack_assignment("range", counts, 1, racks(3), racks(3), topics, plain, 10)
    verify_rack_assignment("range", counts, 2, racks(3), racks(3), topics, plain, 5)
    verify_rack_assignment("range", counts, 3, racks(2), racks(3), topics, plain, 3)


def test_rack_aware_assignment_with_uniform_partitions_non_equal_subscription() -> None:
    """RangeAssignorTest.testRackAwareAssignmentWithUniformPartitionsNonEqualSubscription"""
    counts = {"t1": 5, "t2": 5, "t3": 5}
    every = ["t1", "t2", "t3"]
    topics = [every, every, ["t1", "t3"]]
    _non_rack_aware(
        counts,
        topics,
        ["t1-0, t1-1, t2-0, t2-1, t2-2, t3-0, t3-1", "t1-2, t1-3, t2-3, t2-4, t3-2, t3-3", "t1-4, t3-4"],
    )
    verify_rack_assignment(
        "range", counts, 1, racks(3), racks(3), topics,
        ["t1-0, t1-1, t2-0, t2-1, t2-4, t3-0, t3-1", "t1-2, t1-3, t2-2, t2-3, t3-2, t3-3", "t1-4, t3-4"], 9,
    )  # fmt: skip
    verify_rack_assignment(
        "range", counts, 2, racks(3), racks(3), topics,
        ["t1-2, t2-0, t2-1, t2-3, t3-2", "t1-0, t1-3, t2-2, t2-4, t3-0, t3-3", "t1-1, t1-4, t3-1, t3-4"], 0,
    )  # fmt: skip
    verify_rack_assignment(
        "range", counts, 3, racks(2), racks(3), topics,
        ["t1-0, t1-1, t2-0, t2-1, t2-2, t3-0, t3-1", "t1-2, t1-3, t2-3, t2-4, t3-2, t3-3", "t1-4, t3-4"], 2,
    )  # fmt: skip


def test_rack_aware_assignment_with_co_partitioning() -> None:
    """RangeAssignorTest.testRackAwareAssignmentWithCoPartitioning"""
    counts = {"t1": 6, "t2": 6, "t3": 2, "t4": 2}
    topics = [["t1", "t2"], ["t1", "t2"], ["t3", "t4"], ["t3", "t4"]]
    consumer_racks = [ALL_RACKS[0], ALL_RACKS[1], ALL_RACKS[1], ALL_RACKS[0]]
    plain = [
        "t1-0, t1-1, t1-2, t2-0, t2-1, t2-2",
        "t1-3, t1-4, t1-5, t2-3, t2-4, t2-5",
        "t3-0, t4-0",
        "t3-1, t4-1",
    ]
    verify_rack_assignment("range", counts, 3, racks(2), consumer_racks, topics, plain, -1)
    verify_rack_assignment("range", counts, 2, racks(2), consumer_racks, topics, plain, 0)
    verify_rack_assignment(
        "range", counts, 1, racks(2), consumer_racks, topics,
        ["t1-0, t1-2, t1-4, t2-0, t2-2, t2-4", "t1-1, t1-3, t1-5, t2-1, t2-3, t2-5", "t3-1, t4-1", "t3-0, t4-0"], 0,
    )  # fmt: skip
    every = ["t1", "t2", "t3", "t4"]
    topics = [every, every, every, every]
    plain = [
        "t1-0, t1-1, t2-0, t2-1, t3-0, t4-0",
        "t1-2, t1-3, t2-2, t2-3, t3-1, t4-1",
        "t1-4, t2-4",
        "t1-5, t2-5",
    ]
    verify_rack_assignment("range", counts, 3, racks(2), consumer_racks, topics, plain, -1)
    verify_rack_assignment("range", counts, 2, racks(2), consumer_racks, topics, plain, 0)
    verify_rack_assignment(
        "range", counts, 1, racks(2), consumer_racks, topics,
        ["t1-0, t1-2, t2-0, t2-2, t3-0, t4-0", "t1-1, t1-3, t2-1, t2-3, t3-1, t4-1", "t1-5, t2-5", "t1-4, t2-4"], 0,
    )  # fmt: skip
    verify_rack_assignment(
        "range", counts, 1, racks(3), consumer_racks, topics,
        ["t1-0, t1-3, t2-0, t2-3, t3-0, t4-0", "t1-1, t1-4, t2-1, t2-4, t3-1, t4-1", "t1-2, t2-2", "t1-5, t2-5"], 6,
    )  # fmt: skip


def test_co_partitioned_assignment_with_same_subscription() -> None:
    """RangeAssignorTest.testCoPartitionedAssignmentWithSameSubscription"""
    counts = {"t1": 6, "t2": 6, "t3": 2, "t4": 2, "t5": 4, "t6": 4}
    topic_list = ["t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9"]
    topics = [topic_list, topic_list, topic_list]
    consumer_racks = [ALL_RACKS[0], ALL_RACKS[1], ALL_RACKS[2]]
    plain = [
        "t1-0, t1-1, t2-0, t2-1, t3-0, t4-0, t5-0, t5-1, t6-0, t6-1",
        "t1-2, t1-3, t2-2, t2-3, t3-1, t4-1, t5-2, t6-2",
        "t1-4, t1-5, t2-4, t2-5, t5-3, t6-3",
    ]
    verify_rack_assignment("range", counts, 3, null_racks(3), consumer_racks, topics, plain, -1)
    verify_rack_assignment(
        "range", counts, 3, racks(3), consumer_racks, topics, plain, 0, prefer_rack_aware=True
    )
    rack_aware = [
        "t1-0, t1-2, t2-0, t2-2, t3-0, t4-0, t5-1, t6-1",
        "t1-1, t1-3, t2-1, t2-3, t3-1, t4-1, t5-2, t6-2",
        "t1-4, t1-5, t2-4, t2-5, t5-0, t5-3, t6-0, t6-3",
    ]
    verify_rack_assignment(
        "range", counts, 2, racks(3), consumer_racks, topics, rack_aware, 0, prefer_rack_aware=True
    )
