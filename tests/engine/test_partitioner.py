"""Same partition for a key as the Java client: Kafka's own murmur2 vectors (UtilsTest.testMurmur2)."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import Cluster
from engine.partitioner import (
    BuiltInPartitioner,
    coordinator_partition,
    java_string_hash,
    kafka_abs,
    murmur2,
    partition_for_key,
    to_positive,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("21", -973932308),
        ("foobar", -790332482),
        ("a-little-bit-long-string", -985981536),
        ("a-little-bit-longer-string", -1486304829),
        ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
    ],
)
def test_murmur2_matches_kafka_utils_test_vectors(text, expected):
    assert murmur2(text.encode()) == expected


def test_murmur2_of_abc_bytes():
    assert murmur2(b"abc") == 479470107


@pytest.mark.parametrize(
    "key, expected",
    [
        (b"", 681),
        (b"a", 524),
        (b"ab", 434),
        (b"abc", 107),
        (b"123456789", 566),
        (b"\x00 ", 742),
    ],
)
def test_partition_for_key_with_1000_partitions(key, expected):
    assert partition_for_key(key, 1000) == expected


@given(st.binary(max_size=64), st.integers(1, 500))
def test_partition_always_in_range_and_stable(key, n):
    p = partition_for_key(key, n)
    assert 0 <= p < n
    assert p == partition_for_key(key, n)


def test_to_positive_clears_sign_bit_not_abs():
    assert to_positive(-1) == 0x7FFFFFFF
    assert to_positive(-(1 << 31)) == 0  # abs() would overflow in Java


def test_java_string_hash_and_kafka_abs():
    assert java_string_hash("hello") == 99162322
    assert java_string_hash("") == 0
    assert java_string_hash("polygenelubricants") == -(1 << 31)  # the famous MIN_VALUE string
    assert kafka_abs(-(1 << 31)) == 0
    assert coordinator_partition("polygenelubricants", 50) == 0


def test_producer_sends_keyed_records_where_kafka_would():
    c = Cluster(brokers=3, seed=1)
    c.create_topic("orders", partitions=6)
    p = c.producer("p1")
    futs = {k: p.send("orders", key=k, value="v") for k in ("alice", "bob", "carol", "dave")}
    p.flush()
    for k, f in futs.items():
        assert f.partition == partition_for_key(k.encode(), 6)
        assert f.error is None


def test_same_key_keeps_its_order_in_one_partition():
    c = Cluster(brokers=3, seed=2)
    c.create_topic("orders", partitions=4)
    p = c.producer("p1")
    futs = [p.send("orders", key="alice", value=str(i)) for i in range(20)]
    p.flush()
    assert len({f.partition for f in futs}) == 1
    assert [f.offset for f in futs] == sorted(f.offset for f in futs)


def test_sticky_partitioner_stays_until_a_batch_worth_then_switches():
    class Counting(BuiltInPartitioner):  # a deterministic "random" (Kafka's tests mock it the same way)
        n = 0

        def random_partition(self) -> int:
            self.n += 1
            return self.n

    sp = Counting("t", 1000)
    leaders = [0, 1, 2, 0]
    first = sp.peek_current_partition(leaders)
    for _ in range(9):
        sp.update_partition_info(100, leaders)
        assert sp.peek_current_partition(leaders) == first
    sp.update_partition_info(100, leaders)  # 1000 bytes reached: a new draw picks the next sticky partition
    assert sp.peek_current_partition(leaders) == (first + 1) % 4


def test_keyless_records_fill_one_batch_per_partition():
    c = Cluster(brokers=1, seed=5)
    c.create_topic("clicks", partitions=3)
    p = c.producer("p1", {"batch.size": 1024, "linger.ms": 1000})
    futs = [p.send("clicks", value="x" * 90) for _ in range(60)]
    p.flush()
    runs = Counter()
    prev = None
    for f in futs:
        if f.partition != prev:
            runs[f.partition] += 1
            prev = f.partition
    # consecutive records stick together (about one batch.size each), not round-robin
    assert sum(runs.values()) < 15
    assert len({f.partition for f in futs}) > 1
