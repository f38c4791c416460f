"""Ports of Kafka's clients/.../consumer/internals/AbstractStickyAssignorTest.java.

Kafka runs this abstract class for StickyAssignorTest and CooperativeStickyAssignorTest; so do we (the
``strategy`` parameter), with each RackConfig / hasConsumerRack as its own case. Inputs and expected
assignments are copied from Kafka; assertions on exact lists compare as sets or sorted lists (our API returns
each member's partitions sorted). The harness (tests/kafka/_clients_helpers.StickyHarness) mirrors the Java
fixture: ``subscription()`` owns nothing, ``buildSubscriptionV2Above`` carries owned partitions and their
generation, and the cooperative verifyValidityAndBalance runs the follow-up rebalances first. The large and
random cases are scaled down and seeded (see NOT_PORTED-clients.md, "Adapted").
"""

from __future__ import annotations

import random

import pytest
from _clients_helpers import (
    RACK_CONFIGS,
    StickyHarness,
    is_fully_balanced,
    null_racks,
    racks,
    verify_rack_assignment,
)

STRATEGIES = ("sticky", "cooperative-sticky")
TOPIC, T1, T2, T3 = "topic", "topic1", "topic2", "topic3"
C, C1, C2, C3, C4 = "consumer", "consumer1", "consumer2", "consumer3", "consumer4"
GEN = StickyHarness.generation_id
both = pytest.mark.parametrize("strategy", STRATEGIES)
rack_configs = pytest.mark.parametrize("rack_config", RACK_CONFIGS)
consumer_rack = pytest.mark.parametrize("has_consumer_rack", [False, True])


def _h(strategy: str, rack_config: str | None) -> StickyHarness:
    return StickyHarness(strategy, rack_config)


def _hr(strategy: str, has_consumer_rack: bool) -> StickyHarness:
    return StickyHarness(strategy, "BROKER_AND_CONSUMER_RACK" if has_consumer_rack else "NO_CONSUMER_RACK")


def _tps(*items: tuple[str, int]) -> list[tuple[str, int]]:
    return sorted(items)


def _name(prefix: str, i: int, max_num: int) -> str:
    """getCanonicalName: zero-padded to the width of max_num."""
    return prefix + str(i).zfill(len(str(max_num)))


@both
@consumer_rack
def test_one_consumer_no_topic(strategy: str, has_consumer_rack: bool) -> None:
    """AbstractStickyAssignorTest.testOneConsumerNoTopic"""
    h = _hr(strategy, has_consumer_rack)
    h.subs = {C: h.subscription([], 0)}
    a = h.assign({})
    assert a == {C: []}
    assert h.transferring == {}
    h.verify(a, {})
    assert is_fully_balanced(a)


@both
@consumer_rack
def test_one_consumer_nonexistent_topic(strategy: str, has_consumer_rack: bool) -> None:
    """AbstractStickyAssignorTest.testOneConsumerNonexistentTopic"""
    h = _hr(strategy, has_consumer_rack)
    h.subs = {C: h.subscription([TOPIC], 0)}
    a = h.assign({})
    assert a == {C: []}
    assert h.transferring == {}
    h.verify(a, {})
    assert is_fully_balanced(a)


@both
@rack_configs
def test_one_consumer_one_topic(strategy: str, rack_config: str) -> None:
    """AbstractStickyAssignorTest.testOneConsumerOneTopic"""
    h = _h(strategy, rack_config)
    counts = {TOPIC: h.partitions(TOPIC, 3)}
    h.subs = {C: h.subscription([TOPIC], 0)}
    a = h.assign(counts)
    assert a[C] == _tps((TOPIC, 0), (TOPIC, 1), (TOPIC, 2))
    assert h.transferring == {}
    h.verify(a, counts)
    assert is_fully_balanced(a)


@both
@rack_configs
def test_only_assigns_partitions_from_subscribed_topics(strategy: str, rack_config: str) -> None:
    """AbstractStickyAssignorTest.testOnlyAssignsPartitionsFromSubscribedTopics"""
    h = _h(strategy, rack_config)
    counts = {TOPIC: h.partitions(TOPIC, 2)}
    h.subs = {C: h.v2([TOPIC], [(TOPIC, 0), (TOPIC, 1), ("other", 0), ("other", 1)], GEN, 0)}
    a = h.assign(counts)
    assert a[C] == _tps((TOPIC, 0), (TOPIC, 1))
    assert h.transferring == {}
    h.verify(a, counts)
    assert is_fully_balanced(a)


@both
@rack_configs
def test_one_consumer_multiple_topics(strategy: str, rack_config: str) -> None:
    """AbstractStickyAssignorTest.testOneConsumerMultipleTopics"""
    h = _h(strategy, rack_config)
    counts = {T1: h.partitions(T1, 1), T2: h.partitions(T2, 2)}
    h.subs = {C: h.subscription([T1, T2], 0)}
    a = h.assign(counts)
    assert a[C] == _tps((T1, 0), (T2, 0), (T2, 1))
    assert h.transferring == {}
    h.verify(a, counts)
    assert is_fully_balanced(a)


@both
@rack_configs
def test_two_consumers_one_topic_one_partition(strategy: str, rack_config: str) -> None:
    """AbstractStickyAssignorTest.testTwoConsumersOneTopicOnePartition"""
    h = _h(strategy, rack_config)
    counts = {TOPIC: h.partitions(TOPIC, 1)}
    h.subs = {C1: h.subscription([TOPIC], 0), C2: h.subscription([TOPIC], 1)}
    a = h.assign(counts)
    assert h.transferring == {}
    h.verify(a, counts)
    assert is_fully_balanced(a)


@both
@rack_configs
def test_two_consumers_one_topic_two_partitions(strategy: str, rack_config: str) -> None:
    """AbstractStickyAssignorTest.testTwoConsumersOneTopicTwoPartitions"""
    h = _h(strategy, rack_config)
    counts = {TOPIC: h.partitions(TOPIC, 2)}
    h.subs = {C1: h.subscription([TOPIC], 0), C2: h.subscription([TOPIC], 1)}
    a = h.assign(counts)
    assert a == {C1: [(TOPIC, 0)], C2: [(TOPIC, 1)]}
    assert h.transferring == {}
    h.verify(a, counts)
    assert is_fully_balanced(a)


@both
@rack_configs
def test_multiple_consumers_mixed_topic_subscriptions(strategy: str, rack_config: str) -> None:
    """AbstractStickyAssignorTest.testMultipleConsumersMixedTopicSubscriptions"""
    h = _h(strategy, rack_config)
    counts = {T1: h.partitions(T1, 3), T2: h.partitions(T2, 2)}
    h.subs = {C1: h.subscription([T1], 0), C2: h.subscription([T1, T2], 1), C3: h.subscription([T1], 2)}
    a = h.assign(counts)
    assert a == {C1: _tps((T1, 0), (T1, 2)), C2: _tps((T2, 0), (T2, 1)), C3: [(T1, 1)]}
    assert h.transferring is None
    h.verify(a, counts)
    assert is_fully_balanced(a)


@both
@rack_configs
def test_two_consumers_two_topics_six_partitions(strategy: str, rack_config: str) -> None:
    """AbstractStickyAssignorTest.testTwoConsumersTwoTopicsSixPartitions"""
    h = _h(strategy, rack_config)
    counts = {T1: h.partitions(T1, 3), T2: h.partitions(T2, 3)}
    h.subs = {C1: h.subscription([T1, T2], 0), C2: h.subscription([T1, T2], 1)}
    a = h.assign(counts)
    assert a == {C1: _tps((T1, 0), (T1, 2), (T2, 1)), C2: _tps((T1, 1), (T2, 0), (T2, 2))}
    assert h.transferring == {}
    h.verify(a, counts)
    assert is_fully_balanced(a)


@both
@rack_configs
def test_consumer_owning_min_quota_expected_max_quota(strategy: str, rack_config: str) -> None:
    """AbstractStickyAssignorTest.testConsumerOwningMinQuotaExpectedMaxQuota"""
    h = _h(strategy, rack_config)
    counts = {T1: h.partitions(T1, 2), T2: h.partitions(T2, 3)}
    topics = [T1, T2]
    h.subs = {C1: h.v2(topics, [(T1, 0), (T2, 1)], GEN, 0), C2: h.v2(topics, [(T1, 1), (T2, 2)], GEN, 1)}
    a = h.assign(counts)
    assert a == {C1: _tps((T1, 0), (T2, 1), (T2, 0)), C2: _tps((T1, 1), (T2, 2))}
    assert h.transferring == {}
    h.verify(a, counts)
    assert is_fully_balanced(a)


@both
@rack_configs
def test_max_quota_consumer_more_than_num_expected_max_capacity_members(
    strategy: str, rack_config: str
) -> None:
    """AbstractStickyAssignorTest.testMaxQuotaConsumerMoreThanNumExpectedMaxCapacityMembers"""
    h = _h(strategy, rack_config)
    counts = {T1: h.partitions(T1, 2), T2: h.partitions(T2, 2)}
    topics = [T1, T2]
    h.subs = {
        C1: h.v2(topics, [(T1, 0), (T2, 0)], GEN, 0),
        C2: h.v2(topics, [(T1, 1), (T2, 1)], GEN, 1),
        C3: h.v2(topics, [], GEN, 2),
    }
    a = h.assign(counts)
    assert h.transferring == {(T2, 0): C3}
    h.verify(a, counts)
    assert a == {C1: [(T1, 0)], C2: _tps((T1, 1), (T2, 1)), C3: [(T2, 0)]}
    assert is_fully_balanced(a)


@both
@rack_configs
def test_all_consumers_are_under_min_quota(strategy: str, rack_config: str) -> None:
    """AbstractStickyAssignorTest.testAllConsumersAreUnderMinQuota"""
    h = _h(strategy, rack_config)
    counts = {T1: h.partitions(T1, 2), T2: h.partitions(T2, 3)}
    topics = [T1, T2]
    h.subs = {
        C1: h.v2(topics, [(T1, 0)], GEN, 0),
        C2: h.v2(topics, [(T1, 1)], GEN, 1),
        C3: h.v2(topics, [], GEN, 2),
    }
    a = h.assign(counts)
    assert h.transferring == {}
    h.verify(a, counts)
    assert a == {C1: _tps((T1, 0), (T2, 1)), C2: _tps((T1, 1), (T2, 2)), C3: [(T2, 0)]}
    assert is_fully_balanced(a)


@both
@rack_configs
def test_add_remove_consumer_one_topic(strategy: str, rack_config: str) -> None:
    """AbstractStickyAssignorTest.testAddRemoveConsumerOneTopic"""
    h = _h(strategy, rack_config)
    counts = {TOPIC: h.partitions(TOPIC, 3)}
    h.subs = {C1: h.subscription([TOPIC], 0)}
    a = h.assign(counts)
    assert a[C1] == _tps((TOPIC, 0), (TOPIC, 1), (TOPIC, 2))
    h.verify(a, counts)
    assert is_fully_balanced(a)

    h.subs[C1] = h.v2([TOPIC], a[C1], GEN, 0)
    h.subs[C2] = h.v2([TOPIC], [], GEN, 1)
    a = h.assign(counts)
    assert h.transferring == {(TOPIC, 2): C2}
    h.verify(a, counts)
    assert a == {C1: _tps((TOPIC, 0), (TOPIC, 1)), C2: [(TOPIC, 2)]}
    assert is_fully_balanced(a)

    del h.subs[C1]
    h.subs[C2] = h.v2([TOPIC], a[C2], GEN, 1)
    a = h.assign(counts)
    assert set(a[C2]) == {(TOPIC, 2), (TOPIC, 1), (TOPIC, 0)}
    assert h.transferring == {}
    h.verify(a, counts)
    assert is_fully_balanced(a)


def _count(tps: list[tuple[str, int]], topic: str) -> int:
    return sum(1 for t, _ in tps if t == topic)


@both
@rack_configs
def test_topic_balance_after_reassignment(strategy: str, rack_config: str) -> None:
    """AbstractStickyAssignorTest.testTopicBalanceAfterReassignment"""
    h = _h(strategy, rack_config)
    every = [T1, T2]
    counts = {T1: h.partitions(T1, 12), T2: h.partitions(T2, 12)}
    h.subs = {C1: h.subscription(every, 0)}
    a = h.assign(counts)
    h.verify(a, counts)
    assert all(_count(tps, T1) == 12 and _count(tps, T2) == 12 for tps in a.values())
    assert h.transferring == {}
    assert is_fully_balanced(a)

    h.subs = {C1: h.v2(every, a[C1], GEN, 0), C2: h.v2(every, [], GEN, 1)}
    a = h.assign(counts)
    h.verify(a, counts)
    assert all(_count(tps, T1) == 6 and _count(tps, T2) == 6 for tps in a.values())
    assert is_fully_balanced(a)

    h.subs = {
        C1: h.v2(every, a[C1], GEN, 0),
        C2: h.v2(every, a[C2], GEN, 1),
        C3: h.v2(every, [], GEN, 2),
        C4: h.v2(every, [], GEN, 3),
    }
    a = h.assign(counts)
    h.verify(a, counts)
    assert all(_count(tps, T1) == 3 and _count(tps, T2) == 3 for tps in a.values())
    assert is_fully_balanced(a)

    h.subs = {C3: h.v2(every, a[C3], GEN, 2), C4: h.v2(every, a[C4], GEN, 3)}
    a = h.assign(counts)
    h.verify(a, counts)
    assert all(_count(tps, T1) == 6 and _count(tps, T2) == 6 for tps in a.values())
    assert h.transferring == {}
    assert is_fully_balanced(a)


@both
@rack_configs
def test_add_remove_two_consumers_two_topics(strategy: str, rack_config: str) -> None:
    """AbstractStickyAssignorTest.testAddRemoveTwoConsumersTwoTopics"""
    h = _h(strategy, rack_config)
    every = [T1, T2]
    counts = {T1: h.partitions(T1, 3), T2: h.partitions(T2, 4)}
    h.subs = {C1: h.subscription(every, 0), C2: h.subscription(every, 1)}
    a = h.assign(counts)
    assert a == {C1: _tps((T1, 0), (T1, 2), (T2, 1), (T2, 3)), C2: _tps((T1, 1), (T2, 0), (T2, 2))}
    assert h.transferring == {}
    h.verify(a, counts)
    assert is_fully_balanced(a)

    h.subs = {
        C1: h.v2(every, a[C1], GEN, 0),
        C2: h.v2(every, a[C2], GEN, 1),
        C3: h.v2(every, [], GEN, 2),
        C4: h.v2(every, [], GEN, 3),
    }
    a = h.assign(counts)
    assert h.transferring == {(T1, 2): C3, (T2, 3): C3, (T2, 2): C4}
    h.verify(a, counts)
    assert a == {
        C1: _tps((T1, 0), (T2, 1)),
        C2: _tps((T2, 0), (T1, 1)),
        C3: _tps((T1, 2), (T2, 3)),
        C4: [(T2, 2)],
    }
    assert is_fully_balanced(a)

    h.subs = {C3: h.v2(every, a[C3], GEN, 2), C4: h.v2(every, a[C4], GEN, 3)}
    a = h.assign(counts)
    assert a == {C3: _tps((T1, 2), (T2, 3), (T1, 0), (T2, 1)), C4: _tps((T2, 2), (T1, 1), (T2, 0))}
    assert h.transferring == {}
    h.verify(a, counts)
    assert is_fully_balanced(a)


@both
@rack_configs
def test_poor_round_robin_assignment_scenario(strategy: str, rack_config: str) -> None:
    """AbstractStickyAssignorTest.testPoorRoundRobinAssignmentScenario"""
    h = _h(strategy, rack_config)
    counts = {f"topic{i}": h.partitions(f"topic{i}", (i % 2) + 1) for i in range(1, 6)}
    all5 = ["topic1", "topic2", "topic3", "topic4", "topic5"]
    odd = ["topic1", "topic3", "topic5"]
    h.subs = {
        "consumer1": h.subscription(all5, 0),
        "consumer2": h.subscription(odd, 1),
        "consumer3": h.subscription(odd, 2),
        "consumer4": h.subscription(all5, 3),
    }
    a = h.assign(counts)
    h.verify(a, counts)


@both
@rack_configs
def test_add_remove_topic_two_consumers(strategy: str, rack_config: str) -> None:
    """AbstractStickyAssignorTest.testAddRemoveTopicTwoConsumers"""
    h = _h(strategy, rack_config)
    counts = {TOPIC: h.partitions(TOPIC, 3)}
    h.subs = {C1: h.subscription([TOPIC], 0), C2: h.subscription([TOPIC], 1)}
    a = h.assign(counts)
    assert h.transferring == {}
    assert is_fully_balanced(a)
    h.verify(a, counts)
    first1, first2 = list(a[C1]), list(a[C2])
    assert sorted([len(first1), len(first2)]) == [1, 2]

    counts[T2] = h.partitions(T2, 3)
    h.subs = {C1: h.v2([TOPIC, T2], a[C1], GEN, 0), C2: h.v2([TOPIC, T2], a[C2], GEN, 1)}
    a = h.assign(counts)
    assert h.transferring == {}
    h.verify(a, counts)
    assert is_fully_balanced(a)
    second1, second2 = list(a[C1]), list(a[C2])
    assert len(second1) == 3 and len(second2) == 3
    assert set(first1) <= set(second1) and set(first2) <= set(second2)

    del counts[TOPIC]
    h.subs = {C1: h.v2([T2], a[C1], GEN, 0), C2: h.v2([T2], a[C2], GEN, 1)}
    a = h.assign(counts)
    assert h.transferring == {}
    h.verify(a, counts)
    assert is_fully_balanced(a)
    assert sorted([len(a[C1]), len(a[C2])]) == [1, 2]
    assert set(a[C1]) <= set(second1) and set(a[C2]) <= set(second2)


@both
@rack_configs
def test_reassignment_after_one_consumer_leaves(strategy: str, rack_config: str) -> None:
    """AbstractStickyAssignorTest.testReassignmentAfterOneConsumerLeaves"""
    h = _h(strategy, rack_config)
    counts = {_name("t", i, 20): h.partitions(_name("t", i, 20), i) for i in range(1, 20)}
    for i in range(1, 20):
        h.subs[_name("c", i, 20)] = h.subscription([_name("t", j, 20) for j in range(1, i + 1)], i)
    a = h.assign(counts)
    h.verify(a, counts)
    for i in range(1, 20):
        c = _name("c", i, 20)
        h.subs[c] = h.v2(h.subs[c].topics, a[c], GEN, i)
    del h.subs["c10"]
    a = h.assign(counts)
    h.verify(a, counts)
    assert h.is_sticky


@both
@rack_configs
def test_reassignment_after_one_consumer_added(strategy: str, rack_config: str) -> None:
    """AbstractStickyAssignorTest.testReassignmentAfterOneConsumerAdded"""
    h = _h(strategy, rack_config)
    counts = {"topic": h.partitions("topic", 20)}
    for i in range(1, 10):
        h.subs[_name("c", i, 10)] = h.subscription(["topic"], i)
    a = h.assign(counts)
    assert h.transferring == {}
    h.verify(a, counts)
    h.subs[_name("c", 10, 10)] = h.subscription(["topic"], 10)
    a = h.assign(counts)
    assert h.transferring == {}
    h.verify(a, counts)


@both
@rack_configs
def test_same_subscriptions(strategy: str, rack_config: str) -> None:
    """AbstractStickyAssignorTest.testSameSubscriptions"""
    h = _h(strategy, rack_config)
    counts = {_name("t", i, 15): h.partitions(_name("t", i, 15), i) for i in range(1, 15)}
    topics = [_name("t", j, 15) for j in range(1, len(counts) + 1)]
    for i in range(1, 9):
        h.subs[_name("c", i, 9)] = h.subscription(topics, i)
    a = h.assign(counts)
    assert h.transferring == {}
    h.verify(a, counts)
    for i in range(1, 9):
        c = _name("c", i, 9)
        h.subs[c] = h.v2(h.subs[c].topics, a[c], GEN, i)
    del h.subs[_name("c", 5, 9)]
    a = h.assign(counts)
    assert h.transferring == {}
    h.verify(a, counts)


def _large(h: StickyHarness, topic_count: int, partition_count: int, consumer_count: int, topics_of) -> None:  # noqa: ANN001
    """The shape of testLargeAssignmentAndGroupWith*: assign, then again with everyone owning its share."""
    topics = [_name("t", i, topic_count) for i in range(topic_count)]
    counts = {t: h.partitions(t, partition_count) for t in topics}
    for i in range(consumer_count):
        h.subs[_name("c", i, consumer_count)] = h.subscription(topics_of(topics, i), i)
    a = h.assign(counts)
    for i in range(1, consumer_count):
        c = _name("c", i, consumer_count)
        h.subs[c] = h.v2(topics_of(topics, i), a[c], GEN, i)
    a = h.assign(counts)
    h.verify(a, counts)


@both
@consumer_rack
def test_large_assignment_and_group_with_uniform_subscription(strategy: str, has_consumer_rack: bool) -> None:
    """AbstractStickyAssignorTest.testLargeAssignmentAndGroupWithUniformSubscription (scaled down)"""
    _large(_hr(strategy, has_consumer_rack), 10, 20, 30, lambda topics, _i: topics)


@both
@consumer_rack
def test_large_assignment_and_group_with_non_equal_subscription(
    strategy: str, has_consumer_rack: bool
) -> None:
    """AbstractStickyAssignorTest.testLargeAssignmentAndGroupWithNonEqualSubscription (scaled down)"""
    n = 30
    _large(
        _hr(strategy, has_consumer_rack), 10, 20, n, lambda topics, i: topics[:1] if i == n - 1 else topics
    )


@both
@consumer_rack
def test_assignment_and_group_with_non_equal_subscription_not_timeout(
    strategy: str, has_consumer_rack: bool
) -> None:
    """AbstractStickyAssignorTest.testAssignmentAndGroupWithNonEqualSubscriptionNotTimeout (scaled down)"""
    tc = 10
    _large(
        _hr(strategy, has_consumer_rack), tc, 10, 25,
        lambda topics, i: topics[: tc // 2] if i % 4 == 0 else topics[tc // 2 :],
    )  # fmt: skip


@both
def test_subscription_not_equal_and_assign_same_partition_with3_generation(strategy: str) -> None:
    """AbstractStickyAssignorTest.testSubscriptionNotEqualAndAssignSamePartitionWith3Generation"""
    h = _h(strategy, None)
    counts = {TOPIC: h.partitions(TOPIC, 6), T1: h.partitions(T1, 1)}
    for g1, g2, g3 in [(1, 2, 3), (1, 3, 2), (2, 1, 3), (2, 3, 1), (3, 1, 2), (3, 2, 1)]:
        h.subs = {
            C1: h.v2([TOPIC], [(TOPIC, 0), (TOPIC, 2)], g1, 0),
            C2: h.v2([TOPIC], [(TOPIC, 1), (TOPIC, 2), (TOPIC, 3)], g2, 1),
            C3: h.v2([TOPIC], [(TOPIC, 2), (TOPIC, 4), (TOPIC, 5)], g3, 2),
            C4: h.v2([T1], [(T1, 0)], 2, 3),
        }
        a = h.assign(counts)
        every = [tp for tps in a.values() for tp in tps]
        assert len(every) == len(set(every))
        assert all(1 <= len(tps) <= 2 for tps in a.values())


@both
@consumer_rack
def test_large_assignment_with_multiple_consumers_leaving_and_random_subscription(
    strategy: str, has_consumer_rack: bool
) -> None:
    """AbstractStickyAssignorTest.testLargeAssignmentWithMultipleConsumersLeavingAndRandomSubscription (scaled
    down, seeded)"""
    h = _hr(strategy, has_consumer_rack)
    rand = random.Random(15)
    topic_count, consumer_count = 12, 40
    counts = {}
    for i in range(topic_count):
        t = _name("t", i, topic_count)
        counts[t] = h.partitions(t, rand.randrange(10) + 1)
    for i in range(consumer_count):
        topics = [_name("t", rand.randrange(topic_count), topic_count) for _ in range(rand.randrange(8))]
        h.subs[_name("c", i, consumer_count)] = h.subscription(topics, i)
    a = h.assign(counts)
    h.verify(a, counts)
    for i in range(1, consumer_count):
        c = _name("c", i, consumer_count)
        h.subs[c] = h.v2(h.subs[c].topics, a[c], GEN, i)
    for _ in range(10):
        h.subs.pop(_name("c", rand.randrange(consumer_count), consumer_count), None)
    a = h.assign(counts)
    h.verify(a, counts)
    assert h.is_sticky


@both
@rack_configs
def test_new_subscription(strategy: str, rack_config: str) -> None:
    """AbstractStickyAssignorTest.testNewSubscription"""
    h = _h(strategy, rack_config)
    counts = {_name("t", i, 5): h.partitions(_name("t", i, 5), 1) for i in range(1, 5)}
    for i in range(3):
        h.subs[_name("c", i, 3)] = h.subscription([_name("t", j, 5) for j in range(i, 3 * i - 1)], i)
    a = h.assign(counts)
    h.verify(a, counts)
    h.subs[_name("c", 0, 3)].topics.append(_name("t", 1, 5))
    a = h.assign(counts)
    h.verify(a, counts)
    assert h.is_sticky


@both
@rack_configs
def test_move_existing_assignments(strategy: str, rack_config: str) -> None:
    """AbstractStickyAssignorTest.testMoveExistingAssignments"""
    h = _h(strategy, rack_config)
    counts = {f"topic{i}": h.partitions(f"topic{i}", 1) for i in range(1, 7)}
    h.subs = {
        C1: h.v2([T1, T2], [(T1, 0)], GEN, 0),
        C2: h.v2([T1, T2, T3, "topic4"], [(T2, 0), (T3, 0)], GEN, 1),
        C3: h.v2(
            [T2, T3, "topic4", "topic5", "topic6"], [("topic4", 0), ("topic5", 0), ("topic6", 0)], GEN, 2
        ),
    }
    a = h.assign(counts)
    assert h.transferring is None
    h.verify(a, counts)


@both
@rack_configs
def test_stickiness(strategy: str, rack_config: str) -> None:
    """AbstractStickyAssignorTest.testStickiness"""
    h = _h(strategy, rack_config)
    counts = {T1: h.partitions(T1, 3)}
    h.subs = {m: h.subscription([T1], i) for i, m in enumerate([C1, C2, C3, C4])}
    a = h.assign(counts)
    assert h.transferring == {}
    h.verify(a, counts)
    assert all(len(tps) <= 1 for tps in a.values())
    had = {m: tps[0] for m, tps in a.items() if tps}

    del h.subs[C1]  # the potential group leader leaves
    for i, m in enumerate([C2, C3, C4], start=1):
        h.subs[m] = h.v2([T1], a[m], GEN, i)
    a = h.assign(counts)
    assert h.transferring == {}
    h.verify(a, counts)
    for m, tps in a.items():
        assert len(tps) == 1
        assert m not in had or had[m] in tps, f"Stickiness was not honored for consumer {m}"


@both
@rack_configs
def test_assignment_updated_for_deleted_topic(strategy: str, rack_config: str) -> None:
    """AbstractStickyAssignorTest.testAssignmentUpdatedForDeletedTopic"""
    h = _h(strategy, rack_config)
    counts = {T1: h.partitions(T1, 1), T3: h.partitions(T3, 100)}
    h.subs = {C: h.subscription([T1, T2, T3], 0)}
    a = h.assign(counts)
    assert h.transferring == {}
    assert sum(len(v) for v in a.values()) == 1 + 100
    assert set(a) == {C}
    assert is_fully_balanced(a)


@both
@rack_configs
def test_no_exception_thrown_when_only_subscribed_topic_deleted(strategy: str, rack_config: str) -> None:
    """AbstractStickyAssignorTest.testNoExceptionThrownWhenOnlySubscribedTopicDeleted"""
    h = _h(strategy, rack_config)
    counts = {TOPIC: h.partitions(TOPIC, 3)}
    h.subs = {C: h.subscription([TOPIC], 0)}
    a = h.assign(counts)
    assert h.transferring == {}
    h.subs[C] = h.v2([TOPIC], a[C], GEN, 0)
    a = h.assign({})
    assert h.transferring == {}
    assert a == {C: []}


@both
@rack_configs
def test_reassignment_with_random_subscriptions_and_changes(strategy: str, rack_config: str) -> None:
    """AbstractStickyAssignorTest.testReassignmentWithRandomSubscriptionsAndChanges (10 seeded rounds, not 100)"""
    rand = random.Random(27)

    def random_sublist(items: list[str]) -> list[str]:
        """AbstractStickyAssignorTest.getRandomSublist."""
        picked = list(items)
        for _ in range(rand.randrange(len(items))):
            picked.pop(rand.randrange(len(picked)))
        return sorted(picked)

    for _round in range(10):
        h = _h(strategy, rack_config)
        num_topics = 10 + rand.randrange(10)
        topics = [_name("t", i, 20) for i in range(num_topics)]
        counts = {t: h.partitions(t, i + 1) for i, t in enumerate(topics)}
        num_consumers = 20 + rand.randrange(20)
        for i in range(num_consumers):
            h.subs[_name("c", i, 40)] = h.subscription(random_sublist(topics), i)
        a = h.assign(counts)
        h.verify(a, counts)
        h.subs = {
            _name("c", i, 40): h.v2(random_sublist(topics), a[_name("c", i, 40)], GEN, i)
            for i in range(num_consumers)
        }
        a = h.assign(counts)
        h.verify(a, counts)
        assert h.is_sticky


@both
@rack_configs
def test_all_consumers_reach_expected_quota_and_are_considered_filled(
    strategy: str, rack_config: str
) -> None:
    """AbstractStickyAssignorTest.testAllConsumersReachExpectedQuotaAndAreConsideredFilled"""
    h = _h(strategy, rack_config)
    counts = {TOPIC: h.partitions(TOPIC, 4)}
    h.subs = {
        C1: h.v2([TOPIC], [(TOPIC, 0), (TOPIC, 1)], GEN, 0),
        C2: h.v2([TOPIC], [(TOPIC, 2)], GEN, 1),
        C3: h.v2([TOPIC], [], GEN, 2),
    }
    a = h.assign(counts)
    assert a == {C1: _tps((TOPIC, 0), (TOPIC, 1)), C2: [(TOPIC, 2)], C3: [(TOPIC, 3)]}
    assert h.transferring == {}
    h.verify(a, counts)
    assert is_fully_balanced(a)


def _two_topics_gen(h: StickyHarness, own1, gen1: int, own2, gen2: int) -> dict:  # noqa: ANN001
    counts = {TOPIC: h.partitions(TOPIC, 3), T2: h.partitions(T2, 3)}
    h.subs = {C1: h.v2([TOPIC, T2], own1, gen1, 0), C2: h.v2([TOPIC, T2], own2, gen2, 1)}
    return counts


@both
@rack_configs
def test_owned_partitions_are_invalidated_for_consumer_with_stale_generation(
    strategy: str, rack_config: str
) -> None:
    """AbstractStickyAssignorTest.testOwnedPartitionsAreInvalidatedForConsumerWithStaleGeneration"""
    h = _h(strategy, rack_config)
    owned = [(TOPIC, 0), (TOPIC, 2), (T2, 1)]
    counts = _two_topics_gen(h, owned, 10, owned, 9)
    a = h.assign(counts)
    assert set(a[C1]) == {(TOPIC, 0), (TOPIC, 2), (T2, 1)}
    assert set(a[C2]) == {(TOPIC, 1), (T2, 0), (T2, 2)}
    assert h.transferring == {}
    h.verify(a, counts)
    assert is_fully_balanced(a)


@both
@rack_configs
def test_owned_partitions_are_invalidated_for_consumer_with_no_generation(
    strategy: str, rack_config: str
) -> None:
    """AbstractStickyAssignorTest.testOwnedPartitionsAreInvalidatedForConsumerWithNoGeneration"""
    h = _h(strategy, rack_config)
    owned = [(TOPIC, 0), (TOPIC, 2), (T2, 1)]
    counts = _two_topics_gen(h, owned, 10, owned, -1)
    a = h.assign(counts)
    assert set(a[C1]) == {(TOPIC, 0), (TOPIC, 2), (T2, 1)}
    assert set(a[C2]) == {(TOPIC, 1), (T2, 0), (T2, 2)}
    assert h.transferring == {}
    h.verify(a, counts)
    assert is_fully_balanced(a)


@both
@rack_configs
def test_partitions_transferring_ownership_include_the_partition_claimed_by_multiple_consumers_in_same_generation(
    strategy: str, rack_config: str
) -> None:
    """AbstractStickyAssignorTest.testPartitionsTransferringOwnershipIncludeThePartitionClaimedByMultipleConsumers
    InSameGeneration"""
    h = _h(strategy, rack_config)
    counts = {TOPIC: h.partitions(TOPIC, 3)}
    h.subs = {
        C1: h.v2([TOPIC], [(TOPIC, 0), (TOPIC, 1)], GEN, 0),
        C2: h.v2([TOPIC], [(TOPIC, 0), (TOPIC, 2)], GEN, 1),
        C3: h.v2([TOPIC], [], GEN, 2),
    }
    a = h.assign(counts)
    assert h.transferring == {(TOPIC, 0): C3}
    h.verify(a, counts)
    assert a == {C1: [(TOPIC, 1)], C2: [(TOPIC, 2)], C3: [(TOPIC, 0)]}
    assert is_fully_balanced(a)


@both
@rack_configs
def test_ensure_partitions_assigned_to_highest_generation(strategy: str, rack_config: str) -> None:
    """AbstractStickyAssignorTest.testEnsurePartitionsAssignedToHighestGeneration"""
    h = _h(strategy, rack_config)
    counts = {TOPIC: h.partitions(TOPIC, 3), T2: h.partitions(T2, 3), T3: h.partitions(T3, 3)}
    every = [TOPIC, T2, T3]
    h.subs = {
        C1: h.v2(every, [(TOPIC, 0), (T2, 0), (T3, 0)], 10, 0),
        C2: h.v2(every, [(TOPIC, 1), (T2, 1), (T3, 1)], 9, 1),
        C3: h.v2(every, [(T2, 1), (T3, 0), (T3, 2)], 8, 1),
    }
    a = h.assign(counts)
    assert set(a[C1]) == {(TOPIC, 0), (T2, 0), (T3, 0)}
    assert set(a[C2]) == {(TOPIC, 1), (T2, 1), (T3, 1)}
    assert set(a[C3]) == {(TOPIC, 2), (T2, 2), (T3, 2)}
    assert h.transferring == {}
    h.verify(a, counts)
    assert is_fully_balanced(a)


@both
@rack_configs
def test_no_reassignment_on_current_members(strategy: str, rack_config: str) -> None:
    """AbstractStickyAssignorTest.testNoReassignmentOnCurrentMembers"""
    h = _h(strategy, rack_config)
    counts = {t: h.partitions(t, 3) for t in (TOPIC, T1, T2, T3)}
    every = [TOPIC, T2, T3, T1]
    h.subs = {
        C1: h.v2(every, [], -1, 0),
        C2: h.v2(every, [(TOPIC, 0), (T2, 0), (T1, 0)], 9, 1),
        C3: h.v2(every, [(T3, 2), (T2, 2), (T1, 1)], 8, 2),
        C4: h.v2(every, [(T3, 1), (TOPIC, 1), (TOPIC, 2)], 7, 3),
    }
    a = h.assign(counts)
    assert set(a[C1]) == {(T1, 2), (T2, 1), (T3, 0)}
    assert h.transferring == {}
    h.verify(a, counts)
    assert is_fully_balanced(a)


@both
@rack_configs
def test_owned_partitions_are_invalidated_for_consumer_with_multiple_generation(
    strategy: str, rack_config: str
) -> None:
    """AbstractStickyAssignorTest.testOwnedPartitionsAreInvalidatedForConsumerWithMultipleGeneration"""
    h = _h(strategy, rack_config)
    counts = _two_topics_gen(h, [(TOPIC, 0), (T2, 1), (TOPIC, 1)], 10, [(TOPIC, 0), (T2, 1), (T2, 2)], 8)
    a = h.assign(counts)
    assert set(a[C1]) == {(TOPIC, 0), (T2, 1), (TOPIC, 1)}
    assert set(a[C2]) == {(TOPIC, 2), (T2, 2), (T2, 0)}
    assert h.transferring == {}
    h.verify(a, counts)
    assert is_fully_balanced(a)


def _uniform(
    strategy: str, rf: int, brokers, consumers, topics, expected, mismatched: int, prefer=False
) -> None:  # noqa: ANN001
    """AbstractStickyAssignorTest.verifyUniformSubscription / verifyNonEqualSubscription: without, then with
    the expected assignment already owned (StickyAssignorTest's plain subscriptions carry no userData, so
    the sticky assignor ignores owned partitions there; the cooperative one reads them)."""
    counts = {"t1": 6, "t2": 7, "t3": 2}
    verify_rack_assignment(strategy, counts, rf, brokers, consumers, topics, expected, mismatched,
                           prefer_rack_aware=prefer)  # fmt: skip
    owned = expected if strategy == "cooperative-sticky" else ()
    verify_rack_assignment(strategy, counts, rf, brokers, consumers, topics, expected, mismatched, owned=owned,
                           prefer_rack_aware=prefer)  # fmt: skip


def _owned(strategy: str, rf: int, topics, owned, expected, mismatched: int, prefer=False) -> None:  # noqa: ANN001
    """verifyRackAssignment with consumerOwnedPartitions (ignored by StickyAssignor: no userData)."""
    counts = {"t1": 6, "t2": 7, "t3": 2}
    owned = owned if strategy == "cooperative-sticky" else ()
    verify_rack_assignment(strategy, counts, rf, racks(3), racks(3), topics, expected, mismatched, owned=owned,
                           prefer_rack_aware=prefer)  # fmt: skip


@both
def test_rack_aware_assignment_with_uniform_subscription(strategy: str) -> None:
    """AbstractStickyAssignorTest.testRackAwareAssignmentWithUniformSubscription"""
    every = ["t1", "t2", "t3"]
    topics = [every, every, every]
    plain = ["t1-0, t1-3, t2-0, t2-3, t2-6", "t1-1, t1-4, t2-1, t2-4, t3-0", "t1-2, t1-5, t2-2, t2-5, t3-1"]
    _uniform(strategy, 3, null_racks(3), racks(3), topics, plain, -1)
    _uniform(strategy, 3, racks(3), null_racks(3), topics, plain, -1)
    _uniform(strategy, 3, racks(3), racks(3), topics, plain, 0, prefer=True)
    _uniform(strategy, 4, racks(4), racks(3), topics, plain, 0, prefer=True)
    _uniform(strategy, 3, racks(3), racks(3), topics, plain, 0)
    _uniform(strategy, 3, racks(3), ["d", "e", "f"], topics, plain, -1)
    _uniform(strategy, 3, racks(3), [None, "e", "f"], topics, plain, -1)
    _uniform(strategy, 1, racks(3), racks(3), topics, plain, 0)
    _uniform(strategy, 2, racks(3), racks(3), topics, plain, 0)
    _uniform(strategy, 3, racks(2), racks(3), topics, plain, 5)
    owned = ["t1-0, t1-1, t1-2, t1-3, t1-4", "t1-5, t2-0, t2-1, t2-2, t2-3", "t2-4, t2-5, t2-6, t3-0, t3-1"]
    if strategy == "cooperative-sticky":
        _owned(strategy, 1, topics, owned, ["t1-0, t1-3", "t2-1", "t2-5, t3-1"], 0)
    else:
        _owned(strategy, 1, topics, owned, plain, 0)
    _owned(strategy, 3, topics, plain, plain, 0, prefer=True)


@both
def test_rack_aware_assignment_with_non_equal_subscription(strategy: str) -> None:
    """AbstractStickyAssignorTest.testRackAwareAssignmentWithNonEqualSubscription"""
    every = ["t1", "t2", "t3"]
    topics = [every, every, ["t1", "t3"]]
    plain = ["t1-5, t2-0, t2-2, t2-4, t2-6", "t1-3, t2-1, t2-3, t2-5, t3-0", "t1-0, t1-1, t1-2, t1-4, t3-1"]
    _uniform(strategy, 3, null_racks(3), racks(3), topics, plain, -1)
    _uniform(strategy, 3, racks(3), null_racks(3), topics, plain, -1)
    _uniform(strategy, 3, racks(3), racks(3), topics, plain, 0, prefer=True)
    _uniform(strategy, 4, racks(4), racks(3), topics, plain, 0, prefer=True)
    _uniform(strategy, 3, racks(3), racks(3), topics, plain, 0)
    _uniform(strategy, 3, racks(3), ["d", "e", "f"], topics, plain, -1)
    _uniform(strategy, 3, racks(3), [None, "e", "f"], topics, plain, -1)
    rf1 = ["t1-3, t2-0, t2-2, t2-3, t2-6", "t1-4, t2-1, t2-4, t2-5, t3-0", "t1-0, t1-1, t1-2, t1-5, t3-1"]
    _uniform(strategy, 1, racks(3), racks(3), topics, rf1, 4)
    rf2 = ["t1-3, t2-0, t2-2, t2-5, t2-6", "t1-0, t2-1, t2-3, t2-4, t3-0", "t1-1, t1-2, t1-4, t1-5, t3-1"]
    _uniform(strategy, 2, racks(3), racks(3), topics, rf2, 0)
    _uniform(strategy, 3, racks(2), racks(3), topics, plain, 5)
    owned = ["t1-0, t1-1, t1-2, t1-3, t1-4", "t1-5, t2-0, t2-1, t2-2, t2-3", "t2-4, t2-5, t2-6, t3-0, t3-1"]
    if strategy == "sticky":
        _owned(strategy, 1, topics, owned, rf1, 4)
        _owned(strategy, 3, topics, owned, plain, 0)
        _owned(strategy, 3, topics, owned, plain, 0, prefer=True)
    else:
        intermediate = ["t1-3", "t2-1", "t3-1"]
        _owned(strategy, 1, topics, owned, intermediate, 0)
        _owned(strategy, 1, topics, intermediate, rf1, 4)
        final = [
            "t1-2, t1-3, t1-4, t2-4, t2-5",
            "t2-0, t2-1, t2-2, t2-3, t2-6",
            "t1-0, t1-1, t1-5, t3-0, t3-1",
        ]
        intermediate = ["t1-2, t1-3, t1-4", "t2-0, t2-1, t2-2, t2-3", "t3-0, t3-1"]
        for prefer in (False, True):
            _owned(strategy, 3, topics, owned, intermediate, 0, prefer=prefer)
            _owned(strategy, 3, topics, intermediate, final, 0, prefer=prefer)
