"""KIP-848 server-side assignors: the group coordinator itself computes a consumer group's target assignment.

Followed from Kafka 4.0's `group-coordinator/.../coordinator/group/assignor/`:

* ``range``   -- `RangeAssignor`: per topic, contiguous ranges to the topic's subscribers, static members
  (with a ``group.instance.id``) first by instance id, then the others by member id. Kafka 4.0's server-side
  range assignor keeps no stickiness: the same members and topics always give the same ranges.
* ``uniform`` -- `UniformAssignor` (the default of ``group.consumer.assignors``): when every member subscribes
  to the same topics it runs `UniformHomogeneousAssignmentBuilder` (keep what each member holds up to its
  quota, hand the rest to members under quota), otherwise `UniformHeterogeneousAssignmentBuilder` (keep what
  is still subscribed, give each free partition to its least loaded subscriber, then move partitions from the
  most to the least loaded subscribers topic by topic until balanced).

Topics are named, not identified by topic ids. Where Kafka's result depends on an iteration order we use a
documented deterministic one: members in sorted member-id order (Kafka: the group's member map);
the homogeneous builder walks topics in the order of the ``partitions`` mapping given (Kafka: a HashSet of
topic ids; the coordinator passes topics sorted by name) and each member's current partitions in the order
given, topic by topic; the heterogeneous builder breaks ties by topic name (Kafka: by topic id).
``rack`` is carried as Kafka's `MemberSubscription.rackId()` is, and, as in Kafka 4.0, no assignor reads it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from .errors import KafkaError

TP = tuple[str, int]
SubscriptionType = Literal["homogeneous", "heterogeneous"]
SERVER_ASSIGNORS: tuple[str, ...] = ("uniform", "range")  # group.consumer.assignors default: uniform,range
_PACKAGE = "org.apache.kafka.coordinator.group.assignor."
KAFKA_CLASS_NAMES = {"uniform": _PACKAGE + "UniformAssignor", "range": _PACKAGE + "RangeAssignor"}
MAX_ITERATION_COUNT = 16  # UniformHeterogeneousAssignmentBuilder's final balancing rounds


class PartitionAssignorError(KafkaError):
    """Kafka's PartitionAssignorException: the assignor cannot compute an assignment (e.g. unknown topic)."""

    name = "PARTITION_ASSIGNOR_EXCEPTION"


@dataclass(frozen=True, slots=True)
class MemberSpec:
    """One member as the assignor sees it (Kafka's MemberSubscriptionAndAssignmentImpl)."""

    topics: frozenset[str]
    assignment: tuple[TP, ...] = ()  # the member's current target assignment, in the order to walk it
    instance_id: str | None = None  # group.instance.id (static membership, KIP-345)
    rack: str | None = None  # client.rack


def member(
    topics: Iterable[str],
    assignment: Iterable[TP] = (),
    instance_id: str | None = None,
    rack: str | None = None,
) -> MemberSpec:
    return MemberSpec(frozenset(topics), tuple((t, int(p)) for t, p in assignment), instance_id, rack)


def subscription_type(members: Mapping[str, MemberSpec]) -> SubscriptionType:
    """HOMOGENEOUS when every member subscribes to the same topics (ModernGroup.subscriptionType)."""
    subs = {m.topics for m in members.values()}
    return "homogeneous" if len(subs) <= 1 else "heterogeneous"


def preferred_server_assignor(choices: Iterable[str | None]) -> str | None:
    """ConsumerGroup.computePreferredServerAssignor: the group.remote.assignor most members ask for, None if
    none asks (the coordinator then uses the first of group.consumer.assignors). Kafka breaks a tie by HashMap
    order; we break it by name."""
    counts: dict[str, int] = {}
    for name in choices:
        if name is not None:
            counts[name] = counts.get(name, 0) + 1
    return min(counts, key=lambda a: (-counts[a], a)) if counts else None


def assign(
    name: str, members: Mapping[str, MemberSpec], partitions: Mapping[str, int]
) -> dict[str, list[TP]]:
    """Run the server-side assignor ``name`` ("uniform" or "range"); members absent from the result get nothing."""
    if name == "range":
        return range_assign(members, partitions)
    if name == "uniform":
        return uniform_assign(members, partitions)
    raise PartitionAssignorError(
        f"unknown server-side assignor {name!r}; group.consumer.assignors knows {', '.join(SERVER_ASSIGNORS)}"
    )


def _check_topics(members: Mapping[str, MemberSpec], partitions: Mapping[str, int]) -> None:
    for mid in sorted(members):
        missing = sorted(members[mid].topics - set(partitions))
        if missing:
            raise PartitionAssignorError(
                f"Members are subscribed to topic {missing[0]} which doesn't exist in the topic metadata."
            )


# -- RangeAssignor --------------------------------------------------------------------------------------------


def _range_order(members: Mapping[str, MemberSpec]) -> list[str]:
    """RangeAssignor.sortMemberIds: static members first by instance id, then dynamic members by member id."""
    return sorted(
        members, key=lambda m: (0, members[m].instance_id) if members[m].instance_id is not None else (1, m)
    )


def range_assign(members: Mapping[str, MemberSpec], partitions: Mapping[str, int]) -> dict[str, list[TP]]:
    """Kafka 4.0's server-side RangeAssignor (both its homogeneous and heterogeneous paths)."""
    if not members:
        return {}
    _check_topics(members, partitions)
    order = _range_order(members)
    subscribers = {t: sum(1 for m in order if t in members[m].topics) for t in partitions}
    next_start = dict.fromkeys(partitions, 0)
    extra = {t: partitions[t] % n for t, n in subscribers.items() if n}
    out: dict[str, list[TP]] = {}
    for mid in order:
        got: list[TP] = []
        for t in sorted(members[mid].topics):
            quota = partitions[t] // subscribers[t]
            if extra[t] > 0:
                quota += 1
                extra[t] -= 1
            start = next_start[t]
            end = min(start + quota, partitions[t])
            next_start[t] = end
            got.extend((t, p) for p in range(start, end))
        out[mid] = sorted(got)
    return out


# -- UniformAssignor ------------------------------------------------------------------------------------------


def uniform_assign(members: Mapping[str, MemberSpec], partitions: Mapping[str, int]) -> dict[str, list[TP]]:
    """UniformAssignor.assign: the homogeneous builder when all subscriptions match, else the heterogeneous one."""
    if not members:
        return {}
    if subscription_type(members) == "homogeneous":
        return uniform_homogeneous(members, partitions)
    return uniform_heterogeneous(members, partitions)


def _by_topic(assignment: Iterable[TP]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for t, p in assignment:
        out.setdefault(t, []).append(p)
    return out


def uniform_homogeneous(
    members: Mapping[str, MemberSpec], partitions: Mapping[str, int]
) -> dict[str, list[TP]]:
    """UniformHomogeneousAssignmentBuilder: every member keeps its partitions up to its quota
    (total // members, the first total % members members in order one more); the rest go, in order, to the
    members still under quota."""
    if not members:
        return {}
    order = sorted(members)
    subscribed = members[order[0]].topics
    if not subscribed:
        return {}
    _check_topics({order[0]: members[order[0]]}, partitions)
    topics = [t for t in partitions if t in subscribed]
    held = {tp for m in members.values() for tp in m.assignment}
    unassigned = [(t, p) for t in topics for p in range(partitions[t]) if (t, p) not in held]
    min_quota, extra = divmod(sum(partitions[t] for t in topics), len(order))
    target: dict[str, list[TP]] = {}
    unfilled: list[tuple[str, int]] = []
    for mid in order:
        quota = min_quota + (1 if extra > 0 else 0)
        extra -= 1 if extra > 0 else 0
        kept: list[TP] = []
        for t, parts in _by_topic(members[mid].assignment).items():
            if t not in subscribed:
                continue  # revoke a topic the member no longer subscribes to
            for p in parts:
                if quota > 0:
                    kept.append((t, p))
                    quota -= 1
                else:
                    unassigned.append((t, p))
        if quota > 0:
            unfilled.append((mid, quota))
        target[mid] = kept
    i = 0
    for mid, quota in unfilled:
        take = unassigned[i : i + quota]
        target[mid].extend(take)
        i += len(take)
    if i < len(unassigned):
        raise PartitionAssignorError("Partitions were left unassigned")
    return {mid: sorted(tps) for mid, tps in target.items()}


def uniform_heterogeneous(
    members: Mapping[str, MemberSpec], partitions: Mapping[str, int]
) -> dict[str, list[TP]]:
    """UniformHeterogeneousAssignmentBuilder (see _Heterogeneous)."""
    if not members:
        return {}
    return _Heterogeneous(members, partitions).build()


class _Balancer:
    """UniformHeterogeneousAssignmentBuilder.MemberAssignmentBalancer: a least loaded range of members that
    grows rightwards and a most loaded range that grows leftwards over members sorted by load."""

    def __init__(self, sizes: list[int]) -> None:
        self.sizes = sizes
        self.sorted: list[int] = []
        self.least_end = self.least_count = self.next_least = 0
        self.most_start = self.most_end = self.most_count = self.next_most = 0

    def initialize(self, subscribers: list[int]) -> int:
        s = self.sorted = sorted(subscribers, key=lambda i: (self.sizes[i], i))
        self.least_end, self.least_count, self.next_least = 0, self.sizes[s[0]] - 1, 0
        self.most_start = self.most_end = len(s)
        self.most_count = self.sizes[s[-1]] + 1
        self.next_most = len(s) - 1
        return self.sizes[s[-1]] - self.sizes[s[0]]

    def next_least_loaded(self) -> int:
        if self.next_least >= self.least_end:
            self.least_count += 1
            while (
                self.least_end < len(self.sorted)
                and self.sizes[self.sorted[self.least_end]] == self.least_count
            ):
                self.least_end += 1
            self.next_least = 0
        m = self.sorted[self.next_least]
        self.next_least += 1
        return m

    def next_most_loaded(self) -> int:
        if self.next_most < self.most_start:
            if self.most_end <= self.most_start and self.most_start > 0:
                self.most_count = self.sizes[self.sorted[self.most_start - 1]]
            else:
                self.most_count -= 1
            while self.most_start > 0 and self.sizes[self.sorted[self.most_start - 1]] == self.most_count:
                self.most_start -= 1
            self.next_most = self.most_end - 1
        if self.next_most < 0:
            return -1
        m = self.sorted[self.next_most]
        self.next_most -= 1
        return m

    def exclude_most_loaded(self) -> None:
        """Swap the member last returned by next_most_loaded out of the most loaded range."""
        s, i = self.sorted, self.next_most + 1
        s[i], s[self.most_end - 1] = s[self.most_end - 1], s[i]
        self.most_end -= 1

    def balanced(self) -> bool:
        return self.most_count - self.least_count <= 1


class _Heterogeneous:
    """UniformHeterogeneousAssignmentBuilder: members are numbered 0..M-1 in sorted member-id order."""

    def __init__(self, members: Mapping[str, MemberSpec], partitions: Mapping[str, int]) -> None:
        self.members = members
        self.ids = sorted(members)
        self.partitions = partitions
        _check_topics(members, partitions)
        self.subscribers: dict[str, list[int]] = {}
        for i, mid in enumerate(self.ids):
            for t in sorted(members[mid].topics):
                self.subscribers.setdefault(t, []).append(i)
        self.sizes = [0] * len(self.ids)
        self.owners = {t: [-1] * partitions[t] for t in self.subscribers}
        self.target: list[set[TP]] = [set() for _ in self.ids]

    def _topic_key(self, t: str) -> tuple[Fraction, int, str]:
        """Partitions per subscriber descending, then subscriber count ascending, then topic (Kafka: topic id)."""
        n = len(self.subscribers[t])
        return (-Fraction(self.partitions[t], n), n, t)

    def build(self) -> dict[str, list[TP]]:
        if not self.subscribers:
            return {}
        self._revoke_unsubscribed()
        for t in sorted((t for t in self.subscribers if -1 in self.owners[t]), key=self._topic_key):
            self._assign_remaining(t)
        movable = sorted((t for t, s in self.subscribers.items() if len(s) >= 2), key=self._topic_key)
        if movable:
            self._balance_topics(movable)
        return {mid: sorted(self.target[i]) for i, mid in enumerate(self.ids)}

    def _revoke_unsubscribed(self) -> None:
        for i, mid in enumerate(self.ids):
            spec = self.members[mid]
            for t, p in spec.assignment:
                if t in spec.topics and p < self.partitions[t]:
                    self.target[i].add((t, p))
                    self.owners[t][p] = i
                    self.sizes[i] += 1

    def _assign_remaining(self, t: str) -> None:
        balancer = _Balancer(self.sizes)
        balancer.initialize(self.subscribers[t])
        for p, owner in enumerate(self.owners[t]):
            if owner == -1:
                self._move(t, p, balancer.next_least_loaded())

    def _move(self, t: str, p: int, to: int) -> None:
        old = self.owners[t][p]
        if old != -1:
            self.target[old].discard((t, p))
            self.sizes[old] -= 1
        self.target[to].add((t, p))
        self.owners[t][p] = to
        self.sizes[to] += 1

    def _balance_topics(self, topics: list[str]) -> None:
        """Loop over the topics until a full round moves nothing, at most MAX_ITERATION_COUNT rounds."""
        last = -1
        for _ in range(MAX_ITERATION_COUNT):
            for index, t in enumerate(topics):
                if index == last:
                    return
                if self._balance_topic(t) > 0 or last == -1:
                    last = index

    def _balance_topic(self, t: str) -> int:
        """Move the topic's partitions from its most loaded to its least loaded subscribers."""
        balancer = _Balancer(self.sizes)
        if balancer.initialize(self.subscribers[t]) <= 1:
            return 0
        owners = self.owners[t]
        order = sorted(range(len(owners)), key=lambda p: (owners[p], p))
        start: dict[int, int] = {}
        end: dict[int, int] = {}
        for i, p in enumerate(order):
            start.setdefault(owners[p], i)
            end[owners[p]] = i + 1
        moved = 0
        while not balancer.balanced():
            giver = self._next_giver(balancer, start, end)
            if giver == -1:
                break
            end[giver] -= 1
            p = order[end[giver]]
            taker = balancer.next_least_loaded()
            if balancer.balanced():
                break
            self._move(t, p, taker)
            moved += 1
        return moved

    @staticmethod
    def _next_giver(balancer: _Balancer, start: dict[int, int], end: dict[int, int]) -> int:
        while True:
            m = balancer.next_most_loaded()
            if m == -1 or (m in end and end[m] - start[m] > 0):
                return m
            balancer.exclude_most_loaded()
