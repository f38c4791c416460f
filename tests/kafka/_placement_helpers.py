"""Helpers for the replica-placement conformance tests (tests/kafka/test_placement_*.py).

`MockRandom` is a stand-in for Kafka's org.apache.kafka.server.util.MockRandom (server-common test code): a
java.util.Random whose `next(bits)` is a fixed linear congruential step, seeded with 17. `next_int(bound)` is
java.util.Random.nextInt(bound) on top of it, so the placers draw exactly the numbers they draw in Kafka's tests.
`replica_distribution` / `check_replica_distribution` are core's RackAwareTest helpers.
"""

from __future__ import annotations

from collections import Counter

_MASK64 = (1 << 64) - 1


class MockRandom:
    """Kafka's MockRandom: state = state * 2862933555777941757 + 3037000493 (64-bit); next(bits) = state >>> (64 - bits)."""

    def __init__(self, state: int = 17) -> None:
        self.state = state & _MASK64

    def next_bits(self, bits: int) -> int:
        self.state = (self.state * 2862933555777941757 + 3037000493) & _MASK64
        v = (self.state >> (64 - bits)) & 0xFFFFFFFF
        return v - (1 << 32) if v & 0x80000000 else v

    def next_int(self, bound: int) -> int:
        """java.util.Random.nextInt(int bound)."""
        r = self.next_bits(31)
        m = bound - 1
        if bound & m == 0:
            return (bound * r) >> 31
        u = r
        while True:
            r = u % bound
            if u - r + m < (1 << 31):  # Java: u - r + m < 0 on int overflow
                return r
            u = self.next_bits(31)


def replica_distribution(assignment: dict[int, list[int]], racks: dict[int, str]):
    """RackAwareTest.getReplicaDistribution: racks per partition, preferred-leader count and replica count per broker."""
    partition_racks = {p: [racks[b] for b in replicas] for p, replicas in assignment.items()}
    leaders = Counter(replicas[0] for replicas in assignment.values())
    replicas = Counter(b for rs in assignment.values() for b in rs)
    return partition_racks, leaders, replicas


def check_replica_distribution(
    assignment: dict[int, list[int]],
    racks: dict[int, str],
    num_brokers: int,
    num_partitions: int,
    rf: int,
    verify_rack_aware: bool = True,
    verify_leader_distribution: bool = True,
    verify_replicas_distribution: bool = True,
) -> None:
    """RackAwareTest.checkReplicaDistribution."""
    for replicas in assignment.values():
        assert len(set(replicas)) == len(replicas), (
            "More than one replica is assigned to same broker for the same partition"
        )
    partition_racks, leaders, replicas = replica_distribution(assignment, racks)
    if verify_rack_aware:
        assert [len(set(r)) for r in partition_racks.values()] == [rf] * num_partitions, (
            "More than one replica of the same partition is assigned to the same rack"
        )
    if verify_leader_distribution:
        assert sorted(leaders.values()) == [num_partitions // num_brokers] * num_brokers, (
            "Preferred leader count is not even for brokers"
        )
    if verify_replicas_distribution:
        assert sorted(replicas.values()) == [num_partitions * rf // num_brokers] * num_brokers, (
            "Replica count is not even for broker"
        )
