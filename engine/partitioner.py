"""Which partition a record goes to, exactly as the Java client decides.

Follows `org.apache.kafka.common.utils.Utils.murmur2` / `toPositive` and the producer's
`BuiltInPartitioner` (KIP-794, Kafka 3.3+): an explicit partition wins; a keyed record goes to
`toPositive(murmur2(key)) % numPartitions`; a keyless record sticks to one partition until a batch for it
is closed, then moves on (see `StickyPartitioner`).
"""

from __future__ import annotations

import random

_M = 0x5BD1E995
_SEED = 0x9747B28C
_MASK32 = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 (Utils.murmur2): seed 0x9747b28c, returns the Java signed 32-bit int."""
    length = len(data)
    h = (_SEED ^ length) & _MASK32
    n4 = length & ~3
    for i in range(0, n4, 4):
        k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)
        k = (k * _M) & _MASK32
        k ^= k >> 24
        k = (k * _M) & _MASK32
        h = ((h * _M) & _MASK32) ^ k
    rest = length & 3
    # Java's switch falls through: 3 -> 2 -> 1. Bytes are signed in Java, hence the sign extension
    # (`data[i] & 0xff` in Kafka's code masks it away again, so plain unsigned bytes are right here).
    if rest == 3:
        h ^= data[n4 + 2] << 16
    if rest >= 2:
        h ^= data[n4 + 1] << 8
    if rest >= 1:
        h ^= data[n4]
        h = (h * _M) & _MASK32
    h ^= h >> 13
    h = (h * _M) & _MASK32
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def to_positive(n: int) -> int:
    """Utils.toPositive: clear the sign bit (not abs(): abs(Integer.MIN_VALUE) would stay negative)."""
    return n & 0x7FFFFFFF


def partition_for_key(key: bytes, num_partitions: int) -> int:
    """BuiltInPartitioner.partitionForKey: toPositive(murmur2(key)) % numPartitions."""
    return to_positive(murmur2(key)) % num_partitions


def java_string_hash(s: str) -> int:
    """Java's String.hashCode: s[0]*31^(n-1) + ... over UTF-16 code units, int32 wrap-around."""
    h = 0
    units = s.encode("utf-16-be")
    for i in range(0, len(units), 2):
        h = (31 * h + ((units[i] << 8) | units[i + 1])) & _MASK32
    return h - (1 << 32) if h & 0x80000000 else h


def kafka_abs(n: int) -> int:
    """Utils.abs: like abs() but Integer.MIN_VALUE maps to 0 (used for the group coordinator partition)."""
    return 0 if n == -(1 << 31) else abs(n)


def coordinator_partition(group_id: str, offsets_partitions: int = 50) -> int:
    """GroupCoordinator.partitionFor: abs(groupId.hashCode) % offsets.topic.num.partitions."""
    return kafka_abs(java_string_hash(group_id)) % offsets_partitions


class StickyPartitioner:
    """Keyless records: the built-in sticky partitioner (KIP-480, reworked by KIP-794).

    The producer stays on one partition until it has sent about `batch.size` bytes there (a batch was
    closed), then picks another at random. Kafka weights that choice by queue sizes when
    `partitioner.adaptive.partitioning.enable=true`; we pick uniformly among the other partitions (the
    difference only shows with one slow broker), and skip partitions without a leader as Kafka does.
    """

    __slots__ = ("_rng", "_current", "_bytes")

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._current: dict[str, int] = {}
        self._bytes: dict[str, int] = {}

    def partition(self, topic: str, num_partitions: int, available: list[int] | None = None) -> int:
        p = self._current.get(topic)
        if p is None or p >= num_partitions or (available is not None and p not in available):
            p = self._pick(topic, num_partitions, available, avoid=None)
        return p

    def record_appended(self, topic: str, size: int, batch_size: int, num_partitions: int,
                        available: list[int] | None = None) -> None:
        """Count bytes sent to the sticky partition; switch once a batch's worth has gone there."""
        sent = self._bytes.get(topic, 0) + size
        if sent >= batch_size:
            self._pick(topic, num_partitions, available, avoid=self._current.get(topic))
            sent = 0
        self._bytes[topic] = sent

    def _pick(self, topic: str, n: int, available: list[int] | None, avoid: int | None) -> int:
        choices = [p for p in (available if available else range(n)) if p != avoid] or [avoid or 0]
        p = choices[self._rng.randrange(len(choices))]
        self._current[topic] = p
        return p
