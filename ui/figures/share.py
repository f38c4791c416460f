"""The share-partition strip (KIP-932): a share group's in-flight records, one cell per offset, by state.

Pure: `share_strip(snapshot, group_id) -> go.Figure`. A share group tracks each record it handed out, not
one committed offset: from the share-partition start offset (SPSO) to the end offset (SPEO) every record
is Available, Acquired (by one member, under a lock), Acknowledged or Archived. A few finished offsets
before the SPSO and the records after the SPEO that nobody fetched yet are drawn too, so the window sits
in the partition's log. State is told by fill, outline and text (owner, delivery count), not colour alone.
"""

from __future__ import annotations

import plotly.graph_objects as go

from engine.snapshot import ClusterSnapshot, SharePartitionView, ShareRecordView

from . import style as S
from .diagram import fit

WINDOW = 20
BEFORE = 3  # finished offsets shown before the SPSO
ROW_PX = 118
Y_TOP = 0.12
Y_CELL0, Y_CELL1 = 0.22, 0.52
Y_OWNER = 0.64
Y_COUNT = 0.82
# state -> (fill, outline, dash): one look per KIP-932 record state.
STATE_STYLE: dict[str, tuple[str, str, str]] = {
    "Available": (S.WHITE, S.BLUE, "solid"),
    "Acquired": (S.ORANGE, S.ORANGE, "solid"),
    "Acknowledged": (S.GREEN, S.GREEN, "solid"),
    "Archived": (S.VERMILLION, S.VERMILLION, "solid"),
}
STATE_HELP = {
    "Available": "available: waiting to be acquired (again) by any member",
    "Acquired": "acquired: one member holds it under group.share.record.lock.duration.ms",
    "Acknowledged": "acknowledged (ACCEPT): done; the SPSO moves past it once everything before it is done",
    "Archived": "archived: rejected, or released at group.share.delivery.count.limit; never delivered again",
}
DONE_FILL = S.PANEL
TODO_LINE = S.GRID


def share_group_ids(snap: ClusterSnapshot) -> list[str]:
    return sorted(g.group_id for g in snap.share_groups)


def window(
    sp: SharePartitionView, high_watermark: int, log_start: int = 0, size: int = WINDOW
) -> tuple[int, int]:
    """[first, last) offsets drawn: a few finished ones, the in-flight ones, then unfetched ones to the HW."""
    first = max(log_start, sp.start_offset - BEFORE)
    return first, min(first + size, max(sp.end_offset, high_watermark))


def _cell(
    x: float,
    y: float,
    name: str,
    fill: str,
    line: str,
    dash: str,
    label: str,
    font_colour: str,
    opacity: float = 1.0,
) -> dict:
    return dict(
        type="rect",
        name=name,
        xref="x",
        yref="y",
        x0=x - 0.46,
        x1=x + 0.46,
        y0=y + Y_CELL0,
        y1=y + Y_CELL1,
        fillcolor=fill,
        opacity=opacity,
        line=dict(color=line, width=1.5, dash=dash),
        layer="above",
        label=dict(text=label, font=dict(size=11, color=font_colour)),
    )


def share_strip(snap: ClusterSnapshot, group_id: str | None = None, width_px: int = 760) -> go.Figure:
    """One strip per share-partition of `group_id` (default: the first share group)."""
    groups = {g.group_id: g for g in snap.share_groups}
    gid = group_id if group_id in groups else (share_group_ids(snap)[0] if groups else None)
    if gid is None or not groups[gid].partitions:
        text = "No share group yet." if gid is None else f"Share group {gid} has not fetched any records yet."
        return S.figure(
            [], S.base_layout(height=120, annotations=[S.empty_note(text)], **S.hidden_axes((0, 1), (1, 0)))
        )
    g = groups[gid]
    parts = {(p.topic, p.partition): p for p in snap.partitions}
    cell_px = (width_px - 146) / (WINDOW + 1.7)
    shapes: list[dict] = []
    ann: list[dict] = []
    hx: list[float] = []
    hy: list[float] = []
    ht: list[str] = []
    y = 0.0
    for sp in sorted(g.partitions, key=lambda s: (s.topic, s.partition)):
        p = parts.get((sp.topic, sp.partition))
        hw = p.high_watermark if p is not None else sp.end_offset
        first, last = window(sp, hw, p.log_start_offset if p is not None else 0)
        name = f"{sp.topic}-{sp.partition}"
        readers = sorted(m for m, tps in g.assignment.items() if (sp.topic, sp.partition) in tps)
        ann.append(
            dict(
                x=0,
                xshift=-8,
                y=y + (Y_CELL0 + Y_CELL1) / 2 - 0.09,
                text=f"<b>{fit(name, 120, 14, True)}</b>",
                showarrow=False,
                xanchor="right",
                font=dict(size=14),
                xref="paper",
                yref="y",
            )
        )
        ann.append(
            dict(
                x=0,
                xshift=-8,
                y=y + (Y_CELL0 + Y_CELL1) / 2 + 0.13,
                text=fit(f"{len(readers)} member(s)", 122, 12),
                showarrow=False,
                xanchor="right",
                font=dict(size=12, color=S.MUTED),
                xref="paper",
                yref="y",
            )
        )
        shapes.append(
            dict(
                type="rect",
                name=f"lane:{gid}:{name}",
                xref="x",
                yref="y",
                x0=-0.5,
                x1=WINDOW + 0.5,
                y0=y + Y_CELL0 - 0.03,
                y1=y + Y_CELL1 + 0.03,
                fillcolor=S.PANEL,
                line=dict(width=0),
                layer="below",
            )
        )
        in_flight: dict[int, ShareRecordView] = {r.offset: r for r in sp.records}
        archived = set(sp.archived)
        for off in range(first, last):
            x = off - first
            label = (
                str(off) if len(str(off)) * 7 <= cell_px - 4 else str(off)[-max(1, int((cell_px - 4) / 7)) :]
            )
            rec = in_flight.get(off)
            cy = y + (Y_CELL0 + Y_CELL1) / 2
            if rec is not None:
                fill, line, dash = STATE_STYLE.get(rec.state, (S.WHITE, S.MUTED, "dot"))
                shapes.append(
                    _cell(x, y, f"share:{gid}:{name}@{off}", fill, line, dash, label, S.text_on(fill))
                )
                if rec.state == "Archived":
                    _cross(shapes, x, y, f"{name}@{off}")
                if rec.owner:
                    ann.append(
                        dict(
                            x=x,
                            y=y + Y_OWNER,
                            text=fit(rec.owner, max(cell_px, 24), 11),
                            showarrow=False,
                            font=dict(size=11, color=S.INK),
                            xref="x",
                            yref="y",
                        )
                    )
                ann.append(
                    dict(
                        x=x,
                        y=y + Y_COUNT,
                        text=f"×{rec.delivery_count}",
                        showarrow=False,
                        font=dict(size=11, color=S.VERMILLION if rec.delivery_count > 1 else S.MUTED),
                        xref="x",
                        yref="y",
                    )
                )
                ht.append(
                    f"<b>{name} offset {off}: {rec.state}</b><br>{STATE_HELP.get(rec.state, '')}<br>"
                    f"delivery count {rec.delivery_count}" + (f" · held by {rec.owner}" if rec.owner else "")
                )
            elif off < sp.start_offset:
                gone = off in archived
                shapes.append(
                    _cell(
                        x,
                        y,
                        f"done:{gid}:{name}@{off}",
                        S.DOWN_FILL if gone else DONE_FILL,
                        S.VERMILLION if gone else S.GRID,
                        "solid",
                        label,
                        S.MUTED,
                    )
                )
                if gone:
                    _cross(shapes, x, y, f"{name}@{off}")
                ht.append(
                    f"{name} offset {off}: before the SPSO — "
                    + ("archived, never delivered again" if gone else "finished (acknowledged or archived)")
                )
            else:
                shapes.append(
                    _cell(x, y, f"todo:{gid}:{name}@{off}", S.WHITE, TODO_LINE, "dot", label, S.MUTED)
                )
                ht.append(f"{name} offset {off}: after the SPEO — in the log, not handed to any member yet")
            hx.append(x)
            hy.append(cy)
        marks: dict[float, list[str]] = {}
        for label, off, colour, dash, width in (
            ("SPSO", sp.start_offset, S.BLACK, "solid", 3.5),
            ("SPEO", sp.end_offset, S.BLUE, "dash", 2.5),
        ):
            if not first <= off <= last:
                continue
            x = off - first - 0.5
            marks.setdefault(x, []).append(label)
            shapes.append(
                dict(
                    type="line",
                    name=f"{label.lower()}:{gid}:{name}",
                    xref="x",
                    yref="y",
                    x0=x,
                    x1=x,
                    y0=y + Y_CELL0 - 0.06,
                    y1=y + Y_CELL1 + 0.04,
                    line=dict(color=colour, width=width, dash=dash),
                    layer="above",
                )
            )
        behind = [o for o in sp.archived if o < first][-3:]
        if behind:  # archived lately and already behind the window: say so under the finished cells
            ann.append(
                dict(
                    x=-0.5,
                    y=y + Y_OWNER,
                    text=f"<b>◀ archived {', '.join(map(str, behind))}</b>",
                    showarrow=False,
                    xanchor="left",
                    font=dict(size=11, color=S.VERMILLION),
                    xref="x",
                    yref="y",
                    name=f"archived-behind:{gid}:{name}",
                )
            )
        for x, labels in sorted(marks.items()):
            ann.append(
                dict(
                    x=x,
                    y=y + Y_TOP,
                    text=f"<b>{'='.join(labels)}</b>",
                    showarrow=False,
                    font=dict(size=12, color=S.INK),
                    xref="x",
                    yref="y",
                )
            )
        if sp.end_offset > last:
            ann.append(
                dict(
                    x=WINDOW + 0.5,
                    y=y + Y_TOP,
                    text=f"<b>SPEO at {sp.end_offset} ▶</b>",
                    showarrow=False,
                    xanchor="right",
                    font=dict(size=12, color=S.INK),
                    xref="x",
                    yref="y",
                )
            )
        hx.append(max(0.0, sp.start_offset - first - 0.5))
        hy.append(y + Y_TOP)
        ht.append(
            f"share group {gid} on {name}: SPSO {sp.start_offset} (everything before it is finished) · SPEO "
            f"{sp.end_offset} (next offset to hand out) · {len(sp.records)} in flight<br>members: "
            f"{', '.join(readers) or 'none'}"
        )
        y += 1.0

    data: list[dict] = [
        dict(
            type="scatter",
            x=hx,
            y=hy,
            mode="markers",
            hovertext=ht,
            hoverinfo="text",
            name="hover",
            marker=dict(size=22, symbol="square", color="rgba(0,0,0,0)"),
            showlegend=False,
        )
    ]
    for state, (fill, line, _dash) in STATE_STYLE.items():
        data.append(
            dict(
                type="scatter",
                x=[None],
                y=[None],
                mode="markers",
                name=state,
                marker=dict(symbol="square", size=13, color=fill, line=dict(color=line, width=2)),
            )
        )
    data.append(
        dict(
            type="scatter",
            x=[None],
            y=[None],
            mode="markers",
            name="finished (before SPSO)",
            marker=dict(symbol="square", size=13, color=DONE_FILL, line=dict(color=S.GRID, width=2)),
        )
    )
    data.append(
        dict(
            type="scatter",
            x=[None],
            y=[None],
            mode="markers",
            name="not fetched yet",
            marker=dict(symbol="square-open", size=13, color=TODO_LINE),
        )
    )
    members = ", ".join(g.members) or "none"
    title = f"Share group {gid} · epoch {g.epoch} · members {members} · under a cell: owner, ×delivery count"
    height = int(y * ROW_PX)
    ann.append(
        dict(
            x=0,
            y=1,
            yshift=6,
            xref="paper",
            yref="paper",
            text=fit(title, width_px - 20, 13),
            showarrow=False,
            xanchor="left",
            yanchor="bottom",
            font=dict(size=13, color=S.INK),
        )
    )
    layout = S.base_layout(
        height=height + 40 + 60,
        show_legend=True,
        margin=dict(l=134, r=10, t=34, b=60),
        shapes=shapes,
        annotations=ann,
        legend=dict(y=-0.01, entrywidthmode="pixels", entrywidth=150),
        **S.hidden_axes((-0.6, WINDOW + 1.1), (y, -0.02)),
    )
    return S.figure(data, layout)


def _cross(shapes: list[dict], x: float, y: float, key: str) -> None:
    for i, (a, b) in enumerate(((Y_CELL0, Y_CELL1), (Y_CELL1, Y_CELL0))):
        shapes.append(
            dict(
                type="line",
                name=f"archived-x:{key}:{i}",
                xref="x",
                yref="y",
                x0=x - 0.38,
                x1=x + 0.38,
                y0=y + a + 0.02,
                y1=y + b - 0.02,
                line=dict(color=S.INK, width=1.5),
                layer="above",
            )
        )


def share_rows(snap: ClusterSnapshot, group_id: str) -> list[dict]:
    """What `kafka-share-groups.sh --describe --group <id>` prints, one row per share-partition."""
    g = next((x for x in snap.share_groups if x.group_id == group_id), None)
    if g is None:
        return []
    rows = []
    for sp in g.partitions:
        counts = {s: sum(r.state == s for r in sp.records) for s in STATE_STYLE}
        rows.append(
            {
                "topic": sp.topic,
                "partition": sp.partition,
                "start offset (SPSO)": sp.start_offset,
                "end offset (SPEO)": sp.end_offset,
                **{s.lower(): n for s, n in counts.items()},
                "max delivery count": max((r.delivery_count for r in sp.records), default=0),
            }
        )
    return rows
