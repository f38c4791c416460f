"""Follow one message: pick a record (a recent offset, a lost record, or a key) and see its whole life.

The panel is reusable: the Playground shows it as a tab and the Compare page once per side. The pure
helpers (`record_choices`, `trace_record`, `traces_for_key`) take a `Cluster` and return engine
`Trace`s; `render_trace_panel` is the Streamlit part. Widget keys are prefixed, so two panels can live on
one page.

Engine gap worked around here: `engine.trace.trace(c, topic, partition, offset)` traces whatever record is
*now* at that offset. After an acks=1 loss the new leader reuses the offset for a different record, so the
lost record's own life is hidden. `trace_record(..., lost=True)` asks the engine for the trace as the
cluster looked when the loss was detected (its event log cut at the `records_lost` event, the record
taken from the loss ledger), which is exactly the lost record's story.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import streamlit as st

from engine.cluster import Cluster
from engine.partitioner import partition_for_key
from engine.snapshot import ClusterSnapshot
from engine.trace import Trace, TraceStep, trace

from .figures import style as S
from .figures.diagram import cluster_diagram
from .figures.trace import path_actors, problems, trace_figure, trace_rows

PLOTLY_CONFIG = {"displayModeBar": False, "scrollZoom": False, "responsive": True}
MAX_KEY_CHARS = 100
LOST_PREFIX = "lost:"


# -- pure helpers --------------------------------------------------------------------------------------------------
def record_choices(snap: ClusterSnapshot, topic: str, partition: int) -> list[tuple[str, str]]:
    """(token, label) for the records a student can pick: lost ones first (the interesting story), then the
    partition's log tail newest first. Tokens: "17" for a record in the log, "lost:17" for a lost one."""
    p = snap.partition(topic, partition)
    if p is None:
        return []
    out = [(f"{LOST_PREFIX}{lr.offset}", f"offset {lr.offset} · key {S.show(lr.key, 16)} · LOST")
           for lr in sorted(p.lost, key=lambda r: -r.offset)]
    for r in sorted(p.tail, key=lambda r: -r.offset):
        state = "committed" if r.offset < p.high_watermark else "not yet committed"
        out.append((str(r.offset), f"offset {r.offset} · key {S.show(r.key, 16)} · {state}"))
    return out


class _EventsUntil:
    """The event log as it was up to (and including) event `seq`: what `engine.trace` reads."""

    def __init__(self, events: list, seq: int) -> None:
        self.events = [e for e in events if e.seq <= seq]

    def since(self, seq: int) -> list:
        return [e for e in self.events if e.seq > seq]


class _LostOnly:
    def __init__(self, records: list) -> None:
        self._records = records

    def lost_records(self, tp=None) -> list:
        return [r for r in self._records if tp is None or (r.topic, r.partition) == tp]


class _AtLoss:
    """A read-only stand-in for the cluster at the moment a record's loss was detected (see module doc)."""

    def __init__(self, c: Cluster, seq: int, lost_record) -> None:
        self.topics = c.topics
        self.events = _EventsUntil(c.events.events, seq)
        self.brokers: dict = {}  # no replica has the record: it comes from the loss ledger
        self.losses = _LostOnly([lost_record])

    def leader_replica(self, tp) -> None:
        return None


def trace_record(c: Cluster, topic: str, partition: int, offset: int, lost: bool = False) -> Trace:
    """The trace of a record in the log, or (lost=True) of the acknowledged record that was lost there."""
    if topic not in c.topics or not 0 <= partition < c.topics[topic].partitions:
        raise ValueError(f"partition: {topic}-{partition} does not exist")
    if not lost:
        return c.trace(topic, partition, offset)
    rec = next((r for r in reversed(c.losses.lost_records((topic, partition))) if r.offset == offset), None)
    if rec is None:
        raise ValueError(f"offset: no lost record at {topic}-{partition} offset {offset}")
    ev = next((e for e in c.events.events if e.kind == "records_lost" and e.topic == topic
               and e.partition == partition and e.time_ms == rec.time_ms
               and any(a <= offset <= b for a, b in e.data.get("offsets", []))), None)
    if ev is None:  # the event was trimmed from a very long log: the record alone, with its reason
        return Trace(topic, partition, offset, rec.key, rec.value,
                     (TraceStep(rec.time_ms, "lost", "cluster", f"LOST: {rec.reason}"),))
    t = trace(_AtLoss(c, ev.seq, rec), topic, partition, offset)  # type: ignore[arg-type]
    steps = list(t.steps)
    if steps and steps[0].kind == "partitioned" and steps[0].time_ms == 0 and len(steps) > 1:
        # the loss ledger keeps no send() timestamp: place the partitioning at the batch's send
        steps[0] = dataclasses.replace(steps[0], time_ms=steps[1].time_ms)
        steps.sort(key=lambda s: (s.time_ms, s.seq))
    return dataclasses.replace(t, steps=tuple(steps))


def traces_for_key(c: Cluster, topic: str, key: str) -> tuple[int, list[Trace]]:
    """(partition murmur2 picks, traces of every record with this key there: in the log, then lost ones)."""
    key = (key or "").strip()
    if not key:
        raise ValueError("key: type a record key, for example user-3")
    if len(key) > MAX_KEY_CHARS:
        raise ValueError(f"key: at most {MAX_KEY_CHARS} characters")
    if topic not in c.topics:
        raise ValueError(f"topic: {topic!r} does not exist")
    kb = key.encode()
    part = partition_for_key(kb, c.topics[topic].partitions)
    found = list(c.trace(topic, key=kb))
    for lr in c.losses.lost_records((topic, part)):
        if lr.key == kb:
            found.append(trace_record(c, topic, part, lr.offset, lost=True))
    return part, found


def md_escape(text: str) -> str:
    """Text from a user or a record, safe inside Streamlit Markdown (no formatting, no links)."""
    s = str(text)
    out = []
    for i, ch in enumerate(s):
        nxt = s[i + 1] if i + 1 < len(s) else ""
        # ":x" could open a Streamlit directive (:red[...], :material/...:); the rest are Markdown syntax.
        out.append("\\" + ch if ch in "\\`*_[]<>|~$" or (ch == ":" and nxt.isalpha()) else ch)
    esc = "".join(out)
    return "\\" + esc if esc[:1] in ("#", "+", "-", "=") else esc


# -- the panel -------------------------------------------------------------------------------------------------
def render_trace_panel(c: Cluster, key: str, snap: ClusterSnapshot | None = None, show_diagram: bool = True,
                       default_topic: str | None = None) -> Trace | None:
    """The "Follow a message" panel for cluster `c`; returns the trace shown (None when nothing picked)."""
    snap = snap or c.snapshot()
    topics = [t.name for t in snap.topics if not t.internal]
    if not topics:
        st.info("No topics yet: there is no message to follow.")
        return None
    cols = st.columns([2, 1, 2]) if len(topics) > 1 else [None, *st.columns([1, 3])]
    if cols[0] is not None:
        with cols[0]:
            idx = topics.index(default_topic) if default_topic in topics else 0
            topic = st.selectbox("Topic", topics, index=idx, key=f"{key}_topic")
    else:
        topic = topics[0]
    parts = sorted(p.partition for p in snap.partitions if p.topic == topic)
    with cols[1]:
        lost_parts = [p.partition for p in snap.partitions if p.topic == topic and p.lost]
        partition = st.selectbox("Partition", parts, index=parts.index(lost_parts[0]) if lost_parts else 0,
                                 key=f"{key}_partition")
    with cols[2]:
        how = st.radio("Pick the record by", ["Recent offset", "Key"], horizontal=True, key=f"{key}_how")
    tr: Trace | None = None
    try:
        if how == "Key":
            tr = _by_key(c, key, topic)
        else:
            tr = _by_offset(c, snap, key, topic, partition)
    except (ValueError, KeyError) as exc:
        st.error(str(exc), icon=":material/error:")
        return None
    if tr is None:
        return None
    _show(tr, key)
    if show_diagram and st.toggle("Show its path on the cluster diagram", key=f"{key}_on_diagram",
                                  help="Halos mark the producer, brokers and consumers the record went through."):
        st.plotly_chart(cluster_diagram(snap, highlight=path_actors(tr)), key=f"{key}_path_diagram",
                        config=PLOTLY_CONFIG)
    return tr


def _by_offset(c: Cluster, snap: ClusterSnapshot, key: str, topic: str, partition: int) -> Trace | None:
    choices = record_choices(snap, topic, partition)
    if not choices:
        st.info(f"{topic}-{partition} has no records yet: press Step (or Play) until the producer has sent some.")
        return None
    labels = dict(choices)
    committed = next((tok for tok, label in choices if label.endswith("· committed")), choices[0][0])
    default = choices[0][0] if choices[0][0].startswith(LOST_PREFIX) else committed
    options = [tok for tok, _ in choices]
    token = st.selectbox("Record", options, index=options.index(default), format_func=labels.get,
                         key=f"{key}_record_{topic}_{partition}",
                         help="Lost records first, then the newest records of the partition's log.")
    lost = token.startswith(LOST_PREFIX)
    return trace_record(c, topic, partition, int(token.removeprefix(LOST_PREFIX)), lost=lost)


def _by_key(c: Cluster, key: str, topic: str) -> Trace | None:
    text = st.text_input("Record key", key=f"{key}_key", max_chars=MAX_KEY_CHARS, placeholder="e.g. user-3",
                         help="The producer hashes the key with murmur2 to choose the partition.")
    if not text.strip():
        st.caption("Type a key the producer uses (the log strips show keys on hover), e.g. user-3.")
        return None
    part, found = traces_for_key(c, topic, text)
    if not found:
        st.info(f"No record with that key is in {topic} yet. murmur2 sends it to partition {part}; "
                f"Step on until the producer sends one, or try another key.")
        return None
    found.sort(key=lambda t: -t.offset)
    labels = {i: f"offset {t.offset}" + (" · LOST" if problems(t) and problems(t)[-1].kind == "lost" else "")
              for i, t in enumerate(found)}
    i = st.selectbox(f"{len(found)} record(s) with this key in {topic}-{part}", list(labels), format_func=labels.get,
                     key=f"{key}_key_pick")
    return found[i if i in labels else 0]


def _show(tr: Trace, key: str) -> None:
    for s in problems(tr):
        if s.kind == "lost":
            st.error(f"**Lost at t={s.time_ms} ms.** {md_escape(s.summary.removeprefix('LOST: '))}",
                     icon=":material/report:")
        elif s.kind == "redelivered":
            st.warning(f"**Delivered twice at t={s.time_ms} ms.** {md_escape(s.summary)}", icon=":material/replay:")
        else:
            st.warning(f"**Truncated at t={s.time_ms} ms.** {md_escape(s.summary)}", icon=":material/content_cut:")
    st.plotly_chart(trace_figure(tr), key=f"{key}_trace_figure", config=PLOTLY_CONFIG)
    st.dataframe(trace_rows(tr), hide_index=True, width="stretch", key=f"{key}_trace_rows",
                 column_config={"detail": st.column_config.TextColumn(width="large")})


def trace_summary(tr: Trace) -> dict[str, Any]:
    """Plain facts for tests and notebooks: kinds in order, first problem, actors on the path."""
    first = next(iter(problems(tr)), None)
    return {"kinds": tr.kinds(), "problem": first.summary if first else None, "path": path_actors(tr)}
