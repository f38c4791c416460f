"""Shared helpers for the ports of Kafka's client-side assignor tests (clients/src/test/.../consumer/).

Racks follow ``AbstractPartitionAssignorTest``: brokers get racks ``ALL_RACKS[i % numBrokerRacks]``,
partition i's replicas are brokers ``(i + j + nextNodeIndex) % numBrokers`` for j < replicationFactor, and
members get ``ALL_RACKS[consumerIndex % numRacks]``. The property checks follow
``AbstractStickyAssignorTest.isFullyBalanced`` / ``verifyValidityAndBalance``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from engine.assignors import AssignorResult, assign_detailed

TP = tuple[str, int]
ALL_RACKS = ("a", "b", "c", "d", "e", "f")
RACK_CONFIGS = ("NO_BROKER_RACK", "NO_CONSUMER_RACK", "BROKER_AND_CONSUMER_RACK")


def racks(n: int) -> list[str | None]:
    """AbstractPartitionAssignorTest.racks."""
    return [ALL_RACKS[i % len(ALL_RACKS)] for i in range(n)]


def null_racks(n: int) -> list[str | None]:
    """AbstractPartitionAssignorTest.nullRacks."""
    return [None] * n


def replica_racks(
    topic: str, partitions: int, replication_factor: int, broker_racks: Sequence[str | None], next_index: int
) -> dict[TP, set[str]]:
    """AbstractPartitionAssignorTest.partitionInfos(topic, n, rf, brokerRacks, nextNodeIndex): replica racks."""
    out: dict[TP, set[str]] = {}
    for i in range(partitions):
        rs = {broker_racks[(i + j + next_index) % len(broker_racks)] for j in range(replication_factor)}
        out[(topic, i)] = {r for r in rs if r is not None}
    return out


def replica_racks_n(
    topic: str, partitions: int, replication_factor: int, num_broker_racks: int, next_index: int
) -> dict[TP, set[str]]:
    """AbstractPartitionAssignorTest.partitionInfos(topic, n, rf, numBrokerRacks, nextNodeIndex)."""
    n = replication_factor if num_broker_racks <= 0 else num_broker_racks * replication_factor
    brokers = [None if num_broker_racks <= 0 else ALL_RACKS[i % num_broker_racks] for i in range(n)]
    return replica_racks(topic, partitions, replication_factor, brokers, next_index)


def racks_per_topic(
    counts: Mapping[str, int], replication_factor: int, broker_racks: Sequence[str | None]
) -> dict[TP, set[str]]:
    """AbstractPartitionAssignorTest.partitionsPerTopic: topics in order, node index advancing by count."""
    out: dict[TP, set[str]] = {}
    next_index = 0
    for topic, n in counts.items():
        out.update(replica_racks(topic, n, replication_factor, broker_racks, next_index))
        next_index += n
    return out


def parse_tps(text: str) -> list[TP]:
    """'t1-0, t2-3' -> [('t1', 0), ('t2', 3)]."""
    if not text:
        return []
    return [(p.rsplit("-", 1)[0], int(p.rsplit("-", 1)[1])) for p in text.split(", ")]


def to_sorted_string(tps: Sequence[TP]) -> str:
    """AbstractPartitionAssignorTest.toSortedString (TopicPartition.toString is topic-partition)."""
    return ", ".join(sorted(f"{t}-{p}" for t, p in tps))


def verify_rack_assignment(
    strategy: str,
    counts: Mapping[str, int],
    replication_factor: int,
    broker_racks: Sequence[str | None],
    consumer_racks: Sequence[str | None],
    consumer_topics: Sequence[Sequence[str]],
    expected: Sequence[str],
    num_mismatched: int,
    owned: Sequence[str] = (),
    prefer_rack_aware: bool = False,
) -> None:
    """AbstractPartitionAssignorTest.verifyRackAssignment: exact assignment and rack-mismatch count."""
    consumers = [f"consumer{i}" for i in range(len(consumer_racks))]
    prs = racks_per_topic(counts, replication_factor, broker_racks)
    current = {c: parse_tps(owned[i]) if i < len(owned) else [] for i, c in enumerate(consumers)}
    result = assign_detailed(
        strategy,
        {c: list(consumer_topics[i]) for i, c in enumerate(consumers)},
        dict(counts),
        current,
        member_racks={c: consumer_racks[i] for i, c in enumerate(consumers)},
        partition_racks=prs,
        prefer_rack_aware=prefer_rack_aware,
    )
    actual = {c: to_sorted_string(result.assignment[c]) for c in consumers}
    assert actual == {c: expected[i] for i, c in enumerate(consumers)}
    if num_mismatched >= 0:
        mismatched = [
            tp
            for i, c in enumerate(consumers)
            if consumer_racks[i] is not None
            for tp in result.assignment[c]
            if consumer_racks[i] not in prs[tp]
        ]
        assert len(mismatched) == num_mismatched, f"Partitions with rack mismatch {mismatched}"


def is_fully_balanced(assignment: Mapping[str, Sequence[TP]]) -> bool:
    """AbstractStickyAssignorTest.isFullyBalanced: sizes differ by at most one."""
    sizes = [len(v) for v in assignment.values()]
    return not sizes or max(sizes) - min(sizes) <= 1


def verify_validity_and_balance(
    subscriptions: Mapping[str, Sequence[str]], assignment: Mapping[str, Sequence[TP]]
) -> None:
    """AbstractStickyAssignorTest.verifyValidityAndBalance.

    Every partition goes to a subscriber and to one member only; where two members differ by 2+, the more
    loaded one holds no partition of a topic the other also holds (it could have been moved).
    """
    assert len(subscriptions) == len(assignment)
    consumers = sorted(assignment)
    for i, consumer in enumerate(consumers):
        partitions = assignment[consumer]
        for tp in partitions:
            assert tp[0] in subscriptions[consumer], f"{tp} assigned to {consumer}, not subscribed"
        for other in consumers[i + 1 :]:
            others = assignment[other]
            common = set(partitions) & set(others)
            assert not common, f"{consumer} and {other} share {common}"
            if abs(len(partitions) - len(others)) <= 1:
                continue
            topics = {t for t, _ in partitions}
            other_topics = {t for t, _ in others}
            assert not topics & other_topics, (
                f"partitions of {topics & other_topics} could move between {consumer} and {other}: {assignment}"
            )


class RackSetup:
    """The per-test rack state of AbstractStickyAssignorTest / RangeAssignorTest (initializeRacks)."""

    def __init__(self, rack_config: str = "NO_CONSUMER_RACK", max_consumers: int = 3) -> None:
        self.replication_factor = max_consumers
        self.num_broker_racks = max_consumers if rack_config != "NO_BROKER_RACK" else 0
        self.has_consumer_rack = rack_config != "NO_CONSUMER_RACK"
        self.partition_racks: dict[TP, set[str]] = {}
        self.member_racks: dict[str, str | None] = {}
        self.next_partition_index = 0

    def partitions(self, topic: str, n: int, advance: bool = True) -> int:
        """partitionInfos(topic, n): records the replica racks; sticky tests advance the node index."""
        self.partition_racks.update(
            replica_racks_n(
                topic, n, self.replication_factor, self.num_broker_racks, self.next_partition_index
            )
        )
        if advance:
            self.next_partition_index += 1
        return n

    def rack(self, index: int) -> str | None:
        """consumerRackId(consumerIndex)."""
        num_racks = self.num_broker_racks if self.num_broker_racks > 0 else len(ALL_RACKS)
        return ALL_RACKS[index % num_racks] if self.has_consumer_rack else None

    def member(self, member: str, index: int) -> str:
        self.member_racks[member] = self.rack(index)
        return member

    def run(
        self,
        strategy: str,
        subscriptions: Mapping[str, Sequence[str]],
        counts: Mapping[str, int],
        current: Mapping[str, Sequence[TP]] | None = None,
        generations: Mapping[str, int] | None = None,
        **options: object,
    ) -> AssignorResult:
        """assignor.assignPartitions with this setup's racks (preferRackAwareLogic = true, as initializeRacks)."""
        return assign_detailed(
            strategy,
            {m: list(t) for m, t in subscriptions.items()},
            dict(counts),
            {m: list(t) for m, t in (current or {}).items()},
            generations=generations,
            member_racks={m: self.member_racks.get(m) for m in subscriptions},
            partition_racks=self.partition_racks,
            prefer_rack_aware=True,
            **options,  # type: ignore[arg-type]
        )


class Sub:
    """A ConsumerPartitionAssignor.Subscription: topics, owned partitions, their generation, client.rack."""

    def __init__(
        self, topics: Sequence[str], owned: Sequence[TP] = (), generation: int = -1, rack: str | None = None
    ):
        self.topics, self.owned, self.generation, self.rack = list(topics), list(owned), generation, rack


class StickyHarness:
    """AbstractStickyAssignorTest's fixture for one assignor ("sticky" or "cooperative-sticky")."""

    generation_id = 1

    def __init__(self, strategy: str, rack_config: str | None = None) -> None:
        self.strategy = strategy
        self.cooperative = strategy == "cooperative-sticky"
        self.setup = RackSetup(rack_config or "NO_CONSUMER_RACK", 3)
        if rack_config is None:  # no initializeRacks(): Kafka's field defaults, preferRackAwareLogic off
            self.setup.replication_factor, self.setup.num_broker_racks = 2, 0
        self.prefer = rack_config is not None
        self.subs: dict[str, Sub] = {}
        self.transferring: dict[TP, str] | None = {}
        self.is_sticky = True

    def partitions(self, topic: str, n: int) -> int:
        """partitionInfos(topic, n)."""
        return self.setup.partitions(topic, n)

    def subscription(self, topics: Sequence[str], index: int) -> Sub:
        """subscription(topics, consumerIndex): nothing owned, DEFAULT_GENERATION."""
        return Sub(topics, (), -1, self.setup.rack(index))

    def v2(self, topics: Sequence[str], owned: Sequence[TP], generation: int, index: int) -> Sub:
        """buildSubscriptionV2Above (StickyAssignorTest's carries no rack, CooperativeStickyAssignorTest's does)."""
        return Sub(topics, owned, generation, self.setup.rack(index) if self.cooperative else None)

    def assign(self, counts: Mapping[str, int]) -> dict[str, list[TP]]:
        """assignor.assignPartitions(partitionsPerTopic, subscriptions)."""
        result = assign_detailed(
            self.strategy,
            {m: s.topics for m, s in self.subs.items()},
            dict(counts),
            {m: s.owned for m, s in self.subs.items()},
            generations={m: s.generation for m, s in self.subs.items()},
            member_racks={m: s.rack for m, s in self.subs.items()},
            partition_racks=self.setup.partition_racks,
            prefer_rack_aware=self.prefer,
        )
        self.transferring = result.transferring
        self.is_sticky = result.is_sticky
        return {m: list(v) for m, v in result.assignment.items()}

    def verify(self, assignment: dict[str, list[TP]], counts: Mapping[str, int]) -> None:
        """verifyValidityAndBalance; the cooperative test first runs the follow-up rebalances (in place)."""
        rebalances = 0
        while self.cooperative and self._revoking(assignment):
            for m, tps in assignment.items():
                old = self.subs[m]
                self.subs[m] = Sub(old.topics, tps, self.generation_id, old.rack)
            fresh = self.assign(counts)
            assignment.clear()
            assignment.update(fresh)
            rebalances += 1
            assert rebalances <= 4
        verify_validity_and_balance({m: s.topics for m, s in self.subs.items()}, assignment)

    def _revoking(self, assignment: Mapping[str, Sequence[TP]]) -> bool:
        """CooperativeStickyAssignorTest.verifyCooperativeValidity."""
        added: set[TP] = set()
        revoked: set[TP] = set()
        for m, tps in assignment.items():
            owned = set(self.subs[m].owned)
            revoked |= owned - set(tps)
            added |= set(tps) - owned
        assert not added & revoked, f"assigned while still being revoked: {added & revoked}"
        return bool(revoked)
