"""Compare two runs: outcome bars and the two runs on one simulated-time axis.

Pure: `outcome_figure(left, right)` takes two `engine.compare.Outcome`s; `race_figure(...)` takes the two
clusters' `metrics.series()` plus the loss times and `moments_of(events)`, the crashes to mark. The left run is always blue and the right run orange in
every compare picture (and solid vs dashed lines), so a student never has to re-read a legend.
"""

from __future__ import annotations

import plotly.graph_objects as go

from engine.compare import Outcome
from engine.events import Event

from . import style as S

LEFT = S.BLUE
RIGHT = S.ORANGE
SIDE_COLOURS = (LEFT, RIGHT)
# (attribute, panel title, how to print a value)
OUTCOME_PANELS: tuple[tuple[str, str, str], ...] = (
    ("records_acked", "acknowledged", "{:,.0f}"),  # whole numbers, as on the tiles above the chart
    ("records_lost", "lost after ack", "{:,.0f}"),
    ("duplicates", "duplicates", "{:,.0f}"),
    ("ack_latency_p50_ms", "ack p50 (ms)", "{:,.0f}"),
    ("ack_latency_p99_ms", "ack p99 (ms)", "{:,.0f}"),
    ("throughput_per_s", "acked per s", "{:,.0f}"),
)


def outcome_value(o: Outcome, attr: str) -> float | None:
    v = getattr(o, attr)
    return None if v is None else float(v)


def outcome_figure(
    left: Outcome, right: Outcome, labels: tuple[str, str] = ("left", "right"), columns: int = 3
) -> go.Figure:
    """One small panel per outcome in a grid, two bars each (left blue, right orange), values on the bars;
    a panel whose count is a problem (lost, duplicates) gets a vermillion title and outline when non-zero."""
    n = len(OUTCOME_PANELS)
    rows = -(-n // columns)
    gx, gy = 0.06, 0.2
    w = (1 - gx * (columns - 1)) / columns
    h = (1 - gy * (rows - 1)) / rows
    data: list[dict] = []
    layout_axes: dict = {}
    ann: list[dict] = []
    for i, (attr, title, fmt) in enumerate(OUTCOME_PANELS):
        ax = "" if i == 0 else str(i + 1)
        r, c = divmod(i, columns)
        x0 = c * (w + gx)
        y1 = 1 - r * (h + gy)
        vals = [outcome_value(left, attr), outcome_value(right, attr)]
        bad = attr in ("records_lost", "duplicates") and any((v or 0) > 0 for v in vals)
        texts = ["—" if v is None else fmt.format(v) for v in vals]
        data.append(
            dict(
                type="bar",
                x=list(labels),
                y=[v or 0 for v in vals],
                xaxis=f"x{ax}",
                yaxis=f"y{ax}",
                marker=dict(
                    color=list(SIDE_COLOURS),
                    line=dict(
                        color=[S.VERMILLION if bad and (v or 0) > 0 else S.WHITE for v in vals], width=3
                    ),
                ),
                text=texts,
                textposition="outside",
                cliponaxis=False,
                textfont=dict(size=14, color=S.INK),
                hovertext=[f"{lab}: {title} {t}" for lab, t in zip(labels, texts, strict=True)],
                hoverinfo="text",
                name=f"outcome:{attr}",
                showlegend=False,
            )
        )
        top = max([v or 0 for v in vals] + [1])
        layout_axes[f"xaxis{ax}"] = dict(
            domain=[round(x0, 6), min(1.0, round(x0 + w, 6))],
            anchor=f"y{ax}",
            fixedrange=True,
            showgrid=False,
            tickfont=dict(size=12),
        )
        layout_axes[f"yaxis{ax}"] = dict(
            domain=[max(0.0, round(y1 - h, 6)), min(1.0, round(y1, 6))],
            anchor=f"x{ax}",
            range=[0, top * 1.45],
            visible=False,
            fixedrange=True,
        )
        ann.append(
            dict(
                x=x0 + w / 2,
                y=y1,
                xref="paper",
                yref="paper",
                yanchor="bottom",
                showarrow=False,
                text=f"<b>{title}</b>",
                font=dict(size=13, color=S.VERMILLION if bad else S.INK),
                name=f"panel:{attr}",
            )
        )
    layout = S.base_layout(
        height=150 * rows + 40,
        margin=dict(l=10, r=10, t=30, b=10),
        annotations=ann,
        bargap=0.3,
        **layout_axes,
    )
    return S.figure(data, layout)


MOMENT_KINDS = ("broker_crashed", "broker_stopped", "consumer_crashed", "broker_restarted")


def moments_of(events: list[Event], limit: int = 4) -> list[tuple[int, str]]:
    """The commands done to both runs (crashes, restarts) as (time, short label), for `race_figure`."""
    return [(e.time_ms, e.summary.split(":")[0][:28]) for e in events if e.kind in MOMENT_KINDS][-limit:]


def _cumulative(series: dict[str, list]) -> tuple[list[float], list[float]]:
    """Acknowledged records so far, per 100 ms bucket (series holds rates per second)."""
    t = series.get("time_s", [])
    acked = series.get("acked_per_s", [])
    xs, ys, total = [], [], 0.0
    for ti, rate in zip(t, acked, strict=False):
        total += (rate or 0) / 10  # a bucket is 100 ms
        xs.append(ti + 0.1)
        ys.append(round(total))
    return xs, ys


def _at(xs: list[float], ys: list[float], t: float) -> float:
    y = 0.0
    for x, v in zip(xs, ys, strict=False):
        if x > t:
            break
        y = v
    return y


def race_figure(
    left_series: dict[str, list],
    right_series: dict[str, list],
    left_lost_ms: list[int],
    right_lost_ms: list[int],
    now_ms: int,
    labels: tuple[str, str] = ("left", "right"),
    moments: list[tuple[int, str]] | None = None,
) -> go.Figure:
    """Acknowledged records over simulated time for both runs on one axis; losses as red crosses; the
    commands applied to both (crashes...) as labelled vertical lines."""
    data: list[dict] = []
    shapes: list[dict] = []
    ann: list[dict] = []
    for series, lost, colour, dash, label in (
        (left_series, left_lost_ms, LEFT, "solid", labels[0]),
        (right_series, right_lost_ms, RIGHT, "dash", labels[1]),
    ):
        xs, ys = _cumulative(series)
        data.append(
            dict(
                type="scatter",
                x=[0.0, *xs],
                y=[0, *ys],
                mode="lines",
                name=f"{label}: acknowledged",
                line=dict(color=colour, width=3, dash=dash, shape="hv"),
            )
        )
        if lost:
            lx = [t / 1000 for t in lost]
            data.append(
                dict(
                    type="scatter",
                    x=lx,
                    y=[_at(xs, ys, t) for t in lx],
                    mode="markers",
                    name=f"{label}: acknowledged, then lost",
                    marker=dict(symbol="x", size=14, color=S.VERMILLION, line=dict(color=colour, width=1)),
                    hovertext=[
                        f"{label}: a record acknowledged earlier was found lost at t={t} ms" for t in lost
                    ],
                    hoverinfo="text",
                )
            )
    end = max(now_ms / 1000, 0.1)
    for i, (t, text) in enumerate(moments or []):
        shapes.append(
            dict(
                type="line",
                name=f"moment:{text}",
                xref="x",
                yref="paper",
                x0=t / 1000,
                x1=t / 1000,
                y0=0,
                y1=1,
                line=dict(color=S.MUTED, width=1.5, dash="dot"),
            )
        )
        # alternate rows, so two crashes close in time do not print their labels over each other
        ann.append(
            dict(
                x=t / 1000,
                y=1,
                xref="x",
                yref="paper",
                yanchor="bottom",
                text=text,
                showarrow=False,
                yshift=16 * (i % 2),
                xanchor="left",
                font=dict(size=12, color=S.MUTED),
            )
        )
    layout = S.base_layout(
        height=300,
        show_legend=True,
        shapes=shapes,
        annotations=ann,
        hovermode="closest",
        margin=dict(l=60, r=16, t=44 if len(moments or []) > 1 else 28, b=100),
        # one horizontal row under the axis title (entries wrap on a narrow page instead of covering it)
        legend=dict(orientation="h", x=0, xanchor="left", y=-0.4, yanchor="top"),
        xaxis=dict(
            title=dict(text="simulated time (s)"),
            range=[0, end * 1.02],
            gridcolor=S.GRID,
            zeroline=False,
            fixedrange=True,
        ),
        yaxis=dict(
            title=dict(text="records acked"),
            rangemode="tozero",
            gridcolor=S.GRID,
            zeroline=False,
            fixedrange=True,
        ),
    )
    return S.figure(data, layout)
