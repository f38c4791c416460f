"""Charts over simulated time: throughput, latency and consumer lag.

Pure: they take `Cluster.metrics.series()` (columns in 100 ms buckets) or a lag history the UI records
(`[(time_s, {group: total lag})]`), and return a go.Figure. Axes are simulated seconds, not wall time.
"""

from __future__ import annotations

import plotly.graph_objects as go

from . import style as S

HEIGHT = 280


def _chart(data: list[dict], title: str, y_title: str) -> go.Figure:
    empty = not any(len(t.get("x") or []) for t in data)
    layout = S.base_layout(
        height=HEIGHT,
        title=title,
        show_legend=True,
        margin=dict(l=60, r=10, t=48, b=70),
        xaxis=dict(title=dict(text="simulated time (s)"), gridcolor=S.GRID, zeroline=False),
        yaxis=dict(title=dict(text=y_title), gridcolor=S.GRID, rangemode="tozero", zeroline=False),
        legend=dict(y=-0.28),
        hovermode="x unified",
        annotations=[S.empty_note("Nothing yet: press Step or Play")] if empty else [],
    )
    return S.figure(data, layout)


def throughput_figure(series: dict[str, list]) -> go.Figure:
    """Records per second appended by leaders, acknowledged to producers and consumed."""
    t = series.get("time_s", [])
    data = [
        dict(
            type="scatter",
            x=t,
            y=series.get(col, []),
            name=name,
            mode="lines",
            line=dict(color=colour, width=2.5, dash=dash, shape="hv"),
        )
        for col, name, colour, dash in (
            ("appended_per_s", "appended by leaders", S.ORANGE, "solid"),
            ("acked_per_s", "acknowledged to producers", S.BLUE, "dash"),
            ("consumed_per_s", "consumed", S.GREEN, "solid"),
        )
    ]
    return _chart(data, "Throughput", "records / s")


def latency_figure(series: dict[str, list]) -> go.Figure:
    """Mean acknowledgement latency (send -> ack) and end-to-end latency (send -> poll) per 100 ms."""
    t = series.get("time_s", [])
    data = [
        dict(
            type="scatter",
            x=t,
            y=series.get(col, []),
            name=name,
            mode="lines+markers",
            connectgaps=False,
            line=dict(color=colour, width=2.5, dash=dash),
            marker=dict(size=5),
        )
        for col, name, colour, dash in (
            ("ack_latency_ms", "send → acknowledged", S.BLUE, "dash"),
            ("e2e_latency_ms", "send → consumer poll (end to end)", S.PURPLE, "solid"),
        )
    ]
    return _chart(data, "Latency", "ms")


def lag_history_figure(
    history: list[tuple[float, dict[str, int]]], group_order: list[str], colour_ids: list[str] | None = None
) -> go.Figure:
    """Total lag of each group over simulated time (the UI samples it after every step). `colour_ids`: every
    group id of the picture (`palette.colour_group_ids`, share groups too), so a group keeps its diagram colour."""
    data = []
    colour_ids = colour_ids or group_order
    for gid in group_order:
        pts = [(t, lags[gid]) for t, lags in history if gid in lags]
        data.append(
            dict(
                type="scatter",
                x=[p[0] for p in pts],
                y=[p[1] for p in pts],
                name=f"group {gid}",
                mode="lines",
                line=dict(color=S.group_colour(colour_ids, gid), width=2.5, shape="hv"),
            )
        )
    return _chart(data, "Consumer lag (high watermark − committed offset)", "records")
