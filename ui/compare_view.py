"""What the Compare page and a lesson's compare step both draw from an `engine.compare.ComparePair`.

`render_difference` is the difference strip: where the two runs part first, one row of outcome metrics per
run (the right row with its difference to the left), both runs on one simulated-time axis, and the outcome
bars. `render_panels` is the two panels side by side: each run's narration, cluster diagram and partition
log strips, drawn by the same `ui/figures` builders at the same size. The left run is always blue and the
right run orange. `key` prefixes every element key, so the two pages never collide.
"""

from __future__ import annotations

import streamlit as st

from engine.compare import ComparePair, Divergence, Outcome
from engine.events import Event
from ui.figures.compare import moments_of, outcome_figure, race_figure
from ui.figures.diagram import cluster_diagram
from ui.figures.logs import log_strips
from ui.session import PlaygroundSession
from ui.trace_panel import md_escape

PLOTLY_CONFIG = {"displayModeBar": False, "scrollZoom": False, "responsive": True}
CODE_SPAN_CHARS = 300
SUMMARY_CHARS = 140
SAME = "same as left"


def swatch(side: str) -> str:
    """The side's name on its colour (Streamlit's blue / orange, the nearest to the figures' Okabe-Ito pair)."""
    return f":blue-background[**{side.title()}**]" if side.lower() == "left" else f":orange-background[**{side.title()}**]"


def code_span(text: str) -> str:
    """User text as inline code: Markdown is not interpreted inside, and a backtick cannot close it."""
    return "`" + str(text).replace("`", "'").replace("\n", " ")[:CODE_SPAN_CHARS] + "`"


def _clip(e: Event) -> str:
    s = e.summary
    return s if len(s) <= SUMMARY_CHARS else s[:SUMMARY_CHARS - 3] + "..."


def divergence_text(d: Divergence | None) -> str:
    """The first event where the runs part, one line per run when both have an event there."""
    if d is None:
        return "**The two runs are identical so far.**"
    if d.left is None or d.right is None:
        return f"**Where the runs part:** {md_escape(str(d))}"
    return (f"**Where the runs part:** t={d.time_ms} ms, the first event that differs  \n"
            f"{swatch('left')} {md_escape(_clip(d.left))}  \n{swatch('right')} {md_escape(_clip(d.right))}")


def _ms(v: float | None) -> str:
    return "—" if v is None else f"{v:.0f} ms"


def outcome_cells(o: Outcome, other: Outcome | None) -> list[tuple[str, str, str | None, bool]]:
    """(label, value, delta against the left run or None, is a rise bad?) for the outcome metrics."""
    def delta(a, b, unit: str = "", fmt: str = "{:+.0f}") -> str | None:
        if other is None:
            return None
        if a is None or b is None or a == b:
            return SAME
        return fmt.format(a - b) + unit

    return [
        ("records acked", str(o.records_acked), delta(o.records_acked, other and other.records_acked), False),
        ("lost after ack", str(o.records_lost), delta(o.records_lost, other and other.records_lost), True),
        ("duplicates", str(o.duplicates), delta(o.duplicates, other and other.duplicates), True),
        ("ack p50", _ms(o.ack_latency_p50_ms), delta(o.ack_latency_p50_ms, other and other.ack_latency_p50_ms,
                                                     " ms"), True),
        ("ack p99", _ms(o.ack_latency_p99_ms), delta(o.ack_latency_p99_ms, other and other.ack_latency_p99_ms,
                                                     " ms"), True),
        ("acked per s", f"{o.throughput_per_s:.1f}", delta(o.throughput_per_s, other and other.throughput_per_s,
                                                          "", "{:+.1f}"), False),
    ]


def render_difference(pair: ComparePair, labels: tuple[str, str], key: str = "cmp") -> None:
    """The difference strip: divergence line, outcome rows, the race over simulated time, the outcome bars."""
    left, right = pair.outcomes()
    with st.container(border=True, key=f"{key}_difference"):
        st.markdown(divergence_text(pair.first_difference()))
        # one row per run, the same outcome in the same column: the eye compares straight down
        for side, o, other in (("Left", left, None), ("Right", right, left)):
            label = labels[0] if side == "Left" else labels[1]
            cols = st.columns([1.4, 1, 1, 1, 1, 1, 1], vertical_alignment="center")
            cols[0].markdown(f"{swatch(side)}  \n{code_span(label)}")
            for col, (title, value, delta, inverse) in zip(cols[1:], outcome_cells(o, other), strict=True):
                same = delta == SAME  # keeps the right row's boxes as tall as their neighbours
                col.metric(title, value, delta, delta_color="off" if same else ("inverse" if inverse else "normal"),
                           delta_arrow="off" if same else "auto", border=True)
        c1, c2 = st.columns([3, 2])
        with c1:
            lost_l = sorted({r.time_ms for r in pair.left.losses.lost_records()})
            lost_r = sorted({r.time_ms for r in pair.right.losses.lost_records()})
            st.plotly_chart(race_figure(pair.left.metrics.series(), pair.right.metrics.series(), lost_l, lost_r,
                                        pair.left.now, labels=("left", "right"),
                                        moments=moments_of(pair.left.events.events)),
                            key=f"{key}_race", config=PLOTLY_CONFIG)
        with c2:
            st.plotly_chart(outcome_figure(left, right, labels=("left", "right")), key=f"{key}_outcome",
                            config=PLOTLY_CONFIG)


def render_panels(pair: ComparePair, labels: tuple[str, str], events: tuple[list[Event], list[Event]],
                  topic: str | None, key: str = "cmp", quiet_text: str = "Nothing visible happened in this run.") -> None:
    """Two panels side by side: each run's headline event, cluster diagram and log strips of `topic`."""
    snaps = (pair.left.snapshot(), pair.right.snapshot())
    cols = st.columns(2, gap="medium")
    for col, side, snap, evs, label in zip(cols, ("left", "right"), snaps, events, labels, strict=True):
        with col, st.container(key=f"{key}_panel_{side}"):
            head = PlaygroundSession.headline(evs)
            st.markdown(f"{swatch(side)} run · {code_span(label)}")
            with st.container(border=True, height=110, key=f"{key}_narration_{side}"):
                st.markdown(md_escape(head.summary if head else quiet_text))
            st.plotly_chart(cluster_diagram(snap, highlight=head.actors if head else ()),
                            key=f"{key}_diagram_{side}", config=PLOTLY_CONFIG)
            st.plotly_chart(log_strips(snap, topic, width_px=600), key=f"{key}_logs_{side}", config=PLOTLY_CONFIG)


__all__ = ["render_difference", "render_panels", "divergence_text", "outcome_cells", "swatch", "code_span", "SAME"]
