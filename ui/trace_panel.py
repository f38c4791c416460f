"""Follow one message: pick a record (a recent offset, a lost record, or a key) and see its whole life.

The panel is reusable: the Playground shows it as a tab and the Compare page once per side. The pure
helpers (`record_choices`, `trace_record`, `traces_for_key`, `followed_from_selection`, `followed_trace`)
take a `Cluster` (or a chart's selection) and return engine `Trace`s; `render_trace_panel` is the Streamlit
part. Widget keys are prefixed, so two panels can live on one page.

The Playground also *follows* one record (`Followed`, kept in `st.session_state[FOLLOW_KEY]`): a click on a
cell of the partition log strip (`render_clickable_logs`: a plotly selection event whose point carries the
record in `customdata`), a ticked row of a record table (`render_record_table`: a consumer's output, a
producer's acknowledged batches) or "Follow it on the cluster diagram" in the tab picks it; its trace is shown right
under the strip, and `render_follow_bar` (above the cluster diagram) names it, offers "Stop following" and
hands `cluster_diagram(path=...)` its route.

A lost record (`lost=True`) is traced by `engine.trace.trace_lost`: after an acks=1 loss the new leader
reuses the offset for a different record, and the lost record's own story is read from the event log up to
its loss. The panel reads only snapshots and the cluster's read-only queries (`trace`, `partition_count`,
`lost_records`, `consumed_records`, `acked_batches`), never its live objects
(tests/code/test_ui_reads_no_engine_internals.py checks it).
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Callable
from functools import partial
from typing import Any

import streamlit as st

from engine.cluster import Cluster
from engine.errors import InvalidArgumentError, KafkaError, UserInputError
from engine.partitioner import partition_for_key
from engine.snapshot import ClusterSnapshot
from engine.trace import Trace

from .figures import style as S
from .figures.diagram import LOST_PATH_COLOUR, PATH_COLOUR, MessagePath, cluster_diagram
from .figures.trace import message_path, path_actors, problems, route_text, trace_figure, trace_rows
from .live_chart import live_chart

PLOTLY_CONFIG = {"displayModeBar": False, "scrollZoom": False, "responsive": True}
MAX_KEY_CHARS = 100
LOST_PREFIX = "lost:"
FOLLOW_KEY = "kc_follow"  # st.session_state: the Playground's followed record (a `Followed` or None)


@dataclasses.dataclass(frozen=True, slots=True)
class Followed:
    """The record being followed: where it is (or was, for a lost record)."""

    topic: str
    partition: int
    offset: int
    lost: bool = False

    def as_tuple(self) -> tuple[str, int, int, bool]:
        return (self.topic, self.partition, self.offset, self.lost)

    @property
    def label(self) -> str:
        return f"{self.topic}-{self.partition} offset {self.offset}" + (" (lost)" if self.lost else "")


# -- pure helpers --------------------------------------------------------------------------------------------------
def record_choices(snap: ClusterSnapshot, topic: str, partition: int) -> list[tuple[str, str]]:
    """(token, label) for the records a student can pick: lost ones first (the interesting story), then the
    partition's log tail newest first. Tokens: "17" for a record in the log, "lost:17" for a lost one."""
    p = snap.partition(topic, partition)
    if p is None:
        return []
    out = [
        (f"{LOST_PREFIX}{lr.offset}", f"offset {lr.offset} · key {S.show(lr.key, 16)} · LOST")
        for lr in sorted(p.lost, key=lambda r: -r.offset)
    ]
    for r in sorted(p.tail, key=lambda r: -r.offset):
        state = "committed" if r.offset < p.high_watermark else "not yet committed"
        out.append((str(r.offset), f"offset {r.offset} · key {S.show(r.key, 16)} · {state}"))
    return out


def _check_partition(c: Cluster, topic: str, partition: int) -> None:
    if not 0 <= partition < c.partition_count(topic):
        raise InvalidArgumentError(f"partition: {topic}-{partition} does not exist")


def trace_record(c: Cluster, topic: str, partition: int, offset: int, lost: bool = False) -> Trace:
    """The trace of a record in the log, or (lost=True) of the acknowledged record that was lost there
    (`engine.trace.trace_lost`: its own story, even when the new leader reused its offset)."""
    _check_partition(c, topic, partition)
    return c.trace(topic, partition, offset, lost=lost)


def traces_for_key(c: Cluster, topic: str, key: str) -> tuple[int, list[Trace]]:
    """(partition murmur2 picks, traces of every record with this key there: in the log, then lost ones)."""
    key = (key or "").strip()
    if not key:
        raise UserInputError("key: type a record key, for example user-3")
    if len(key) > MAX_KEY_CHARS:
        raise UserInputError(f"key: at most {MAX_KEY_CHARS} characters")
    n = c.partition_count(topic)
    if not n:
        raise InvalidArgumentError(f"topic: {topic!r} does not exist")
    kb = key.encode()
    part = partition_for_key(kb, n)
    found = list(c.trace(topic, key=kb))
    for lr in c.lost_records((topic, part)):
        if lr.key == kb:
            found.append(trace_record(c, topic, part, lr.offset, lost=True))
    return part, found


def followed_from_selection(state: Any) -> Followed | None:
    """The record a click selected, from a log strip's selection event (`st.plotly_chart(on_select=...)`):
    the first selected point of the clickable ``records`` trace, its customdata [topic, partition, offset,
    "log" | "lost"]. None for an empty selection or a point that is not a record."""
    try:
        points = state["selection"]["points"]
    except (KeyError, TypeError):
        return None
    for pt in points or []:
        cd = pt.get("customdata") if isinstance(pt, dict) else None
        if not isinstance(cd, list | tuple) or len(cd) != 4 or cd[3] not in ("log", "lost"):
            continue
        try:
            return Followed(str(cd[0]), int(cd[1]), int(cd[2]), cd[3] == "lost")
        except (TypeError, ValueError):
            continue
    return None


def followed_trace(c: Cluster, rec: Followed) -> Trace | None:
    """The followed record's trace now; None when its partition no longer exists (another scenario).
    A lost record stepped back to before its loss is traced where it still lives, in the log."""
    if not 0 <= rec.partition < c.partition_count(rec.topic):
        return None
    if rec.lost:
        try:
            return trace_record(c, rec.topic, rec.partition, rec.offset, lost=True)
        except InvalidArgumentError:  # no longer lost here: stepped back to before the loss
            pass
    return trace_record(c, rec.topic, rec.partition, rec.offset)


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


# -- following one record in the Playground ------------------------------------------------------------------
def get_followed() -> Followed | None:
    rec = st.session_state.get(FOLLOW_KEY)
    return rec if isinstance(rec, Followed) else None


def set_followed(rec: Followed | None) -> None:
    st.session_state[FOLLOW_KEY] = rec


def _on_record_click(chart_key: str, then: Callable[[], None] | None) -> None:
    """The log strip's on_select callback: follow the clicked record (an empty selection changes nothing)."""
    rec = followed_from_selection(st.session_state.get(chart_key))
    if rec is not None:
        set_followed(rec)
    if then is not None:
        then()


def follow_bar_lines(rec: Followed | None, path: MessagePath | None) -> tuple[str, str]:
    """The two lines above the diagram (HTML, user text escaped): which record and its route in words, or how
    to pick one. Always two lines, so the diagram below never moves when following starts or stops."""
    if rec is None:
        return (
            "<b>Follow one record through the cluster</b>",
            "click a record in <i>Partition logs</i>, or pick one by key in <i>Follow a message</i>",
        )
    if path is None:
        return (
            f"<b>Following {html.escape(rec.label)}</b>",
            "not written yet at this step (it was sent later): step on, or stop following",
        )
    colour = LOST_PATH_COLOUR if path.lost else PATH_COLOUR
    what = "LOST record" if path.lost else "Following"
    return (
        f"<span style='color:{colour};font-weight:900'>━━</span> <b>{what} {html.escape(path.label)}</b>",
        f"its path on the diagram: {html.escape(route_text(path))}",
    )


def render_follow_bar(
    c: Cluster,
    key: str = "follow_bar",
    pick: tuple[str, str] | None = None,
    then: Callable[[], None] | None = None,
) -> MessagePath | None:
    """Two lines above the cluster diagram: which record is followed (its route in words, in the route's
    colour) and "Stop following"; or, when none is, how to pick one (`pick`: (tabs key, tab label) to open).
    Returns the route for `cluster_diagram(path=...)`."""
    rec = get_followed()
    tr = followed_trace(c, rec) if rec is not None else None
    if rec is not None and tr is None:  # its topic is gone (another scenario was loaded)
        set_followed(None)
        rec = None
    path = message_path(tr)
    head, sub = follow_bar_lines(rec, path)
    line = "white-space:nowrap;overflow:hidden;text-overflow:ellipsis"
    with st.container(key=key):
        text, button = st.columns([5, 1], vertical_alignment="center")
        text.markdown(
            f"<div style='{line}'>{head}</div><div style='{line};color:#6B7280;font-size:0.9em'>{sub}</div>",
            unsafe_allow_html=True,
        )  # safe-html: follow_bar_lines() escapes the record's text
        with button:
            if rec is not None:
                st.button(
                    "Stop following",
                    key=f"{key}_stop",
                    type="tertiary",
                    icon=":material/close:",
                    on_click=_stop,
                    args=(then,),
                )
            elif pick is not None:
                st.button(
                    "Pick a record",
                    key=f"{key}_pick",
                    type="tertiary",
                    icon=":material/ads_click:",
                    on_click=_open_tab,
                    args=(pick, then),
                )
    return path


def _open_tab(pick: tuple[str, str], then: Callable[[], None] | None) -> None:
    st.session_state[pick[0]] = pick[1]
    if then is not None:
        then()


def _stop(then: Callable[[], None] | None) -> None:
    set_followed(None)
    if then is not None:
        then()


def render_clickable_logs(
    c: Cluster,
    topic: str | None,
    strips: Callable[[tuple[str, int, int, bool] | None], tuple[Any, Any]],
    key: str = "logs",
    config: dict | None = None,
    then: Callable[[], None] | None = None,
) -> None:
    """The partition log strips, each record clickable, their legend under them; the followed record's trace
    right under that. `strips(ring)`: the (strips, legend or None) pair for the ringed record (`logs.legend_apart`
    of `log_strips`; the Playground reuses the pair of a position it has drawn before).
    `then`: called after a click or Stop (the Playground uses it so a click during Play does not also step)."""
    rec = get_followed()
    ring = rec.as_tuple() if rec is not None and rec.topic == topic else None
    fig, legend = strips(ring)
    with st.container(
        gap=None, key=f"{key}_with_legend"
    ):  # one plotly div each, redrawn in place on each Step
        live_chart(fig, key, config or PLOTLY_CONFIG, on_select=partial(_on_record_click, key, then))
        if legend is not None:
            live_chart(legend, f"{key}_legend", config or PLOTLY_CONFIG)  # redrawn only when it changes
    if rec is None:
        return
    tr = followed_trace(c, rec)
    with st.container(border=True, key=f"{key}_followed"):
        with st.container(horizontal=True, vertical_alignment="center"):
            st.markdown(
                f"#### :material/conversion_path: The life of {md_escape(rec.label)}", width="stretch"
            )
            st.button(
                "Stop following", key=f"{key}_stop", icon=":material/close:", on_click=_stop, args=(then,)
            )
        if tr is None or not tr.steps:
            st.info(f"{rec.label} is not in the log at this step: it was sent later. Step on to see it.")
            return
        st.caption("Its path is drawn on the cluster diagram above; click another record to follow that one.")
        _show(tr, f"{key}_followed")


# -- tables whose rows are records: consumer output, acknowledged batches ------------------------------------------
FOLLOW_MARK = "▶ "  # prefixes the followed record's row in a record table
TABLE_ROUND_KEY = "kc_follow_tables"  # st.session_state: bumped by each table row that follows a record


def consumer_output_rows(c: Cluster, consumer_id: str, n: int = 20) -> list[tuple[Followed, dict[str, str]]]:
    """The newest `n` records `poll()` handed this consumer (its `history`), newest first: (record, row).
    A record the loss ledger says was lost since (same offset, key and value: an unclean election can take
    records consumers already read) is followed as the lost record, as a click on its red cell would be; the
    log may hold another record at its offset now."""
    lost: dict[tuple[str, int], set] = {}
    out = []
    for r in c.consumed_records(consumer_id, n)[::-1]:
        tp = (r.topic, r.partition)
        if tp not in lost:
            lost[tp] = {(lr.offset, lr.key, lr.value) for lr in c.lost_records(tp)}
        gone = (r.offset, r.key, r.value) in lost[tp]
        out.append(
            (
                Followed(r.topic, r.partition, r.offset, gone),
                {
                    "record": f"{r.topic}-{r.partition} @{r.offset}" + (" (lost since)" if gone else ""),
                    "key": S.show(r.key, 24),
                    "value": S.show(r.value, 40),
                },
            )
        )
    return out


SCAN_BATCHES = (
    500  # acknowledged batches looked at per partition (newest first) to find a producer's last ones
)


def acked_batch_rows(c: Cluster, producer_id: str, n: int = 10) -> list[tuple[Followed, dict[str, str]]]:
    """The producer's newest `n` acknowledged batches, newest first: (its first record, row). Read from the
    engine's loss ledger, which keeps every acknowledged batch (the accumulator forgets a batch once it is
    acknowledged, and acks=0 batches never learn an offset, so they are not there)."""
    out = []
    for b in c.acked_batches(producer_id, n, scan=SCAN_BATCHES):
        lost = b.lost_reason is not None
        out.append(
            (
                Followed(b.topic, b.partition, b.base_offset, lost),
                {
                    "first record": f"{b.topic}-{b.partition} @{b.base_offset}",
                    "offsets": f"{b.base_offset}–{b.last_offset}"
                    if b.last_offset > b.base_offset
                    else str(b.base_offset),
                    "first key": S.show(b.first_key, 24),
                    "acked at": f"{b.acked_ms} ms",
                    "status": f"LOST: {b.lost_reason}" if lost else "acknowledged",
                },
            )
        )
    return out


def followed_from_rows(state: Any, records: tuple[Followed, ...] | list[Followed]) -> Followed | None:
    """The record of the row a table selection (`st.dataframe(on_select=...)`) picked; None when nothing is
    selected or the row is not one of `records` (the rows as they were drawn)."""
    try:
        rows = state["selection"]["rows"]
    except (KeyError, TypeError):
        return None
    for i in rows or []:
        if isinstance(i, int) and 0 <= i < len(records):
            return records[i]
    return None


def _on_row_select(widget_key: str, records: tuple[Followed, ...], then: Callable[[], None] | None) -> None:
    """A record table's on_select callback: follow the selected row's record, and start every record table
    afresh (a new widget key, so no row stays ticked: the table is redrawn as the run moves on, and a kept
    tick would soon sit on another record; the followed row is marked with FOLLOW_MARK instead)."""
    rec = followed_from_rows(st.session_state.get(widget_key), records)
    if rec is not None:
        set_followed(rec)
        st.session_state[TABLE_ROUND_KEY] = st.session_state.get(TABLE_ROUND_KEY, 0) + 1
    if then is not None:
        then()


def record_table_key(key: str) -> str:
    """The widget key `render_record_table(key=key)` uses now (it changes after each row that follows a record)."""
    return f"{key}_{st.session_state.get(TABLE_ROUND_KEY, 0)}"


def render_record_table(
    rows: list[tuple[Followed, dict[str, str]]], key: str, then: Callable[[], None] | None = None
) -> None:
    """A table whose rows are records: ticking a row follows that record, exactly as a click on its cell in the
    partition log strip does (the same `Followed` in `st.session_state[FOLLOW_KEY]`). The first column names the
    record, marked FOLLOW_MARK when it is the one followed. Record text is shown as data (never as HTML)."""
    rec = get_followed()
    shown = []
    for r, row in rows:
        first, *rest = row.items()
        shown.append({first[0]: (FOLLOW_MARK if r == rec else "") + first[1], **dict(rest)})
    records = tuple(r for r, _ in rows)
    wkey = record_table_key(key)
    st.dataframe(
        shown,
        key=wkey,
        hide_index=True,
        width="stretch",
        on_select=partial(_on_row_select, wkey, records, then),
        selection_mode="single-row",
    )


# -- the panel -------------------------------------------------------------------------------------------------
def render_trace_panel(
    c: Cluster,
    key: str,
    snap: ClusterSnapshot | None = None,
    show_diagram: bool = True,
    default_topic: str | None = None,
    follow: bool = False,
    then: Callable[[], None] | None = None,
) -> Trace | None:
    """The "Follow a message" panel for cluster `c`; returns the trace shown (None when nothing picked).

    `follow=True` (the Playground): the pickers start on the followed record, and a button follows the shown
    record on the page's own cluster diagram (instead of `show_diagram`'s separate diagram)."""
    snap = snap or c.snapshot()
    topics = [t.name for t in snap.topics if not t.internal]
    if not topics:
        st.info("No topics yet: there is no message to follow.")
        return None
    rec = get_followed() if follow else None
    if rec is not None and rec.topic in topics:
        default_topic = rec.topic
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
        if rec is not None and rec.topic == topic and rec.partition in parts:
            start = parts.index(rec.partition)
        else:
            start = parts.index(lost_parts[0]) if lost_parts else 0
        partition = st.selectbox("Partition", parts, index=start, key=f"{key}_partition")
    with cols[2]:
        how = st.radio("Pick the record by", ["Recent offset", "Key"], horizontal=True, key=f"{key}_how")
    tr: Trace | None = None
    lost = False
    try:
        if how == "Key":
            tr = _by_key(c, key, topic)
            lost = tr is not None and bool(problems(tr)) and problems(tr)[-1].kind == "lost"
        else:
            picked = _by_offset(c, snap, key, topic, partition, rec)
            if picked is not None:
                tr, lost = picked
    except (UserInputError, KafkaError) as exc:
        st.error(str(exc), icon=":material/error:")
        return None
    if tr is None:
        return None
    _show(tr, key)
    if follow:
        shown = Followed(tr.topic, tr.partition, tr.offset, lost)
        if shown == rec:
            with st.container(horizontal=True, vertical_alignment="center"):
                st.success(
                    "Its path is highlighted on the cluster diagram above.",
                    icon=":material/conversion_path:",
                    width="stretch",
                )
                st.button(
                    "Stop following", key=f"{key}_stop", icon=":material/close:", on_click=_stop, args=(then,)
                )
        else:
            st.button(
                "Follow it on the cluster diagram",
                key=f"{key}_follow",
                type="primary",
                icon=":material/conversion_path:",
                on_click=_follow_shown,
                args=(shown, then),
                help="Draws its path (producer → leader → followers → consumers) on the diagram above and "
                "keeps its life under the partition log strip while you step.",
            )
    elif show_diagram and st.toggle(
        "Show its path on the cluster diagram",
        key=f"{key}_on_diagram",
        help="Halos mark the producer, brokers and consumers the record went through.",
    ):
        live_chart(  # changes as the record moves: redrawn in place (see ui/live_chart.py)
            cluster_diagram(snap, highlight=path_actors(tr), path=message_path(tr)),
            f"{key}_path_diagram",
            PLOTLY_CONFIG,
        )
    return tr


def _follow_shown(rec: Followed, then: Callable[[], None] | None) -> None:
    set_followed(rec)
    if then is not None:
        then()


def _by_offset(
    c: Cluster, snap: ClusterSnapshot, key: str, topic: str, partition: int, rec: Followed | None = None
) -> tuple[Trace, bool] | None:
    choices = record_choices(snap, topic, partition)
    if not choices:
        st.info(
            f"{topic}-{partition} has no records yet: press Step (or Play) until the producer has sent some."
        )
        return None
    labels = dict(choices)
    committed = next((tok for tok, label in choices if label.endswith("· committed")), choices[0][0])
    default = choices[0][0] if choices[0][0].startswith(LOST_PREFIX) else committed
    options = [tok for tok, _ in choices]
    if rec is not None and (rec.topic, rec.partition) == (topic, partition):
        mine = f"{LOST_PREFIX}{rec.offset}" if rec.lost else str(rec.offset)
        default = mine if mine in options else default
    token = st.selectbox(
        "Record",
        options,
        index=options.index(default),
        format_func=labels.get,
        key=f"{key}_record_{topic}_{partition}",
        help="Lost records first, then the newest records of the partition's log.",
    )
    lost = token.startswith(LOST_PREFIX)
    return trace_record(c, topic, partition, int(token.removeprefix(LOST_PREFIX)), lost=lost), lost


def _by_key(c: Cluster, key: str, topic: str) -> Trace | None:
    text = st.text_input(
        "Record key",
        key=f"{key}_key",
        max_chars=MAX_KEY_CHARS,
        placeholder="e.g. user-3",
        help="The producer hashes the key with murmur2 to choose the partition.",
    )
    if not text.strip():
        st.caption("Type a key the producer uses (the log strips show keys on hover), e.g. user-3.")
        return None
    part, found = traces_for_key(c, topic, text)
    if not found:
        st.info(
            f"No record with that key is in {topic} yet. murmur2 sends it to partition {part}; "
            f"Step on until the producer sends one, or try another key."
        )
        return None
    found.sort(key=lambda t: -t.offset)
    labels = {
        i: f"offset {t.offset}" + (" · LOST" if problems(t) and problems(t)[-1].kind == "lost" else "")
        for i, t in enumerate(found)
    }
    i = st.selectbox(
        f"{len(found)} record(s) with this key in {topic}-{part}",
        list(labels),
        format_func=labels.get,
        key=f"{key}_key_pick",
    )
    return found[i if i in labels else 0]


def _show(tr: Trace, key: str) -> None:
    for s in problems(tr):
        if s.kind == "lost":
            st.error(
                f"**Lost at t={s.time_ms} ms.** {md_escape(s.summary.removeprefix('LOST: '))}",
                icon=":material/report:",
            )
        elif s.kind == "redelivered":
            st.warning(
                f"**Delivered twice at t={s.time_ms} ms.** {md_escape(s.summary)}", icon=":material/replay:"
            )
        else:
            st.warning(
                f"**Truncated at t={s.time_ms} ms.** {md_escape(s.summary)}", icon=":material/content_cut:"
            )
    live_chart(trace_figure(tr), f"{key}_trace_figure", PLOTLY_CONFIG)  # grows as the record moves
    st.dataframe(
        trace_rows(tr),
        hide_index=True,
        width="stretch",
        key=f"{key}_trace_rows",
        column_config={"detail": st.column_config.TextColumn(width="large")},
    )


def trace_summary(tr: Trace) -> dict[str, Any]:
    """Plain facts for tests and notebooks: kinds in order, first problem, actors on the path."""
    first = next(iter(problems(tr)), None)
    return {"kinds": tr.kinds(), "problem": first.summary if first else None, "path": path_actors(tr)}
