"""The KIP-848 member-epoch view: the group epoch against each member's epoch and assignment.

Pure: `member_epochs_figure(snapshot, group_id) -> go.Figure`. With `group.protocol=consumer` there is no
generation every member shares: the coordinator bumps the *group epoch* when membership changes, and
each member catches up on its own, heartbeat by heartbeat (its *member epoch*). A member behind the group
epoch is reconciling (it may first have to revoke a partition); everyone else keeps consuming. One row
per member: its epoch on a small epoch axis, a marker at the group epoch, and its partitions as chips.
"""

from __future__ import annotations

import plotly.graph_objects as go

from engine.snapshot import ClusterSnapshot, GroupView

from . import style as S
from .diagram import fit, natural_key

ROW = 1.0
KIP848 = "consumer (KIP-848)"
CAUGHT_UP = S.GREEN
RECONCILING = S.ORANGE
X_NAME = 0.0  # name column (paper fraction via x axis units below)
X_EPOCH0, X_EPOCH1 = 16.0, 52.0  # the epoch axis
X_CHIPS = 56.0  # where the partition chips start
CHIP_W = 9.0
X_MAX = 104.0


def kip848_group_ids(snap: ClusterSnapshot) -> list[str]:
    return sorted((g.group_id for g in snap.groups if g.rebalance == KIP848), key=natural_key)


def is_reconciling(g: GroupView, member_epoch: int | None) -> bool:
    return member_epoch is not None and member_epoch != g.generation


def member_epochs_figure(snap: ClusterSnapshot, group_id: str | None = None) -> go.Figure:
    """Members as rows; members behind the group epoch are drawn orange and dashed, with 'reconciling'."""
    ids = kip848_group_ids(snap)
    gid = group_id if group_id in ids else (ids[0] if ids else None)
    g = next((x for x in snap.groups if x.group_id == gid), None)
    if g is None:
        return S.figure(
            [],
            S.base_layout(
                height=120,
                annotations=[S.empty_note("No group uses group.protocol=consumer (KIP-848) yet.")],
                **S.hidden_axes((0, 1), (1, 0)),
            ),
        )
    members = sorted(g.members, key=lambda m: natural_key(m.client_id))
    epochs = [m.member_epoch for m in members if m.member_epoch is not None]
    lo = min([*epochs, g.generation]) - 1
    hi = g.generation
    span = max(1, hi - lo)

    def ex(epoch: int) -> float:
        return X_EPOCH0 + (epoch - lo) / span * (X_EPOCH1 - X_EPOCH0)

    colour = S.group_colour(S.colour_group_ids(snap), g.group_id)
    shapes: list[dict] = []
    ann: list[dict] = []
    data: list[dict] = []
    top = 1.75
    n = max(1, len(members))
    y_end = top + n * ROW
    # the group epoch: one vertical line across all member rows
    axis: list[dict] = []  # drawn after the member rows, so the rows' fill does not hide them
    axis.append(
        dict(
            type="line",
            name="group-epoch",
            xref="x",
            yref="y",
            x0=ex(hi),
            x1=ex(hi),
            y0=top - 0.25,
            y1=y_end,
            line=dict(color=S.BLACK, width=3),
            layer="below",
        )
    )
    ann.append(
        dict(
            x=ex(hi),
            y=top - 0.3,
            text=f"<b>group epoch {hi}</b>",
            showarrow=False,
            yanchor="bottom",
            xanchor="right",
            font=dict(size=13),
            xref="x",
            yref="y",
        )
    )
    for e in range(lo + 1, hi):  # older epochs: faint ticks so "behind by one" is visible
        axis.append(
            dict(
                type="line",
                name=f"epoch-tick:{e}",
                xref="x",
                yref="y",
                x0=ex(e),
                x1=ex(e),
                y0=top - 0.1,
                y1=y_end,
                line=dict(color=S.GRID, width=1, dash="dot"),
                layer="below",
            )
        )
        ann.append(
            dict(
                x=ex(e),
                y=top - 0.3,
                text=str(e),
                showarrow=False,
                yanchor="bottom",
                font=dict(size=12, color=S.MUTED),
                xref="x",
                yref="y",
            )
        )
    ann.append(
        dict(
            x=X_CHIPS,
            y=top - 0.3,
            text="<b>assigned partitions</b>",
            showarrow=False,
            xanchor="left",
            yanchor="bottom",
            font=dict(size=13),
            xref="x",
            yref="y",
        )
    )
    for i, m in enumerate(members):
        yc = top + (i + 0.5) * ROW
        behind = is_reconciling(g, m.member_epoch)
        tone = RECONCILING if behind else CAUGHT_UP
        shapes.append(
            dict(
                type="rect",
                name=f"member:{m.client_id}",
                xref="x",
                yref="y",
                x0=0.5,
                x1=X_MAX - 0.5,
                y0=yc - 0.42,
                y1=yc + 0.42,
                fillcolor=S.WHITE if not behind else "#FDF3DD",
                line=dict(
                    color=tone if behind else S.GRID,
                    width=2 if behind else 1,
                    dash="dash" if behind else "solid",
                ),
                layer="below",
            )
        )
        ann.append(
            dict(
                x=1.5,
                y=yc - 0.12,
                text=f"<b>{fit(m.client_id, 110, 14, True)}</b>",
                showarrow=False,
                xanchor="left",
                font=dict(size=14),
                xref="x",
                yref="y",
            )
        )
        ann.append(
            dict(
                x=1.5,
                y=yc + 0.2,
                text="reconciling" if behind else ("caught up" if m.alive else "not alive"),
                showarrow=False,
                xanchor="left",
                font=dict(size=12, color=tone if behind else S.MUTED),
                xref="x",
                yref="y",
            )
        )
        if m.member_epoch is not None:
            x = ex(m.member_epoch)
            shapes.append(
                dict(
                    type="line",
                    name=f"epoch-bar:{m.client_id}",
                    xref="x",
                    yref="y",
                    x0=X_EPOCH0,
                    x1=x,
                    y0=yc,
                    y1=yc,
                    line=dict(color=tone, width=6),
                    layer="below",
                )
            )
            data.append(
                dict(
                    type="scatter",
                    x=[x],
                    y=[yc],
                    mode="markers+text",
                    name=f"epoch:{m.client_id}",
                    text=[f"<b>{m.member_epoch}</b>"],
                    textposition="middle center",
                    textfont=dict(size=12, color=S.INK if behind else S.text_on(tone)),
                    showlegend=False,
                    marker=dict(
                        symbol="circle",
                        size=24,
                        color=S.WHITE if behind else tone,
                        line=dict(color=tone, width=3),
                    ),
                    hovertext=[
                        f"{m.client_id}: member epoch {m.member_epoch}, group epoch {g.generation}"
                        + (
                            " — reconciling: it catches up in its next heartbeats"
                            if behind
                            else " — caught up"
                        )
                    ],
                    hoverinfo="text",
                )
            )
        tps = sorted(m.assignment)
        if not tps:
            settled = g.state == "Stable"
            ann.append(
                dict(
                    x=X_CHIPS,
                    y=yc,
                    text="nothing (idle)"
                    if settled
                    else "nothing yet: waiting for a partition to be released",
                    showarrow=False,
                    xanchor="left",
                    font=dict(size=12, color=S.MUTED),
                    xref="x",
                    yref="y",
                )
            )
        per_row = int((X_MAX - X_CHIPS) // (CHIP_W + 0.6))
        for j, (t, p) in enumerate(tps[:per_row]):
            x0 = X_CHIPS + j * (CHIP_W + 0.6)
            shapes.append(
                dict(
                    type="rect",
                    name=f"tp:{m.client_id}:{t}-{p}",
                    xref="x",
                    yref="y",
                    x0=x0,
                    x1=x0 + CHIP_W,
                    y0=yc - 0.22,
                    y1=yc + 0.22,
                    fillcolor=colour,
                    line=dict(color=S.WHITE, width=1),
                    label=dict(text=fit(f"{t}-{p}", 70, 11), font=dict(size=11, color=S.text_on(colour))),
                )
            )
        if len(tps) > per_row:
            ann.append(
                dict(
                    x=X_MAX - 0.6,
                    y=yc,
                    text=f"+{len(tps) - per_row}",
                    showarrow=False,
                    xanchor="right",
                    font=dict(size=12),
                    xref="x",
                    yref="y",
                )
            )
    shapes += axis
    waiting = [m.client_id for m in members if is_reconciling(g, m.member_epoch)]
    head = (
        f"<b>{g.group_id}</b> · {g.state} · group epoch {g.generation} · assignor {g.protocol or '—'} (on the "
        f"broker) · coordinator broker {g.coordinator}"
    )
    sub = (
        f"reconciling: {', '.join(waiting)} (each keeps consuming the partitions it keeps)"
        if waiting
        else "every member is at the group epoch: the assignment is settled"
    )
    ann.append(
        dict(
            x=0,
            y=0.05,
            text=head,
            showarrow=False,
            xanchor="left",
            yanchor="top",
            font=dict(size=14),
            xref="x",
            yref="y",
        )
    )
    ann.append(
        dict(
            x=0,
            y=0.5,
            text=sub,
            showarrow=False,
            xanchor="left",
            yanchor="top",
            font=dict(size=13, color=RECONCILING if waiting else S.MUTED),
            xref="x",
            yref="y",
        )
    )
    height = int(52 * (y_end + 0.2)) + 20
    return S.figure(
        data,
        S.base_layout(
            height=height,
            margin=dict(l=6, r=6, t=6, b=6),
            shapes=shapes,
            annotations=ann,
            **S.hidden_axes((0, X_MAX), (y_end + 0.1, 0)),
        ),
    )


def member_rows(snap: ClusterSnapshot, group_id: str) -> list[dict]:
    """What `kafka-consumer-groups.sh --describe --members --group <id>` shows, with the member epochs."""
    g = next((x for x in snap.groups if x.group_id == group_id), None)
    if g is None:
        return []
    return [
        {
            "member": m.client_id,
            "member epoch": m.member_epoch,
            "group epoch": g.generation,
            "reconciling": is_reconciling(g, m.member_epoch),
            "partitions": ", ".join(f"{t}-{p}" for t, p in sorted(m.assignment)) or "—",
        }
        for m in sorted(g.members, key=lambda m: natural_key(m.client_id))
    ]
