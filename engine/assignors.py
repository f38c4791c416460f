"""Consumer-group partition assignors, ported from the Java client so lessons show Kafka's real choices.

The group leader runs one of these on every rebalance (``partition.assignment.strategy``):

* ``range``              -- ``RangeAssignor.java``: per topic, contiguous chunks to members sorted by id.
* ``roundrobin``         -- ``RoundRobinAssignor.java``: all partitions dealt in turn across sorted members.
* ``sticky``             -- ``StickyAssignor.java`` / ``AbstractStickyAssignor.java`` (KIP-54): balanced,
  and keeps partitions with their previous owners wherever balance allows.
* ``cooperative-sticky`` -- ``CooperativeStickyAssignor.java`` (KIP-429): the same *target* as ``sticky``;
  the incremental part (revoke moved partitions first, assign them in a follow-up rebalance) belongs to
  the group protocol, not to the assignor function.

Everything is pure and deterministic: no randomness, ties broken by member id and (topic, partition) order,
so a classroom replay always shows the same assignment. Static membership (``group.instance.id`` ordering),
rack awareness and generation numbers are not modelled.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from types import MappingProxyType

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


def assign(
    strategy: str,
    subscriptions: dict[str, list[str]],
    partitions: dict[str, int],
    current: dict[str, list[tuple[str, int]]] | None = None,
) -> dict[str, list[tuple[str, int]]]:
    """Compute the group assignment the leader would send back in SyncGroup.

    ``subscriptions`` maps member id to topics, ``partitions`` topic to partition count, ``current`` the
    partitions each member owned before (only the sticky strategies read it; stale entries are ignored).
    Topics without metadata are skipped, as Kafka does. Every member appears in the result, with a sorted
    list of (topic, partition).
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown assignment strategy {strategy!r}; expected one of {_allowed()}")
    subs = {
        member: sorted({t for t in topics if t in partitions}) for member, topics in subscriptions.items()
    }
    counts = {topic: max(0, int(n)) for topic, n in partitions.items()}
    if strategy == "range":
        result = _range(subs, counts)
    elif strategy == "roundrobin":
        result = _roundrobin(subs, counts)
    else:
        result = _sticky(subs, counts, current or {})
    return {member: sorted(result[member]) for member in subscriptions}


def _range(subs: dict[str, list[str]], counts: dict[str, int]) -> Assignment:
    """RangeAssignor.java: per topic, member i (by sorted id) gets n // m, the first n % m one more."""
    result: Assignment = {member: [] for member in subs}
    for topic in sorted(counts):
        members = sorted(m for m, topics in subs.items() if topic in topics)
        if not members:
            continue
        per_member, extra = divmod(counts[topic], len(members))
        for i, member in enumerate(members):
            start = per_member * i + min(i, extra)
            length = per_member + (1 if i < extra else 0)
            result[member].extend((topic, p) for p in range(start, start + length))
    return result


def _roundrobin(subs: dict[str, list[str]], counts: dict[str, int]) -> Assignment:
    """RoundRobinAssignor.java: a circular iterator over sorted members skips those not subscribed."""
    result: Assignment = {member: [] for member in subs}
    members = sorted(subs)
    subscribed = {t for topics in subs.values() for t in topics}
    cursor = 0
    for topic in sorted(subscribed):
        for p in range(counts[topic]):
            while topic not in subs[members[cursor]]:
                cursor = (cursor + 1) % len(members)
            result[members[cursor]].append((topic, p))
            cursor = (cursor + 1) % len(members)
    return result


def _owned_partitions(
    subs: dict[str, list[str]], counts: dict[str, int], current: Mapping[str, Iterable[tuple[str, int]]]
) -> dict[str, list[TopicPartition]]:
    """Previous ownership that is still valid, each partition claimed by at most one member.

    Claims from departed members, for unsubscribed or deleted topics, or for partitions past the topic's
    count are dropped. AbstractStickyAssignor resolves double claims by generation (and drops same-generation
    duplicates entirely); we have no generations, so the claimant with fewest uncontested partitions keeps
    it (ties by member id): it stays with one previous owner and the choice helps balance.
    """
    claims: dict[TopicPartition, list[str]] = {}
    for member in sorted(current):
        if member not in subs:
            continue
        topics = set(subs[member])
        for entry in current[member]:
            topic, partition = entry
            if topic not in topics:
                continue
            tp = (topic, int(partition))
            if 0 <= tp[1] < counts[topic]:
                owners = claims.setdefault(tp, [])
                if member not in owners:
                    owners.append(member)
    owned: dict[str, list[TopicPartition]] = {member: [] for member in subs}
    contested: list[TopicPartition] = []
    for tp, owners in claims.items():
        if len(owners) == 1:
            owned[owners[0]].append(tp)
        else:
            contested.append(tp)
    for tp in sorted(contested):
        winner = min(claims[tp], key=lambda m: (len(owned[m]), m))
        owned[winner].append(tp)
    return {member: sorted(tps) for member, tps in owned.items()}


def _sticky(
    subs: dict[str, list[str]], counts: dict[str, int], current: Mapping[str, Iterable[tuple[str, int]]]
) -> Assignment:
    """AbstractStickyAssignor.java (KIP-54; KIP-429 reuses it): constrained path if subscriptions are equal."""
    owned = _owned_partitions(subs, counts, current)
    if len({tuple(topics) for topics in subs.values()}) <= 1:
        return _constrained(subs, counts, owned)
    return _general(subs, counts, owned)


def _constrained(
    subs: dict[str, list[str]], counts: dict[str, int], owned: dict[str, list[TopicPartition]]
) -> Assignment:
    """AbstractStickyAssignor's ConstrainedAssignmentBuilder: quotas first, then round-robin the rest.

    With P partitions and M members everyone ends with floor(P/M) or ceil(P/M), exactly P % M members
    with the larger share. Owners keep up to their quota, first in (partition, topic) order like Kafka;
    the ceil slots go to owners of at least ceil(P/M) in member-id order (Kafka walks a HashMap; any order
    keeps the same number, so ids just make it deterministic). Revoked and orphaned partitions are then
    dealt round-robin to members below the floor, and the leftovers one each to members at the floor.
    A member therefore never loses a partition while gaining another: movement is the minimum balance needs.
    """
    members = sorted(subs)
    result: Assignment = {member: [] for member in members}
    if not members:
        return result
    topics = subs[members[0]]
    every = [(topic, p) for topic in topics for p in range(counts[topic])]
    min_quota, over_slots = divmod(len(every), len(members))
    max_quota = min_quota + (1 if over_slots else 0)

    kept: set[TopicPartition] = set()
    for member in members:
        mine = sorted(owned[member], key=lambda tp: (tp[1], tp[0]))
        quota = min_quota
        if over_slots and len(mine) > min_quota:
            quota = max_quota
            over_slots -= 1
        result[member] = mine[:quota]
        kept.update(result[member])

    under = [m for m in members if len(result[m]) < min_quota]
    at_min = deque(m for m in members if len(result[m]) == min_quota) if over_slots else deque()
    cursor = 0
    for tp in (tp for tp in every if tp not in kept):
        if under:
            cursor %= len(under)
            member = under[cursor]
            result[member].append(tp)
            if len(result[member]) == min_quota:
                under.pop(cursor)
                at_min.append(member)
            else:
                cursor += 1
        else:
            result[at_min.popleft()].append(tp)
    return result


def _general(
    subs: dict[str, list[str]], counts: dict[str, int], owned: dict[str, list[TopicPartition]]
) -> Assignment:
    """AbstractStickyAssignor's GeneralAssignmentBuilder, simplified, for unequal subscriptions.

    Keep every valid owned partition; give each unowned one, hardest to place first (fewest eligible
    members), to the least-loaded eligible member; then move partitions from a member to an eligible one
    holding at least two fewer until no such move exists. Each move strictly lowers the sum of squared
    loads, so the loop ends; newly placed partitions move before previously owned ones.
    """
    members = sorted(subs)
    eligible = {topic: [m for m in members if topic in subs[m]] for topic in counts}
    result: Assignment = {member: list(owned[member]) for member in members}
    previously = {tp: member for member, tps in owned.items() for tp in tps}

    taken = set(previously)
    orphans = [
        (topic, p)
        for topic in counts
        if eligible[topic]
        for p in range(counts[topic])
        if (topic, p) not in taken
    ]
    orphans.sort(key=lambda tp: (len(eligible[tp[0]]), tp))
    for tp in orphans:
        member = min(eligible[tp[0]], key=lambda m: (len(result[m]), m))
        result[member].append(tp)

    while True:
        move = _find_move(result, eligible, previously)
        if move is None:
            return result
        tp, source, target = move
        result[source].remove(tp)
        result[target].append(tp)


def _find_move(
    result: Assignment, eligible: dict[str, list[str]], previously: dict[TopicPartition, str]
) -> tuple[TopicPartition, str, str] | None:
    """The next balancing move: from the most loaded member, a partition it did not own before if possible."""
    for source in sorted(result, key=lambda m: (-len(result[m]), m)):
        load = len(result[source])
        candidates = sorted(result[source], key=lambda tp: (previously.get(tp) == source, tp))
        for tp in candidates:
            receivers = [m for m in eligible[tp[0]] if len(result[m]) <= load - 2]
            if receivers:
                return tp, source, min(receivers, key=lambda m: (len(result[m]), m))
    return None
