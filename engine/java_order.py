"""Java's hash iteration order, so the assignors break ties where Kafka's Java client breaks them.

Kafka's assignors walk ``HashMap`` / ``HashSet`` collections in a few places where the order decides the
result (which over-quota owner keeps its extra partition, which moved partition is swapped back). Java
iterates those by bucket: ``(h ^ (h >>> 16)) & (capacity - 1)`` of the key's ``hashCode()``, with the
capacity the smallest power of two >= 16 holding the entries under the 0.75 load factor, and insertion
order inside a bucket. Replaying that rule is deterministic and lands on Kafka's own test expectations.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from engine.partitioner import java_string_hash as string_hash


def _int32(n: int) -> int:
    n &= 0xFFFFFFFF
    return n - (1 << 32) if n & 0x80000000 else n


def topic_partition_hash(tp: tuple[str, int]) -> int:
    """Kafka's ``TopicPartition.hashCode``: 31 * (31 + partition) + topic.hashCode()."""
    return _int32(31 * (31 + tp[1]) + string_hash(tp[0]))


def capacity_for(size: int) -> int:
    """The table size a default ``HashMap`` reaches after holding ``size`` entries."""
    capacity = 16
    while size > capacity * 3 // 4:
        capacity *= 2
    return capacity


def _bucket(h: int, capacity: int) -> int:
    u = h & 0xFFFFFFFF
    return (u ^ (u >> 16)) & (capacity - 1)


def hashmap_order(keys: Iterable[str]) -> list[str]:
    """String keys in the order a ``HashMap`` iterates them; keys sharing a bucket (Java: insertion order)
    go by their own order, so the result does not depend on how the caller's dict was filled."""
    ordered = list(keys)
    capacity = capacity_for(len(ordered))
    return sorted(ordered, key=lambda k: (_bucket(string_hash(k), capacity), k))


def first_in_hashset(items: Sequence[tuple[str, int]], max_size: int) -> tuple[str, int]:
    """The element ``HashSet<TopicPartition>.iterator().next()`` returns (items in insertion order)."""
    capacity = capacity_for(max_size)
    return min(items, key=lambda tp: _bucket(topic_partition_hash(tp), capacity))
