"""The sticky assignors' shared algorithm: our port of Kafka's ``AbstractStickyAssignor`` (KIP-54, KIP-341,
KIP-429, KIP-881 racks), used by ``StickyAssignor`` and ``CooperativeStickyAssignor``.

* Owned partitions carry the member's generation (``allSubscriptionsEqual``): of two claims on one
  partition the higher generation wins, and a claim made twice in the same generation is dropped from both.
* Equal subscriptions take the ``ConstrainedAssignmentBuilder`` (quotas, then round-robin the rest);
  anything else the ``GeneralAssignmentBuilder`` (keep owned, place the rest on the least loaded, then
  reassign until balanced, preferring to give a partition back to its previous-generation owner).
* With ``client.rack`` on members and replica racks on partitions, rack-local members are preferred
  (``RackInfo``), exactly where Kafka prefers them.

Ties are broken the way Kafka's Java ``HashMap`` iteration breaks them (engine.java_order), otherwise by
member id and (topic, partition), so runs are deterministic and agree with Kafka's own test expectations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from engine.java_order import first_in_hashset

TP = tuple[str, int]
DEFAULT_GENERATION = -1


@dataclass
class StickyResult:
    """The target assignment plus what Kafka's assignor also reports."""

    assignment: dict[str, list[TP]]
    transferring: dict[TP, str] | None  # partitionsTransferringOwnership (None on the general path)
    is_sticky: bool = True
    max_generation: int = DEFAULT_GENERATION


class RackInfo:
    """AbstractStickyAssignor.RackInfo: member racks and replica racks, used only if they can matter."""

    def __init__(
        self,
        members: list[str],
        partitions: list[TP],
        member_racks: Mapping[str, str | None],
        partition_racks: Mapping[TP, Iterable[str]],
        prefer_rack_aware: bool,
    ) -> None:
        by_rack: dict[str, list[str]] = {}
        for m in members:
            rack = member_racks.get(m)
            if rack:
                by_rack.setdefault(rack, []).append(m)
        racks_of: dict[TP, set[str]] = {}
        if by_rack:
            racks_of = {tp: {r for r in partition_racks.get(tp, ()) if r is not None} for tp in partitions}
        all_partition_racks = set().union(*racks_of.values()) if racks_of else set()
        use = use_rack_aware(set(by_rack), all_partition_racks, racks_of, prefer_rack_aware)
        self.consumer_racks: dict[str, str] = {m: r for r, ms in by_rack.items() for m in ms} if use else {}
        self.partition_racks: dict[TP, set[str]] = racks_of if use else {}
        self.num_consumers = {
            tp: sum(len(by_rack.get(r, ())) for r in racks) for tp, racks in racks_of.items()
        }

    def mismatch(self, member: str, tp: TP) -> bool:
        rack = self.consumer_racks.get(member)
        return rack is not None and rack not in self.partition_racks.get(tp, ())

    def sort_by_rack_consumers(self, partitions: list[TP]) -> list[TP]:
        if not self.num_consumers:
            return partitions
        return sorted(partitions, key=lambda tp: self.num_consumers.get(tp, 0))

    def next_rack_consumer(self, tp: TP, members: list[str], first: int) -> int:
        racks = self.partition_racks.get(tp)
        if not racks:
            return -1
        for i in range(len(members)):
            index = (first + i) % len(members)
            rack = self.consumer_racks.get(members[index])
            if rack is not None and rack in racks:
                return index
        return -1


def use_rack_aware(
    consumer_racks: set[str],
    partition_racks: set[str],
    racks_per_partition: Mapping[TP, set[str]],
    prefer_rack_aware: bool = False,
) -> bool:
    """AbstractPartitionAssignor.useRackAwareAssignment: only if some partition is not on every rack."""
    if not consumer_racks or not (consumer_racks & partition_racks):
        return False
    if prefer_rack_aware:
        return True
    return not all(racks == partition_racks for racks in racks_per_partition.values())


def sticky_assign(
    order: list[str],
    subscriptions: Mapping[str, list[str]],
    counts: Mapping[str, int],
    owned: Mapping[str, Iterable[TP]],
    generations: Mapping[str, int],
    rack: RackInfo,
) -> StickyResult:
    """AbstractStickyAssignor.assignPartitions for members in Java iteration ``order``."""
    if not order:
        return StickyResult({}, {})
    owned_lists = {m: [tp for tp in owned.get(m, ()) if 0 <= tp[1] < counts.get(tp[0], 0)] for m in order}
    equal, current, multi, max_gen = _claims(order, subscriptions, counts, owned_lists, generations)
    if equal:
        builder = _Constrained(order, counts, current, multi, rack)
        return StickyResult(builder.build(), builder.transferring, True, max_gen)
    general = _General(order, subscriptions, counts, current, rack)
    prev = _previous_generation_owners(order, owned_lists, generations, max_gen)
    result = general.build(prev)
    return StickyResult(result, None, general.movements.is_sticky(), max_gen)


def _claims(
    order: list[str],
    subscriptions: Mapping[str, list[str]],
    counts: Mapping[str, int],
    owned: Mapping[str, list[TP]],
    generations: Mapping[str, int],
) -> tuple[bool, dict[str, list[TP]], set[TP], int]:
    """AbstractStickyAssignor.allSubscriptionsEqual: equal subscriptions?, and who keeps which claim."""
    equal = True
    first: set[str] | None = None
    owner_of: dict[TP, str] = {}
    current: dict[str, list[TP]] = {}
    multi: set[TP] = set()
    max_gen = DEFAULT_GENERATION
    for member in order:
        topics = set(subscriptions[member])
        if first is None:  # Kafka re-takes the reference while it is empty; a topic-less member never joins
            first = set(topics)
        elif equal and topics != first:
            equal = False
        gen = generations.get(member, DEFAULT_GENERATION)
        max_gen = max(max_gen, gen)
        mine: list[TP] = []
        current[member] = mine
        for tp in owned[member]:
            if tp[0] not in counts:
                continue
            other = owner_of.get(tp)
            if other is None:
                mine.append(tp)
                owner_of[tp] = member
                continue
            other_gen = generations.get(other, DEFAULT_GENERATION)
            if gen == other_gen:
                multi.add(tp)  # same generation: nobody keeps it
                if tp in current[other]:
                    current[other].remove(tp)
                owner_of[tp] = member
            elif gen > other_gen:
                mine.append(tp)
                if tp in current[other]:
                    current[other].remove(tp)
                owner_of[tp] = member
    return equal, current, multi, max_gen


def _previous_generation_owners(
    order: list[str], owned: Mapping[str, list[TP]], generations: Mapping[str, int], max_gen: int
) -> dict[TP, tuple[str, int]]:
    """GeneralAssignmentBuilder.prepopulateCurrentAssignments: owners from older generations."""
    prev: dict[TP, tuple[str, int]] = {}
    for member in order:
        gen = generations.get(member, DEFAULT_GENERATION)
        if gen >= max_gen:
            continue
        for tp in owned[member]:
            if tp not in prev or gen > prev[tp][1]:
                prev[tp] = (member, gen)
    return prev


def _all_partitions(topics: Iterable[str], counts: Mapping[str, int]) -> list[TP]:
    return [(t, p) for t in topics for p in range(counts[t])]


class _Constrained:
    """ConstrainedAssignmentBuilder: every member subscribes to the same topics."""

    def __init__(
        self,
        order: list[str],
        counts: Mapping[str, int],
        current: dict[str, list[TP]],
        multi: set[TP],
        rack: RackInfo,
    ) -> None:
        self.order, self.counts, self.current, self.multi, self.rack = order, counts, current, multi, rack
        total = sum(counts.values())
        n = len(order)
        self.min_quota, self.max_quota = total // n, -(-total // n)
        self.expected_over = total % n
        self.over = 0
        self.assignment: dict[str, list[TP]] = {m: [] for m in order}
        self.maybe_revoked: dict[TP, str] = {}
        self.under: list[str] = []
        self.exact_min: list[str] = []
        self.transferring: dict[TP, str] = {}

    def build(self) -> dict[str, list[TP]]:
        assigned = self._assign_owned()
        unassigned = [tp for tp in _all_partitions(sorted(self.counts), self.counts) if tp not in assigned]
        self.under.sort()
        self.exact_min.sort()
        unassigned = self.rack.sort_by_rack_consumers(unassigned)
        self._rack_aware_round_robin(unassigned)
        self._round_robin(unassigned)
        return self.assignment

    def _assign_owned(self) -> set[TP]:
        assigned: set[TP] = set()
        for member in self.order:
            mine = []
            for tp in self.current[member]:
                if self.rack.mismatch(member, tp):
                    self.maybe_revoked[tp] = member
                else:
                    mine.append(tp)
            mine.sort(key=lambda tp: (tp[1], tp[0]))
            mine = [tp for tp in mine if tp not in self.multi]
            if len(mine) < self.min_quota:
                keep = mine
                self.under.append(member)
            elif len(mine) >= self.max_quota and self.over < self.expected_over:
                self.over += 1
                if self.over == self.expected_over:
                    self.exact_min.clear()
                keep = mine[: self.max_quota]
            else:
                keep = mine[: self.min_quota]
                if self.over < self.expected_over:
                    self.exact_min.append(member)
            for tp in mine[len(keep) :]:
                self.maybe_revoked[tp] = member
            self.assignment[member].extend(keep)
            assigned.update(keep)
        return assigned

    def _rack_aware_round_robin(self, unassigned: list[TP]) -> None:
        if not self.rack.consumer_racks:
            return
        next_index = 0
        for tp in list(unassigned):
            member = None
            index = self.rack.next_rack_consumer(tp, self.under, next_index)
            if index >= 0:
                member = self.under[index]
                count = len(self.assignment[member]) + 1
                if count >= self.min_quota:
                    self.under.remove(member)
                    if count < self.max_quota and self.over < self.expected_over:
                        self.exact_min.append(member)
                else:
                    index += 1
                next_index = index % len(self.under) if self.under else 0
            elif self.exact_min:
                first = self.rack.next_rack_consumer(tp, self.exact_min, 0)
                if first >= 0:
                    member = self.exact_min[first]
                    if len(self.assignment[member]) + 1 == self.max_quota:
                        del self.exact_min[first]
                        self.over += 1
                        if self.over == self.expected_over:
                            self.exact_min.clear()
            if member is not None:
                self._assign_new(tp, member)
                unassigned.remove(tp)

    def _round_robin(self, unassigned: list[TP]) -> None:
        pos, last = 0, -1  # a Java iterator over self.under
        for tp in unassigned:
            if pos < len(self.under):
                member, last = self.under[pos], pos
                pos += 1
            elif not self.under and not self.exact_min:
                raise RuntimeError("No more unfilled consumers to be assigned.")
            elif not self.under:
                member, last = self.exact_min.pop(0), -1
            else:
                member, last, pos = self.under[0], 0, 1
            count = self._assign_new(tp, member)
            if count == self.min_quota:
                if last >= 0:
                    del self.under[last]
                    pos -= 1
                self.exact_min.append(member)
            elif count == self.max_quota:
                self.over += 1

    def _assign_new(self, tp: TP, member: str) -> int:
        self.assignment[member].append(tp)
        previous = self.maybe_revoked.get(tp)
        if (previous is not None and previous != member) or tp in self.multi:
            self.transferring[tp] = member
        return len(self.assignment[member])


@dataclass
class _Movements:
    """PartitionMovements: which partitions moved between which members, to undo swaps and judge stickiness."""

    by_topic: dict[str, dict[tuple[str, str], list[TP]]] = field(default_factory=dict)
    moves: dict[TP, tuple[str, str]] = field(default_factory=dict)
    peak: dict[tuple[str, tuple[str, str]], int] = field(default_factory=dict)

    def _remove(self, tp: TP) -> tuple[str, str]:
        pair = self.moves.pop(tp)
        per_topic = self.by_topic[tp[0]]
        per_topic[pair].remove(tp)
        if not per_topic[pair]:
            del per_topic[pair]
        if not per_topic:
            del self.by_topic[tp[0]]
        return pair

    def _add(self, tp: TP, pair: tuple[str, str]) -> None:
        self.moves[tp] = pair
        items = self.by_topic.setdefault(tp[0], {}).setdefault(pair, [])
        items.append(tp)
        key = (tp[0], pair)
        self.peak[key] = max(self.peak.get(key, 0), len(items))

    def move(self, tp: TP, old: str, new: str) -> None:
        if tp in self.moves:
            src, _dst = self._remove(tp)
            if src != new:
                self._add(tp, (src, new))
        else:
            self._add(tp, (old, new))

    def actual_partition(self, tp: TP, old: str, new: str) -> TP:
        """getTheActualPartitionToBeMoved: undo an earlier opposite move instead of adding a new one."""
        per_topic = self.by_topic.get(tp[0])
        if per_topic is None:
            return tp
        if tp in self.moves:
            old = self.moves[tp][0]
        reverse = (new, old)
        if reverse not in per_topic:
            return tp
        return first_in_hashset(per_topic[reverse], self.peak[(tp[0], reverse)])

    def is_sticky(self) -> bool:
        """PartitionMovements.isSticky: no topic saw partitions move both ways between two members."""
        for pairs in self.by_topic.values():
            if any((dst, src) in pairs for src, dst in pairs):
                return False
        return True


class _General:
    """GeneralAssignmentBuilder: members subscribe to different topics."""

    def __init__(
        self,
        order: list[str],
        subscriptions: Mapping[str, list[str]],
        counts: Mapping[str, int],
        current: dict[str, list[TP]],
        rack: RackInfo,
    ) -> None:
        self.counts, self.rack = counts, rack
        self.topic_members: dict[str, list[str]] = {t: [] for t in counts}
        self.member_topics: dict[str, list[str]] = {}
        for m in order:
            mine = [t for t in dict.fromkeys(subscriptions[m]) if t in counts]
            self.member_topics[m] = mine
            for t in mine:
                self.topic_members[t].append(m)
        self.subscribed = {m: set(subscriptions[m]) for m in order}
        self.current = {m: list(current.get(m, [])) for m in order}
        self.owner: dict[TP, str] = {tp: m for m, tps in self.current.items() for tp in tps}
        topics = sorted(counts, key=lambda t: (len(self.topic_members[t]), t))
        self.sorted_all = _all_partitions(topics, counts)
        self.revocation_required = False
        self.movements = _Movements()
        self.total = sum(counts.values())

    def _members_by_load(self) -> list[str]:
        return sorted(self.current, key=lambda m: (len(self.current[m]), m))

    def build(self, prev: dict[TP, tuple[str, int]]) -> dict[str, list[TP]]:
        assigned: set[TP] = set()
        for m, tps in self.current.items():
            kept = []
            for tp in tps:
                if tp[0] not in self.subscribed[m] or self.rack.mismatch(m, tp):
                    self.revocation_required = True
                else:
                    kept.append(tp)
            self.current[m] = kept
            assigned.update(kept)
        unassigned = [tp for tp in self.sorted_all if tp not in assigned]
        self._balance(prev, unassigned)
        return self.current

    def _max_size(self, member: str) -> int:
        return sum(self.counts[t] for t in self.member_topics[member])

    def _is_balanced(self) -> bool:
        loads = self._members_by_load()
        if len(self.current[loads[0]]) >= len(self.current[loads[-1]]) - 1:
            return True
        holder = {tp: m for m, tps in self.current.items() for tp in tps}
        for member in loads:
            size = len(self.current[member])
            if size == self._max_size(member):
                continue
            mine = set(self.current[member])
            for topic in self.member_topics[member]:
                for p in range(self.counts[topic]):
                    other = holder.get((topic, p))
                    if (topic, p) not in mine and other is not None and size + 1 < len(self.current[other]):
                        return False
        return True

    def _balance_score(self, assignment: Mapping[str, list[TP]]) -> int:
        sizes = [len(v) for v in assignment.values()]
        return sum(abs(a - b) for i, a in enumerate(sizes) for b in sizes[i + 1 :])

    def _maybe_assign(self, unassigned: list[TP], use_racks: bool, remove: bool) -> None:
        for tp in list(unassigned):
            if not self.topic_members[tp[0]]:
                continue
            for member in self._members_by_load():
                if tp[0] in self.member_topics[member] and not (use_racks and self.rack.mismatch(member, tp)):
                    self.current[member].append(tp)
                    self.owner[tp] = member
                    if remove:
                        unassigned.remove(tp)
                    break

    def _can_participate(self, member: str) -> bool:
        if len(self.current[member]) < self._max_size(member):
            return True
        return any(len(self.topic_members[tp[0]]) >= 2 for tp in self.current[member])

    def _balance(self, prev: dict[TP, tuple[str, int]], unassigned: list[TP]) -> None:
        initializing = not self.current[self._members_by_load()[-1]] if self.current else True
        to_assign = unassigned
        if self.rack.consumer_racks:
            to_assign = list(unassigned)
            self._maybe_assign(to_assign, True, True)
        self._maybe_assign(to_assign, False, False)

        fixed_topics = {t for t, ms in self.topic_members.items() if len(ms) < 2}
        self.sorted_all = [tp for tp in self.sorted_all if tp[0] not in fixed_topics]
        unassigned = [tp for tp in unassigned if tp[0] not in fixed_topics]
        fixed = {m: self.current.pop(m) for m in list(self.member_topics) if not self._can_participate(m)}

        before = {m: list(tps) for m, tps in self.current.items()}
        before_owner = dict(self.owner)
        if not self.revocation_required:
            self._reassign_all(unassigned, prev)
        performed = self._reassign_all(self.sorted_all, prev)
        if (
            not initializing
            and performed
            and self._balance_score(self.current) >= self._balance_score(before)
        ):
            self.current = before
            self.owner = before_owner
        self.current.update(fixed)

    def _reassign_all(self, partitions: list[TP], prev: dict[TP, tuple[str, int]]) -> bool:
        performed = False
        modified = True
        while modified:
            modified = False
            for tp in partitions:
                if self._is_balanced():
                    break
                if self._reassign_one(tp, prev):
                    performed = modified = True
        return performed

    def _reassign_one(self, tp: TP, prev: dict[TP, tuple[str, int]]) -> bool:
        member = self.owner.get(tp)
        if member is None or member not in self.current:
            return False
        load = len(self.current[member])
        previous = prev.get(tp)
        # Kafka does not check that the previous owner still subscribes to the topic (a member that left the
        # topic in a later generation could get it back); we never hand a partition to a non-subscriber
        back = (
            previous is not None and previous[0] in self.current and tp[0] in self.member_topics[previous[0]]
        )
        if back and previous is not None and load > len(self.current[previous[0]]) + 1:
            self._reassign(tp, previous[0])
            return True
        rack = self.rack.consumer_racks.get(member)
        racks = self.rack.partition_racks.get(tp, set())
        if rack is not None and racks and rack in racks:
            for other in self.topic_members[tp[0]]:
                other_rack = self.rack.consumer_racks.get(other)
                if other_rack is None or other_rack not in racks or other not in self.current:
                    continue
                if load > len(self.current[other]) + 1:
                    self._reassign(tp, self._least_loaded_for(tp))
                    return True
        for other in self.topic_members[tp[0]]:
            if other in self.current and load > len(self.current[other]) + 1:
                self._reassign(tp, self._least_loaded_for(tp))
                return True
        return False

    def _least_loaded_for(self, tp: TP) -> str:
        return next(m for m in self._members_by_load() if tp[0] in self.member_topics[m])

    def _reassign(self, tp: TP, new: str) -> None:
        old = self.owner[tp]
        moved = self.movements.actual_partition(tp, old, new)
        source = self.owner[moved]
        self.movements.move(moved, source, new)
        self.current[source].remove(moved)
        self.current[new].append(moved)
        self.owner[moved] = new
