"""Share groups (KIP-932, "Queues for Kafka", GA in Kafka 4.1): many consumers read one partition.

Unlike a consumer group, a share group hands *records*, not partitions, to its members. The partition
leader keeps a share-partition per (group, partition): from the share-partition start offset (SPSO) on,
each in-flight record is Available, Acquired (by one member, under a lock of
`group.share.record.lock.duration.ms`), Acknowledged or Archived. A consumer's ShareFetch acquires
available records and counts a delivery; it then acknowledges each record ACCEPT (done), RELEASE (give it
back for redelivery) or REJECT (unprocessable: archive). A lock that expires releases the record. A record
whose delivery count reaches the broker's `group.share.delivery.count.limit` (default 5, a setting of the
group, not of its members; the KIP draft called it the delivery attempt limit) is archived instead of redelivered, so a poison message cannot loop forever.

Simplifications, said plainly: the share-partition state lives with the cluster (Kafka persists it in
`__share_group_state`, so it likewise survives a leader change); the share group coordinator's assignment
(Kafka's SimpleAssignor) is recomputed at once when members join or leave, then travels to the members.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NamedTuple, Self

from pydantic import Field

from . import args
from .config import KafkaConfig
from .errors import ConfigError, IllegalStateError

if TYPE_CHECKING:
    from .contracts import World

TP = tuple[str, int]
AVAILABLE, ACQUIRED, ACKNOWLEDGED, ARCHIVED = "Available", "Acquired", "Acknowledged", "Archived"
ACK_TYPES = ("ACCEPT", "RELEASE", "REJECT")
TICK_MS = 500


# ShareConsumerConfig.SHARE_GROUP_UNSUPPORTED_CONFIGS: the Java share consumer throws ConfigException for these
_UNSUPPORTED = (
    "auto.offset.reset",
    "enable.auto.commit",
    "group.instance.id",
    "isolation.level",
    "partition.assignment.strategy",
    "interceptor.classes",
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "group.protocol",
    "group.remote.assignor",
)
# Settings of the share group that live on the broker (ShareGroupConfig), not on its members
_BROKER_SIDE = ("group.share.delivery.count.limit", "share.delivery.count.limit")


class ShareConsumerConfig(KafkaConfig):
    """Share consumer and share group configs (Kafka 4.x names and defaults)."""

    scope: ClassVar[str] = "share consumer"

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None = None, *, where: str = "") -> Self:
        """Refuse, saying why, what a real KafkaShareConsumer refuses, before the generic unknown-key check."""
        keys = [k for k in (raw or {}) if isinstance(raw, Mapping)]
        bad = [k for k in _UNSUPPORTED if k in keys]
        if bad:
            raise ConfigError(
                f"{', '.join(bad)} cannot be set when using a share group{_in(where)}: a share "
                f"consumer has no partition assignment, offsets or session of its own"
            )
        limit = next((k for k in _BROKER_SIDE if k in keys), None)
        if limit is not None:
            raise ConfigError(
                f"{limit} cannot be set on a share consumer{_in(where)}: the delivery-count limit is a "
                f"setting of the share group on the broker (broker config "
                f"group.share.delivery.count.limit, default 5, allowed 2..10; in Kafka also the "
                f"group config share.delivery.count.limit), the same for every member"
            )
        return super().parse(raw, where=where)

    share_auto_offset_reset: Literal["latest", "earliest"] = Field("latest", alias="share.auto.offset.reset")
    share_acknowledgement_mode: Literal["implicit", "explicit"] = Field(
        "implicit", alias="share.acknowledgement.mode"
    )
    record_lock_duration_ms: int = Field(30000, alias="group.share.record.lock.duration.ms", ge=1000)
    max_poll_records: int = Field(500, alias="max.poll.records", ge=1)
    session_timeout_ms: int = Field(45000, alias="group.share.session.timeout.ms", ge=1)
    heartbeat_interval_ms: int = Field(5000, alias="group.share.heartbeat.interval.ms", ge=1)


def _in(where: str) -> str:
    return f" (in {where})" if where else ""


class ShareRecord(NamedTuple):
    """A record handed to a share consumer: the usual coordinates plus how often it was delivered."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: int
    delivery_count: int


class InFlight:
    __slots__ = ("state", "delivery_count", "owner", "lock_until")

    def __init__(self) -> None:
        self.state = AVAILABLE
        self.delivery_count = 0
        self.owner: str | None = None
        self.lock_until = 0


class SharePartition:
    """The leader's state of one partition for one share group (Kafka's SharePartition)."""

    def __init__(self, group_id: str, tp: TP, start_offset: int, lock_ms: int, limit: int) -> None:
        self.group_id = group_id
        self.tp = tp
        self.start_offset = start_offset  # SPSO
        self.next_offset = start_offset  # the first offset never fetched yet
        self.records: dict[int, InFlight] = {}
        self.lock_ms = lock_ms
        self.limit = limit
        self.archived: list[
            int
        ] = []  # offsets archived lately, kept after the SPSO passes them: for the views

    @property
    def end_offset(self) -> int:
        """SPEO: the last offset handed out so far + 1."""
        return self.next_offset

    def advance_start(self) -> None:
        """The SPSO moves past records that are finished (acknowledged or archived)."""
        while self.start_offset < self.next_offset:
            rec = self.records.get(self.start_offset)
            if rec is not None and rec.state not in (ACKNOWLEDGED, ARCHIVED):
                break
            if rec is not None and rec.state == ARCHIVED:
                self.archived = [*self.archived[-19:], self.start_offset]
            self.records.pop(self.start_offset, None)
            self.start_offset += 1

    def expire_locks(self, now: int) -> list[tuple[int, str]]:
        """Acquisition locks that ran out: the record goes back (or is archived at the delivery limit)."""
        out = []
        for off, rec in self.records.items():
            if rec.state == ACQUIRED and rec.lock_until <= now:
                owner = rec.owner or "?"
                self.release(rec)
                out.append((off, owner))
        self.advance_start()
        return out

    def release(self, rec: InFlight) -> None:
        rec.owner = None
        rec.state = ARCHIVED if rec.delivery_count >= self.limit else AVAILABLE


class ShareGroup:
    def __init__(self, group_id: str) -> None:
        self.group_id = group_id
        self.members: dict[str, ShareConsumer] = {}
        self.assignment: dict[str, list[TP]] = {}
        self.epoch = 0


def simple_assign(members: list[str], partitions: list[TP]) -> dict[str, list[TP]]:
    """Every partition gets at least one member and every member at least one partition (KIP-932's
    SimpleAssignor goal): with more members than partitions, members share partitions."""
    out: dict[str, list[TP]] = {m: [] for m in members}
    if not members or not partitions:
        return out
    if len(members) >= len(partitions):
        for i, m in enumerate(sorted(members)):
            out[m].append(partitions[i % len(partitions)])
    else:
        for i, tp in enumerate(partitions):
            out[sorted(members)[i % len(members)]].append(tp)
    return {m: sorted(v) for m, v in out.items()}


class ShareManager:
    """Share groups and share-partitions of one cluster, and the ShareFetch / ShareAcknowledge handlers."""

    def __init__(self, cluster: World) -> None:
        self.cluster = cluster
        self.groups: dict[str, ShareGroup] = {}
        self.partitions: dict[tuple[str, TP], SharePartition] = {}
        self.ticking = False

    # -- membership --------------------------------------------------------------------------------------------
    def join(self, consumer: ShareConsumer) -> None:
        g = self.groups.setdefault(consumer.group_id, ShareGroup(consumer.group_id))
        g.members[consumer.id] = consumer
        self._reassign(g, f"{consumer.id} joined")

    def leave(self, consumer: ShareConsumer, why: str) -> None:
        g = self.groups.get(consumer.group_id)
        if g is None or consumer.id not in g.members:
            return
        del g.members[consumer.id]
        for (gid, _tp), sp in self.partitions.items():
            if gid == g.group_id:
                for rec in sp.records.values():
                    if rec.state == ACQUIRED and rec.owner == consumer.id:
                        sp.release(rec)
                sp.advance_start()
        self._reassign(g, why)

    def _reassign(self, g: ShareGroup, why: str) -> None:
        c = self.cluster
        topics = sorted({t for m in g.members.values() for t in m.topics if t in c.topics})
        parts = [(t, p) for t in topics for p in range(c.topics[t].partitions)]
        g.assignment = simple_assign(list(g.members), parts)
        g.epoch += 1
        table = "; ".join(
            f"{m}: [{', '.join(f'{t}-{p}' for t, p in tps)}]" for m, tps in g.assignment.items()
        )
        c.emit(
            "assignment_received",
            f"Share group {g.group_id} (epoch {g.epoch}, {why}): {table}. Members "
            f"may share a partition: the leader hands out records, not partitions",
            actors=(g.group_id,),
            group=g.group_id,
            share=True,
            assignment={m: list(v) for m, v in g.assignment.items()},
        )
        for m in g.members.values():
            m.assignment = list(g.assignment.get(m.id, []))

    # -- share-partitions ----------------------------------------------------------------------------------
    def share_partition(
        self, group_id: str, tp: TP, reset: str, cfg: ShareConsumerConfig
    ) -> SharePartition | None:
        key = (group_id, tp)
        sp = self.partitions.get(key)
        if sp is None:
            r = self.cluster.leader_replica(tp)
            if r is None:
                return None
            start = r.log.log_start_offset if reset == "earliest" else r.hw
            limit = (
                self.cluster.broker_config.group_share_delivery_count_limit
            )  # ShareGroupConfig, on the broker
            sp = self.partitions[key] = SharePartition(
                group_id, tp, start, cfg.record_lock_duration_ms, limit
            )
        return sp

    def on_share_fetch(
        self,
        broker_id: int,
        consumer: ShareConsumer,
        tps: list[TP],
        acks: dict[TP, dict[int, str]],
        max_records: int,
    ) -> None:
        """ShareFetch (KIP-932): apply piggy-backed acknowledgements, then acquire available records."""
        c = self.cluster
        b = c.brokers[broker_id]
        now = c.now
        out: dict[TP, list[ShareRecord]] = {}
        for tp, by_offset in acks.items():
            self._acknowledge(consumer, tp, by_offset)
        budget = max_records
        for tp in tps:
            r = b.replicas.get(tp)
            if r is None or not r.is_leader or budget <= 0:
                continue
            sp = self.share_partition(
                consumer.group_id, tp, consumer.config.share_auto_offset_reset, consumer.config
            )
            if sp is None:
                continue
            self._expire(sp, now)
            got = self._acquire(sp, r, consumer.id, budget, now)
            if got:
                out[tp] = got
                budget -= len(got)
        c.network.send(
            b.name, consumer.id, "ShareFetchResponse", consumer.on_share_fetch_response, broker_id, out
        )

    def _acquire(self, sp: SharePartition, r, member: str, budget: int, now: int) -> list[ShareRecord]:
        taken: list[ShareRecord | None] = []  # None: a record no longer there
        lock_until = now + sp.lock_ms
        # redeliveries first (released or lock-expired records), then records never handed out
        for off in sorted(o for o, rec in sp.records.items() if rec.state == AVAILABLE):
            if len(taken) >= budget:
                break
            taken.append(self._take(sp, r, off, member, lock_until))
        upto = r.hw
        while len(taken) < budget and sp.next_offset < upto:
            off = sp.next_offset
            sp.next_offset += 1
            if off < r.log.log_start_offset:
                continue
            sp.records[off] = InFlight()
            taken.append(self._take(sp, r, off, member, lock_until))
        got = [g for g in taken if g is not None]
        if got:
            redelivered = [g for g in got if g.delivery_count > 1]
            extra = (
                f"; {len(redelivered)} of them redelivered (delivery count "
                f"{max(g.delivery_count for g in redelivered)})"
                if redelivered
                else ""
            )
            self.cluster.emit(
                "share_acquired",
                f"{member} acquired {len(got)} record(s) of {sp.tp[0]}-{sp.tp[1]} "
                f"(offsets {got[0].offset}..{got[-1].offset}) for share group {sp.group_id}, locked "
                f"for {sp.lock_ms} ms{extra}",
                actors=(member, f"broker-{r.broker_id}"),
                topic=sp.tp[0],
                partition=sp.tp[1],
                group=sp.group_id,
                offsets=[g.offset for g in got],
                delivery_counts=[g.delivery_count for g in got],
            )
        return got

    def _take(self, sp: SharePartition, r, off: int, member: str, lock_until: int) -> ShareRecord | None:
        rec = sp.records[off]
        rec.state = ACQUIRED
        rec.owner = member
        rec.lock_until = lock_until
        rec.delivery_count += 1
        for b in r.log.batches_at(off):
            i = next((i for i, o in enumerate(b.record_offsets()) if o == off), None)
            if i is None:
                break
            return ShareRecord(
                sp.tp[0], sp.tp[1], off, b.keys[i], b.values[i], b.timestamps[i], rec.delivery_count
            )
        rec.state = ARCHIVED  # compacted or deleted meanwhile: nothing to deliver
        return None

    def _acknowledge(self, consumer: ShareConsumer, tp: TP, by_offset: dict[int, str]) -> None:
        sp = self.partitions.get((consumer.group_id, tp))
        if sp is None:
            return
        counts = {"ACCEPT": 0, "RELEASE": 0, "REJECT": 0}
        archived = []
        for off, kind in sorted(by_offset.items()):
            rec = sp.records.get(off)
            if rec is None or rec.state != ACQUIRED or rec.owner != consumer.id:
                continue  # the lock expired and someone else may have it now: the ack is ignored
            counts[kind] += 1
            if kind == "ACCEPT":
                rec.state, rec.owner = ACKNOWLEDGED, None
            elif kind == "REJECT":
                rec.state, rec.owner = ARCHIVED, None
            else:
                sp.release(rec)
                if rec.state == ARCHIVED:
                    archived.append(off)
        sp.advance_start()
        if any(counts.values()):
            done = {"ACCEPT": "accepted", "RELEASE": "released", "REJECT": "rejected"}
            parts = [f"{n} {done[k]}" for k, n in counts.items() if n]
            arch = (
                f"; offsets {archived} reached group.share.delivery.count.limit={sp.limit} and are archived"
                if archived
                else ""
            )
            self.cluster.emit(
                "share_acknowledged",
                f"{consumer.id} acknowledged records of {tp[0]}-{tp[1]}: "
                f"{', '.join(parts)}{arch} (share-partition start offset now {sp.start_offset})",
                actors=(consumer.id,),
                topic=tp[0],
                partition=tp[1],
                group=consumer.group_id,
                counts=counts,
                archived=archived,
            )

    def _expire(self, sp: SharePartition, now: int) -> None:
        gone = sp.expire_locks(now)
        if gone:
            archived = [o for o, _ in gone if sp.records.get(o) is None or sp.records[o].state == ARCHIVED]
            self.cluster.emit(
                "share_lock_expired",
                f"Acquisition lock of {len(gone)} record(s) of {sp.tp[0]}-"
                f"{sp.tp[1]} expired after group.share.record.lock.duration.ms={sp.lock_ms} ms: "
                f"they are available again"
                + (f" (offsets {archived} archived: delivery limit)" if archived else ""),
                actors=(sp.group_id,),
                topic=sp.tp[0],
                partition=sp.tp[1],
                group=sp.group_id,
            )

    def start_ticking(self) -> None:
        if not self.ticking:
            self.ticking = True
            self.cluster.scheduler.after(TICK_MS, self.tick)

    def tick(self) -> None:
        """Lock expiry runs even when nobody fetches (Kafka: the acquisition lock timer)."""
        now = self.cluster.now
        for sp in self.partitions.values():
            self._expire(sp, now)
        self.cluster.scheduler.after(TICK_MS, self.tick)


class ShareConsumer:
    """KafkaShareConsumer: subscribe, poll, acknowledge (ACCEPT / RELEASE / REJECT), commit."""

    def __init__(
        self,
        cluster: World,
        consumer_id: str,
        group_id: str,
        topics: list[str],
        config: dict[str, Any] | None = None,
    ) -> None:
        self.cluster = cluster
        self.id = consumer_id
        self.group_id = group_id
        self.topics = list(topics)
        self.config = ShareConsumerConfig.parse(config, where=f"share consumer {consumer_id!r}")
        self.assignment: list[TP] = []
        self.alive = True
        self.state = "stable"
        self.buffer: list[ShareRecord] = []
        self.fetching: set[int] = set()
        self.delivered: dict[TP, dict[int, ShareRecord]] = {}  # handed to the app, not acknowledged yet
        self.pending_acks: dict[TP, dict[int, str]] = {}
        self.received = 0
        self.history: list[ShareRecord] = []
        self.auto_interval: int | None = None
        self.auto_release: set[bytes] = set()

    # -- public API ------------------------------------------------------------------------------------------
    def poll(self, timeout_ms: int = 1000) -> list[ShareRecord]:
        """Implicit mode accepts what the last poll returned; then fetch (running simulated time) and return."""
        args.whole("poll()", "timeout_ms", timeout_ms, unit="ms")
        if not self.alive:
            raise IllegalStateError(f"share consumer {self.id} is closed")
        c = self.cluster
        if self.config.share_acknowledgement_mode == "implicit":
            self._ack_all_delivered("ACCEPT")
        out = self._drain()
        if out or timeout_ms <= 0 or c.in_simulation:
            if not out:
                self._fetch()
            return out
        self._fetch()
        c.run_until(lambda: bool(self.buffer) or not self.alive, timeout_ms, quiet=True)
        return self._drain()

    def acknowledge(self, record: ShareRecord, kind: str = "ACCEPT") -> None:
        """Explicit acknowledgement of one delivered record (sent with the next fetch or commit)."""
        if not isinstance(record, ShareRecord):
            raise args.bad("acknowledge()", "record", "a record this consumer's poll() returned", record)
        if not isinstance(kind, str):
            raise args.bad("acknowledge()", "kind", f"one of {', '.join(ACK_TYPES)}", kind)
        kind = kind.upper()
        if kind not in ACK_TYPES:
            raise ConfigError(f"acknowledgement type must be one of {', '.join(ACK_TYPES)}, got {kind!r}")
        tp = (record.topic, record.partition)
        if record.offset not in self.delivered.get(tp, {}):
            raise IllegalStateError(
                f"{record.topic}-{record.partition}@{record.offset} was not delivered to "
                f"{self.id} by its last poll (or is already acknowledged)"
            )
        del self.delivered[tp][record.offset]
        self.pending_acks.setdefault(tp, {})[record.offset] = kind

    def commit(self) -> None:
        """commitSync: send the pending acknowledgements now (ShareAcknowledge)."""
        if self.config.share_acknowledgement_mode == "implicit":
            self._ack_all_delivered("ACCEPT")
        c = self.cluster
        acks, self.pending_acks = self.pending_acks, {}
        by_leader: dict[int, dict[TP, dict[int, str]]] = {}
        for tp, offs in acks.items():
            leader = c.leaders_of(tp[0])[tp[1]] if tp[0] in c.topics else None
            if leader is not None:
                by_leader.setdefault(leader, {})[tp] = offs
        for leader, part in by_leader.items():
            b = c.brokers[leader]
            c.network.send(
                self.id, b.name, "ShareAcknowledge", c.shares.on_share_fetch, leader, self, [], part, 0
            )

    def close(self) -> None:
        if not self.alive:
            return
        self.commit()
        self.alive = False
        self.state = "closed"
        self.cluster.shares.leave(self, f"{self.id} closed")

    def crash(self) -> None:
        """Dies without acknowledging: its acquired records come back when their locks expire."""
        if not self.alive:
            return
        self.alive = False
        self.state = "crashed"
        self.cluster.emit(
            "consumer_crashed",
            f"Share consumer {self.id} crashed holding its acquired records; "
            f"they become available again when their locks expire",
            actors=(self.id,),
            group=self.group_id,
        )
        self.cluster.scheduler.after(self.config.session_timeout_ms, self._expired)

    def _expired(self) -> None:
        self.cluster.shares.leave(self, f"{self.id}'s session expired")

    def start(self, poll_interval_ms: int = 100, release_keys: list[bytes] | None = None) -> None:
        """Let the simulation poll (and accept) automatically; records with `release_keys` are RELEASEd,
        to show redelivery and the delivery limit."""
        args.whole("start()", "poll_interval_ms", poll_interval_ms, minimum=1, unit="ms")
        self.auto_interval = poll_interval_ms
        self.auto_release = set(release_keys or [])
        self.cluster.scheduler.after(poll_interval_ms, self._auto_poll)

    # -- internals -------------------------------------------------------------------------------------------
    def _auto_poll(self) -> None:
        if not self.alive or self.auto_interval is None:
            return
        if self.auto_release:
            for tp, recs in list(self.delivered.items()):
                for off, rec in list(recs.items()):
                    kind = "RELEASE" if rec.key in self.auto_release else "ACCEPT"
                    del recs[off]
                    self.pending_acks.setdefault(tp, {})[off] = kind
        self.poll(0)
        self.cluster.scheduler.after(self.auto_interval, self._auto_poll)

    def _ack_all_delivered(self, kind: str) -> None:
        for tp, recs in self.delivered.items():
            for off in recs:
                self.pending_acks.setdefault(tp, {})[off] = kind
        self.delivered = {}

    def _drain(self) -> list[ShareRecord]:
        out, self.buffer = (
            self.buffer[: self.config.max_poll_records],
            self.buffer[self.config.max_poll_records :],
        )
        for r in out:
            self.delivered.setdefault((r.topic, r.partition), {})[r.offset] = r
        self.received += len(out)
        self.history.extend(out)
        del self.history[:-2000]
        return out

    def _fetch(self) -> None:
        c = self.cluster
        by_leader: dict[int, list[TP]] = {}
        for tp in self.assignment:
            leaders = c.leaders_of(tp[0])
            leader = leaders[tp[1]] if tp[1] < len(leaders) else None
            if leader is not None and leader not in self.fetching:
                by_leader.setdefault(leader, []).append(tp)
        acks, self.pending_acks = self.pending_acks, {}
        for leader, tps in by_leader.items():
            b = c.brokers[leader]
            mine = {tp: acks.pop(tp) for tp in list(acks) if tp in tps}
            self.fetching.add(leader)
            c.network.send(
                self.id,
                b.name,
                "ShareFetch",
                c.shares.on_share_fetch,
                leader,
                self,
                tps,
                mine,
                self.config.max_poll_records,
            )
        for tp, offs in acks.items():  # acknowledgements for partitions we no longer fetch from
            self.pending_acks.setdefault(tp, {}).update(offs)

    def on_share_fetch_response(self, broker_id: int, records: dict[TP, list[ShareRecord]]) -> None:
        self.fetching.discard(broker_id)
        if not self.alive:
            return
        for recs in records.values():
            self.buffer.extend(recs)

    def on_disconnect(self, broker_id: int) -> None:
        self.fetching.discard(broker_id)
