"""The consumer-group panel: the classic rebalance state machine, the assignment, and lag per partition.

Pure: `group_state_figure(snapshot, group_id)`, `lag_figure(snapshot, group_id)` and
`assignment_rows(snapshot, group_id)` (rows for a table). The state machine is the group coordinator's
(GroupMetadata.scala / ClassicGroupState): Empty -> PreparingRebalance -> CompletingRebalance -> Stable.
"""

from __future__ import annotations

import plotly.graph_objects as go

from engine.snapshot import ClusterSnapshot, GroupView

from . import style as S
from .diagram import natural_key

STATES = ("Empty", "PreparingRebalance", "CompletingRebalance", "Stable")
STATE_HELP = {
    "Empty": "no members yet (or all left); committed offsets are kept",
    "PreparingRebalance": "waiting for every member to (re)send JoinGroup",
    "CompletingRebalance": "the leader member computes the assignment; waiting for SyncGroup",
    "Stable": "everyone has an assignment and heartbeats",
    "Dead": "the group has no members and no offsets left",
    "Unknown": "no coordinator: __consumer_offsets is not created yet, or its leader broker is down",
}
# Transitions drawn as arrows between the boxes: (from, to, label).
EDGES = (
    ("Empty", "PreparingRebalance", "member joins"),
    ("PreparingRebalance", "CompletingRebalance", "all joined"),
    ("CompletingRebalance", "Stable", "SyncGroup"),
    ("Stable", "PreparingRebalance", "member joins / leaves / fails"),
)


def group_ids(snap: ClusterSnapshot) -> list[str]:
    return sorted(
        {g.group_id for g in snap.groups} | {k.group_id for k in snap.consumers if k.group_id},
        key=natural_key,
    )


def _group(snap: ClusterSnapshot, group_id: str) -> GroupView | None:
    return next((g for g in snap.groups if g.group_id == group_id), None)


def group_state_figure(snap: ClusterSnapshot, group_id: str) -> go.Figure:
    """Four states in a row, the current one filled in the group's colour, with generation and leader."""
    g = _group(snap, group_id)
    colour = S.group_colour(S.colour_group_ids(snap), group_id)
    current = g.state if g else "Unknown"
    shapes, ann = [], []
    xs = {s: i * 25 + 1 for i, s in enumerate(STATES)}
    w = 21
    for s in STATES:
        on = s == current
        x0 = xs[s]
        shapes.append(
            dict(
                type="rect",
                name=f"state:{s}",
                x0=x0,
                x1=x0 + w,
                y0=30,
                y1=70,
                xref="x",
                yref="y",
                fillcolor=colour if on else S.WHITE,
                line=dict(color=colour if on else S.GRID, width=3 if on else 1.5),
                label=dict(
                    text=f"<b>{_wrap(s)}</b>" if on else _wrap(s),
                    font=dict(size=13, color=S.text_on(colour) if on else S.MUTED),
                ),
            )
        )
    for a, b, label in EDGES:
        if STATES.index(b) == STATES.index(a) + 1:
            ann.append(
                dict(
                    x=xs[b] - 0.3,
                    y=50,
                    ax=xs[a] + w + 0.3,
                    ay=50,
                    xref="x",
                    yref="y",
                    axref="x",
                    ayref="y",
                    showarrow=True,
                    arrowhead=3,
                    arrowsize=1.2,
                    arrowwidth=1.8,
                    arrowcolor=S.MUTED,
                    text="",
                )
            )
        else:  # Stable back to PreparingRebalance: a loop drawn under the boxes
            x_from, x_to = xs[a] + w / 2, xs[b] + w / 2
            shapes.append(
                dict(
                    type="path",
                    name="edge:back",
                    path=f"M {x_from},70 C {x_from},92 {x_to},92 {x_to},72",
                    xref="x",
                    yref="y",
                    line=dict(color=S.MUTED, width=1.8, dash="dot"),
                )
            )
            ann.append(
                dict(
                    x=(x_from + x_to) / 2,
                    y=90,
                    text=label,
                    showarrow=False,
                    font=dict(size=12, color=S.MUTED),
                    xref="x",
                    yref="y",
                    yanchor="top",
                )
            )
    if g is None or current not in STATES:
        info = f"Group {group_id}: {current} — {STATE_HELP.get(current, '')}"
    else:
        leader = next((m.client_id for m in g.members if m.is_leader), None)
        info = (
            f"<b>{group_id}</b> · generation <b>{g.generation}</b> · leader member <b>{leader or '—'}</b> · "
            f"assignor {g.protocol or '—'} ({g.rebalance}) · coordinator broker {g.coordinator}"
        )
    ann.append(
        dict(x=0, y=12, text=info, showarrow=False, xanchor="left", font=dict(size=14), xref="x", yref="y")
    )
    if current in STATE_HELP:
        ann.append(
            dict(
                x=0,
                y=112,
                text=f"{current}: {STATE_HELP[current]}",
                showarrow=False,
                xanchor="left",
                font=dict(size=13, color=S.MUTED),
                xref="x",
                yref="y",
            )
        )
    return S.figure(
        [],
        S.base_layout(
            height=190,
            margin=dict(l=6, r=6, t=6, b=6),
            shapes=shapes,
            annotations=ann,
            **S.hidden_axes((0, 101), (124, 0)),
        ),
    )


def _wrap(state: str) -> str:
    """PreparingRebalance -> Preparing<br>Rebalance: two short lines fit the boxes at projector size."""
    for word in ("Rebalance",):
        if state.endswith(word) and state != word:
            return state[: -len(word)] + "<br>" + word
    return state


def kafka_lag(g: GroupView | None) -> dict[tuple[str, int], int]:
    """Lag as `kafka-consumer-groups.sh --describe` reports it: only for partitions with a committed offset
    (ConsumerGroupCommand prints "-" for CURRENT-OFFSET and LAG when the group never committed one)."""
    if g is None:
        return {}
    return {tp: lag for tp, lag in g.lag.items() if tp in g.committed}


def assignment_rows(snap: ClusterSnapshot, group_id: str) -> list[dict]:
    """What `kafka-consumer-groups.sh --describe --group <id>` prints: one row per partition (None = "-").

    `lag` is the coordinator's (high watermark - committed offset), None ("-") while nothing is committed;
    `unread` is how far the owning consumer's position is behind, which is smaller until the next offset
    commit.
    """
    g = _group(snap, group_id)
    owners = {}
    positions = {}
    for k in snap.consumers:
        if k.group_id != group_id:
            continue
        for tp in k.assignment:
            if k.alive:
                owners[tp] = k.id
        positions.update({tp: off for tp, off in k.positions.items() if k.alive and tp in k.assignment})
    tps = sorted(set(g.lag if g else {}) | set(g.committed if g else {}) | set(owners))
    hws = {p.key: p.high_watermark for p in snap.partitions}
    lag = kafka_lag(g)
    rows = []
    for tp in tps:
        committed = g.committed.get(tp) if g else None
        pos = positions.get(tp)
        hw = hws.get(tp)
        rows.append(
            {
                "topic": tp[0],
                "partition": tp[1],
                "consumer": owners.get(tp),
                "position": pos,
                "committed offset": committed,
                "high watermark": hw,
                "lag": lag.get(tp),
                "unread": max(0, hw - pos) if hw is not None and pos is not None else None,
            }
        )
    return rows


def lag_figure(snap: ClusterSnapshot, group_id: str) -> go.Figure:
    """Lag per partition (high watermark - committed offset), each bar in the colour of its owner's group.
    A partition without a committed offset has no bar and the label "-", as in the table."""
    rows = assignment_rows(snap, group_id)
    colour = S.group_colour(S.colour_group_ids(snap), group_id)
    labels = [f"{r['topic']}-{r['partition']}" for r in rows]
    lags = [r["lag"] for r in rows]
    text = [
        f"{'-' if lag is None else lag} · {r['consumer'] or 'no owner'}"
        for lag, r in zip(lags, rows, strict=True)
    ]
    hover = [
        f"{lb}: lag {lag} record(s), owned by {r['consumer'] or 'nobody'}"
        if lag is not None
        else f"{lb}: lag - (no committed offset yet), owned by {r['consumer'] or 'nobody'}"
        for lb, lag, r in zip(labels, lags, rows, strict=True)
    ]
    bars = dict(
        type="bar",
        x=labels,
        y=[lag or 0 for lag in lags],
        marker=dict(color=colour),
        text=text,
        textposition="outside",
        cliponaxis=False,
        name="lag",
        hovertext=hover,
        hoverinfo="text",
    )
    top = max((lag for lag in lags if lag is not None), default=0)
    layout = S.base_layout(
        height=260,
        title=f"Lag per partition — group {group_id}",
        margin=dict(l=50, r=10, t=48, b=40),
        yaxis=dict(
            title="records behind",
            rangemode="tozero",
            fixedrange=True,
            gridcolor=S.GRID,
            range=[0, max(5, top) * 1.25],
        ),
        xaxis=dict(fixedrange=True, type="category"),
    )
    return S.figure([bars], layout)
