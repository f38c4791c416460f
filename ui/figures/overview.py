"""Pictures for the Home page: what Kafka is for, shown rather than told.

Pure functions returning go.Figure: many producers and consumers around one topic, a partition log
replicated on three brokers' disks, a cluster growing online, and the end-to-end latency of a simulated
run (the samples come from the engine; this module only draws them).
"""

from __future__ import annotations

import plotly.graph_objects as go

from . import style as S

H = 300


def _box(
    x0: float,
    y0: float,
    x1: float,
    y1: float,
    name: str,
    fill: str,
    line: str,
    text: str = "",
    font_colour: str = S.INK,
    size: int = 14,
    dash: str = "solid",
    width: float = 2,
) -> dict:
    return dict(
        type="rect",
        name=name,
        x0=x0,
        x1=x1,
        y0=y0,
        y1=y1,
        xref="x",
        yref="y",
        fillcolor=fill,
        line=dict(color=line, width=width, dash=dash),
        label=dict(text=text, font=dict(size=size, color=font_colour)) if text else None,
    )


def _arrow(x0: float, y0: float, x1: float, y1: float, colour: str = S.MUTED) -> dict:
    return dict(
        x=x1,
        y=y1,
        ax=x0,
        ay=y0,
        xref="x",
        yref="y",
        axref="x",
        ayref="y",
        showarrow=True,
        arrowhead=3,
        arrowsize=1.1,
        arrowwidth=2,
        arrowcolor=colour,
        text="",
    )


def _finish(shapes: list[dict], ann: list[dict], x: tuple[float, float], y: tuple[float, float]) -> go.Figure:
    return S.figure(
        [],
        S.base_layout(
            height=H, margin=dict(l=4, r=4, t=4, b=4), shapes=shapes, annotations=ann, **S.hidden_axes(x, y)
        ),
    )


def fan_in_fan_out() -> go.Figure:
    """Many producers write one topic; every consumer group reads all of it, independently."""
    shapes, ann = [], []
    apps = ["web shop", "mobile app", "payments", "sensors"]
    for i, a in enumerate(apps):
        y = 8 + i * 2.2
        shapes.append(_box(0, y - 0.8, 22, y + 0.8, f"producer:{a}", S.WHITE, S.INK, a, size=13))
        ann.append(_arrow(22.5, y, 37.5, 8 + 1.5 * 2.2 + (i - 1.5) * 1.2, S.ORANGE))
    shapes.append(_box(38, 5.5, 62, 16, "topic", S.PANEL, S.INK))
    ann.append(
        dict(
            x=50,
            y=15.2,
            text="<b>topic “orders”</b>",
            showarrow=False,
            font=dict(size=14),
            xref="x",
            yref="y",
        )
    )
    for p in range(3):
        y = 7 + p * 2.6
        shapes.append(
            _box(40, y, 60, y + 1.9, f"partition:{p}", S.BLUE, S.BLUE, f"partition {p}", S.WHITE, 13)
        )
    groups = [("billing", S.ORANGE), ("analytics", S.GREEN), ("search index", S.PURPLE)]
    for i, (g, c) in enumerate(groups):
        y = 8.2 + i * 2.8
        shapes.append(_box(78, y - 1, 100, y + 1, f"group:{g}", c, c, g, S.text_on(c), 13))
        ann.append(_arrow(62.5, 8 + 1.5 * 2.2 + (i - 1) * 1.4, 77.5, y, c))
    ann.append(
        dict(
            x=0,
            y=17.7,
            text="many producers",
            showarrow=False,
            font=dict(size=13, color=S.MUTED),
            xref="x",
            yref="y",
            xanchor="left",
        )
    )
    ann.append(
        dict(
            x=100,
            y=17.7,
            text="many consumer groups",
            showarrow=False,
            font=dict(size=13, color=S.MUTED),
            xref="x",
            yref="y",
            xanchor="right",
        )
    )
    return _finish(shapes, ann, (-1, 101), (19, 5))


def replicated_log() -> go.Figure:
    """One partition, three copies on three brokers' disks; the high watermark marks what all have."""
    shapes, ann = [], []
    rows = [
        ("Broker 1 · leader", 10, True),
        ("Broker 2 · follower", 9, False),
        ("Broker 3 · follower", 8, False),
    ]
    colours = [S.BLUE, S.ORANGE, S.GREEN, S.PURPLE, S.SKY]
    for r, (label, n, leader) in enumerate(rows):
        y = 2 + r * 3
        ann.append(
            dict(
                x=27,
                y=y + 0.9,
                text=f"<b>{label}</b>" if leader else label,
                showarrow=False,
                xanchor="right",
                font=dict(size=14),
                xref="x",
                yref="y",
            )
        )
        shapes.append(_box(28, y - 0.2, 100, y + 2, f"disk:{r}", S.PANEL, S.GRID, width=1))
        for off in range(n):
            x = 29 + off * 7
            c = colours[off % len(colours)]
            shapes.append(
                _box(
                    x,
                    y + 0.1,
                    x + 6.3,
                    y + 1.7,
                    f"record:{r}:{off}",
                    c if off < 8 else S.WHITE,
                    c,
                    str(off),
                    S.text_on(c) if off < 8 else S.INK,
                    13,
                    dash="solid" if off < 8 else "dot",
                )
            )
    x_hw = 29 + 8 * 7 - 0.35
    shapes.append(
        dict(
            type="line",
            x0=x_hw,
            x1=x_hw,
            y0=1.3,
            y1=10.6,
            xref="x",
            yref="y",
            line=dict(color=S.BLACK, width=3),
        )
    )
    ann.append(
        dict(
            x=x_hw - 0.5,
            y=0.7,
            text="<b>high watermark</b>: every in-sync copy has the records left of it",
            showarrow=False,
            font=dict(size=13),
            xref="x",
            yref="y",
            xanchor="right",
        )
    )
    return _finish(shapes, ann, (0, 101), (11, 0))


def online_scaling() -> go.Figure:
    """Add a broker while the cluster serves: partitions move to it, nobody stops."""
    shapes, ann = [], []
    before = {1: ["p0", "p3"], 2: ["p1", "p4"], 3: ["p2", "p5"]}
    after = {1: ["p0"], 2: ["p1", "p4"], 3: ["p2", "p5"], 4: ["p3"]}
    for half, (title, layout, x_off) in enumerate(
        (("3 brokers", before, 0), ("add broker 4, move p3", after, 54))
    ):
        ann.append(
            dict(
                x=x_off + 23,
                y=0.8,
                text=f"<b>{title}</b>",
                showarrow=False,
                font=dict(size=14),
                xref="x",
                yref="y",
            )
        )
        for i, (b, parts) in enumerate(sorted(layout.items())):
            x0 = x_off + i * 11.5
            new = half == 1 and b == 4
            shapes.append(
                _box(
                    x0,
                    2,
                    x0 + 10.5,
                    11,
                    f"broker:{half}:{b}",
                    S.PANEL,
                    S.GREEN if new else S.INK,
                    width=3 if new else 1.5,
                )
            )
            ann.append(
                dict(x=x0 + 5.25, y=3, text=f"B{b}", showarrow=False, font=dict(size=14), xref="x", yref="y")
            )
            for j, p in enumerate(parts):
                moved = half == 1 and p == "p3"
                shapes.append(
                    _box(
                        x0 + 1,
                        4.4 + j * 2.8,
                        x0 + 9.5,
                        6.6 + j * 2.8,
                        f"chip:{half}:{b}:{p}",
                        S.GREEN if moved else S.BLUE,
                        S.GREEN if moved else S.BLUE,
                        p,
                        S.WHITE,
                        13,
                    )
                )
    ann.append(_arrow(46, 6.5, 53, 6.5, S.GREEN))
    return _finish(shapes, ann, (-1, 101), (12, 0))


def latency_histogram(samples_ms: list[int]) -> go.Figure:
    """How long records take from send() to a consumer's poll(), in a simulated run."""
    hist = dict(
        type="histogram",
        x=samples_ms,
        marker=dict(color=S.PURPLE, line=dict(color=S.WHITE, width=1)),
        nbinsx=20,
        name="records",
        hovertemplate="%{x} ms: %{y} poll(s)<extra></extra>",
    )
    shapes, ann = [], []
    if samples_ms:
        med = sorted(samples_ms)[len(samples_ms) // 2]
        shapes.append(
            dict(
                type="line",
                xref="x",
                yref="paper",
                x0=med,
                x1=med,
                y0=0,
                y1=1,
                name="median",
                line=dict(color=S.INK, width=2, dash="dash"),
            )
        )
        ann.append(
            dict(
                x=med,
                y=1,
                xref="x",
                yref="paper",
                text=f"median {med} ms",
                showarrow=False,
                xanchor="left",
                xshift=6,
                yanchor="top",
                font=dict(size=13),
            )
        )
    layout = S.base_layout(
        height=H,
        margin=dict(l=50, r=10, t=10, b=50),
        bargap=0.05,
        shapes=shapes,
        annotations=ann,
        xaxis=dict(
            title=dict(text="send → poll, simulated ms"),
            gridcolor=S.GRID,
            fixedrange=True,
            rangemode="tozero",
        ),
        yaxis=dict(title=dict(text="polls"), gridcolor=S.GRID, fixedrange=True),
    )
    return S.figure([hist], layout)
