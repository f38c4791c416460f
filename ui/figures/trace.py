"""Follow one message: its life as a path across swimlanes (producer, leader, followers, consumers).

Pure: `trace_figure(trace) -> go.Figure`, `path_actors(trace)` (actor names) and `message_path(trace)` (the
route `cluster_diagram(path=...)` draws: producer → leader replica → followers → consumers). Steps sit
evenly spaced left to right in time order, each in the lane of the actor that did it, joined by the path
the record took; the label on each hop says how long it took in simulated time, because a linear time
axis would squash a 5 ms append next to an 8 s retry into one dot. Loss and a second delivery to the same
group are drawn in vermillion with the reason, so they are not told by colour alone (a cross and a label).
"""

from __future__ import annotations

import plotly.graph_objects as go

from engine.trace import Trace, TraceStep

from . import style as S
from .diagram import MessagePath, fit

LANE_PX = 78
LABEL_PX = 190
PLOT_PX = (
    560  # the plot area's width in the narrowest place the figure is shown (a Playground tab at 1280 px)
)
PROBLEM_WRAP = 78  # characters per line of the loss reason under the picture (13 px font in PLOT_PX)
BAD_KINDS = ("lost", "redelivered", "truncated")
# kind -> (short label, colour, marker symbol); the list below the figure has the full sentences.
KIND_STYLE: dict[str, tuple[str, str, str]] = {
    "partitioned": ("key → partition", S.MUTED, "circle"),
    "batched": ("batched", S.MUTED, "circle"),
    "sent": ("sent in a batch", S.ORANGE, "circle"),
    "appended": ("leader appended", S.BLUE, "square"),
    "replicated": ("follower copied", S.GREEN, "square-open"),
    "committed": ("high watermark passed", S.BLACK, "diamond"),
    "acked": ("acknowledged", S.ORANGE, "star"),
    "polled": ("consumer got it", S.SKY, "circle"),
    "offset_committed": ("group committed", S.PURPLE, "triangle-up"),
    "redelivered": ("DELIVERED AGAIN", S.VERMILLION, "circle-x"),
    "lost": ("LOST", S.VERMILLION, "x"),
    "truncated": ("truncated", S.VERMILLION, "x-open"),
}


def kind_style(kind: str) -> tuple[str, str, str]:
    return KIND_STYLE.get(kind, (kind.replace("_", " "), S.MUTED, "circle"))


def _producer(trace: Trace) -> str | None:
    return next((s.actor for s in trace.steps if s.kind == "sent"), None)


def step_actor(trace: Trace, step: TraceStep) -> str:
    """The lane of a step: the generic "producer" of the partitioning step becomes the real producer id."""
    if step.actor == "producer":
        return _producer(trace) or "producer"
    return step.actor


def lanes(trace: Trace) -> list[tuple[str, str]]:
    """(actor, label) per lane, top to bottom: producer, leader, followers, then readers, as they appear."""
    role_of: dict[str, str] = {}
    for s in trace.steps:
        a = step_actor(trace, s)
        if a in role_of:
            continue
        role_of[a] = {
            "partitioned": "producer",
            "sent": "producer",
            "acked": "producer",
            "appended": "leader",
            "committed": "leader",
            "replicated": "follower",
            "polled": "consumer",
            "redelivered": "consumer",
            "offset_committed": "commits",
            "lost": "new leader",
            "truncated": "truncated",
        }.get(s.kind, "")
    order = {
        "producer": 0,
        "leader": 1,
        "follower": 2,
        "new leader": 3,
        "truncated": 3,
        "consumer": 4,
        "commits": 5,
        "": 6,
    }
    actors = sorted(role_of, key=lambda a: order[role_of[a]])  # stable: first appearance within a role
    return [(a, f"{_pretty(a)} · {role_of[a]}" if role_of[a] else _pretty(a)) for a in actors]


def _pretty(actor: str) -> str:
    return actor.replace("broker-", "broker ")


def path_actors(trace: Trace) -> tuple[str, ...]:
    """Diagram node names on the record's path (producer, brokers, consumers) for `cluster_diagram(highlight=)`."""
    out: list[str] = []
    for s in trace.steps:
        a = step_actor(trace, s)
        if a not in out and a not in ("producer", "cluster", "controller"):
            out.append(a)
    return tuple(out)


def _broker(actor: str) -> int | None:
    return int(actor.removeprefix("broker-")) if actor.startswith("broker-") and actor[7:].isdigit() else None


def message_path(trace: Trace | None) -> MessagePath | None:
    """The record's route for the cluster diagram, read from its trace (None when nothing is known of it yet):
    the producer that sent it, the broker that appended it, the followers that copied it, the consumers
    that got it from poll() (and those that got it twice)."""
    if trace is None or not trace.steps:
        return None
    leader = next((_broker(s.actor) for s in trace.steps if s.kind == "appended"), None)
    followers = tuple(
        dict.fromkeys(
            b
            for s in trace.steps
            if s.kind == "replicated" and (b := _broker(s.actor)) is not None and b != leader
        )
    )
    readers = tuple(dict.fromkeys(s.actor for s in trace.steps if s.kind in ("polled", "redelivered")))
    twice = tuple(dict.fromkeys(s.actor for s in trace.steps if s.kind == "redelivered"))
    key = f" · key {S.show(trace.key, 16)}" if trace.key is not None else ""
    return MessagePath(
        trace.topic,
        trace.partition,
        trace.offset,
        f"{trace.topic}-{trace.partition} offset {trace.offset}{key}",
        producer=_producer(trace),
        leader=leader,
        followers=followers,
        readers=readers,
        twice=twice,
        lost=any(s.kind == "lost" for s in trace.steps),
    )


def route_text(path: MessagePath) -> str:
    """The route in words, for the line above the diagram:
    "p1 → broker 2 (leader) → brokers 1, 3 (followers) → c1 (consumer)"."""
    parts = [path.producer] if path.producer else []
    if path.leader is not None:
        parts.append(f"broker {path.leader} (leader)")
    if path.followers:
        parts.append(
            f"broker{'s' * (len(path.followers) > 1)} {', '.join(map(str, path.followers))} (followers)"
        )
    if path.readers:
        parts.append(", ".join(path.readers) + (" (consumer)" if len(path.readers) == 1 else " (consumers)"))
    return " → ".join(parts) + (" → LOST" if path.lost else "")


def problems(trace: Trace) -> list[TraceStep]:
    """The steps a student must not miss: a loss, a truncation or a second delivery."""
    return [s for s in trace.steps if s.kind in BAD_KINDS]


def trace_title(trace: Trace) -> str:
    key = S.show(trace.key, 20) if trace.key is not None else "no key"
    return (
        f"{trace.topic}-{trace.partition} offset {trace.offset} · key {key} · value {S.show(trace.value, 20)}"
    )


def trace_figure(trace: Trace | None) -> go.Figure:
    """The record's life: one marker per step in its actor's lane, the path between them, hop durations."""
    if trace is None or not trace.steps:
        text = "Pick a record to follow." if trace is None else "Nothing is known about this record yet."
        return S.figure(
            [], S.base_layout(height=150, annotations=[S.empty_note(text)], **S.hidden_axes((0, 1), (1, 0)))
        )
    lane_list = lanes(trace)
    row = {a: i for i, (a, _) in enumerate(lane_list)}
    steps = list(trace.steps)
    xs = list(range(len(steps)))
    ys = [row[step_actor(trace, s)] for s in steps]
    shapes: list[dict] = []
    ann: list[dict] = []
    data: list[dict] = []
    n = len(steps)
    for i, (_, label) in enumerate(lane_list):
        shapes.append(
            dict(
                type="rect",
                name=f"lane:{lane_list[i][0]}",
                xref="paper",
                yref="y",
                x0=0,
                x1=1,
                y0=i - 0.42,
                y1=i + 0.42,
                fillcolor=S.PANEL if i % 2 == 0 else S.WHITE,
                line=dict(width=0),
                layer="below",
            )
        )
        ann.append(
            dict(
                x=0,
                xshift=-10,
                y=i,
                xref="paper",
                yref="y",
                text=f"<b>{fit(label, LABEL_PX - 14, 13)}</b>",
                showarrow=False,
                xanchor="right",
                font=dict(size=13, color=S.INK),
            )
        )
    # The path: one segment per hop, vermillion into a loss, with its simulated duration on it.
    for i in range(1, n):
        bad = steps[i].kind in BAD_KINDS
        shapes.append(
            dict(
                type="line",
                name=f"hop:{i}",
                xref="x",
                yref="y",
                x0=xs[i - 1],
                y0=ys[i - 1],
                x1=xs[i],
                y1=ys[i],
                line=dict(
                    color=S.VERMILLION if bad else S.MUTED,
                    width=2.5 if bad else 2,
                    dash="dot" if bad else "solid",
                ),
                layer="below",
            )
        )
        dt = steps[i].time_ms - steps[i - 1].time_ms
        ann.append(
            dict(
                x=(xs[i - 1] + xs[i]) / 2,
                y=(ys[i - 1] + ys[i]) / 2,
                xref="x",
                yref="y",
                text=f"+{dt} ms",
                showarrow=False,
                yshift=-11,
                bgcolor="rgba(255,255,255,0.85)",
                font=dict(size=11, color=S.VERMILLION if bad else S.MUTED),
                name=f"dt:{i}",
            )
        )
    by_kind: dict[str, list[int]] = {}
    for i, s in enumerate(steps):
        by_kind.setdefault(s.kind, []).append(i)
    for kind, idx in by_kind.items():
        label, colour, symbol = kind_style(kind)
        bad = kind in BAD_KINDS
        data.append(
            dict(
                type="scatter",
                x=[xs[i] for i in idx],
                y=[ys[i] for i in idx],
                mode="markers",
                name=label,
                marker=dict(
                    symbol=symbol,
                    size=20 if bad else 16,
                    color=colour,
                    line=dict(color=S.VERMILLION if bad else S.WHITE, width=2.5 if bad else 1.5),
                ),
                hovertext=[
                    f"<b>t={steps[i].time_ms} ms · {label}</b><br>{_wrap(steps[i].summary)}" for i in idx
                ],
                hoverinfo="text",
                showlegend=False,
            )
        )
    sides = label_sides([kind_style(s.kind)[0] for s in steps], ys, [s.kind in BAD_KINDS for s in steps])
    for i, s in enumerate(steps):
        label = kind_style(s.kind)[0]
        bad = s.kind in BAD_KINDS
        name = f"<b>{label}</b>" if bad else label
        when = f"<span style='font-size:11px'>t={s.time_ms} ms</span>"
        up = sides[i]
        shift = 36 if bad else 30  # clear of the bigger problem marker
        ann.append(
            dict(
                x=xs[i],
                y=ys[i],
                xref="x",
                yref="y",
                showarrow=False,
                yshift=shift if up else -shift,
                text=f"{name}<br>{when}" if up else f"{when}<br>{name}",
                font=dict(size=12, color=S.VERMILLION if bad else S.INK),
                name=f"step:{i}:{s.kind}",
            )
        )
    first_problem = next(iter(problems(trace)), None)
    extra = 0
    if first_problem is not None:  # the reason, in words, under the picture
        s = first_problem
        reason = _wrap(
            f"<b>{kind_style(s.kind)[0]}</b> at t={s.time_ms} ms: {s.summary.removeprefix('LOST: ')}",
            PROBLEM_WRAP,
        )
        ann.append(
            dict(
                x=0,
                y=0,
                xref="paper",
                yref="paper",
                yanchor="top",
                xanchor="left",
                yshift=-8,
                showarrow=False,
                align="left",
                text=reason,
                font=dict(size=13, color=S.VERMILLION),
                name=f"problem:{s.kind}",
            )
        )
        extra = 20 + 18 * reason.count("<br>")
    height = len(lane_list) * LANE_PX + 70 + extra
    layout = S.base_layout(
        height=height,
        title=trace_title(trace),
        shapes=shapes,
        annotations=ann,
        margin=dict(l=LABEL_PX, r=30, t=56, b=20 + extra),
        xaxis=dict(range=[-0.6, max(n - 1, 1) + 0.6], visible=False, fixedrange=True),
        yaxis=dict(range=[len(lane_list) - 0.5, -0.6], visible=False, fixedrange=True),
    )
    return S.figure(data, layout)


def label_sides(
    labels: list[str], lanes_of: list[int], bad: list[bool], plot_px: float = PLOT_PX
) -> list[bool]:
    """Above (True) or below each step's marker, so no two step labels overlap: alternate, unless the
    preferred side collides with a label already placed or another marker (neighbours in adjacent lanes share
    the band between them). Positions are estimated at the narrowest width the figure is drawn for."""
    n = len(labels)
    step_px = plot_px / (max(n - 1, 1) + 1.2)
    boxes: list[tuple[float, float, float, float]] = [
        ((i + 0.6) * step_px - 10, (i + 0.6) * step_px + 10, y * LANE_PX - 10, y * LANE_PX + 10)
        for i, y in enumerate(lanes_of)
    ]  # the markers

    def clash(box: tuple[float, float, float, float]) -> float:
        return sum(
            max(0.0, min(box[1], b[1]) - max(box[0], b[0])) * max(0.0, min(box[3], b[3]) - max(box[2], b[2]))
            for b in boxes
        )

    out = []
    for i, (label, y) in enumerate(zip(labels, lanes_of, strict=True)):
        half = max(len(label), 10) * 3.4 + 4
        cx, cy, shift = (i + 0.6) * step_px, y * LANE_PX, 36 if bad[i] else 30
        cand = {
            up: (
                cx - half,
                cx + half,
                cy - shift - 16 if up else cy + shift - 16,
                cy - shift + 16 if up else cy + shift + 16,
            )
            for up in (True, False)
        }
        prefer = [i % 2 == 0, i % 2 != 0]
        up = min(prefer, key=lambda u: (clash(cand[u]), prefer.index(u)))
        boxes.append(cand[up])
        out.append(up)
    return out


def _wrap(text: str, width: int = 70) -> str:
    words, lines, cur = text.split(), [], ""
    for w in words:
        if cur and len(cur) + len(w) + 1 > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}".strip()
    lines.append(cur)
    return "<br>".join(lines)


def trace_rows(trace: Trace) -> list[dict[str, str]]:
    """The list under the figure: one row per step, simulated time first, the full sentence last."""
    return [
        {
            "t (ms)": str(s.time_ms),
            "what": kind_style(s.kind)[0],
            "who": _pretty(step_actor(trace, s)),
            "detail": s.summary,
        }
        for s in trace.steps
    ]
