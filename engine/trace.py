"""Follow one message end to end: its whole life, read back from the event log and the logs.

`trace(cluster, topic, partition, offset)` (or `trace_key`) answers: which partition its key hashed to
(murmur2), the batch it rode in and how long it lingered, the leader's append, each follower's copy, the
high watermark passing it, the acknowledgement, each consumer's fetch and poll, each group's commit past
it — and, where it happened, its loss or its delivery to the same group twice.

`trace_lost(cluster, topic, partition, offset)` tells the story of an acknowledged record that was *lost*
at that offset. `trace` follows whatever record is at the offset now, and after an acks=1 loss the new
leader reuses the offset for a different record; `trace_lost` reads the event log only up to the
`records_lost` event that reported the loss and takes the record from the loss ledger, which is exactly
the lost record's life.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .errors import InvalidArgumentError
from .partitioner import murmur2, partition_for_key, to_positive

if TYPE_CHECKING:
    from .cluster import Cluster
    from .events import Event


@dataclass(frozen=True, slots=True)
class TraceStep:
    time_ms: int
    kind: str  # "partitioned" | "batched" | "sent" | "appended" | "replicated" | "committed" | "acked" | ...
    actor: str
    summary: str
    seq: int = 0  # the event it comes from (0 for facts computed from the record itself)


@dataclass(frozen=True, slots=True)
class Trace:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    steps: tuple[TraceStep, ...]

    def kinds(self) -> list[str]:
        return [s.kind for s in self.steps]


def _in(e: Event, topic: str, partition: int) -> bool:
    return e.topic == topic and e.partition == partition


def trace(c: Cluster, topic: str, partition: int, offset: int) -> Trace:
    """The life of the record at topic-partition@offset, in time order."""
    rec = _find_record(c, (topic, partition), offset)
    return _life(c.events.events, c.partition_count(topic) or 1, topic, partition, offset, rec)


def trace_lost(c: Cluster, topic: str, partition: int, offset: int) -> Trace:
    """The life of the acknowledged record lost at topic-partition@offset (the newest such loss), in time
    order and ending in its loss: the event log read up to the `records_lost` event that reported it.
    InvalidArgumentError naming `partition` when the partition does not exist, or `offset`
    when no acknowledged record was lost there."""
    if not 0 <= partition < c.partition_count(topic):
        raise InvalidArgumentError(f"partition: {topic}-{partition} does not exist")
    rec = next((r for r in reversed(c.lost_records((topic, partition))) if r.offset == offset), None)
    if rec is None:
        raise InvalidArgumentError(f"offset: no lost record at {topic}-{partition} offset {offset}")
    events = c.events.events
    ev = next(
        (
            e
            for e in events
            if e.kind == "records_lost"
            and _in(e, topic, partition)
            and e.time_ms == rec.time_ms
            and any(a <= offset <= b for a, b in e.data.get("offsets", []))
        ),
        None,
    )
    if ev is None:  # the event was trimmed from a very long log: the record alone, with its reason
        step = TraceStep(rec.time_ms, "lost", "cluster", f"LOST: {rec.reason}")
        return Trace(topic, partition, offset, rec.key, rec.value, (step,))
    upto = events[: len(events) - (events[-1].seq - ev.seq)]  # the log is dense: a slice up to ev
    t = _life(upto, c.partition_count(topic), topic, partition, offset, (rec.key, rec.value, None))
    steps = list(t.steps)
    if steps and steps[0].kind == "partitioned" and steps[0].time_ms == 0 and len(steps) > 1:
        # the loss ledger keeps no send() timestamp: place the partitioning at the batch's send
        steps[0] = replace(steps[0], time_ms=steps[1].time_ms)
        steps.sort(key=lambda s: (s.time_ms, s.seq))
    return replace(t, steps=tuple(steps))


def _since(events: list[Event], seq: int) -> list[Event]:
    """Events with seq > `seq` (the log is dense, so this is a slice), as `EventLog.since`."""
    first = events[0].seq if events else 1
    return events[max(0, seq + 1 - first) :]


def _life(
    events: list[Event],
    n: int,
    topic: str,
    partition: int,
    offset: int,
    rec: tuple[bytes | None, bytes | None, int | None] | None,
) -> Trace:
    """The trace read from `events` (oldest first) for the record `rec` = (key, value, send timestamp) at
    topic-partition@offset of a topic with `n` partitions."""
    tp = (topic, partition)
    key, value, ts = rec if rec else (None, None, None)
    steps: list[TraceStep] = []
    if key is not None:
        h = murmur2(key)
        steps.append(
            TraceStep(
                ts or 0,
                "partitioned",
                "producer",
                f"key {key!r} -> murmur2 {h} -> toPositive {to_positive(h)} % {n} = partition "
                f"{partition_for_key(key, n)}",
            )
        )
    elif ts is not None:
        steps.append(
            TraceStep(
                ts,
                "partitioned",
                "producer",
                "no key: the sticky partitioner chose this partition for the whole batch",
            )
        )
    appended = None
    for e in events:
        if (
            e.kind == "batch_appended"
            and _in(e, topic, partition)
            and e.data["base_offset"] <= offset <= e.data["last_offset"]
        ):
            appended = e
    if appended is not None:
        req, producer = (
            appended.data.get("request"),
            appended.data["producer"],
        )  # every batch_appended names it
        sent = [
            e
            for e in events
            if e.kind == "batch_sent"
            and e.data.get("request") == req
            and producer in e.actors
            and e.seq < appended.seq
        ]
        if sent:
            s = sent[-1]
            wait = (
                f"; it waited {s.time_ms - ts} ms in the accumulator (linger.ms / batch filling)"
                if ts is not None
                else ""
            )
            steps.append(TraceStep(s.time_ms, "sent", producer, f"{s.summary}{wait}", s.seq))
        steps.append(
            TraceStep(
                appended.time_ms,
                "appended",
                appended.actors[0],
                f"{appended.summary}; this record is offset {offset}",
                appended.seq,
            )
        )
    after = appended.seq if appended is not None else 0
    seen_followers: set[str] = set()
    hw_done = acked_done = False
    polled: dict[str, int] = {}
    committed_groups: set[str] = set()
    for e in _since(events, after):
        if (
            e.kind == "records_replicated"
            and _in(e, topic, partition)
            and e.data.get("leo", 0) > offset
            and e.actors[0] not in seen_followers
        ):
            seen_followers.add(e.actors[0])
            steps.append(TraceStep(e.time_ms, "replicated", e.actors[0], e.summary, e.seq))
        elif (
            e.kind == "high_watermark"
            and _in(e, topic, partition)
            and not hw_done
            and e.data["old"] <= offset < e.data["hw"]
        ):
            hw_done = True
            steps.append(TraceStep(e.time_ms, "committed", e.actors[0], e.summary, e.seq))
        elif (
            e.kind == "batch_acked"
            and _in(e, topic, partition)
            and not acked_done
            and e.data["base_offset"] <= offset < e.data["base_offset"] + e.data["records"]
        ):
            acked_done = True
            steps.append(TraceStep(e.time_ms, "acked", e.actors[0], e.summary, e.seq))
        elif e.kind == "records_polled":
            rng = e.data.get("ranges", {}).get(f"{topic}-{partition}")
            if rng and rng[0] <= offset <= rng[1]:
                who = e.actors[0]
                group = e.data.get("group")
                reader = group or who  # a group reads a record once; a second delivery is a duplicate
                polled[reader] = polled.get(reader, 0) + 1
                again = polled[reader] > 1
                kind = "redelivered" if again else "polled"
                note = (
                    (
                        f" — delivered again to group {group} (at-least-once: processed before a rebalance but "
                        f"not committed)"
                    )
                    if again and group
                    else ""
                )
                steps.append(
                    TraceStep(e.time_ms, kind, who, f"{who} (group {group}) got it from poll(){note}", e.seq)
                )
        elif e.kind == "offsets_committed":
            off = e.data.get("offsets", {}).get(tp)
            group = e.data["group"]  # every offsets_committed event names its group
            if off is not None and off > offset and group not in committed_groups:
                committed_groups.add(group)
                steps.append(
                    TraceStep(
                        e.time_ms,
                        "offset_committed",
                        e.actors[0] if e.actors else group,
                        f"group {group} committed offset {off} on {topic}-{partition}: this record "
                        f"is done for the group",
                        e.seq,
                    )
                )
        elif (
            e.kind == "records_lost"
            and _in(e, topic, partition)
            and any(a <= offset <= b for a, b in e.data.get("offsets", []))
        ):
            steps.append(
                TraceStep(
                    e.time_ms,
                    "lost",
                    e.actors[0] if e.actors else "cluster",
                    f"LOST: {e.data.get('reason', e.summary)}",
                    e.seq,
                )
            )
        elif (
            e.kind == "truncated"
            and _in(e, topic, partition)
            and e.data.get("from_offset", 1 << 62) <= offset
        ):
            steps.append(TraceStep(e.time_ms, "truncated", e.actors[0], e.summary, e.seq))
    steps.sort(key=lambda s: (s.time_ms, s.seq))
    return Trace(topic, partition, offset, key, value, tuple(steps))


def trace_key(c: Cluster, topic: str, key: bytes | str) -> list[Trace]:
    """Every record with this key still in the topic's partition (murmur2 says which one)."""
    kb = key.encode() if isinstance(key, str) else key
    n = c.partition_count(topic)
    if not n:
        raise InvalidArgumentError(f"topic: {topic!r} does not exist")
    p = partition_for_key(kb, n)
    out: list[Trace] = []
    r = c.leader_replica((topic, p)) or _any_replica(c, (topic, p))
    if r is None:
        return out
    for b in r.log.batches():
        for i, o in enumerate(b.record_offsets()):
            if b.keys[i] == kb and b.control is None:
                out.append(trace(c, topic, p, o))
    return out


def _any_replica(c: Cluster, tp):
    for b in c.brokers.values():
        if tp in b.replicas:
            return b.replicas[tp]
    return None


def _find_record(c: Cluster, tp, offset: int):
    """(key, value, timestamp) of the record, from any replica that still has it."""
    candidates = [c.leader_replica(tp)] + [b.replicas.get(tp) for b in c.brokers.values()]
    for r in candidates:
        if r is None:
            continue
        for b in r.log.batches_at(offset):
            for i, o in enumerate(b.record_offsets()):
                if o == offset:
                    return b.keys[i], b.values[i], b.timestamps[i]
    for lr in c.lost_records(tp):
        if lr.offset == offset:
            return lr.key, lr.value, None
    return None
