"""Which partition a record goes to, exactly as the Java client decides.

Follows `org.apache.kafka.common.utils.Utils.murmur2` / `toPositive` and the producer's
`BuiltInPartitioner` (KIP-794, Kafka 3.3+): an explicit partition wins; a keyed record goes to
`toPositive(murmur2(key)) % numPartitions`; a keyless record sticks to one partition until a batch for it
is full, then moves on (see `BuiltInPartitioner`).
"""

from __future__ import annotations

import bisect
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


class BuiltInPartitioner:
    """Keyless records of one topic: Kafka's `BuiltInPartitioner` (KIP-794, Kafka 3.3+), one per topic.

    The producer sticks to one partition until `stickyBatchSize` (= batch.size) bytes have gone to it and the
    partition's last batch is full (`updatePartitionInfo`'s `enableSwitch`), or twice that many bytes in any
    case; then `nextPartition` draws a new one at random among the partitions that have a leader
    (`availablePartitionsForTopic`; all partitions when none has one). The draw may pick the same partition
    again. With adaptive partitioning the draw is weighted by the inverse of each partition's queue of
    unsent batches (`updatePartitionLoadStats`, fed by the sender, see `Producer._update_load_stats`).
    `random_partition` is the seam Kafka's tests mock (`Utils.toPositive(ThreadLocalRandom.nextInt())`);
    here it draws from the cluster's seeded RNG, so a run stays deterministic.
    """

    __slots__ = (
        "topic",
        "sticky_batch_size",
        "_rng",
        "current",
        "produced_bytes",
        "_cft",
        "_ids",
        "_stats_args",
    )

    def __init__(self, topic: str, sticky_batch_size: int, rng: random.Random | None = None) -> None:
        if sticky_batch_size < 1:
            raise ValueError(f"stickyBatchSize must be >= 1 but got {sticky_batch_size}")
        self.topic = topic
        self.sticky_batch_size = sticky_batch_size
        self._rng = rng if rng is not None else random.Random(0)  # seeded: a run stays deterministic
        self.current: int | None = None  # StickyPartitionInfo.partition(); None until the first record
        self.produced_bytes = 0  # StickyPartitionInfo.producedBytes
        self._cft: list[int] | None = None  # PartitionLoadStats: cumulative frequency table, None = uniform
        self._stats_args: tuple[list[int] | None, list[int], int] | None = (
            None  # the table was built from these
        )
        self._ids: list[int] = []

    def random_partition(self) -> int:
        """A non-negative random int, as `Utils.toPositive(ThreadLocalRandom.current().nextInt())`."""
        return self._rng.getrandbits(31)

    def next_partition(self, leaders: list[int | None]) -> int:
        """BuiltInPartitioner.nextPartition: uniform over available partitions, or weighted by load stats."""
        r = self.random_partition()
        cft = self._cft
        if cft is None:
            available = [p for p, leader in enumerate(leaders) if leader is not None]
            return available[r % len(available)] if available else r % len(leaders)
        # the first entry strictly greater than the weighted random number (Arrays.binarySearch + 1)
        return self._ids[bisect.bisect_right(cft, r % cft[-1])]

    def peek_current_partition(self, leaders: list[int | None]) -> int:
        """peekCurrentPartitionInfo: the sticky partition, chosen on first use."""
        if self.current is None:
            self.current = self.next_partition(leaders)
            self.produced_bytes = 0
        return self.current

    def update_partition_info(
        self, appended_bytes: int, leaders: list[int | None], enable_switch: bool = True
    ) -> bool:
        """updatePartitionInfo: count appended bytes; switch after stickyBatchSize (if the caller allows it,
        i.e. the partition's batches are full) or after twice that in any case. True if it switched."""
        produced = self.produced_bytes = self.produced_bytes + appended_bytes
        if (produced >= self.sticky_batch_size and enable_switch) or produced >= 2 * self.sticky_batch_size:
            self.current = self.next_partition(leaders)
            self.produced_bytes = 0
            return True
        return False

    def update_partition_load_stats(
        self, queue_sizes: list[int] | None, partition_ids: list[int], length: int
    ) -> None:
        """updatePartitionLoadStats: a cumulative frequency table of (max queue + 1 - queue size) over the
        first `length` partitions (those with a leader that are not excluded); None when it would be uniform.
        The table is a function of the arguments alone: the same arguments as last time (the sender calls this on
        every drain) keep it."""
        args = (queue_sizes, partition_ids, length)
        if args == self._stats_args:
            return
        self._stats_args = args
        if queue_sizes is None or length < 1 or len(queue_sizes) < 2:
            self._cft = None
            return
        sizes = queue_sizes[:length]
        top = max(sizes) + 1
        if length == len(queue_sizes) and min(sizes) == max(sizes):
            self._cft = None  # all queues equal and none excluded: plain uniform choice
            return
        running, cft = 0, []
        for s in sizes:
            running += top - s
            cft.append(running)
        self._cft, self._ids = cft, list(partition_ids[:length])

    def load_stats_range_end(self) -> int:
        """Test seam as in Kafka (loadStatsRangeEnd): the sum of all weights."""
        assert self._cft is not None
        return self._cft[-1]
