"""Ported from Apache Kafka's clients tests: BuiltInPartitionerTest, DefaultPartitionerTest, UtilsTest
(murmur2, abs) and the partitioner cases of RecordAccumulatorTest.

Adapted: Kafka's `Cluster` of PartitionInfo is our list of leaders per partition (None = no leader), which is
what `availablePartitionsForTopic` reads; Kafka's `SequentialPartitioner` is `_producer_helpers.SequentialPartitioner`
(it overrides `random_partition`, as Kafka's overrides `randomPartition`). RecordAccumulatorTest's cases run on
a real `Producer` whose per-topic partitioner is replaced by that double (Kafka's test overrides
`createBuiltInPartitioner`), with record sizes from our DefaultRecord size formula.
"""

from __future__ import annotations

import random

import pytest
from _producer_helpers import SequentialPartitioner

from engine import Cluster
from engine.partitioner import BuiltInPartitioner, kafka_abs, murmur2, partition_for_key

# BuiltInPartitionerTest's cluster: topicA-0/1/2 led by nodes 0, 1, 2; topicB-0 led by node 0
LEADERS_A = [0, 1, 2]
LEADERS_B = [0]


def test_sticky_partitioning():
    # BuiltInPartitionerTest.testStickyPartitioning
    bp = SequentialPartitioner("topicA", 3)  # "sticky" batch size for 3 records
    part_a = bp.peek_current_partition(LEADERS_A)
    bp.update_partition_info(1, LEADERS_A)
    assert bp.peek_current_partition(LEADERS_A) == part_a
    bp.update_partition_info(1, LEADERS_A)
    assert bp.peek_current_partition(LEADERS_A) == part_a
    bp.update_partition_info(1, LEADERS_A)
    assert bp.peek_current_partition(LEADERS_A) != part_a  # after 3 records the partition switched
    # switching works even when there is one partition
    bp_b = SequentialPartitioner("topicB", 1)
    for _ in range(10):
        assert bp_b.peek_current_partition(LEADERS_B) == 0
        bp_b.update_partition_info(1, LEADERS_B)


def test_unavailable_partitions():
    # BuiltInPartitionerTest.unavailablePartitionsTest: topicA-1, topicB-0 and topicC-0 have no leader
    leaders_a, leaders_b, leaders_c = [0, None, 2], [None, 0], [None]
    rng = random.Random(15)
    bp_a = BuiltInPartitioner("topicA", 1, rng)
    part_a = bp_a.peek_current_partition(leaders_a)
    bp_a.update_partition_info(1, leaders_a)
    assert part_a != 1
    found_another = False
    for _ in range(100):
        another = bp_a.peek_current_partition(leaders_a)
        bp_a.update_partition_info(1, leaders_a)
        assert another != 1
        found_another = found_another or another != part_a
    assert found_another, f"Expected to find partition other than {part_a}"

    bp_b = BuiltInPartitioner("topicB", 1, rng)
    part_b = bp_b.peek_current_partition(leaders_b)
    bp_b.update_partition_info(1, leaders_b)
    assert part_b == 1
    for _ in range(100):
        assert bp_b.peek_current_partition(leaders_b) == 1
        bp_b.update_partition_info(1, leaders_b)

    # still chooses a partition when none is available
    bp_c = BuiltInPartitioner("topicC", 1, rng)
    part_c = bp_c.peek_current_partition(leaders_c)
    bp_c.update_partition_info(1, leaders_c)
    assert part_c == 0
    assert bp_c.peek_current_partition(leaders_c) == 0


def test_adaptive_partitions():
    # BuiltInPartitionerTest.adaptivePartitionsTest
    bp = SequentialPartitioner("topicA", 1)
    queue_sizes = [5, 0, 3, 0, 1]
    partition_ids = list(range(len(queue_sizes)))
    expected = [6 - q for q in queue_sizes]  # 6 is max(queueSizes) + 1
    leaders = [i % 4 for i in partition_ids]
    bp.update_partition_load_stats(list(queue_sizes), partition_ids, len(queue_sizes))
    cycles = 2
    frequencies = [0] * len(queue_sizes)
    for _ in range(bp.load_stats_range_end() * cycles):
        frequencies[bp.peek_current_partition(leaders)] += 1
        bp.update_partition_info(1, leaders)
    assert frequencies == [f * cycles for f in expected]


def test_sticky_batch_size_more_than_zero():
    # BuiltInPartitionerTest.testStickyBatchSizeMoreThatZero
    with pytest.raises(ValueError):
        BuiltInPartitioner("topicA", 0)
    BuiltInPartitioner("topicA", 1)


def test_key_partition_is_stable():
    # DefaultPartitionerTest.testKeyPartitionIsStable (partition 1 of "test" has no leader: keys ignore that)
    c = Cluster(brokers=3, seed=1)
    c.create_topic("test", partitions=3, replication_factor=1)
    c.run_for(100)
    c.crash_broker(c.leaders_of("test")[1])
    c.run_for(15000)
    p = c.producer("p")
    first = p.send("test", key=b"key", value=b"v").partition
    assert p.send("test", key=b"key", value=b"v").partition == first
    assert partition_for_key(b"key", 3) == partition_for_key(b"key", 3) == first


MURMUR2_CASES = [  # UtilsTest.testMurmur2
    (b"21", -973932308),
    (b"foobar", -790332482),
    (b"a-little-bit-long-string", -985981536),
    (b"a-little-bit-longer-string", -1486304829),
    (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
    (bytes([ord("a"), ord("b"), ord("c")]), 479470107),
]


@pytest.mark.parametrize(("data", "expected"), MURMUR2_CASES)
def test_murmur2(data, expected):
    # UtilsTest.testMurmur2
    assert murmur2(data) == expected


@pytest.mark.parametrize(("n", "expected"), [(-(2**31), 0), (-10, 10), (10, 10), (0, 0), (-1, 1)])
def test_abs(n, expected):
    # UtilsTest.testAbs
    assert kafka_abs(n) == expected


def _accumulator(batch_size: int, linger_ms: int, partitions: int = 3, brokers: int = 2, **extra):
    """A producer standing in for RecordAccumulator: nothing drains until the test runs the cluster."""
    c = Cluster(brokers=brokers, seed=1)
    c.create_topic("test", partitions=partitions, replication_factor=1)
    c.run_for(100)
    p = c.producer("p", {"batch.size": batch_size, "linger.ms": linger_ms, "acks": "1", **extra})
    return c, p


def test_uniform_builtin_partitioner():
    # RecordAccumulatorTest.testUniformBuiltInPartitioner
    c, p = _accumulator(batch_size=1024, linger_ms=10_000)
    bp = p.partitioners["test"] = SequentialPartitioner("test", 1024)
    assert p.send("test", value=b"value").partition == 0  # small record: switch to the first partition
    assert bp.mock_random == 1
    large = bytes(1024)
    # over the "sticky" limit, but the switch is disabled because the batch is incomplete
    assert p.send("test", value=large).partition == 0
    assert bp.mock_random == 1
    # the previous batch completes and the sticky limit was exceeded: next partition, each time
    assert p.send("test", value=large).partition == 1
    assert bp.mock_random == 2
    assert p.send("test", value=large).partition == 2
    assert bp.mock_random == 3
    assert p.send("test", value=large).partition == 0
    assert bp.mock_random == 4


def test_adaptive_builtin_partitioner():
    # RecordAccumulatorTest.testAdaptiveBuiltInPartitioner (the uniform-by-load half; see NOT_PORTED-producer.md)
    c, p = _accumulator(
        batch_size=128, linger_ms=10_000, brokers=3, **{"max.in.flight.requests.per.connection": 1}
    )
    bp = p.partitioners["test"] = SequentialPartitioner("test", 128)
    large = bytes(128)
    queue_sizes = [1, 7, 2]
    expected = [8 - q for q in queue_sizes]  # 8 is max(queueSizes) + 1
    for part, q in enumerate(queue_sizes):
        for _ in range(q):  # large records: each one makes its own batch
            p.send("test", value=large, partition=part)
        assert len(p.batches[("test", part)]) == q
    p.update_load_stats(c.now)  # what RecordAccumulator.ready() computes for the partitioner
    p.send("test", value=large)  # prime it so that it switches on every record
    cycles = 2
    frequencies = [0] * 3
    for _ in range(bp.load_stats_range_end() * cycles):
        frequencies[p.send("test", value=large).partition] += 1
    assert frequencies == [f * cycles for f in expected]


def test_builtin_partitioner_fractional_batches():
    # RecordAccumulatorTest.testBuiltInPartitionerFractionalBatches
    batch_size, val_size = 512, 32
    c, p = _accumulator(batch_size=batch_size, linger_ms=10, brokers=3)
    for _ in range(10):
        for _ in range(batch_size * 2 // 3 // val_size):  # about 2/3 of the batch size
            p.send("test", value=bytes(val_size))
        c.run_for(10)  # linger.ms passes: the batch is ready and drained
    p.flush()
    batches = [b for n in range(3) for b in c.leader_replica(("test", n)).log.batches()]
    sizes = [b.size_bytes for b in batches]
    assert len(batches) == 10, "one batch ready after each linger.ms"
    assert all(batch_size / 2 < s < batch_size for s in sizes), sizes
