"""What the Compare page and a lesson's compare step both draw from an `engine.compare.ComparePair`.

`render_difference` is the difference strip: where the two runs part first, one row of outcome metrics per
run (the right row with its difference to the left), both runs on one simulated-time axis, and the outcome
bars. `render_panels` is the two panels side by side: each run's narration, cluster diagram and partition
log strips, drawn by the same `ui/figures` builders at the same size. The left run is always blue and the
right run orange. `key` prefixes every element key, so the two pages never collide. Every chart is a live chart
(`ui/live_chart.py`): a Step redraws it in place with `Plotly.react` instead of mounting a new one.
"""

from __future__ import annotations

import streamlit as st

from engine.compare import ComparePair, Divergence, Outcome
from engine.events import Event
from ui.figures.compare import moments_of, outcome_figure, race_figure
from ui.figures.diagram import cluster_diagram
from ui.figures.logs import log_strips
from ui.live_chart import live_chart
from ui.session import PlaygroundSession
from ui.trace_panel import md_escape

PLOTLY_CONFIG = {"displayModeBar": False, "scrollZoom": False, "responsive": True}
CODE_SPAN_CHARS = 300
SUMMARY_CHARS = 140
SAME = "same"
PANEL_MIN_PX = 600  # narrower than this, a cluster diagram's labels crowd: the two panels stack instead
CHART_MIN_PX = 420  # the race chart and the outcome bars: below this their titles would collide


def swatch(side: str) -> str:
    """The side's name on its colour (Streamlit's blue / orange, the nearest to the figures' Okabe-Ito pair)."""
    return (
        f":blue-background[**{side.title()}**]"
        if side.lower() == "left"
        else f":orange-background[**{side.title()}**]"
    )


def code_span(text: str) -> str:
    """User text as inline code: Markdown is not interpreted inside, and a backtick cannot close it."""
    return "`" + str(text).replace("`", "'").replace("\n", " ")[:CODE_SPAN_CHARS] + "`"


def _clip(e: Event) -> str:
    s = e.summary
    return s if len(s) <= SUMMARY_CHARS else s[: SUMMARY_CHARS - 3] + "..."


def divergence_text(d: Divergence | None) -> str:
    """The first event where the runs part, one line per run when both have an event there."""
    if d is None:
        return "**The two runs are identical so far.**"
    if d.left is None or d.right is None:
        return f"**Where the runs part:** {md_escape(str(d))}"
    return (
        f"**Where the runs part:** t={d.time_ms} ms, the first event that differs  \n"
        f"{swatch('left')} {md_escape(_clip(d.left))}  \n{swatch('right')} {md_escape(_clip(d.right))}"
    )


def _num(v: float | None) -> str:
    """A whole number with thousands separators ("—" when there is none yet)."""
    return "—" if v is None else f"{round(v):,}"


def outcome_cells(o: Outcome, other: Outcome | None) -> list[tuple[str, str, str | None, bool]]:
    """(label with its unit, value, delta against the left run or None, is a rise bad?) for the outcome
    metrics: whole numbers, so a tile on a 1280x720 projector never cuts one ("67…")."""

    def delta(a: float | None, b: float | None, unit: str = "") -> str | None:
        if other is None:
            return None
        if a is None or b is None or round(a) == round(b):
            return SAME
        return f"{round(a) - round(b):+,}{unit}"

    o2 = other or o
    return [
        ("records acked", _num(o.records_acked), delta(o.records_acked, o2.records_acked), False),
        ("lost after ack", _num(o.records_lost), delta(o.records_lost, o2.records_lost), True),
        ("duplicates", _num(o.duplicates), delta(o.duplicates, o2.duplicates), True),
        (
            "ack p50 (ms)",
            _num(o.ack_latency_p50_ms),
            delta(o.ack_latency_p50_ms, o2.ack_latency_p50_ms),
            True,
        ),
        (
            "ack p99 (ms)",
            _num(o.ack_latency_p99_ms),
            delta(o.ack_latency_p99_ms, o2.ack_latency_p99_ms),
            True,
        ),
        ("acked per s", _num(o.throughput_per_s), delta(o.throughput_per_s, o2.throughput_per_s), False),
    ]


def style(key: str) -> None:
    """CSS for one compare view (`key`): tiles whose numbers shrink to fit instead of being cut, and rows that
    wrap (the two cluster panels, the two charts) when the page has no room for them side by side."""
    k = f".st-key-{key}"
    st.html(f"""<style>  /* safe-html: a style sheet for a widget key of ours, no user text */
{k}_difference [data-testid="stMetric"] {{ container-type: inline-size; padding: 0.6rem 0.7rem; }}
{k}_difference [data-testid="stMetricValue"] {{ font-size: clamp(1rem, 24cqi, 2.1rem); }}
{k}_difference [data-testid="stMetricLabel"] {{ min-height: 2.5em; display: flex; align-items: flex-end; }}
{k}_difference [data-testid="stMetricLabel"] p {{ white-space: normal; font-size: clamp(0.75rem, 11cqi, 0.9rem);
  line-height: 1.25; }}
{k}_difference [data-testid="stMetricDelta"] {{ font-size: clamp(0.7rem, 10cqi, 0.85rem); }}
{k}_charts > div, {k}_panels > div {{ flex: 1 1 {CHART_MIN_PX}px; min-width: min({CHART_MIN_PX}px, 100%); }}
{k}_charts > div:first-child {{ flex-grow: 1.5; }}
{k}_panels > div {{ flex-basis: {PANEL_MIN_PX}px; min-width: min({PANEL_MIN_PX}px, 100%); }}
{k}_narration_left, {k}_narration_right {{ min-height: 6.2rem; }}
</style>""")


def render_difference(pair: ComparePair, labels: tuple[str, str], key: str = "cmp") -> None:
    """The difference strip: divergence line, outcome rows, the race over simulated time, the outcome bars."""
    style(key)
    left, right = pair.outcomes()
    with st.container(border=True, key=f"{key}_difference"):
        st.markdown(divergence_text(pair.first_difference()))
        # one row per run, the same outcome in the same column: the eye compares straight down; the run's
        # name is a line above its row, so the six tiles get the whole width
        for side, o, other in (("Left", left, None), ("Right", right, left)):
            label = labels[0] if side == "Left" else labels[1]
            st.markdown(f"{swatch(side)} {code_span(label)}")
            cols = st.columns(6, gap="small", vertical_alignment="center")
            for col, (title, value, delta, inverse) in zip(cols, outcome_cells(o, other), strict=True):
                same = delta == SAME  # keeps the right row's boxes as tall as their neighbours
                col.metric(
                    title,
                    value,
                    delta,
                    delta_color="off" if same else ("inverse" if inverse else "normal"),
                    delta_arrow="off" if same else "auto",
                    border=True,
                )
        with st.container(horizontal=True, wrap=True, gap="medium", key=f"{key}_charts"):
            lost_l = sorted({r.time_ms for r in pair.left.lost_records()})
            lost_r = sorted({r.time_ms for r in pair.right.lost_records()})
            with st.container(key=f"{key}_race_box"):
                live_chart(
                    race_figure(
                        pair.left.metrics.series(),
                        pair.right.metrics.series(),
                        lost_l,
                        lost_r,
                        pair.left.now,
                        labels=("left", "right"),
                        moments=moments_of(pair.left.events.events),
                    ),
                    f"{key}_race",
                    PLOTLY_CONFIG,
                )
            with st.container(key=f"{key}_outcome_box"):
                live_chart(
                    outcome_figure(left, right, labels=("left", "right")), f"{key}_outcome", PLOTLY_CONFIG
                )


def render_panels(
    pair: ComparePair,
    labels: tuple[str, str],
    events: tuple[list[Event], list[Event]],
    topic: str | None,
    key: str = "cmp",
    quiet_text: str = "Nothing visible happened in this run.",
) -> None:
    """Two panels, side by side when the page is wide enough for two readable diagrams, else stacked: each
    run's headline event, cluster diagram and log strips of `topic`."""
    snaps = (pair.left.snapshot(), pair.right.snapshot())
    with st.container(horizontal=True, wrap=True, gap="medium", key=f"{key}_panels"):
        for side, snap, evs, label in zip(("left", "right"), snaps, events, labels, strict=True):
            with st.container(key=f"{key}_panel_{side}"):
                head = PlaygroundSession.headline(evs)
                st.markdown(f"{swatch(side)} run · {code_span(label)}")
                with st.container(
                    border=True, key=f"{key}_narration_{side}"
                ):  # grows with the text: no scroll box
                    st.markdown(md_escape(head.summary if head else quiet_text))
                # one plotly div each, redrawn in place: a Step remounts no chart (ui/live_chart.py)
                live_chart(
                    cluster_diagram(snap, highlight=head.actors if head else ()),
                    f"{key}_diagram_{side}",
                    PLOTLY_CONFIG,
                )
                live_chart(log_strips(snap, topic, width_px=600), f"{key}_logs_{side}", PLOTLY_CONFIG)


__all__ = [
    "render_difference",
    "render_panels",
    "divergence_text",
    "outcome_cells",
    "swatch",
    "code_span",
    "SAME",
    "style",
]
