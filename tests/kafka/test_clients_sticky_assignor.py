"""Ports of Kafka's clients/src/test/java/org/apache/kafka/clients/consumer/StickyAssignorTest.java (the cases
beyond the AbstractStickyAssignorTest ones, which test_clients_abstract_sticky_assignor.py runs for both).

Kafka's StickyAssignor reads owned partitions and their generation from the subscription's userData; our
``current`` + ``generations`` carry the same two facts. A V0/V1 subscription or the old userData schema
without a generation is a member with owned partitions and no generation (DEFAULT_GENERATION, -1).
"""

from __future__ import annotations

import pytest
from _clients_helpers import RACK_CONFIGS, StickyHarness, is_fully_balanced

TOPIC, T1, T2, T3 = "topic", "topic1", "topic2", "topic3"
C1, C2, C3 = "consumer1", "consumer2", "consumer3"
GEN = StickyHarness.generation_id
rack_configs = pytest.mark.parametrize("rack_config", RACK_CONFIGS)
rack_and_subscription = pytest.mark.parametrize(
    "rack_config,all_equal", [(r, e) for e in (True, False) for r in RACK_CONFIGS]
)  # StickyAssignorTest.rackAndSubscriptionCombinations


def _h(rack_config: str | None) -> StickyHarness:
    return StickyHarness("sticky", rack_config)


@rack_configs
def test_all_consumers_have_owned_partition_invalidated_when_claimed_by_multiple_consumers_in_same_generation_with_equal_partitions_per_consumer(  # noqa: E501
    rack_config: str,
) -> None:
    """StickyAssignorTest.testAllConsumersHaveOwnedPartitionInvalidatedWhenClaimedByMultipleConsumersInSameGeneration
    WithEqualPartitionsPerConsumer"""
    h = _h(rack_config)
    counts = {TOPIC: h.partitions(TOPIC, 3)}
    h.subs = {
        C1: h.v2([TOPIC], [(TOPIC, 0), (TOPIC, 1)], GEN, 0),
        C2: h.v2([TOPIC], [(TOPIC, 0), (TOPIC, 2)], GEN, 1),
        C3: h.v2([TOPIC], [], GEN, 2),
    }
    a = h.assign(counts)
    assert a == {C1: [(TOPIC, 1)], C2: [(TOPIC, 2)], C3: [(TOPIC, 0)]}
    h.verify(a, counts)
    assert is_fully_balanced(a)


@rack_configs
def test_all_consumers_have_owned_partition_invalidated_when_claimed_by_multiple_consumers_in_same_generation_with_unequal_partitions_per_consumer(  # noqa: E501
    rack_config: str,
) -> None:
    """StickyAssignorTest.testAllConsumersHaveOwnedPartitionInvalidatedWhenClaimedByMultipleConsumersInSameGeneration
    WithUnequalPartitionsPerConsumer"""
    h = _h(rack_config)
    counts = {TOPIC: h.partitions(TOPIC, 4)}
    h.subs = {
        C1: h.v2([TOPIC], [(TOPIC, 0), (TOPIC, 1)], GEN, 0),
        C2: h.v2([TOPIC], [(TOPIC, 0), (TOPIC, 2)], GEN, 1),
        C3: h.v2([TOPIC], [], GEN, 2),
    }
    a = h.assign(counts)
    assert a == {C1: [(TOPIC, 1), (TOPIC, 3)], C2: [(TOPIC, 2)], C3: [(TOPIC, 0)]}
    h.verify(a, counts)
    assert is_fully_balanced(a)


@rack_and_subscription
def test_assignment_with_multiple_generations1(rack_config: str, all_equal: bool) -> None:
    """StickyAssignorTest.testAssignmentWithMultipleGenerations1"""
    h = _h(rack_config)
    every = [TOPIC, T2]
    c2_topics = every if all_equal else [TOPIC]
    counts = {TOPIC: h.partitions(TOPIC, 6), T2: h.partitions(T2, 6)}
    h.subs = {C1: h.subscription(every, 0), C2: h.subscription(c2_topics, 1), C3: h.subscription(every, 2)}
    a = h.assign(counts)
    r1 = dict(a)
    assert [len(r1[c]) for c in (C1, C2, C3)] == [4, 4, 4]
    h.verify(a, counts)
    assert is_fully_balanced(a)

    h.subs = {C1: h.v2(every, r1[C1], GEN, 0), C2: h.v2(c2_topics, r1[C2], GEN, 1)}
    a = h.assign(counts)
    r2 = dict(a)
    assert len(r2[C1]) == 6 and len(r2[C2]) == 6
    if all_equal:
        assert set(r1[C1]) <= set(r2[C1])
    assert set(r1[C2]) <= set(r2[C2])
    h.verify(a, counts)
    assert is_fully_balanced(a)
    assert set(r2[C2]) & set(r1[C3])

    h.subs = {C2: h.v2(c2_topics, r2[C2], 2, 1), C3: h.v2(every, r1[C3], 1, 2)}
    a = h.assign(counts)
    assert len(a[C2]) == 6 and len(a[C3]) == 6
    assert not set(a[C2]) & set(a[C3])
    h.verify(a, counts)
    assert is_fully_balanced(a)


@rack_and_subscription
def test_assignment_with_multiple_generations2(rack_config: str, all_equal: bool) -> None:
    """StickyAssignorTest.testAssignmentWithMultipleGenerations2"""
    h = _h(rack_config)
    every = [TOPIC, T2, T3]
    c1_topics = every if all_equal else [TOPIC]
    c3_topics = every if all_equal else [TOPIC, T2]
    counts = {t: h.partitions(t, 4) for t in every}
    h.subs = {
        C1: h.subscription(c1_topics, 0),
        C2: h.subscription(every, 1),
        C3: h.subscription(c3_topics, 2),
    }
    a = h.assign(counts)
    r1 = dict(a)
    assert [len(r1[c]) for c in (C1, C2, C3)] == [4, 4, 4]
    h.verify(a, counts)
    assert is_fully_balanced(a)

    h.subs = {C2: h.v2(every, r1[C2], 1, 1)}
    a = h.assign(counts)
    r2 = dict(a)
    assert len(r2[C2]) == 12
    assert set(r1[C2]) <= set(r2[C2])
    h.verify(a, counts)
    assert is_fully_balanced(a)

    h.subs = {
        C1: h.v2(c1_topics, r1[C1], 1, 0),
        C2: h.v2(every, r2[C2], 2, 1),
        C3: h.v2(c3_topics, r1[C3], 1, 2),
    }
    a = h.assign(counts)
    assert [len(a[c]) for c in (C1, C2, C3)] == [4, 4, 4]
    h.verify(a, counts)
    assert is_fully_balanced(a)


@rack_and_subscription
def test_assignment_with_conflicting_previous_generations(rack_config: str, all_equal: bool) -> None:
    """StickyAssignorTest.testAssignmentWithConflictingPreviousGenerations"""
    h = _h(rack_config)
    every = [TOPIC, T2, T3]
    counts = {t: h.partitions(t, 4) for t in every}
    c1_topics = every if all_equal else [TOPIC]
    c2_topics = every if all_equal else [TOPIC, T2]
    tp = {(t, p): (t, p) for t in every for p in range(4)}
    c1_0 = (
        [tp[TOPIC, 0], tp[TOPIC, 1], tp[TOPIC, 2], tp[T2, 2], tp[T2, 3], tp[T3, 0]]
        if all_equal
        else [tp[TOPIC, 0], tp[TOPIC, 1], tp[TOPIC, 2], tp[TOPIC, 3]]
    )
    c2_0 = [(TOPIC, 0), (TOPIC, 1), (T2, 0), (T2, 1), (T2, 2), (T2, 3)]
    c3_0 = [(TOPIC, 2), (TOPIC, 3), (T3, 0), (T3, 1), (T3, 2), (T3, 3)]
    h.subs = {C1: h.v2(c1_topics, c1_0, 1, 0), C2: h.v2(c2_topics, c2_0, 2, 1), C3: h.v2(every, c3_0, 2, 2)}
    a = h.assign(counts)
    assert [len(a[c]) for c in (C1, C2, C3)] == [4, 4, 4]
    assert set(a[C2]) <= set(c2_0)
    assert set(a[C3]) <= set(c3_0)
    h.verify(a, counts)
    assert is_fully_balanced(a)


@rack_configs
def test_schema_backward_compatibility(rack_config: str) -> None:
    """StickyAssignorTest.testSchemaBackwardCompatibility: the old userData schema has no generation."""
    h = _h(rack_config)
    counts = {TOPIC: h.partitions(TOPIC, 3)}
    c1_0, c2_0 = [(TOPIC, 0), (TOPIC, 2)], [(TOPIC, 1)]
    h.subs = {
        C1: h.v2([TOPIC], c1_0, 1, 0),
        C2: h.subscription([TOPIC], 1),  # buildSubscriptionWithOldSchema: owned, no generation
        C3: h.subscription([TOPIC], 2),
    }
    h.subs[C2].owned = list(c2_0)
    a = h.assign(counts)
    assert [len(a[c]) for c in (C1, C2, C3)] == [1, 1, 1]
    assert set(a[C1]) <= set(c1_0)
    assert set(a[C2]) <= set(c2_0)
    h.verify(a, counts)
    assert is_fully_balanced(a)


def test_assignor_with_old_version_subscriptions() -> None:
    """StickyAssignorTest.testAssignorWithOldVersionSubscriptions: V0 / V1 carry owned + generation in userData."""
    h = _h(None)
    counts = {T1: h.partitions(T1, 3)}
    h.subs = {
        C1: h.v2([T1], [(T1, 0)], GEN, 0),
        C2: h.v2([T1], [(T1, 1)], GEN, 1),
        C3: h.v2([T1], [], GEN, 2),
    }
    a = h.assign(counts)
    assert a == {C1: [(T1, 0)], C2: [(T1, 1)], C3: [(T1, 2)]}
    h.verify(a, counts)
    assert is_fully_balanced(a)
