"""The group coordinator (server side of the classic consumer group protocol).

Follows Kafka's GroupCoordinator / ClassicGroup: JoinGroup (a new member first gets MEMBER_ID_REQUIRED,
KIP-394) -> the coordinator answers everyone once all known members rejoined or the rebalance timeout
passed -> the leader member computes the assignment -> SyncGroup hands it out -> Heartbeats keep members
alive for `session.timeout.ms` and carry REBALANCE_IN_PROGRESS when a new round starts. The first
rebalance of an empty group waits `group.initial.rebalance.delay.ms` for more members. Committed offsets
are written to the group's `__consumer_offsets` partition (a real log append on this broker) and kept in
memory; a coordinator that takes over a group loads them back from that log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import (
    IllegalGenerationError,
    KafkaError,
    RebalanceInProgressError,
    UnknownMemberIdError,
)
from .group848 import ConsumerProtocolCoordinator
from .records import BATCH_OVERHEAD, RecordBatch, record_size

if TYPE_CHECKING:
    from .broker import Broker

TP = tuple[str, int]
EMPTY, PREPARING, COMPLETING, STABLE, DEAD = "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"


class MemberIdRequired(KafkaError):
    name, code = "MEMBER_ID_REQUIRED", 79


class Member:
    __slots__ = ("member_id", "client_id", "consumer", "topics", "protocols", "owned", "session_timeout_ms",
                 "rebalance_timeout_ms", "awaiting_join", "awaiting_sync", "assignment", "session_timer")

    def __init__(self, member_id: str, consumer, topics: list[str], protocols: list[str], owned: list[TP],
                 session_timeout_ms: int, rebalance_timeout_ms: int) -> None:
        self.member_id = member_id
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
        self.session_timer = None


class Group:
    __slots__ = ("group_id", "state", "generation", "protocol", "leader", "members", "pending_members",
                 "offsets", "join_timer", "initial_delay_until", "assignment_done")

    def __init__(self, group_id: str) -> None:
        self.group_id = group_id
        self.state = EMPTY
        self.generation = 0
        self.protocol: str | None = None
        self.leader: str | None = None
        self.members: dict[str, Member] = {}
        self.pending_members: set[str] = set()
        self.offsets: dict[TP, int] = {}
        self.join_timer = None
        self.initial_delay_until: int | None = None
        self.assignment_done = False


class GroupCoordinator:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.groups: dict[str, Group] = {}
        self._member_seq = 0
        self.kip848 = ConsumerProtocolCoordinator(self)

    @property
    def cluster(self):
        return self.broker.cluster

    def _emit(self, kind: str, summary: str, group: Group, **data) -> None:
        self.cluster.emit(kind, summary, actors=(self.broker.name, group.group_id), group=group.group_id, **data)

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
    def on_join(self, consumer, group_id: str, member_id: str, topics: list[str], protocols: list[str],
                owned: list[TP], session_timeout_ms: int, rebalance_timeout_ms: int) -> None:
        c = self.cluster
        if not self.is_coordinator(group_id):
            self._reply(consumer, "JoinGroupResponse", consumer.on_join_response, group_id, "NOT_COORDINATOR", None)
            return
        bc = c.broker_config
        if not bc.group_min_session_timeout_ms <= session_timeout_ms <= bc.group_max_session_timeout_ms:
            self._reply(consumer, "JoinGroupResponse", consumer.on_join_response, group_id,
                        "INVALID_SESSION_TIMEOUT", None)
            return
        g = self.group(group_id)
        if not member_id:
            self._member_seq += 1
            new_id = f"{consumer.id}-{c.rng.getrandbits(32):08x}"
            g.pending_members.add(new_id)
            self._reply(consumer, "JoinGroupResponse", consumer.on_join_response, group_id, "MEMBER_ID_REQUIRED",
                        {"member_id": new_id})
            return
        if member_id not in g.members and member_id not in g.pending_members:
            self._reply(consumer, "JoinGroupResponse", consumer.on_join_response, group_id, "UNKNOWN_MEMBER_ID", None)
            return
        g.pending_members.discard(member_id)
        m = g.members.get(member_id)
        new = m is None
        if new:
            m = g.members[member_id] = Member(member_id, consumer, topics, protocols, owned, session_timeout_ms,
                                              rebalance_timeout_ms)
            self._emit("member_joined", f"{consumer.id} joined group {group_id} as member {member_id}", g,
                       member=member_id)
        else:
            m.topics, m.protocols, m.owned = topics, protocols, owned
        m.awaiting_join = True
        self._touch_session(g, m)
        if g.state in (EMPTY, STABLE, COMPLETING):
            reason = f"{consumer.id} joined" if new else f"{consumer.id} rejoined"
            self._prepare_rebalance(g, reason)
        elif g.state == PREPARING:
            if g.initial_delay_until is not None and new:
                # InitialDelayedJoin: each newcomer extends the wait, up to the rebalance timeout
                delay = c.broker_config.group_initial_rebalance_delay_ms
                g.initial_delay_until = c.now + delay
                self._schedule_join_completion(g, delay)
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
                self._reply(m.consumer, "SyncGroupResponse", m.consumer.on_sync_response, g.group_id,
                            "REBALANCE_IN_PROGRESS", g.generation, None)
        self._emit("rebalance_started", f"Group {g.group_id} is rebalancing ({reason}): every member must "
                   f"rejoin before generation {g.generation + 1} starts", g, reason=reason)
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
        g.join_timer = self.cluster.scheduler.after(delay, self._join_deadline, g.group_id, self.broker.epoch,
                                                     timer=True)

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
        # rebalance timeout: members that did not rejoin are removed (Kafka: ClassicGroup.maybeCompleteJoin)
        for m in [m for m in g.members.values() if not m.awaiting_join]:
            self._remove_member(g, m, f"{m.client_id} did not rejoin within the rebalance timeout", rebalance=False)
        self._complete_join(g)

    def _maybe_complete_join(self, g: Group) -> None:
        if g.state == PREPARING and g.initial_delay_until is None and g.members \
                and all(m.awaiting_join for m in g.members.values()):
            self._complete_join(g)

    def _complete_join(self, g: Group) -> None:
        if g.join_timer is not None:
            g.join_timer.cancel()
            g.join_timer = None
        if not g.members:
            g.state = EMPTY
            g.generation += 1
            g.leader = None
            self._emit("rebalance_completed", f"Group {g.group_id} has no members left: it is Empty "
                       f"(its committed offsets stay)", g, generation=g.generation)
            return
        g.generation += 1
        g.protocol = self._choose_protocol(g)
        if g.leader not in g.members:
            g.leader = next(iter(g.members))
        g.state = COMPLETING
        members_meta = {mid: (m.topics, list(m.owned)) for mid, m in g.members.items()}
        for m in g.members.values():
            m.awaiting_join = False
            m.awaiting_sync = True
            payload = {"member_id": m.member_id, "generation": g.generation, "protocol": g.protocol,
                       "leader": g.leader, "members": members_meta if m.member_id == g.leader else None}
            self._reply(m.consumer, "JoinGroupResponse", m.consumer.on_join_response, g.group_id, None, payload)
            self._touch_session(g, m)
        leader = g.members[g.leader]
        self._emit("rebalance_completed", f"Group {g.group_id} generation {g.generation}: {len(g.members)} "
                   f"member(s) joined; leader {leader.client_id} will compute the assignment with the "
                   f"{g.protocol} assignor", g, generation=g.generation, protocol=g.protocol)

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
    def on_sync(self, consumer, group_id: str, generation: int, member_id: str,
                assignments: dict[str, list[TP]] | None) -> None:
        g = self.groups.get(group_id)
        if g is None or not self.is_coordinator(group_id) or member_id not in g.members:
            self._reply(consumer, "SyncGroupResponse", consumer.on_sync_response, group_id, "UNKNOWN_MEMBER_ID",
                        -1, None)
            return
        if generation != g.generation:
            self._reply(consumer, "SyncGroupResponse", consumer.on_sync_response, group_id, "ILLEGAL_GENERATION",
                        -1, None)
            return
        if g.state == PREPARING:
            self._reply(consumer, "SyncGroupResponse", consumer.on_sync_response, group_id, "REBALANCE_IN_PROGRESS",
                        -1, None)
            return
        m = g.members[member_id]
        self._touch_session(g, m)
        if g.state == STABLE:
            self._reply(consumer, "SyncGroupResponse", consumer.on_sync_response, group_id, None, g.generation,
                        list(m.assignment))
            return
        if member_id == g.leader and assignments is not None:
            for mid, mm in g.members.items():
                mm.assignment = list(assignments.get(mid, []))
            g.state = STABLE
            g.assignment_done = True
            table = "; ".join(f"{mm.client_id}: {_fmt_tps(mm.assignment)}" for mm in g.members.values())
            self._emit("assignment_received", f"Group {g.group_id} is Stable (generation {g.generation}). "
                       f"Assignment: {table}", g, generation=g.generation,
                       assignment={mm.client_id: list(mm.assignment) for mm in g.members.values()})
            for mm in g.members.values():
                if mm.awaiting_sync:
                    mm.awaiting_sync = False
                    self._reply(mm.consumer, "SyncGroupResponse", mm.consumer.on_sync_response, g.group_id, None,
                                g.generation, list(mm.assignment))
        else:
            m.awaiting_sync = True  # answered when the leader's SyncGroup arrives

    # -- Heartbeat / LeaveGroup / session expiry -----------------------------------------------------------
    def on_heartbeat(self, consumer, group_id: str, generation: int, member_id: str) -> None:
        g = self.groups.get(group_id)
        if g is None or not self.is_coordinator(group_id):
            err = "NOT_COORDINATOR"
        elif member_id not in g.members:
            err = "UNKNOWN_MEMBER_ID"
        else:
            self._touch_session(g, g.members[member_id])
            if g.state in (PREPARING,):
                err = "REBALANCE_IN_PROGRESS"
            elif generation != g.generation:
                err = "ILLEGAL_GENERATION" if g.state == STABLE else "REBALANCE_IN_PROGRESS"
            else:
                err = None
        self._reply(consumer, "HeartbeatResponse", consumer.on_heartbeat_response, group_id, err)

    def on_leave(self, consumer, group_id: str, member_id: str) -> None:
        g = self.groups.get(group_id)
        if g is None or member_id not in g.members:
            return
        self._remove_member(g, g.members[member_id], f"{consumer.id} left the group (LeaveGroup)")

    def _touch_session(self, g: Group, m: Member) -> None:
        if m.session_timer is not None:
            m.session_timer.cancel()
        m.session_timer = self.cluster.scheduler.after(m.session_timeout_ms, self._session_expired, g.group_id,
                                                        m.member_id, self.broker.epoch, timer=True)

    def _session_expired(self, group_id: str, member_id: str, epoch: int) -> None:
        g = self.groups.get(group_id)
        if g is None or epoch != self.broker.epoch or member_id not in g.members:
            return
        m = g.members[member_id]
        if m.awaiting_join and g.state == PREPARING:
            return  # a member waiting in JoinGroup is kept until the rebalance timeout decides
        self.cluster.emit("member_expired", f"The coordinator heard nothing from {m.client_id} for "
                          f"session.timeout.ms={m.session_timeout_ms} ms: it is removed from group {group_id}",
                          actors=(self.broker.name, group_id, m.client_id), group=group_id, member=member_id)
        self._remove_member(g, m, f"{m.client_id}'s session expired")

    def _remove_member(self, g: Group, m: Member, reason: str, rebalance: bool = True) -> None:
        if m.session_timer is not None:
            m.session_timer.cancel()
        del g.members[m.member_id]
        if m.awaiting_join:
            self._reply(m.consumer, "JoinGroupResponse", m.consumer.on_join_response, g.group_id,
                        "UNKNOWN_MEMBER_ID", None)
        self._emit("member_left", f"{m.client_id} is no longer a member of group {g.group_id}: {reason}", g,
                   member=m.member_id, client=m.client_id)
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
            self._emit("rebalance_completed", f"Group {g.group_id} has no members left: it is Empty (its "
                       f"committed offsets stay)", g, generation=g.generation)

    # -- offsets ------------------------------------------------------------------------------------------------
    def on_offset_commit(self, consumer, group_id: str, generation: int, member_id: str,
                         offsets: dict[TP, int], req_id: int) -> None:
        c = self.cluster
        err: str | None = None
        if not self.is_coordinator(group_id):
            err = "NOT_COORDINATOR"
        elif group_id in self.kip848.groups:
            g = self.group(group_id)
            m848 = self.kip848.groups[group_id].members.get(member_id)
            if m848 is None:
                err = "UNKNOWN_MEMBER_ID"
            elif generation != m848.epoch:
                err = "STALE_MEMBER_EPOCH"  # KIP-848 checks the member epoch instead of a generation
            if err is None:
                self._store_offsets(g, offsets, consumer, member_id)
        else:
            g = self.group(group_id)
            if generation >= 0 or member_id:  # a group member's commit is checked; manual assign uses -1
                if member_id not in g.members:
                    err = "UNKNOWN_MEMBER_ID"
                elif generation != g.generation:
                    err = "ILLEGAL_GENERATION"
                elif g.state == COMPLETING:
                    err = "REBALANCE_IN_PROGRESS"
            elif g.members:
                err = "UNKNOWN_MEMBER_ID"  # a standalone commit into an active group is refused
            if err is None:
                self._store_offsets(g, offsets, consumer, member_id)
        c.network.send(self.broker.name, consumer.id, "OffsetCommitResponse", consumer.on_commit_response,
                       group_id, req_id, err, dict(offsets))

    def _store_offsets(self, g: Group, offsets: dict[TP, int], consumer, member_id: str) -> None:
        changed = {tp: o for tp, o in offsets.items() if g.offsets.get(tp) != o}
        g.offsets.update(offsets)
        if changed:
            self._append_offsets(g, changed)
            self.cluster.emit("offsets_committed", f"{consumer.id} committed {_fmt_offsets(changed)} for group "
                              f"{g.group_id}", actors=(consumer.id, self.broker.name, g.group_id),
                              group=g.group_id, offsets=dict(changed), member=member_id)

    def _append_offsets(self, g: Group, offsets: dict[TP, int]) -> None:
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
        batch = RecordBatch(r.leo, r.leader_epoch, keys, values, (now,) * len(keys), None, -1, -1, -1, size,
                            "none", size)
        tcfg = c.topic_config(tp[0])
        r.log.append(batch, now, tcfg.segment_bytes, tcfg.segment_ms)
        self.broker._wake_fetches(r, replica_only=True)
        self.broker._maybe_advance_hw(r)

    def on_offset_fetch(self, consumer, group_id: str, tps: list[TP], req_id: int) -> None:
        if not self.is_coordinator(group_id):
            self._reply(consumer, "OffsetFetchResponse", consumer.on_offset_fetch_response, group_id, req_id,
                        "NOT_COORDINATOR", {})
            return
        g = self.group(group_id)
        self._reply(consumer, "OffsetFetchResponse", consumer.on_offset_fetch_response, group_id, req_id, None,
                    {tp: g.offsets[tp] for tp in tps if tp in g.offsets})


def _fmt_tps(tps: list[TP]) -> str:
    return "[" + ", ".join(f"{t}-{p}" for t, p in sorted(tps)) + "]" if tps else "nothing (idle)"


def _fmt_offsets(offsets: dict[TP, int]) -> str:
    return ", ".join(f"{t}-{p}@{o}" for (t, p), o in sorted(offsets.items()))


__all__ = ["GroupCoordinator", "Group", "Member", "MemberIdRequired", "IllegalGenerationError",
           "RebalanceInProgressError", "UnknownMemberIdError"]
