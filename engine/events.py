"""The append-only event log: every state change a student should see, one plain-English sentence each.

Events are per request or record batch, never per record, so bulk runs stay fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    time_ms: int
    kind: str  # see KINDS
    summary: str  # one sentence a student can read
    actors: tuple[str, ...] = ()  # "broker-1", "p1", "c1", "g1", "controller"
    topic: str | None = None
    partition: int | None = None
    data: dict[str, Any] = field(default_factory=dict)  # offsets, counts, ... for views and checks

    def __deepcopy__(self, memo: dict) -> Event:  # immutable: checkpoints share it
        return self


# Event kinds, grouped so the UI can offer "run until the next ...".
REBALANCE_KINDS = frozenset({"rebalance_started", "rebalance_completed", "assignment_received"})
ELECTION_KINDS = frozenset({"leader_elected", "partition_offline", "controller_elected"})
# What ends a Playground Step (engine/steps.py). A Step is a moment a student can see in the picture or the
# narration; three classes of kinds:
# - RIDE_ALONG_KINDS never end a step: they change nothing drawn (a request lost on its way to a broker that is
#   already drawn down, the log's own "older events trimmed" note); they are listed under "also in this step".
# - ROUTINE_KINDS are the steady data flow (a batch sent, appended, replicated, acknowledged; the high watermark;
#   a fetch, a poll, a commit). Each ends a step, except while the cluster waits out a timeout (a group's
#   initial rebalance delay, a dead broker's or consumer's session): then the flow rides along and the wait is
#   one step, so the student sees the timeout's effect, not 9 s of identical batches one by one.
# - every other kind (membership, rebalance, leader, ISR, crash, loss, ...) always ends a step.
# Requests that change nothing (an empty fetch, a heartbeat, a metadata round trip) emit no event at all, so
# they ride along with whatever comes next.
RIDE_ALONG_KINDS = frozenset({"message_dropped"})
ROUTINE_KINDS = frozenset(
    {
        "batch_sent",
        "batch_appended",
        "batch_acked",
        "batch_retried",
        "duplicate_batch",
        "records_replicated",
        "high_watermark",
        "records_fetched",
        "records_polled",
        "offsets_committed",
        "segment_rolled",
        "share_acquired",
        "share_acknowledged",
    }
)
# One produce request is one moment outside waits: a step that starts with a hop of it (sent, appended,
# replicated, high watermark) runs on to its acknowledgement ("every event" still shows each hop).
PRODUCE_HOPS = frozenset(
    {"batch_sent", "batch_appended", "records_replicated", "high_watermark", "batch_retried"}
)
PRODUCE_ENDS = frozenset({"batch_acked", "batch_failed", "produce_rejected"})
# "Step until" targets (a Playground button / a recorded step): name -> the kinds that end it.
UNTIL_KINDS = {"rebalance": REBALANCE_KINDS, "election": ELECTION_KINDS}
KINDS = (
    "cluster_created",
    "topic_created",
    "broker_crashed",
    "broker_restarted",
    "broker_isolated",
    "broker_healed",
    "controlled_shutdown_requested",
    "controlled_shutdown",
    "broker_stopped",  # a clean stop (engine.shutdown)
    "broker_slowed",
    "broker_added",
    "broker_fenced",
    "broker_unfenced",
    "controller_elected",
    "batch_sent",
    "batch_appended",
    "batch_acked",
    "batch_failed",
    "batch_retried",
    "duplicate_batch",
    "send_blocked",
    "send_failed",
    "producer_epoch_bumped",  # the producer's own troubles
    "produce_rejected",
    "records_replicated",
    "high_watermark",
    "isr_shrink",
    "isr_expand",
    "leader_elected",
    "partition_offline",
    "truncated",
    "records_lost",
    "message_dropped",
    "member_joined",
    "rebalance_started",
    "rebalance_completed",
    "assignment_received",
    "partitions_revoked",
    "member_left",
    "member_expired",
    "records_fetched",
    "records_polled",
    "offsets_committed",
    "offset_reset",
    "consumer_crashed",
    "consumer_closed",
    "consumer_restarted",
    "consumer_fenced",
    "static_member_rejoined",
    "segment_rolled",
    "segments_deleted",
    "log_compacted",
    "reassignment_started",
    "reassignment_completed",
    "note",
    "partitions_added",
    "share_acquired",
    "share_acknowledged",
    "share_lock_expired",  # share groups (KIP-932)
    "txn_init",
    "txn_partitions",
    "txn_offsets",
    "txn_ending",
    "txn_completed",  # transactions (KIP-98)
)


MAX_EVENTS = 5000  # events a session keeps: a long run must not grow without bound on the hosted demo


_SET_FIELDS = tuple(
    Event.__dict__[f].__set__
    for f in ("seq", "time_ms", "kind", "summary", "actors", "topic", "partition", "data")
)


def _event(
    seq: int,
    time_ms: int,
    kind: str,
    summary: str,
    actors: tuple[str, ...],
    topic: str | None,
    partition: int | None,
    data: dict[str, Any],
) -> Event:
    """Event(...) without the frozen dataclass __init__ (one object.__setattr__ per field, ~3x slower):
    the engine makes one per batch per hop, and the result is the same immutable Event."""
    ev = _new_object(Event)
    s_seq, s_time, s_kind, s_summary, s_actors, s_topic, s_partition, s_data = _SET_FIELDS
    s_seq(ev, seq)
    s_time(ev, time_ms)
    s_kind(ev, kind)
    s_summary(ev, summary)
    s_actors(ev, actors)
    s_topic(ev, topic)
    s_partition(ev, partition)
    s_data(ev, data)
    return ev


_new_object = object.__new__


class EventLog:
    """Append-only list of events with a monotonically increasing seq. It keeps the newest `max_events`:
    beyond that the oldest are trimmed (seqs never change, so `since()` still works) and a note says so."""

    __slots__ = ("_events", "_lazy_from", "_seq", "max_events", "trimmed")

    def __init__(self, max_events: int = MAX_EVENTS) -> None:
        # An entry not read yet is a plain tuple (time_ms, kind, build, *args): `build(*args)` gives its summary,
        # actors, topic, partition and data, and its Event is made the first time anyone reads the log there
        # (most entries of a bulk run are trimmed before anyone does). Its seq is implicit: the log is dense.
        self._events: list[Event | tuple] = []
        self._lazy_from = 0  # entries before this index are Events; from here on some may be tuples
        self._seq = 0
        self.max_events = max(10, max_events)
        self.trimmed = 0  # how many old events were dropped so far

    @property
    def events(self) -> list[Event]:
        """The kept events, oldest first (pending ones are built now, once)."""
        evs = self._events
        first = self._seq - len(evs) + 1  # the seq of evs[0]
        for i in range(self._lazy_from, len(evs)):
            p = evs[i]
            if p.__class__ is tuple:
                summary, actors, topic, partition, data = p[2](*p[3:])
                evs[i] = _event(first + i, p[0], p[1], summary, actors, topic, partition, data)
        self._lazy_from = len(evs)
        return evs  # type: ignore[return-value]  # every pending entry was built into an Event just above

    def emit(
        self,
        time_ms: int,
        kind: str,
        summary: str,
        *,
        actors: tuple[str, ...] = (),
        topic: str | None = None,
        partition: int | None = None,
        **data: Any,
    ) -> Event:
        return self.add(time_ms, kind, summary, actors, topic, partition, data)

    def add(
        self,
        time_ms: int,
        kind: str,
        summary: str,
        actors: tuple[str, ...],
        topic: str | None,
        partition: int | None,
        data: dict[str, Any],
    ) -> Event:
        """emit() for a caller that already holds `data` as a dict (Cluster.emit): no second **data repack."""
        self._seq += 1
        ev = _event(self._seq, time_ms, kind, summary, actors, topic, partition, data)
        self._events.append(ev)
        if len(self._events) > self.max_events:
            self._trim(time_ms)
        return ev

    def add_built(self, entry: tuple) -> None:
        """An event as `(time_ms, kind, build, *args)`: `build(*args)` returns its (summary, actors, topic,
        partition, data), called when the event is first read, so the hot paths (one event per batch per hop)
        keep only the raw values. `build` must be a module-level function and `args` values that do not change
        afterwards (checkpoints share the entry)."""
        self._seq += 1
        evs = self._events
        evs.append(entry)
        if len(evs) > self.max_events:
            self._trim(entry[0])

    def _trim(self, time_ms: int) -> None:
        """Drop the oldest fifth in one go (not one per emit) and append a visible note with the count."""
        evs = self._events
        drop = len(evs) - self.max_events * 4 // 5
        del evs[:drop]
        self._lazy_from = max(0, self._lazy_from - drop)
        self.trimmed += drop
        first = self._seq - len(evs) + 1  # the seq of the oldest kept event (the log is dense)
        self._seq += 1
        evs.append(
            Event(
                self._seq,
                time_ms,
                "note",
                f"Older events trimmed: this session keeps the newest "
                f"{self.max_events} events; {self.trimmed} older ones were dropped (events from "
                f"#{first} on remain)",
                (),
                None,
                None,
                {"events_trimmed": self.trimmed},
            )
        )

    def __deepcopy__(self, memo: dict) -> EventLog:
        """A checkpoint copies the list and shares its entries: an Event is immutable, and a pending entry holds
        values that never change (as Event.__deepcopy__ shares the Event)."""
        twin = EventLog.__new__(EventLog)
        twin._events = list(self._events)
        twin._lazy_from, twin._seq, twin.max_events, twin.trimmed = (
            self._lazy_from,
            self._seq,
            self.max_events,
            self.trimmed,
        )
        return twin

    def kinds_since(self, seq: int) -> list[str]:
        """The kinds of the events after `seq`, without formatting any sentence (the Step loop asks after every
        action). The log's own trimming note counts as "message_dropped"-like ride-along: it changes no picture."""
        n = self._seq - seq
        if n <= 0:
            return []
        out = []
        for e in self._events[-n:]:
            if e.__class__ is tuple:
                kind = e[1]
            else:
                kind = e.kind  # type: ignore[union-attr]  # an Event
                if kind == "note" and "events_trimmed" in e.data:  # type: ignore[union-attr]
                    kind = "message_dropped"
            out.append(kind)
        return out

    @property
    def seq(self) -> int:
        return self._seq

    def since(self, seq: int) -> list[Event]:
        """Events with seq > `seq` (the log is dense, so this is a slice)."""
        evs = self.events
        first = evs[0].seq if evs else 1
        return evs[max(0, seq + 1 - first) :]

    def __len__(self) -> int:
        return len(self._events)
