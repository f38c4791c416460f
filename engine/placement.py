"""Replica placement: which brokers hold a new partition's replicas, and in which order (the first is the
preferred leader).

Kafka has two placers and so do we:

* **ZooKeeper mode**: `AdminUtils.assignReplicasToBrokers` (server-common, `org.apache.kafka.admin`). Without
  racks, leaders go round-robin from a random start index and followers are shifted by a random amount that
  grows by one each time the partition id laps the broker list (`p > 0 && p % brokers == 0`). With racks
  (every broker must have one), it walks a rack-alternated broker list and skips brokers whose rack (or
  which itself) already holds a replica while some rack (broker) still has none.
* **KRaft mode**: `StripedReplicaPlacer` (metadata, `org.apache.kafka.metadata.placement`). Racks (brokers
  without `broker.rack` share the "no rack" rack) are visited round-robin from a random offset; within a rack
  brokers are taken round-robin, unfenced ones first; the leader is never a fenced broker. After as many
  partitions as there are unfenced brokers, the rack and broker lists are shuffled.

Both take their randomness from a `RandomSource` (Java's `Random.nextInt(bound)`): the engine passes its seeded
rng (`EngineRandom`), the conformance tests a stand-in for Kafka's `MockRandom`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple, Protocol

from .errors import InvalidPartitionsError, InvalidReplicationFactorError, KafkaError
from .partitioner import java_string_hash


class AdminOperationError(KafkaError):
    """Kafka's AdminOperationException: the request cannot be carried out as asked (e.g. only some brokers have
    a rack, so rack-aware placement is impossible in ZooKeeper mode)."""


class RandomSource(Protocol):
    def next_int(self, bound: int) -> int:
        """Java's Random.nextInt(bound): uniform in [0, bound)."""
        ...


class EngineRandom:
    """The cluster's seeded rng as Kafka's `Random` (the controller's placer draws from it)."""

    __slots__ = ("rng",)

    def __init__(self, rng) -> None:
        self.rng = rng

    def next_int(self, bound: int) -> int:
        return self.rng.randrange(bound)


def java_shuffle(items: list, rnd: RandomSource) -> None:
    """Collections.shuffle(list, rnd) on a random-access list: for i = size..2 swap i-1 with nextInt(i)."""
    for i in range(len(items), 1, -1):
        j = rnd.next_int(i)
        items[i - 1], items[j] = items[j], items[i - 1]


# -- ZooKeeper mode: AdminUtils -------------------------------------------------------------------------------
class BrokerMetadata(NamedTuple):
    """org.apache.kafka.admin.BrokerMetadata: a broker id and its `broker.rack` (None: not set)."""

    id: int
    rack: str | None = None


def assign_replicas_to_brokers(
    brokers: Sequence[BrokerMetadata],
    n_partitions: int,
    replication_factor: int,
    rnd: RandomSource,
    fixed_start_index: int = -1,
    start_partition_id: int = -1,
) -> dict[int, list[int]]:
    """AdminUtils.assignReplicasToBrokers: partition id -> replicas; rack-aware as soon as any broker has a rack."""
    if n_partitions <= 0:
        raise InvalidPartitionsError("Number of partitions must be larger than 0.")
    if replication_factor <= 0:
        raise InvalidReplicationFactorError("Replication factor must be larger than 0.")
    if replication_factor > len(brokers):
        raise InvalidReplicationFactorError(
            f"Replication factor: {replication_factor} larger than available brokers: {len(brokers)}."
        )
    if all(b.rack is None for b in brokers):
        return _rack_unaware(
            n_partitions,
            replication_factor,
            [b.id for b in brokers],
            rnd,
            fixed_start_index,
            start_partition_id,
        )
    return _rack_aware(n_partitions, replication_factor, brokers, rnd, fixed_start_index, start_partition_id)


def replica_index(
    first_replica_index: int, second_replica_shift: int, replica_index: int, n_brokers: int
) -> int:
    """AdminUtils.replicaIndex: the follower `replica_index` places after the first replica, given the shift."""
    shift = 1 + (second_replica_shift + replica_index) % (n_brokers - 1)
    return (first_replica_index + shift) % n_brokers


def _start(n: int, rnd: RandomSource, fixed_start_index: int) -> tuple[int, int]:
    """The start index, then the first follower shift: both random (in this order) unless fixed."""
    if fixed_start_index >= 0:
        return fixed_start_index, fixed_start_index
    start = rnd.next_int(n)
    return start, rnd.next_int(n)


def _rack_unaware(
    n_partitions: int,
    rf: int,
    broker_list: list[int],
    rnd: RandomSource,
    fixed_start_index: int,
    start_partition_id: int,
) -> dict[int, list[int]]:
    """AdminUtils.assignReplicasToBrokersRackUnaware."""
    n = len(broker_list)
    start_index, next_shift = _start(n, rnd, fixed_start_index)
    out: dict[int, list[int]] = {}
    for p in range(max(0, start_partition_id), max(0, start_partition_id) + n_partitions):
        if p > 0 and p % n == 0:  # the partition id laps the brokers (not the start index): shift followers
            next_shift += 1
        first = (p + start_index) % n
        out[p] = [broker_list[first]] + [
            broker_list[replica_index(first, next_shift, j, n)] for j in range(rf - 1)
        ]
    return out


def rack_alternated_broker_list(broker_racks: dict[int, str]) -> list[int]:
    """AdminUtils.getRackAlternatedBrokerList: racks in sorted order, one broker (ascending ids) from each in turn."""
    by_rack: dict[str, list[int]] = {}
    for b in sorted(broker_racks):
        by_rack.setdefault(broker_racks[b], []).append(b)
    racks = sorted(by_rack, key=_java_order)
    out: list[int] = []
    for depth in range(max(len(v) for v in by_rack.values()) if by_rack else 0):
        out.extend(by_rack[r][depth] for r in racks if depth < len(by_rack[r]))
    return out


def _rack_aware(
    n_partitions: int,
    rf: int,
    brokers: Sequence[BrokerMetadata],
    rnd: RandomSource,
    fixed_start_index: int,
    start_partition_id: int,
) -> dict[int, list[int]]:
    """AdminUtils.assignReplicasToBrokersRackAware."""
    if any(b.rack is None for b in brokers):
        raise AdminOperationError("Not all brokers have rack information for replica rack aware assignment.")
    rack_of = {b.id: b.rack for b in brokers}
    num_racks = len(set(rack_of.values()))
    arranged = rack_alternated_broker_list(rack_of)  # type: ignore[arg-type]
    n = len(arranged)
    start_index, next_shift = _start(n, rnd, fixed_start_index)
    out: dict[int, list[int]] = {}
    for p in range(max(0, start_partition_id), max(0, start_partition_id) + n_partitions):
        if p > 0 and p % n == 0:
            next_shift += 1
        first = (p + start_index) % n
        leader = arranged[first]
        replicas, racks_used, brokers_used = [leader], {rack_of[leader]}, {leader}
        k = 0
        for _ in range(rf - 1):
            while True:
                broker = arranged[replica_index(first, next_shift * num_racks, k, n)]
                rack = rack_of[broker]
                k += 1
                # skip a broker whose rack already has a replica while some rack has none, or a broker that
                # already has one while some broker has none
                if (rack not in racks_used or len(racks_used) == num_racks) and (
                    broker not in brokers_used or len(brokers_used) == n
                ):
                    replicas.append(broker)
                    racks_used.add(rack)
                    brokers_used.add(broker)
                    break
        out[p] = replicas
    return out


def _java_order(s: str) -> bytes:
    """Java's String.compareTo order (UTF-16 code units)."""
    return s.encode("utf-16-be")


# -- KRaft mode: StripedReplicaPlacer -----------------------------------------------------------------------
class UsableBroker(NamedTuple):
    """org.apache.kafka.metadata.placement.UsableBroker: a registered broker not in controlled shutdown."""

    id: int
    rack: str | None
    fenced: bool


class BrokerList:
    """StripedReplicaPlacer.BrokerList: brokers returned round-robin from an offset that moves one step per
    iteration epoch; at most one lap per epoch (-1 when exhausted)."""

    __slots__ = ("brokers", "index", "offset", "epoch")

    def __init__(self, brokers: Iterable[int] = ()) -> None:
        self.brokers = list(brokers)
        self.index = 0
        self.offset = 0
        self.epoch = 0

    def add(self, broker: int) -> BrokerList:
        self.brokers.append(broker)
        return self

    def initialize(self, rnd: RandomSource) -> None:
        if self.brokers:
            self.brokers.sort()
            self.offset = rnd.next_int(len(self.brokers))

    def shuffle(self, rnd: RandomSource) -> None:
        java_shuffle(self.brokers, rnd)

    def size(self) -> int:
        return len(self.brokers)

    def next(self, epoch: int) -> int:
        if not self.brokers:
            return -1
        if self.epoch != epoch:
            self.epoch = epoch
            self.index = 0
            self.offset = (self.offset + 1) % len(self.brokers)
        if self.index >= len(self.brokers):
            return -1
        broker = self.brokers[(self.index + self.offset) % len(self.brokers)]
        self.index += 1
        return broker


class Rack:
    """StripedReplicaPlacer.Rack: its unfenced brokers, then (only once those are used up) its fenced ones."""

    __slots__ = ("fenced", "unfenced")

    def __init__(self) -> None:
        self.fenced = BrokerList()
        self.unfenced = BrokerList()

    def initialize(self, rnd: RandomSource) -> None:
        self.fenced.initialize(rnd)
        self.unfenced.initialize(rnd)

    def shuffle(self, rnd: RandomSource) -> None:
        self.fenced.shuffle(rnd)
        self.unfenced.shuffle(rnd)

    def next_unfenced(self, epoch: int) -> int:
        return self.unfenced.next(epoch)

    def next(self, epoch: int) -> int:
        result = self.unfenced.next(epoch)
        return result if result >= 0 else self.fenced.next(epoch)


def java_hashmap_order(keys: list[str | None]) -> list[str | None]:
    """The iteration order of a java.util.HashMap<Optional<String>, _> filled with `keys` in this order: by bucket
    (the spread hash masked by the table size), then insertion order. The placer initializes its racks in this
    order, so their random offsets depend on it."""
    cap = 16
    while len(keys) > cap * 3 // 4:
        cap *= 2

    def bucket(k: str | None) -> int:
        h = (java_string_hash(k) if k is not None else 0) & 0xFFFFFFFF
        return (h ^ (h >> 16)) & (cap - 1)

    return [k for _, _, k in sorted((bucket(k), i, k) for i, k in enumerate(keys))]


def _rack_sort_key(name: str | None) -> tuple[bool, bytes]:
    """OptionalStringComparator: the "no rack" rack first, then racks by name."""
    return (name is not None, _java_order(name) if name is not None else b"")


class RackList:
    """StripedReplicaPlacer.RackList: the racks, visited round-robin from a random offset that moves one rack
    per partition placed (the "stripes")."""

    def __init__(self, rnd: RandomSource, brokers: Iterable[UsableBroker]) -> None:
        self.random = rnd
        self.racks: dict[str | None, Rack] = {}
        self.rack_names: list[str | None] = []
        self.num_total_brokers = 0
        self.num_unfenced_brokers = 0
        for b in brokers:
            rack = self.racks.get(b.rack)
            if rack is None:
                self.rack_names.append(b.rack)
                rack = self.racks[b.rack] = Rack()
            if b.fenced:
                rack.fenced.add(b.id)
            else:
                self.num_unfenced_brokers += 1
                rack.unfenced.add(b.id)
            self.num_total_brokers += 1
        for name in java_hashmap_order(list(self.racks)):
            self.racks[name].initialize(rnd)
        self.rack_names.sort(key=_rack_sort_key)
        self.epoch = 0
        self.offset = rnd.next_int(len(self.rack_names)) if self.rack_names else 0

    def place(self, replication_factor: int) -> list[int]:
        """One partition's replicas: the leader from the first rack (from the offset) with an unfenced broker,
        then one replica per rack in turn."""
        _check_positive(replication_factor)
        _check_enough_brokers(replication_factor, self.num_total_brokers)
        _check_some_unfenced(self.num_unfenced_brokers)
        # after as many partitions as unfenced brokers, shuffle to avoid repeating the same assignments
        if self.epoch == self.num_unfenced_brokers and self.num_unfenced_brokers > 1:
            self.shuffle()
            self.epoch = 0
        if self.offset == len(self.rack_names):
            self.offset = 0
        n = len(self.rack_names)
        first_rack = self.offset
        while True:
            result = self.racks[self.rack_names[first_rack]].next_unfenced(self.epoch)
            if result >= 0:
                brokers = [result]
                break
            first_rack = (first_rack + 1) % n
        rack_index = self.offset
        for _ in range(1, replication_factor):
            result = -1
            while result < 0:
                if rack_index == first_rack:
                    first_rack = -1  # the leader's rack was already visited for this lap
                else:
                    result = self.racks[self.rack_names[rack_index]].next(self.epoch)
                rack_index = (rack_index + 1) % n
            brokers.append(result)
        self.epoch += 1
        self.offset += 1
        return brokers

    def shuffle(self) -> None:
        java_shuffle(self.rack_names, self.random)
        for name in java_hashmap_order(list(self.racks)):
            self.racks[name].shuffle(self.random)


def _check_positive(rf: int) -> None:
    if rf <= 0:
        raise InvalidReplicationFactorError(
            f"Invalid replication factor {rf}: the replication factor must be positive."
        )


def _check_enough_brokers(rf: int, total: int) -> None:
    if rf > total:
        raise InvalidReplicationFactorError(
            f"The target replication factor of {rf} cannot be reached because only "
            f"{total} broker(s) are registered."
        )


def _check_some_unfenced(unfenced: int) -> None:
    if unfenced == 0:
        raise InvalidReplicationFactorError("All brokers are currently fenced.")


def striped_place(
    brokers: Iterable[UsableBroker], n_partitions: int, replication_factor: int, rnd: RandomSource
) -> list[list[int]]:
    """StripedReplicaPlacer.place: the replicas of `n_partitions` new partitions (one RackList per call)."""
    rack_list = RackList(rnd, brokers)
    _check_positive(replication_factor)
    _check_some_unfenced(rack_list.num_unfenced_brokers)
    _check_enough_brokers(replication_factor, rack_list.num_total_brokers)
    return [rack_list.place(replication_factor) for _ in range(n_partitions)]
