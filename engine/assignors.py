"""Consumer-group partition assignors, ported from the Java client so lessons show Kafka's real choices.

The group leader runs one of these on every rebalance (``partition.assignment.strategy``):

* ``range``              -- ``RangeAssignor.java``: per topic, contiguous chunks to members sorted by id.
* ``roundrobin``         -- ``RoundRobinAssignor.java``: all partitions dealt in turn across sorted members.
* ``sticky``             -- ``StickyAssignor.java`` / ``AbstractStickyAssignor.java`` (KIP-54): balanced,
  and keeps partitions with their previous owners wherever balance allows.
* ``cooperative-sticky`` -- ``CooperativeStickyAssignor.java`` (KIP-429): the same *target* as ``sticky``;
  ``assign`` returns that target, ``assign_detailed(...).assignment`` what Kafka's assignor returns (the
  target minus partitions another member must revoke first, handed out in the follow-up rebalance).

The sticky algorithm itself lives in engine.sticky_assignor (AbstractStickyAssignor).

Everything is pure and deterministic: no randomness; where Kafka's result hangs on a Java ``HashMap``'s
iteration order we replay that order (engine.java_order), otherwise ties go by member id and (topic,
partition). Owned partitions carry their member's generation, members may carry ``group.instance.id``
(static members sort first, RangeAssignor / RoundRobinAssignor) and ``client.rack`` with the replicas' racks
(KIP-881 rack-aware range and sticky assignment).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from engine.java_order import hashmap_order
from engine.sticky_assignor import RackInfo, sticky_assign, use_rack_aware

TopicPartition = tuple[str, int]
Assignment = dict[str, list[TopicPartition]]

STRATEGIES: tuple[str, ...] = ("range", "roundrobin", "sticky", "cooperative-sticky")

_PACKAGE = "org.apache.kafka.clients.consumer."
KAFKA_CLASS_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "range": _PACKAGE + "RangeAssignor",
        "roundrobin": _PACKAGE + "RoundRobinAssignor",
        "sticky": _PACKAGE + "StickyAssignor",
        "cooperative-sticky": _PACKAGE + "CooperativeStickyAssignor",
    }
)


def _allowed() -> str:
    return ", ".join(STRATEGIES)


def strategy_from_config(value: str) -> str:
    """Map a ``partition.assignment.strategy`` value to our short name.

    Accepts the short name, the fully qualified Java class name or its simple name ("RangeAssignor"),
    so lesson configs can be copied straight from real consumer properties.
    """
    text = value.strip()
    if text in STRATEGIES:
        return text
    for strategy, class_name in KAFKA_CLASS_NAMES.items():
        if text in (class_name, class_name.rsplit(".", 1)[1]):
            return strategy
    known = ", ".join(KAFKA_CLASS_NAMES.values())
    raise ValueError(
        f"unknown partition.assignment.strategy {value!r}; expected one of {_allowed()} or {known}"
    )


@dataclass
class AssignorResult:
    """What Kafka's assignor computes: ``assignment`` is what it returns (for cooperative-sticky without the
    partitions still to be revoked, as ``CooperativeStickyAssignor.adjustAssignment`` does), ``target`` the
    balanced assignment before that, ``transferring`` the partitions changing owner (KIP-429) and
    ``is_sticky`` AbstractStickyAssignor.isSticky(). ``transferring`` is AbstractStickyAssignor's
    ``partitionsTransferringOwnership``: set by the equal-subscriptions path, None on the general path (where
    cooperative-sticky computes the moving partitions itself)."""

    assignment: dict[str, list[TopicPartition]]
    target: dict[str, list[TopicPartition]]
    transferring: dict[TopicPartition, str] | None
    is_sticky: bool = True


def assign(
    strategy: str,
    subscriptions: dict[str, list[str]],
    partitions: dict[str, int],
    current: dict[str, list[tuple[str, int]]] | None = None,
    **options: object,
) -> dict[str, list[tuple[str, int]]]:
    """Compute the group assignment the leader would send back in SyncGroup.

    ``subscriptions`` maps member id to topics, ``partitions`` topic to partition count, ``current`` the
    partitions each member owned before (only the sticky strategies read it; stale entries are ignored).
    Topics without metadata are skipped, as Kafka does. Every member appears in the result, with a sorted
    list of (topic, partition). For cooperative-sticky this is the balanced *target*; the group protocol
    withholds moving partitions for a second round. Keyword options: see ``assign_detailed``.
    """
    return assign_detailed(strategy, subscriptions, partitions, current, **options).target  # type: ignore[arg-type]


def assign_detailed(
    strategy: str,
    subscriptions: Mapping[str, Iterable[str]],
    partitions: Mapping[str, int],
    current: Mapping[str, Iterable[tuple[str, int]]] | None = None,
    *,
    generations: Mapping[str, int] | None = None,
    member_racks: Mapping[str, str | None] | None = None,
    partition_racks: Mapping[tuple[str, int], Iterable[str]] | None = None,
    group_instance_ids: Mapping[str, str | None] | None = None,
    prefer_rack_aware: bool = False,
) -> AssignorResult:
    """The assignor run with everything a ConsumerProtocolSubscription carries.

    ``generations``: the generation each member's owned partitions come from (missing: -1, Kafka's
    DEFAULT_GENERATION); ``member_racks``: ``client.rack``; ``partition_racks``: the racks of each
    partition's replicas; ``group_instance_ids``: ``group.instance.id`` of static members;
    ``prefer_rack_aware``: Kafka's test-only ``preferRackAwareLogic`` (use the rack-aware path even when every
    partition has a replica on every rack).
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown assignment strategy {strategy!r}; expected one of {_allowed()}")
    subs = {member: list(dict.fromkeys(topics)) for member, topics in subscriptions.items()}
    subscribed = {t for topics in subs.values() for t in topics}
    # AbstractPartitionAssignor.assign: only subscribed topics with metadata and at least one partition
    counts = {t: int(n) for t, n in partitions.items() if t in subscribed and int(n) > 0}
    racks = dict(member_racks or {})
    replica_racks = {(t, int(p)): set(r) for (t, p), r in (partition_racks or {}).items()}
    transferring: dict[TopicPartition, str] | None = {}
    moving: dict[TopicPartition, str] = {}
    sticky = True
    if strategy == "range":
        result = _range(subs, counts, dict(group_instance_ids or {}), racks, replica_racks, prefer_rack_aware)
    elif strategy == "roundrobin":
        result = _roundrobin(subs, counts, dict(group_instance_ids or {}))
    else:
        owned = {m: [(t, int(p)) for t, p in tps] for m, tps in (current or {}).items() if m in subs}
        order = hashmap_order(subs)
        rack = RackInfo(order, _all(counts), racks, replica_racks, prefer_rack_aware)
        out = sticky_assign(order, subs, counts, owned, dict(generations or {}), rack)
        result, sticky, transferring = out.assignment, out.is_sticky, out.transferring
        if strategy == "cooperative-sticky":
            moving = transferring if transferring is not None else _transferring(owned, result)
    target = {member: sorted(result[member]) for member in subscriptions}
    returned = {m: [tp for tp in tps if moving.get(tp) != m] for m, tps in target.items()}
    return AssignorResult(returned, target, transferring, sticky)


def _all(counts: Mapping[str, int]) -> list[TopicPartition]:
    return [(t, p) for t in counts for p in range(counts[t])]


def _transferring(
    owned: Mapping[str, list[TopicPartition]], result: Mapping[str, list[TopicPartition]]
) -> dict[TopicPartition, str]:
    """CooperativeStickyAssignor.computePartitionsTransferringOwnership: added to one, revoked from another."""
    added: dict[TopicPartition, str] = {}
    revoked: set[TopicPartition] = set()
    for member, assigned in result.items():
        mine = set(owned.get(member, ()))
        added.update({tp: member for tp in assigned if tp not in mine})
        revoked.update(tp for tp in mine if tp not in set(assigned))
    return {tp: m for tp, m in added.items() if tp in revoked}


def member_order(members: Iterable[str], instance_ids: Mapping[str, str | None]) -> list[str]:
    """AbstractPartitionAssignor.MemberInfo order: static members by group.instance.id, then the rest by id."""
    return sorted(members, key=lambda m: (0, instance_ids[m], m) if instance_ids.get(m) else (1, m, m))


class _TopicState:
    """RangeAssignor.TopicAssignmentState: one topic's members, racks and remaining quota."""

    def __init__(
        self,
        topic: str,
        n: int,
        members: list[str],
        racks: Mapping[str, str | None],
        replica_racks: Mapping[TopicPartition, set[str]],
        prefer: bool,
    ) -> None:
        self.topic, self.members = topic, members
        self.unassigned = [(topic, p) for p in range(n)]
        self.assigned = dict.fromkeys(members, 0)
        self.per_member = n // len(members) if members else 0
        self.extra = n % len(members) if members else 0
        self.member_racks = {m: racks.get(m) or None for m in members}
        consumer_racks = {r for r in self.member_racks.values() if r}
        self.partition_racks: dict[TopicPartition, set[str]] = {}
        if consumer_racks:
            self.partition_racks = {tp: replica_racks.get(tp, set()) for tp in self.unassigned}
        all_racks = set().union(*self.partition_racks.values()) if self.partition_racks else set()
        self.needs_racks = use_rack_aware(consumer_racks, all_racks, self.partition_racks, prefer)

    def racks_match(self, member: str, tp: TopicPartition) -> bool:
        rack = self.member_racks[member]
        return rack is None or rack in self.partition_racks.get(tp, set())

    def max_assignable(self, member: str) -> int:
        return max(0, self.per_member + (1 if self.extra > 0 else 0) - self.assigned[member])

    def take(self, member: str, tps: list[TopicPartition], result: Assignment) -> None:
        result[member].extend(tps)
        self.assigned[member] += len(tps)
        if self.assigned[member] > self.per_member:
            self.extra -= 1
        self.unassigned = [tp for tp in self.unassigned if tp not in tps]


def _range(
    subs: dict[str, list[str]],
    counts: dict[str, int],
    instance_ids: Mapping[str, str | None],
    racks: Mapping[str, str | None],
    replica_racks: Mapping[TopicPartition, set[str]],
    prefer: bool,
) -> Assignment:
    """RangeAssignor.assignPartitions (KIP-881): rack-matched ranges first if racks matter, then plain ranges.

    Per topic, members sorted by group.instance.id / member id; each may take n // m, the first n % m one
    more, in partition order. With racks, rack-local partitions are taken first within the same quotas, and
    co-partitioned topics (same members, same partition count) keep partition p on one member.
    """
    result: Assignment = {member: [] for member in subs}
    states = [
        _TopicState(
            t,
            counts[t],
            member_order([m for m in subs if t in subs[m]], instance_ids),
            racks,
            replica_racks,
            prefer,
        )
        for t in sorted(counts)
    ]
    if any(s.needs_racks for s in states):
        groups: dict[tuple[str, ...], dict[int, list[_TopicState]]] = {}
        for s in states:  # Kafka groups by partitionRacks.size(): 0 for topics whose members have no rack
            groups.setdefault(tuple(s.members), {}).setdefault(len(s.partition_racks), []).append(s)
        for by_count in groups.values():
            for n, group in sorted(by_count.items()):
                if len(group) > 1:
                    _co_partitioned(group, n, result)
                elif group[0].needs_racks:
                    _ranges(group[0], group[0].racks_match, result)
    for s in states:
        _ranges(s, lambda _m, _tp: True, result)
    return result


def _ranges(state: _TopicState, may_assign, result: Assignment) -> None:  # noqa: ANN001
    """RangeAssignor.assignRanges: each member in order takes what it may, up to its quota."""
    for member in state.members:
        if not state.unassigned:
            break
        limit = state.max_assignable(member)
        tps = [tp for tp in state.unassigned if may_assign(member, tp)][:limit]
        if tps:
            state.take(member, tps, result)


def _co_partitioned(states: list[_TopicState], n: int, result: Assignment) -> None:
    """RangeAssignor.assignCoPartitionedWithRackMatching: partition p of every topic to one rack-local member."""
    remaining = list(states[0].members)
    for p in range(n):
        member = next(
            (
                m
                for m in remaining
                if all(s.racks_match(m, (s.topic, p)) and s.max_assignable(m) > 0 for s in states)
            ),
            None,
        )
        if member is None:
            continue
        for s in states:
            s.take(member, [(s.topic, p)], result)
        if not any(s.max_assignable(member) > 0 for s in states):
            remaining.remove(member)
            if not remaining:
                break


def _roundrobin(
    subs: dict[str, list[str]], counts: dict[str, int], instance_ids: Mapping[str, str | None]
) -> Assignment:
    """RoundRobinAssignor.java: a circular iterator over sorted members skips those not subscribed."""
    result: Assignment = {member: [] for member in subs}
    members = member_order(subs, instance_ids)
    cursor = 0
    for topic in sorted(counts):
        for p in range(counts[topic]):
            while topic not in subs[members[cursor]]:
                cursor = (cursor + 1) % len(members)
            result[members[cursor]].append((topic, p))
            cursor = (cursor + 1) % len(members)
    return result
