"""The group coordinator (server side of the classic consumer group protocol).

Follows Kafka's GroupCoordinator / ClassicGroup: JoinGroup (a new member first gets MEMBER_ID_REQUIRED,
KIP-394) -> the coordinator answers everyone once all known members rejoined or the rebalance timeout
passed -> the leader member computes the assignment -> SyncGroup hands it out -> Heartbeats keep members
alive for `session.timeout.ms` and carry REBALANCE_IN_PROGRESS when a new round starts. The first
rebalance of an empty group waits `group.initial.rebalance.delay.ms` for more members. Committed offsets
are written to the group's `__consumer_offsets` partition (a real log append on this broker) and kept in
memory; a coordinator that takes over a group loads them back from that log.

Static membership (KIP-345, `group.instance.id`): a member that joins with an unknown member id but a known
instance id replaces the old member (ClassicGroup.replaceStaticMember): same assignment, same generation and,
in a Stable group whose selected protocol does not change, no rebalance. The old member id is fenced
(FENCED_INSTANCE_ID). Static members that miss a rebalance are kept until their session expires.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from .errors import (
    FencedInstanceIdError,
    IllegalGenerationError,
    InvalidSessionTimeoutError,
    KafkaError,
    MemberIdRequiredError,
    NotCoordinatorError,
    RebalanceInProgressError,
    StaleMemberEpochError,
    UnknownMemberIdError,
)
from .group848 import ConsumerProtocolCoordinator
from .records import BATCH_OVERHEAD, RecordBatch, record_size

if TYPE_CHECKING:
    from .broker import Broker
    from .contracts import Client, GroupMember, OffsetClient, World
    from .scheduler import Timer

TP = tuple[str, int]
EMPTY, PREPARING, COMPLETING, STABLE, DEAD = (
    "Empty",
    "PreparingRebalance",
    "CompletingRebalance",
    "Stable",
    "Dead",
)


MemberIdRequired = MemberIdRequiredError  # (its old name here)


class Subscription(NamedTuple):
    """One member's ConsumerProtocolSubscription as the leader reads it in the JoinGroup response: topics,
    owned partitions (v1), the generation they come from (v2, -1 unknown) and `client.rack` (v3, KIP-881),
    with the member's `group.instance.id` from JoinGroupResponseMember (ConsumerCoordinator.onLeaderElected)."""

    topics: list[str]
    owned: list[TP]
    generation_id: int = -1
    rack_id: str | None = None
    group_instance_id: str | None = None


def _subscription_extras(req: tuple) -> tuple[int, str | None]:
    """(GenerationId, RackId) of a JoinGroup request tuple; a request without them is a v0-v1 subscription."""
    return (req[6], req[7]) if len(req) >= 8 else (-1, None)


class Member:
    __slots__ = (
        "member_id",
        "client_id",
        "consumer",
        "topics",
        "protocols",
        "owned",
        "session_timeout_ms",
        "rebalance_timeout_ms",
        "awaiting_join",
        "awaiting_sync",
        "assignment",
        "session_timer",
        "group_instance_id",
        "generation_id",
        "rack_id",
    )

    def __init__(
        self,
        member_id: str,
        consumer,
        topics: list[str],
        protocols: list[str],
        owned: list[TP],
        session_timeout_ms: int,
        rebalance_timeout_ms: int,
        group_instance_id: str | None = None,
    ) -> None:
        self.member_id = member_id
        self.group_instance_id = group_instance_id
        self.client_id = consumer.id
        self.consumer = consumer  # where responses go
        self.topics = topics
        self.protocols = protocols
        self.owned = owned
        self.session_timeout_ms = session_timeout_ms
        self.rebalance_timeout_ms = rebalance_timeout_ms
        self.awaiting_join = False
        self.awaiting_sync = False
        self.assignment: list[TP] = []
        self.session_timer: Timer | None = None
        self.generation_id = -1  # the generation of `owned`, as the member's JoinGroup subscription said
        self.rack_id: str | None = None  # client.rack from the subscription (KIP-881)

    def matches(
        self, topics: list[str], protocols: list[str], owned: list[TP], rack_id: str | None = None
    ) -> bool:
        """ClassicGroupMember.matches: the same protocols with the same metadata (subscription, owned, rack).
        Real Kafka compares the metadata bytes, which also hold the GenerationId; we leave the generation out."""
        return (
            list(self.protocols) == list(protocols)
            and list(self.topics) == list(topics)
            and sorted(self.owned) == sorted(owned)
            and self.rack_id == rack_id
        )


class Group:
    __slots__ = (
        "group_id",
        "state",
        "generation",
        "protocol",
        "leader",
        "members",
        "pending_members",
        "offsets",
        "join_timer",
        "initial_delay_until",
        "assignment_done",
        "static_members",
    )

    def __init__(self, group_id: str) -> None:
        self.group_id = group_id
        self.state = EMPTY
        self.generation = 0
        self.protocol: str | None = None
        self.leader: str | None = None
        self.members: dict[str, Member] = {}
        self.pending_members: set[str] = set()
        self.offsets: dict[TP, int] = {}
        self.join_timer: Timer | None = None
        self.initial_delay_until: int | None = None
        self.assignment_done = False
        self.static_members: dict[
            str, str
        ] = {}  # group.instance.id -> member id (ClassicGroup.staticMembers)

    def validate_member(self, member_id: str, group_instance_id: str | None) -> KafkaError | None:
        """ClassicGroup.validateMember: the error for a request from this member, or None."""
        if group_instance_id is not None:
            existing = self.static_members.get(group_instance_id)
            if existing is None:
                return UnknownMemberIdError("the group does not know this member id")
            if existing != member_id:
                return FencedInstanceIdError("another member joined with this group.instance.id")
        return (
            None
            if member_id in self.members
            else UnknownMemberIdError("the group does not know this member id")
        )


class GroupCoordinator:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.groups: dict[str, Group] = {}
        self._member_seq = 0
        self.kip848 = ConsumerProtocolCoordinator(self)

    @property
    def cluster(self) -> World:
        return self.broker.cluster

    def _emit(self, kind: str, summary: str, group: Group, **data) -> None:
        self.cluster.emit(
            kind, summary, actors=(self.broker.name, group.group_id), group=group.group_id, **data
        )

    def group(self, group_id: str) -> Group:
        g = self.groups.get(group_id)
        if g is None:
            g = self.groups[group_id] = Group(group_id)
            g.offsets = self.cluster.load_offsets(self.broker, group_id)
        return g

    def _reply(self, member_consumer, kind: str, handler, *args) -> None:
        self.cluster.network.send(self.broker.name, member_consumer.id, kind, handler, *args)

    def is_coordinator(self, group_id: str) -> bool:
        return self.cluster.coordinator_for(group_id) == self.broker.id and self.broker.alive

    # -- JoinGroup ----------------------------------------------------------------------------------------------
    def on_join(
        self,
        consumer: GroupMember,
        group_id: str,
        member_id: str,
        topics: list[str],
        protocols: list[str],
        owned: list[TP],
        session_timeout_ms: int,
        rebalance_timeout_ms: int,
        group_instance_id: str | None = None,
        generation_id: int = -1,
        rack_id: str | None = None,
    ) -> None:
        """JoinGroup; `generation_id` and `rack_id` are the ConsumerProtocolSubscription's GenerationId (v2) and
        RackId (v3) that ConsumerCoordinator.metadata() sends with the topics and owned partitions."""
        c = self.cluster
        if not self.is_coordinator(group_id):
            self._reply(
                consumer,
                "JoinGroupResponse",
                consumer.on_join_response,
                group_id,
                NotCoordinatorError("this broker is not the group's coordinator; find it again"),
                None,
            )
            return
        bc = c.broker_config
        if not bc.group_min_session_timeout_ms <= session_timeout_ms <= bc.group_max_session_timeout_ms:
            self._reply(
                consumer,
                "JoinGroupResponse",
                consumer.on_join_response,
                group_id,
                InvalidSessionTimeoutError(
                    "session.timeout.ms is outside the broker's group.min/max.session.timeout.ms"
                ),
                None,
            )
            return
        g = self.group(group_id)
        req = (
            consumer,
            topics,
            protocols,
            owned,
            session_timeout_ms,
            rebalance_timeout_ms,
            generation_id,
            rack_id or None,
        )
        if not member_id:
            if group_instance_id is not None:  # classicGroupJoinNewStaticMember: no MEMBER_ID_REQUIRED round
                new_id = f"{group_instance_id}-{c.rng.getrandbits(32):08x}"
                old_id = g.static_members.get(group_instance_id)
                if old_id is not None:
                    self._replace_static_member(g, old_id, new_id, group_instance_id, req)
                else:
                    self._add_member(g, new_id, group_instance_id, req)
                return
            self._member_seq += 1
            new_id = f"{consumer.id}-{c.rng.getrandbits(32):08x}"
            g.pending_members.add(new_id)
            self._reply(
                consumer,
                "JoinGroupResponse",
                consumer.on_join_response,
                group_id,
                MemberIdRequiredError("join again with the member id in this answer"),
                {"member_id": new_id},
            )
            return
        if member_id in g.pending_members and group_instance_id is None:
            g.pending_members.discard(member_id)
            self._add_member(g, member_id, None, req)
            return
        err = g.validate_member(member_id, group_instance_id)
        if err is not None:
            self._reply(consumer, "JoinGroupResponse", consumer.on_join_response, group_id, err, None)
            return
        self._join_existing_member(g, g.members[member_id], req)

    def _add_member(self, g: Group, member_id: str, group_instance_id: str | None, req: tuple) -> None:
        """addMemberThenRebalanceOrCompleteJoin: a new member starts (or joins) a rebalance."""
        consumer, topics, protocols, owned, session_timeout_ms, rebalance_timeout_ms = req[:6]
        m = g.members[member_id] = Member(
            member_id,
            consumer,
            topics,
            protocols,
            owned,
            session_timeout_ms,
            rebalance_timeout_ms,
            group_instance_id,
        )
        m.generation_id, m.rack_id = _subscription_extras(req)
        if group_instance_id is not None:
            g.static_members[group_instance_id] = member_id
        static = f" (static member {group_instance_id!r})" if group_instance_id is not None else ""
        self._emit(
            "member_joined",
            f"{consumer.id} joined group {g.group_id} as member {member_id}{static}",
            g,
            member=member_id,
            group_instance_id=group_instance_id,
        )
        m.awaiting_join = True
        self._touch_session(g, m)
        if g.state in (EMPTY, STABLE, COMPLETING):
            self._prepare_rebalance(g, f"{consumer.id} joined")
        elif g.state == PREPARING:
            if g.initial_delay_until is not None:
                # InitialDelayedJoin: each newcomer extends the wait, up to the rebalance timeout
                delay = self.cluster.broker_config.group_initial_rebalance_delay_ms
                g.initial_delay_until = self.cluster.now + delay
                self._schedule_join_completion(g, delay)
            else:
                self._maybe_complete_join(g)

    def _join_existing_member(self, g: Group, m: Member, req: tuple) -> None:
        """classicGroupJoinExistingMember: a follower rejoining with unchanged metadata gets the current
        generation back; the leader, or a member whose subscription changed, starts a rebalance."""
        consumer, topics, protocols, owned = req[:4]
        unchanged = m.matches(topics, protocols, owned, _subscription_extras(req)[1])
        m.consumer = consumer
        self._touch_session(g, m)
        if g.state == PREPARING:
            self._update_member(m, req)
            m.awaiting_join = True
            self._maybe_complete_join(g)
        elif g.state == COMPLETING and unchanged:
            self._answer_join(g, m)
        elif g.state == STABLE and unchanged and m.member_id != g.leader:
            self._answer_join(g, m, with_members=False)
        elif g.state in (COMPLETING, STABLE):
            self._update_member(m, req)
            m.awaiting_join = True
            self._prepare_rebalance(g, f"{consumer.id} rejoined")
        else:
            self._reply(
                consumer,
                "JoinGroupResponse",
                consumer.on_join_response,
                g.group_id,
                UnknownMemberIdError("the group does not know this member id"),
                None,
            )

    @staticmethod
    def _update_member(m: Member, req: tuple) -> None:
        _consumer, m.topics, m.protocols, m.owned, m.session_timeout_ms, m.rebalance_timeout_ms = req[:6]
        m.generation_id, m.rack_id = _subscription_extras(req)

    def _answer_join(
        self, g: Group, m: Member, with_members: bool = True, skip_assignment: bool = False
    ) -> None:
        """A JoinGroup answered with the current generation (no new rebalance round)."""
        leader = m.member_id == g.leader
        payload = {
            "member_id": m.member_id,
            "generation": g.generation,
            "protocol": g.protocol,
            "leader": g.leader,
            "members": self._members_meta(g) if leader and with_members else None,
            "skip_assignment": skip_assignment,
        }
        self._reply(m.consumer, "JoinGroupResponse", m.consumer.on_join_response, g.group_id, None, payload)

    @staticmethod
    def _members_meta(g: Group) -> dict[str, Subscription]:
        return {
            mid: Subscription(m.topics, list(m.owned), m.generation_id, m.rack_id, m.group_instance_id)
            for mid, m in g.members.items()
        }

    def _replace_static_member(
        self, g: Group, old_id: str, new_id: str, instance_id: str, req: tuple
    ) -> None:
        """updateStaticMemberThenRebalanceOrCompleteJoin / ClassicGroup.replaceStaticMember: the new member id
        takes the old one's place, assignment and leadership; whoever still waits as the old id is fenced."""
        consumer = req[0]
        old = g.members[old_id]
        if old.session_timer is not None:
            old.session_timer.cancel()
        if old.awaiting_join:
            self._reply(
                old.consumer,
                "JoinGroupResponse",
                old.consumer.on_join_response,
                g.group_id,
                FencedInstanceIdError("another member joined with this group.instance.id"),
                None,
            )
        if old.awaiting_sync:
            self._reply(
                old.consumer,
                "SyncGroupResponse",
                old.consumer.on_sync_response,
                g.group_id,
                FencedInstanceIdError("another member joined with this group.instance.id"),
                -1,
                None,
            )
        old.awaiting_join = old.awaiting_sync = False
        m = Member(
            new_id,
            consumer,
            old.topics,
            old.protocols,
            old.owned,
            old.session_timeout_ms,
            old.rebalance_timeout_ms,
            instance_id,
        )
        m.assignment = list(old.assignment)
        g.members = {
            (new_id if mid == old_id else mid): (m if mid == old_id else mm) for mid, mm in g.members.items()
        }
        if g.leader == old_id:
            g.leader = new_id
        g.static_members[instance_id] = new_id
        self._update_member(m, req)
        m.awaiting_join = True
        self._touch_session(g, m)
        if g.state == STABLE and self._choose_protocol(g) == g.protocol:
            m.awaiting_join = False
            self._answer_join(g, m, skip_assignment=new_id == g.leader)
            self._emit(
                "static_member_rejoined",
                f"{consumer.id} came back as static member {instance_id!r} within "
                f"session.timeout.ms: it keeps {_fmt_tps_plain(m.assignment)}, no rebalance (generation "
                f"{g.generation}; member id {old_id} is replaced by {new_id} and fenced)",
                g,
                member=new_id,
                old_member=old_id,
                group_instance_id=instance_id,
                assignment=list(m.assignment),
            )
            return
        self._emit(
            "static_member_rejoined",
            f"{consumer.id} came back as static member {instance_id!r}: member id "
            f"{old_id} is replaced by {new_id} and fenced",
            g,
            member=new_id,
            old_member=old_id,
            group_instance_id=instance_id,
            assignment=list(m.assignment),
        )
        if g.state in (STABLE, COMPLETING):
            # Stable with a changed protocol, or CompletingRebalance (the leader may be assigning to the old id)
            self._prepare_rebalance(g, f"static member {instance_id!r} rejoined with a new member id")
        else:
            self._maybe_complete_join(g)

    def _prepare_rebalance(self, g: Group, reason: str) -> None:
        c = self.cluster
        first = g.state == EMPTY
        g.state = PREPARING
        g.assignment_done = False
        for m in g.members.values():
            if m.awaiting_sync:
                m.awaiting_sync = False
                self._reply(
                    m.consumer,
                    "SyncGroupResponse",
                    m.consumer.on_sync_response,
                    g.group_id,
                    RebalanceInProgressError("the group is rebalancing; join again"),
                    g.generation,
                    None,
                )
        self._emit(
            "rebalance_started",
            f"Group {g.group_id} is rebalancing ({reason}): every member must "
            f"rejoin before generation {g.generation + 1} starts",
            g,
            reason=reason,
        )
        delay = c.broker_config.group_initial_rebalance_delay_ms if first else None
        if delay:
            g.initial_delay_until = c.now + delay
            self._schedule_join_completion(g, delay)
        else:
            g.initial_delay_until = None
            timeout = max((m.rebalance_timeout_ms for m in g.members.values()), default=0)
            self._schedule_join_completion(g, timeout)
            self._maybe_complete_join(g)

    def _schedule_join_completion(self, g: Group, delay: int) -> None:
        if g.join_timer is not None:
            g.join_timer.cancel()
        g.join_timer = self.cluster.scheduler.after(
            delay, self._join_deadline, g.group_id, self.broker.epoch, timer=True
        )

    def _join_deadline(self, group_id: str, epoch: int) -> None:
        g = self.groups.get(group_id)
        if g is None or epoch != self.broker.epoch or g.state != PREPARING:
            return
        if g.initial_delay_until is not None:
            g.initial_delay_until = None
            if all(m.awaiting_join for m in g.members.values()):
                self._complete_join(g)
                return
            timeout = max((m.rebalance_timeout_ms for m in g.members.values()), default=0)
            self._schedule_join_completion(g, timeout)
            return
        # rebalance timeout: dynamic members that did not rejoin are removed; static ones stay until their
        # session expires (GroupMetadataManager.completeClassicGroupJoin)
        for m in [m for m in g.members.values() if not m.awaiting_join and m.group_instance_id is None]:
            self._remove_member(
                g, m, f"{m.client_id} did not rejoin within the rebalance timeout", rebalance=False
            )
        if g.members and not any(m.awaiting_join for m in g.members.values()):
            # maybeElectNewJoinedLeader failed: nobody rejoined; wait another rebalance timeout
            timeout = max(m.rebalance_timeout_ms for m in g.members.values())
            self._schedule_join_completion(g, timeout)
            return
        self._complete_join(g)

    def _maybe_complete_join(self, g: Group) -> None:
        if (
            g.state == PREPARING
            and g.initial_delay_until is None
            and g.members
            and all(m.awaiting_join for m in g.members.values())
        ):
            self._complete_join(g)

    def _complete_join(self, g: Group) -> None:
        if g.join_timer is not None:
            g.join_timer.cancel()
            g.join_timer = None
        if not g.members:
            g.state = EMPTY
            g.generation += 1
            g.leader = None
            self._emit(
                "rebalance_completed",
                f"Group {g.group_id} has no members left: it is Empty (its committed offsets stay)",
                g,
                generation=g.generation,
            )
            return
        g.generation += 1
        g.protocol = self._choose_protocol(g)
        if g.leader not in g.members or not g.members[g.leader].awaiting_join:
            # ClassicGroup.maybeElectNewJoinedLeader: the first member that rejoined
            g.leader = next((mid for mid, m in g.members.items() if m.awaiting_join), next(iter(g.members)))
        g.state = COMPLETING
        members_meta = self._members_meta(g)
        for m in g.members.values():
            if m.awaiting_join:  # a static member that missed this round gets no answer (it has not asked)
                m.awaiting_join = False
                payload = {
                    "member_id": m.member_id,
                    "generation": g.generation,
                    "protocol": g.protocol,
                    "leader": g.leader,
                    "members": members_meta if m.member_id == g.leader else None,
                    "skip_assignment": False,
                }
                self._reply(
                    m.consumer, "JoinGroupResponse", m.consumer.on_join_response, g.group_id, None, payload
                )
            self._touch_session(g, m)
        leader = g.members[g.leader]
        self._emit(
            "rebalance_completed",
            f"Group {g.group_id} generation {g.generation}: {len(g.members)} "
            f"member(s) joined; leader {leader.client_id} will compute the assignment with the "
            f"{g.protocol} assignor",
            g,
            generation=g.generation,
            protocol=g.protocol,
        )

    def _choose_protocol(self, g: Group) -> str:
        """ClassicGroup.selectProtocol: among protocols every member supports, each votes for its favourite."""
        common = set.intersection(*(set(m.protocols) for m in g.members.values()))
        if not common:
            common = set(next(iter(g.members.values())).protocols)
        votes: dict[str, int] = {}
        for m in g.members.values():
            fav = next(p for p in m.protocols if p in common)
            votes[fav] = votes.get(fav, 0) + 1
        return max(sorted(votes), key=lambda p: votes[p])

    # -- SyncGroup ----------------------------------------------------------------------------------------------
    def on_sync(
        self,
        consumer: GroupMember,
        group_id: str,
        generation: int,
        member_id: str,
        assignments: dict[str, list[TP]] | None,
        group_instance_id: str | None = None,
    ) -> None:
        g = self.groups.get(group_id)
        err = (
            UnknownMemberIdError("the group does not know this member id")
            if g is None or not self.is_coordinator(group_id)
            else g.validate_member(member_id, group_instance_id)
        )
        if err is not None or g is None:
            self._reply(consumer, "SyncGroupResponse", consumer.on_sync_response, group_id, err, -1, None)
            return
        if generation != g.generation:
            self._reply(
                consumer,
                "SyncGroupResponse",
                consumer.on_sync_response,
                group_id,
                IllegalGenerationError("not the group's current generation"),
                -1,
                None,
            )
            return
        if g.state == PREPARING:
            self._reply(
                consumer,
                "SyncGroupResponse",
                consumer.on_sync_response,
                group_id,
                RebalanceInProgressError("the group is rebalancing; join again"),
                -1,
                None,
            )
            return
        m = g.members[member_id]
        m.consumer = (
            consumer  # the SyncGroup answer goes to whoever asked (a restarted process, not the old one)
        )
        self._touch_session(g, m)
        if g.state == STABLE:
            self._reply(
                consumer,
                "SyncGroupResponse",
                consumer.on_sync_response,
                group_id,
                None,
                g.generation,
                list(m.assignment),
            )
            return
        if member_id == g.leader and assignments is not None:
            for mid, mm in g.members.items():
                mm.assignment = list(assignments.get(mid, []))
            g.state = STABLE
            g.assignment_done = True
            table = "; ".join(f"{mm.client_id}: {_fmt_tps(mm.assignment)}" for mm in g.members.values())
            self._emit(
                "assignment_received",
                f"Group {g.group_id} is Stable (generation {g.generation}). Assignment: {table}",
                g,
                generation=g.generation,
                assignment={mm.client_id: list(mm.assignment) for mm in g.members.values()},
            )
            m.awaiting_sync = True
            for mm in g.members.values():  # the leader and every follower already waiting in SyncGroup
                if mm.awaiting_sync:
                    mm.awaiting_sync = False
                    self._reply(
                        mm.consumer,
                        "SyncGroupResponse",
                        mm.consumer.on_sync_response,
                        g.group_id,
                        None,
                        g.generation,
                        list(mm.assignment),
                    )
        else:
            m.awaiting_sync = True  # answered when the leader's SyncGroup arrives

    # -- Heartbeat / LeaveGroup / session expiry -----------------------------------------------------------
    def on_heartbeat(
        self,
        consumer: GroupMember,
        group_id: str,
        generation: int,
        member_id: str,
        group_instance_id: str | None = None,
    ) -> None:
        g = self.groups.get(group_id)
        err: KafkaError | None
        if g is None or not self.is_coordinator(group_id):
            err = NotCoordinatorError("this broker is not the group's coordinator; find it again")
        elif (err := g.validate_member(member_id, group_instance_id)) is not None:
            pass
        else:
            self._touch_session(g, g.members[member_id])
            if g.state in (PREPARING,):
                err = RebalanceInProgressError("the group is rebalancing; join again")
            elif generation != g.generation:
                err = (
                    IllegalGenerationError("not the group's current generation")
                    if g.state == STABLE
                    else RebalanceInProgressError("the group is rebalancing; join again")
                )
            else:
                err = None
        self._reply(consumer, "HeartbeatResponse", consumer.on_heartbeat_response, group_id, err)

    def on_leave(
        self, consumer: Client, group_id: str, member_id: str, group_instance_id: str | None = None
    ) -> KafkaError | None:
        """LeaveGroup; returns the member's error (classicGroupLeave: a static member may leave by its
        instance id alone; a stale member id for a known instance id is FENCED_INSTANCE_ID)."""
        g = self.groups.get(group_id)
        if g is None:
            return UnknownMemberIdError("the group does not know this member id")
        if group_instance_id is not None and not member_id:
            member_id = g.static_members.get(group_instance_id, "")
        err = g.validate_member(member_id, group_instance_id)
        if err is None:
            self._remove_member(g, g.members[member_id], f"{consumer.id} left the group (LeaveGroup)")
        return err

    def _touch_session(self, g: Group, m: Member) -> None:
        if m.session_timer is not None:
            m.session_timer.cancel()
        m.session_timer = self.cluster.scheduler.after(
            m.session_timeout_ms,
            self._session_expired,
            g.group_id,
            m.member_id,
            self.broker.epoch,
            timer=True,
        )

    def _session_expired(self, group_id: str, member_id: str, epoch: int) -> None:
        g = self.groups.get(group_id)
        if g is None or epoch != self.broker.epoch or member_id not in g.members:
            return
        m = g.members[member_id]
        if m.awaiting_join and g.state == PREPARING:
            return  # a member waiting in JoinGroup is kept until the rebalance timeout decides
        static = (
            f" (static member {m.group_instance_id!r} did not come back in time)"
            if m.group_instance_id
            else ""
        )
        self.cluster.emit(
            "member_expired",
            f"The coordinator heard nothing from {m.client_id} for "
            f"session.timeout.ms={m.session_timeout_ms} ms{static}: it is removed from group {group_id}",
            actors=(self.broker.name, group_id, m.client_id),
            group=group_id,
            member=member_id,
        )
        self._remove_member(g, m, f"{m.client_id}'s session expired")

    def _remove_member(self, g: Group, m: Member, reason: str, rebalance: bool = True) -> None:
        if m.session_timer is not None:
            m.session_timer.cancel()
        del g.members[m.member_id]
        if m.group_instance_id is not None and g.static_members.get(m.group_instance_id) == m.member_id:
            del g.static_members[m.group_instance_id]
        if m.awaiting_join:
            self._reply(
                m.consumer,
                "JoinGroupResponse",
                m.consumer.on_join_response,
                g.group_id,
                UnknownMemberIdError("the group does not know this member id"),
                None,
            )
        self._emit(
            "member_left",
            f"{m.client_id} is no longer a member of group {g.group_id}: {reason}",
            g,
            member=m.member_id,
            client=m.client_id,
        )
        if not rebalance:
            return
        if g.state == PREPARING:
            self._maybe_complete_join(g)
            if not g.members:
                self._complete_join(g)
        elif g.members:
            self._prepare_rebalance(g, reason)
        else:
            g.state = EMPTY
            g.generation += 1
            g.leader = None
            self._emit(
                "rebalance_completed",
                f"Group {g.group_id} has no members left: it is Empty (its committed offsets stay)",
                g,
                generation=g.generation,
            )

    # -- offsets ------------------------------------------------------------------------------------------------
    def on_offset_commit(
        self,
        consumer: OffsetClient,
        group_id: str,
        generation: int,
        member_id: str,
        offsets: dict[TP, int],
        req_id: int,
        group_instance_id: str | None = None,
    ) -> None:
        c = self.cluster
        err: KafkaError | None = None
        if not self.is_coordinator(group_id):
            err = NotCoordinatorError("this broker is not the group's coordinator; find it again")
        elif group_id in self.kip848.groups:
            g = self.group(group_id)
            m848 = self.kip848.groups[group_id].members.get(member_id)
            if m848 is None:
                err = UnknownMemberIdError("the group does not know this member id")
            elif generation != m848.epoch:
                err = StaleMemberEpochError(
                    "not the member's current epoch"
                )  # KIP-848 checks the member epoch instead of a generation
            if err is None:
                self._store_offsets(g, offsets, consumer, member_id)
        else:
            g = self.group(group_id)
            if generation >= 0 or member_id:  # a group member's commit is checked; manual assign uses -1
                if (verr := g.validate_member(member_id, group_instance_id)) is not None:
                    err = verr
                elif generation != g.generation:
                    err = IllegalGenerationError("not the group's current generation")
                elif g.state == COMPLETING:
                    err = RebalanceInProgressError("the group is rebalancing; join again")
            elif g.members:
                err = UnknownMemberIdError(
                    "the group does not know this member id"
                )  # a standalone commit into an active group is refused
            if err is None:
                self._store_offsets(g, offsets, consumer, member_id)
        c.network.send(
            self.broker.name,
            consumer.id,
            "OffsetCommitResponse",
            consumer.on_commit_response,
            group_id,
            req_id,
            err,
            dict(offsets),
        )

    def _store_offsets(self, g: Group, offsets: dict[TP, int], consumer, member_id: str) -> None:
        changed = {tp: o for tp, o in offsets.items() if g.offsets.get(tp) != o}
        g.offsets.update(offsets)
        if changed:
            self.append_offsets(g, changed)
            self.cluster.emit(
                "offsets_committed",
                f"{consumer.id} committed {_fmt_offsets(changed)} for group {g.group_id}",
                actors=(consumer.id, self.broker.name, g.group_id),
                group=g.group_id,
                offsets=dict(changed),
                member=member_id,
            )

    def append_offsets(self, g: Group, offsets: dict[TP, int]) -> None:
        """Offset commit records go into the group's __consumer_offsets partition (key: group, topic, partition)."""
        c = self.cluster
        tp = ("__consumer_offsets", c.offsets_partition(g.group_id))
        r = self.broker.replicas.get(tp)
        if r is None or not r.is_leader:
            return
        keys = tuple(f"{g.group_id}/{t}/{p}".encode() for (t, p) in offsets)
        values = tuple(str(o).encode() for o in offsets.values())
        size = BATCH_OVERHEAD + sum(record_size(k, v) for k, v in zip(keys, values, strict=True))
        now = c.now
        batch = RecordBatch(
            r.leo, r.leader_epoch, keys, values, (now,) * len(keys), None, -1, -1, -1, size, "none", size
        )
        self.broker.append_as_leader(r, batch)

    def on_offset_fetch(self, consumer: OffsetClient, group_id: str, tps: list[TP], req_id: int) -> None:
        if not self.is_coordinator(group_id):
            self._reply(
                consumer,
                "OffsetFetchResponse",
                consumer.on_offset_fetch_response,
                group_id,
                req_id,
                NotCoordinatorError("this broker is not the group's coordinator; find it again"),
                {},
            )
            return
        g = self.group(group_id)
        self._reply(
            consumer,
            "OffsetFetchResponse",
            consumer.on_offset_fetch_response,
            group_id,
            req_id,
            None,
            {tp: g.offsets[tp] for tp in tps if tp in g.offsets},
        )


def _fmt_tps(tps: list[TP]) -> str:
    return "[" + ", ".join(f"{t}-{p}" for t, p in sorted(tps)) + "]" if tps else "nothing (idle)"


def _fmt_tps_plain(tps: list[TP]) -> str:
    if not tps:
        return "no partitions"
    return ("partitions " if len(tps) > 1 else "partition ") + ", ".join(f"{t}-{p}" for t, p in sorted(tps))


def _fmt_offsets(offsets: dict[TP, int]) -> str:
    return ", ".join(f"{t}-{p}@{o}" for (t, p), o in sorted(offsets.items()))


__all__ = [
    "GroupCoordinator",
    "Group",
    "Member",
    "MemberIdRequired",
    "IllegalGenerationError",
    "RebalanceInProgressError",
    "UnknownMemberIdError",
]
