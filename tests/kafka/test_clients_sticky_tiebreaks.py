"""Issue 15 behaviour 6: where Kafka's sticky result hangs on an iteration order, we replay Java's.

ConstrainedAssignmentBuilder.assignOwnedPartitions walks the members in ``HashMap`` order; when more members
own maxQuota partitions than there are maxQuota slots, the first ones walked keep their extra partition.
engine.java_order replays that order (String.hashCode buckets), so Kafka's own expectations hold.
"""

from __future__ import annotations

from engine.assignors import assign
from engine.java_order import topic_partition_hash
from engine.partitioner import java_string_hash

T1, T2 = "topic1", "topic2"
C1, C2, C3, C4 = "consumer1", "consumer2", "consumer3", "consumer4"


def test_java_hashes() -> None:
    """Issue 15 behaviour 6: String.hashCode and TopicPartition.hashCode as Java computes them."""
    assert java_string_hash("hello") == 99_162_322  # Java's "hello".hashCode()
    assert java_string_hash("Aa") == java_string_hash("BB") == 2112  # the classic Java collision
    assert topic_partition_hash(("hello", 0)) == 31 * 31 + 99_162_322  # TopicPartition: 31 * (31 + p) + topic


def test_max_quota_owner_chosen_in_kafka_order() -> None:
    """Issue 15 behaviour 6: AbstractStickyAssignorTest.testMaxQuotaConsumerMoreThanNumExpectedMaxCapacityMembers:
    consumer2, not consumer1, keeps its second partition (Kafka walks consumer2 first)."""
    subs = {C1: [T1, T2], C2: [T1, T2], C3: [T1, T2]}
    current = {C1: [(T1, 0), (T2, 0)], C2: [(T1, 1), (T2, 1)], C3: []}
    for strategy in ("sticky", "cooperative-sticky"):
        out = assign(strategy, subs, {T1: 2, T2: 2}, current)
        assert out == {C1: [(T1, 0)], C2: [(T1, 1), (T2, 1)], C3: [(T2, 0)]}


def test_add_two_consumers_moves_the_partitions_kafka_moves() -> None:
    """Issue 15 behaviour 6: AbstractStickyAssignorTest.testAddRemoveTwoConsumersTwoTopics, second round."""
    every = [T1, T2]
    current = {C1: [(T1, 0), (T1, 2), (T2, 1), (T2, 3)], C2: [(T1, 1), (T2, 0), (T2, 2)], C3: [], C4: []}
    out = assign("sticky", {c: every for c in current}, {T1: 3, T2: 4}, current)
    assert out == {C1: [(T1, 0), (T2, 1)], C2: [(T1, 1), (T2, 0)], C3: [(T1, 2), (T2, 3)], C4: [(T2, 2)]}
