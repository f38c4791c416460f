"""Partition log strips: the last offsets of each partition as cells, with the markers Kafka talks about.

Pure: `log_strips(snapshot, topic) -> go.Figure`. A cell is one record (colour = its key, so keyed
ordering per partition is visible; keys shown together never share a colour, see `palette.key_colours`);
records above the high watermark are hatched with a dashed outline because consumers cannot read them yet
(a paler tint would look like another key). When older records exist, the strip says how many ("◀ 37
older records"). Markers: log start offset, high watermark (HW), log end offset (LEO), each group's
committed offset and each consumer's position. Acknowledged records that were lost are drawn red and
crossed, on their own lane, with the reason on hover.

Cells are clickable: one invisible square marker per record (and per lost record) in the scatter trace named
``records``, its `customdata` ``[topic, partition, offset, "log" | "lost"]``, so a Streamlit selection event
(`st.plotly_chart(on_select=...)`) says which record was clicked. `followed` rings the record being followed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import plotly.graph_objects as go

from engine.snapshot import ClusterSnapshot, PartitionView

from . import palette as P
from . import style as S
from .diagram import PATH_COLOUR, fit, natural_key

WINDOW = 20  # offsets shown per partition (the snapshot keeps the last 24 records)
ROW_PX = 104
# Lanes inside one partition row, in row units (1 row = ROW_PX pixels; y grows downwards).
Y_TOP_LABEL = 0.12
Y_CELL0, Y_CELL1 = 0.22, 0.52
Y_POSITION = 0.63
Y_COMMITTED = 0.80
LOST_PX = 44
MAX_KEY_LEGEND = 12  # keys named in the legend; the others are on hover ("+N more keys")
NULL_LABEL = "null (no key)"
ABOVE_HW = "above HW: not readable"  # legend of the hatched cells (the hover says why)
LEGEND_ENTRY_PX = 160
RECORDS_TRACE = "records"  # the clickable trace: customdata [topic, partition, offset, "log" | "lost"]
KEEP_OPACITY = dict(marker=dict(opacity=1))  # a click-selection must not dim the other markers


def window_start(p: PartitionView, window: int = WINDOW) -> int:
    """The first offset drawn: the newest `window` offsets, never before the log start."""
    return max(p.log_start_offset, p.log_end_offset - window)


def _cell(
    x: int,
    y0: float,
    y1: float,
    name: str,
    fill: str,
    line: str,
    label: str,
    font_colour: str,
    opacity: float = 1.0,
    dash: str = "solid",
) -> dict:
    return dict(
        type="rect",
        name=name,
        xref="x",
        yref="y",
        x0=x - 0.46,
        x1=x + 0.46,
        y0=y0,
        y1=y1,
        fillcolor=fill,
        opacity=opacity,
        line=dict(color=line, width=1.5, dash=dash),
        layer="above",
        label=dict(text=label, font=dict(size=12, color=font_colour)),
    )


@dataclass
class _Strip:
    """What the painters of one log-strip figure add to (cells, markers, hover points, clickable records)."""

    snap: ClusterSnapshot
    window: int
    cell_px: float
    colours: dict[str | None, str]
    group_ids: list[str]
    data: list[dict] = field(default_factory=list)
    shapes: list[dict] = field(default_factory=list)
    ann: list[dict] = field(default_factory=list)
    hx: list[float] = field(default_factory=list)
    hy: list[float] = field(default_factory=list)
    ht: list[str] = field(default_factory=list)
    rx: list[float] = field(default_factory=list)  # the clickable records: position, hover text, customdata
    ry: list[float] = field(default_factory=list)
    rt: list[str] = field(default_factory=list)
    rd: list[list] = field(default_factory=list)
    keys_seen: dict[str, str] = field(default_factory=dict)


def log_strips(
    snap: ClusterSnapshot,
    topic: str | None = None,
    window: int = WINDOW,
    width_px: int = 760,
    followed: tuple[str, int, int, bool] | None = None,
    compact: bool = False,
) -> go.Figure:
    """One strip per partition of `topic` (default: the first topic). `width_px`: the narrowest width drawn for.
    `followed`: (topic, partition, offset, lost) of the record being followed, ringed in the route colour.
    `compact`: the same picture in a form plotly redraws faster (`compact_cells`: the record cells, hatches,
    lost cells and offset lines as a few path shapes, the offsets as one text trace); its shapes are not
    named per record, so the tests read the plain form."""
    topics = [t.name for t in snap.topics if not t.internal]
    topic = topic if topic in topics else (topics[0] if topics else None)
    parts = sorted((p for p in snap.partitions if p.topic == topic), key=lambda p: p.partition)
    if topic is None or not parts:
        return S.figure(
            [],
            S.base_layout(
                height=160,
                annotations=[S.empty_note("No topics yet: add one in the scenario builder.")],
                **S.hidden_axes((0, 1), (1, 0)),
            ),
        )

    group_ids = S.colour_group_ids(snap)
    colours = S.key_colours(
        (
            r.key
            for p in parts
            for r in p.tail
            if r.offset >= window_start(p, window) and r.control is None and r.txn != "aborted"
        ),
        avoid=[S.group_colour(group_ids, g) for g in group_ids],
    )
    st = _Strip(snap, window, (width_px - 146) / (window + 1.7), colours, group_ids)
    y = 0.0  # in rows; lost lanes add a fraction of a row
    row_top: dict[int, float] = {}
    for p in parts:
        row_top[p.partition] = y
        ws = window_start(p, window)
        name = f"{p.topic}-{p.partition}"
        _partition_label(st, p, y, name)
        txn_seen = _cells(st, p, ws, y, name)
        _offset_markers(st, p, ws, y, name, txn_seen)
        _consumer_markers(st, p, ws, y, name)
        y = _lost_lane(st, p, ws, y + 1.0, name)

    data = st.data
    data.append(
        dict(
            type="scatter",
            x=st.hx,
            y=st.hy,
            mode="markers",
            hovertext=st.ht,
            hoverinfo="text",
            name="hover",
            marker=dict(size=22, symbol="square", color="rgba(0,0,0,0)"),
            showlegend=False,
            selected=KEEP_OPACITY,
            unselected=KEEP_OPACITY,
        )
    )
    # The clickable records: invisible squares over the cells (plotly shapes take no clicks; points do).
    data.append(
        dict(
            type="scatter",
            x=st.rx,
            y=st.ry,
            mode="markers",
            hovertext=st.rt,
            hoverinfo="text",
            name=RECORDS_TRACE,
            customdata=st.rd,
            showlegend=False,
            selected=KEEP_OPACITY,
            unselected=KEEP_OPACITY,
            marker=dict(size=max(12, min(28, int(st.cell_px) - 4)), symbol="square", color="rgba(0,0,0,0)"),
        )
    )
    _key_legend(data, st.keys_seen)
    if followed is not None and _ring_followed(followed, parts, row_top, window, st.shapes):
        data.append(
            dict(
                type="scatter",
                x=[None],
                y=[None],
                mode="markers",
                name="followed record",
                marker=dict(symbol="square-open", size=14, color=PATH_COLOUR, line=dict(width=3)),
            )
        )
    for label, colour in ((lb, c) for lb, c in TXN_LEGEND.items() if lb in st.keys_seen):
        aborted = label.startswith("aborted")
        data.append(
            dict(
                type="scatter",
                x=[None],
                y=[None],
                mode="markers",
                name=label,
                marker=dict(
                    symbol="square-x-open" if aborted else "square",
                    size=13,
                    color=colour,
                    line=dict(color=colour if aborted else S.INK, width=1),
                ),
            )
        )
    for label, symbol, colour in (
        ("consumer position", "diamond", S.MUTED),
        ("group committed offset", "triangle-up", S.MUTED),
    ):
        data.append(
            dict(
                type="scatter",
                x=[None],
                y=[None],
                mode="markers",
                name=label,
                marker=dict(symbol=symbol, size=12, color=colour),
            )
        )
    height = int(y * ROW_PX)
    # Fixed-width legend entries in rows (never a scroll box): as many rows as the narrowest width needs.
    entries = sum(1 for t in data if t.get("showlegend", True) and t["name"] not in ("hover", RECORDS_TRACE))
    legend_rows = -(-entries // max(1, int((width_px - 144) // (LEGEND_ENTRY_PX + 40))))
    layout = S.base_layout(
        height=height + 36 + 24 * legend_rows,
        show_legend=True,
        margin=dict(l=134, r=10, t=6, b=30 + 24 * legend_rows),
        shapes=st.shapes,
        annotations=st.ann,
        legend=dict(y=-0.01, entrywidthmode="pixels", entrywidth=LEGEND_ENTRY_PX),
        **S.hidden_axes((X_RANGE0, window + 1.1), (y, -0.02)),
    )
    if compact:
        layout["shapes"], labels = compact_cells(st.shapes, st.ann)
        layout["annotations"] = []
        data = [labels, *merge_markers(data)]
    return S.figure(data, layout)


# Shapes `compact_cells` merges (by their name's prefix): one per record or per offset marker, ~60-80 at step
# 1,000 of Default. Each plotly shape is its own SVG group, removed and redrawn on every `Plotly.react`, and a
# shape's label is measured and placed one by one: ~1/3 of a log-strip redraw (bench/NOTES.md, issue 17
# round 5); so is each annotation, ~1/6 of it. The lanes, the followed ring and the transaction markers keep
# their own shapes (few, named).
MERGED = ("cell:", "hatch:", "lost:", "lost-x:", "start:", "hw:", "leo:", "lso:")
LABELS_TRACE = "offsets"  # the compact form's labels: a text trace, no hover, no clicks
ANCHOR = {
    "left": "middle right",
    "right": "middle left",
    "center": "middle center",
}  # xanchor -> textposition
X_RANGE0 = -0.6  # the strips' x axis starts here (the plot area's left edge)


def merge_markers(data: list[dict]) -> list[dict]:
    """The consumer-position and committed-offset markers (one single-point trace each, ~1 ms per trace on every
    redraw) as one trace per kind, with the same points, colours, symbol and hover texts."""
    out: list[dict] = []
    merged: dict[str, dict] = {}
    for t in data:
        kind = (t.get("name") or "").split(":", 1)[0]
        if kind not in ("position", "committed") or ":" not in t["name"]:
            out.append(t)
            continue
        m = merged.get(kind)
        if m is None:
            m = merged[kind] = {**t, "name": f"{kind}s", "x": [], "y": [], "hovertext": []}
            m["marker"] = {**t["marker"], "color": []}
            out.append(m)
        m["x"] += t["x"]
        m["y"] += t["y"]
        m["hovertext"] += t["hovertext"]
        m["marker"]["color"] += [t["marker"]["color"]] * len(t["x"])
    return out


def compact_cells(shapes: list[dict], annotations: list[dict] = ()) -> tuple[list[dict], dict]:
    """`shapes` with the record cells and lines merged: one path shape per look (fill, outline, dash, width),
    in the same order (lanes, cells, then hatches, crosses and offset lines over them), all under the traces;
    the cells' labels and the `annotations` (partition names, "N older records", HW / LEO, consumers) as one
    text trace on top, in the same places, colours and sizes (drawn outside the plot area where an annotation
    was: the partition names in the left margin). Returns (the shapes, the labels trace)."""
    kept: list[dict] = []
    paths: dict[tuple, dict] = {}
    tx: list[float] = []
    ty: list[float] = []
    tt: list[str] = []
    tc: list[str] = []
    ts: list[int] = []
    for sh in shapes:
        name = sh.get("name") or ""
        if not name.startswith(MERGED):
            kept.append(sh)
            continue
        line = sh.get("line", {})
        cell = sh["type"] == "rect"
        look = (
            cell,
            sh.get("fillcolor") if cell else None,
            line.get("color"),
            line.get("width"),
            line.get("dash", "solid"),
            sh.get("opacity", 1.0),
        )
        if sh["type"] == "rect":
            x0, x1, y0, y1 = sh["x0"], sh["x1"], sh["y0"], sh["y1"]
            d = f"M{x0:.3f},{y0:.3f}H{x1:.3f}V{y1:.3f}H{x0:.3f}Z"
            label = sh.get("label") or {}
            if label.get("text"):
                font = label.get("font", {})
                tx.append((x0 + x1) / 2)
                ty.append((y0 + y1) / 2)
                tt.append(label["text"])
                tc.append(font.get("color", S.INK))
                ts.append(font.get("size", S.SMALL))
        elif sh["type"] == "line":
            d = f"M{sh['x0']:.3f},{sh['y0']:.3f}L{sh['x1']:.3f},{sh['y1']:.3f}"
        else:
            d = sh["path"]
        merged = paths.get(look + (name.split(":", 1)[0],))
        if merged is None:
            merged = paths[look + (name.split(":", 1)[0],)] = dict(
                type="path",
                name=f"{name.split(':', 1)[0]}s",
                xref="x",
                yref="y",
                path="",
                fillcolor=look[1] if cell else "rgba(0,0,0,0)",
                opacity=look[5],
                line=dict(color=look[2], width=look[3], dash=look[4]),
                layer="below",
            )
        merged["path"] += (" " if merged["path"] else "") + d
    tp = ["middle center"] * len(tx)
    for a in annotations:
        font = a.get("font", {})
        paper = a.get("xref") == "paper"  # the partition names: at the plot's left edge, in the margin
        tx.append(X_RANGE0 if paper and a["x"] == 0 else a["x"])
        ty.append(a["y"])
        tt.append(a["text"])
        tc.append(font.get("color", S.INK))
        ts.append(font.get("size", S.FONT["size"]))
        tp.append(ANCHOR.get(a.get("xanchor", "center"), "middle center"))
    labels = dict(
        type="scatter",
        x=tx,
        y=ty,
        mode="text",
        text=tt,
        textposition=tp,
        textfont=dict(color=tc, size=ts),
        hoverinfo="skip",
        showlegend=False,
        cliponaxis=False,
        name=LABELS_TRACE,
    )
    below = [sh for sh in kept if sh.get("layer") == "below"]  # the lanes
    merged = sorted(paths.values(), key=lambda sh: sh["fillcolor"] == "rgba(0,0,0,0)")  # fills, then lines
    return below + merged + [sh for sh in kept if sh.get("layer") != "below"], labels


def _partition_label(st: _Strip, p: PartitionView, y: float, name: str) -> None:
    """The partition's name and leader left of its strip, and the background lane where offsets go."""
    who = f"leader: broker {p.leader}" if p.leader is not None else "OFFLINE: no leader"
    st.ann.append(
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
    st.ann.append(
        dict(
            x=0,
            xshift=-8,
            y=y + (Y_CELL0 + Y_CELL1) / 2 + 0.13,
            text=fit(who, 122, 12),
            showarrow=False,
            xanchor="right",
            font=dict(size=12, color=S.OFFLINE if p.leader is None else S.MUTED),
            xref="paper",
            yref="y",
        )
    )
    st.shapes.append(
        dict(
            type="rect",
            name=f"lane:{name}",
            xref="x",
            yref="y",
            x0=-0.5,
            x1=st.window + 0.5,
            y0=y + Y_CELL0 - 0.03,
            y1=y + Y_CELL1 + 0.03,
            fillcolor=S.PANEL,
            line=dict(width=0),
            layer="below",
        )
    )


def _cells(st: _Strip, p: PartitionView, ws: int, y: float, name: str) -> bool:
    """One cell per record shown, in its key's colour, hatched above the high watermark. Returns whether
    the partition holds transactional records (then the LSO is drawn too)."""
    txn_seen = False
    for r in p.tail:
        if r.offset < ws:
            continue
        x = r.offset - ws
        if r.control is not None or r.txn is not None:  # transactions: markers, aborted and open records
            txn_seen = True
            records = (
                (st.rx, st.ry, st.rt) if r.control is None else (st.hx, st.hy, st.ht)
            )  # a marker is no record
            _txn_cell(
                r, x, y, name, st.cell_px, p.high_watermark, st.shapes, st.keys_seen, records, st.colours
            )
            if r.control is None:
                st.rd.append([p.topic, p.partition, r.offset, "log"])
            continue
        fill = st.colours[P.key_text(r.key)]
        key = S.show(r.key, 16)
        st.keys_seen.setdefault(key if r.key is not None else NULL_LABEL, fill)
        committed = r.offset < p.high_watermark
        label = str(r.offset)
        fits = max(1, int((st.cell_px - 4) / 7.2))
        label = label if len(label) <= fits else label[-fits:]
        st.shapes.append(
            _cell(
                x,
                y + Y_CELL0,
                y + Y_CELL1,
                f"cell:{name}@{r.offset}",
                fill,
                _outline(fill, committed),
                label,
                S.text_on(fill),
                dash="solid" if committed else "dash",
            )
        )
        if not committed:
            st.shapes.append(_hatch(x, y + Y_CELL0, y + Y_CELL1, f"hatch:{name}@{r.offset}"))
        st.rx.append(x)
        st.ry.append(y + (Y_CELL0 + Y_CELL1) / 2)
        st.rt.append(
            f"<b>{name} offset {r.offset}</b><br>key {key} · value {S.show_value(r.value)}<br>"
            f"timestamp {r.timestamp_ms} ms · leader epoch {r.leader_epoch}<br>"
            + (
                "committed: below the high watermark, consumers can read it"
                if committed
                else "NOT committed yet: above the high watermark, consumers cannot read it"
            )
            + "<br><i>click to follow it</i>"
        )
        st.rd.append([p.topic, p.partition, r.offset, "log"])
    return txn_seen


def _offset_markers(st: _Strip, p: PartitionView, ws: int, y: float, name: str, txn_seen: bool) -> None:
    """start / LSO / HW / LEO lines above the cells (labels merged when they coincide), and at the left edge
    how many older records are not drawn and which markers lie among them."""
    marks: dict[float, list[str]] = {}
    behind = []
    lso = (
        (("LSO", p.last_stable_offset, S.INK, "dashdot", 3),)
        if txn_seen and p.last_stable_offset is not None
        else ()
    )
    # Offset markers are ink lines told apart by width, dash and their label: no key colour is reused.
    for label, off, colour, dash, width in (
        ("start", p.log_start_offset, S.MUTED, "dot", 2),
        *lso,
        ("HW", p.high_watermark, S.INK, "solid", 3.5),
        ("LEO", p.log_end_offset, S.INK, "dash", 2),
    ):
        if label == "start" and off == 0:
            continue
        if off < ws:
            behind.append(f"{label} at {off}")
            continue
        x = off - ws - 0.5
        marks.setdefault(x, []).append(label)
        st.shapes.append(
            dict(
                type="line",
                name=f"{label.lower()}:{name}",
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
    older = ws - p.log_start_offset
    if older > 0:  # only the newest offsets are drawn: say how many come before them
        behind = [f"{older} older record{'s' * (older != 1)}"] + [
            b for b in behind if not b.startswith("start at")
        ]
    if behind:  # older records, or a marker older than the offsets shown: say so at the left edge
        text = f"◀ {' · '.join(behind)}"
        st.ann.append(
            dict(
                x=-0.5,
                y=y + Y_TOP_LABEL,
                text=f"<b>{text}</b>",
                showarrow=False,
                xanchor="left",
                font=dict(size=12, color=S.INK),
                xref="x",
                yref="y",
                name=f"older:{name}",
            )
        )
        marks = {x: v for x, v in marks.items() if x * st.cell_px > text_w(text) + 30}
    xs = sorted(marks)
    for i, x in enumerate(xs):
        text = "=".join(marks[x])
        anchor = "center"
        if (
            i + 1 < len(xs)
            and (xs[i + 1] - x) * st.cell_px < (text_w(text) + text_w("=".join(marks[xs[i + 1]]))) / 2 + 4
        ):
            anchor = "right"  # neighbours too close: push this label left of its line
        st.ann.append(
            dict(
                x=x,
                y=y + Y_TOP_LABEL,
                text=f"<b>{text}</b>",
                showarrow=False,
                xanchor=anchor,
                font=dict(size=12, color=S.INK),
                xref="x",
                yref="y",
            )
        )
    st.hx.append(max(0.0, p.high_watermark - ws - 0.5))
    st.hy.append(y + Y_TOP_LABEL)
    st.ht.append(
        f"{name}: log start {p.log_start_offset} · high watermark {p.high_watermark} · log end offset "
        f"{p.log_end_offset}<br>replicas {list(p.replicas)}, ISR {list(p.isr)}"
    )


def _consumer_markers(st: _Strip, p: PartitionView, ws: int, y: float, name: str) -> None:
    """Consumer positions (lane 1) and committed offsets (lane 2), in the group's colour, named beside."""
    snap = st.snap
    lanes = (
        (
            Y_POSITION,
            "diamond",
            [
                (k.id, k.positions[p.key], k.group_id)
                for k in snap.consumers
                if k.alive and p.key in k.positions
            ],
            "position of",
        ),
        (
            Y_COMMITTED,
            "triangle-up",
            [(g.group_id, g.committed[p.key], g.group_id) for g in snap.groups if p.key in g.committed],
            "committed offset of group",
        ),
    )
    for lane_y, symbol, items, what in lanes:
        at: dict[float, list[tuple[str, str | None, int]]] = {}
        for who_id, off, gid in sorted(items, key=lambda it: natural_key(it[0])):
            at.setdefault(max(-0.5, off - ws - 0.5), []).append((who_id, gid, off))
        prev_right = -1e9
        for x in sorted(at):
            entries = at[x]
            clipped = entries[0][2] < ws
            names = ", ".join(e[0] for e in entries)
            text = f"◀ {names} at {entries[0][2]}" if clipped else names
            name_kind = "position" if symbol == "diamond" else "committed"
            st.data.append(
                dict(
                    type="scatter",
                    x=[x],
                    y=[y + lane_y],
                    mode="markers",
                    name=f"{name_kind}:{name}:{text}",
                    showlegend=False,
                    marker=dict(
                        symbol=symbol,
                        size=12,
                        color=S.group_colour(st.group_ids, entries[0][1]),
                        line=dict(color=S.WHITE, width=1),
                    ),
                    selected=KEEP_OPACITY,
                    unselected=KEEP_OPACITY,
                    hovertext=[
                        f"{what} {names} on {name}: offset {entries[0][2]}"
                        + (" (older than the offsets shown)" if clipped else "")
                    ],
                    hoverinfo="text",
                )
            )
            left = x * st.cell_px + 8
            if left > prev_right:  # skip a label that would overlap its neighbour (hover still has it)
                st.ann.append(
                    dict(
                        x=x + 8 / st.cell_px,
                        y=y + lane_y,
                        text=fit(text, 120, 12),
                        showarrow=False,
                        xanchor="left",
                        font=dict(size=12, color=S.INK),
                        xref="x",
                        yref="y",
                    )
                )
                prev_right = left + text_w(fit(text, 120, 12))


def _lost_lane(st: _Strip, p: PartitionView, ws: int, y: float, name: str) -> float:
    """Lost records: their own lane under the strip, red and crossed, the reason on hover. Returns the y
    where the next partition starts."""
    if not p.lost:
        return y
    lane0 = y
    shown = [lr for lr in p.lost if ws <= lr.offset < ws + st.window + 1]
    st.ann.append(
        dict(
            x=0,
            xshift=-8,
            y=lane0 + LOST_PX / ROW_PX / 2,
            text=f"<b>lost: {len(p.lost)}</b>",
            showarrow=False,
            xanchor="right",
            font=dict(size=12, color=S.OFFLINE),
            xref="paper",
            yref="y",
        )
    )
    y0, y1 = lane0 + 0.02, lane0 + LOST_PX / ROW_PX - 0.06
    for lr in shown:
        x = lr.offset - ws
        st.shapes.append(_cell(x, y0, y1, f"lost:{name}@{lr.offset}", S.DOWN_FILL, S.OFFLINE, "", S.OFFLINE))
        for i, (a, b) in enumerate(((y0, y1), (y1, y0))):
            st.shapes.append(
                dict(
                    type="line",
                    name=f"lost-x:{name}@{lr.offset}:{i}",
                    xref="x",
                    yref="y",
                    x0=x - 0.4,
                    x1=x + 0.4,
                    y0=a,
                    y1=b,
                    line=dict(color=S.OFFLINE, width=2),
                    layer="above",
                )
            )
        st.rx.append(x)
        st.ry.append((y0 + y1) / 2)
        st.rt.append(
            f"<b>LOST: {name} offset {lr.offset}</b> (key {S.show(lr.key, 16)})<br>acknowledged, "
            f"then gone: {lr.reason}<br><i>click to follow it</i>"
        )
        st.rd.append([p.topic, p.partition, lr.offset, "lost"])
    if len(shown) < len(p.lost):
        st.ann.append(
            dict(
                x=st.window + 0.5,
                y=lane0 + LOST_PX / ROW_PX / 2,
                showarrow=False,
                xanchor="right",
                text=f"{len(p.lost) - len(shown)} more older",
                font=dict(size=11, color=S.OFFLINE),
                xref="x",
                yref="y",
            )
        )
    return lane0 + LOST_PX / ROW_PX


def _ring_followed(
    followed: tuple[str, int, int, bool],
    parts: list[PartitionView],
    row_top: dict[int, float],
    window: int,
    shapes: list[dict],
) -> bool:
    """A ring in the route colour around the followed record's cell (or its lost cell), if it is drawn
    (returns whether it is, so the legend names the ring only then)."""
    topic, partition, offset, lost = followed
    p = next((p for p in parts if (p.topic, p.partition) == (topic, partition)), None)
    if p is None:
        return False
    ws = window_start(p, window)
    if not ws <= offset < ws + window + 1:
        return False
    x, y = offset - ws, row_top[partition]
    if lost:
        if not any(lr.offset == offset for lr in p.lost):
            return False
        y0, y1 = y + 1.0 + 0.02, y + 1.0 + LOST_PX / ROW_PX - 0.06
    else:
        if not any(r.offset == offset for r in p.tail):
            return False
        y0, y1 = y + Y_CELL0, y + Y_CELL1
    shapes.append(
        dict(
            type="rect",
            name=f"followed:{topic}-{partition}@{offset}",
            xref="x",
            yref="y",
            x0=x - 0.56,
            x1=x + 0.56,
            y0=y0 - 0.06,
            y1=y1 + 0.06,
            fillcolor="rgba(0,0,0,0)",
            line=dict(color=PATH_COLOUR, width=3.5),
            layer="above",
        )
    )
    return True


TXN_LEGEND = {"COMMIT / ABORT marker": S.BLACK, "aborted txn record": S.MUTED}
TXN_HELP = {
    "committed": "in a committed transaction: read_committed consumers read it",
    "aborted": "in an ABORTED transaction: read_committed consumers skip it, read_uncommitted ones see it",
    "open": "in an OPEN transaction: above the LSO, read_committed consumers wait for its marker",
}


def _txn_cell(
    r,
    x: int,
    y: float,
    name: str,
    cell_px: float,
    hw: int,
    shapes: list[dict],
    keys_seen: dict[str, str],
    hover: tuple[list, list, list],
    colours: dict[str | None, str],
) -> None:
    """Transactions (KIP-98): a control batch is a marker cell (COMMIT / ABORT, it takes an offset of its
    own); records of aborted transactions are greyed and struck through; open ones get a dashed outline."""
    committed = r.offset < hw
    y0, y1 = y + Y_CELL0, y + Y_CELL1
    if r.control is not None:
        keys_seen.setdefault("COMMIT / ABORT marker", S.BLACK)  # black: no key colour is black
        abort = r.control == "ABORT"
        cell = _cell(
            x,
            y0,
            y1,
            f"marker:{name}@{r.offset}",
            S.BLACK,
            S.VERMILLION if abort else S.BLACK,
            f"<b>{r.control if cell_px >= 40 else r.control[0]}</b>",
            S.WHITE,
            dash="dash" if abort else "solid",
        )
        cell["line"]["width"] = 2.5 if abort else 1.5
        cell["label"]["font"]["size"] = 9 if cell_px >= 40 else 12
        shapes.append(cell)
        text = (
            f"<b>{name} offset {r.offset}: {r.control} marker</b><br>a control record written by the transaction "
            f"coordinator; consumers never receive it"
        )
    elif r.txn == "aborted":
        keys_seen.setdefault("aborted txn record", S.MUTED)
        shapes.append(
            _cell(
                x,
                y0,
                y1,
                f"cell:{name}@{r.offset}",
                S.WHITE,
                S.MUTED,
                str(r.offset)[-3:],
                S.MUTED,
                dash="dot",
            )
        )
        shapes.append(
            dict(
                type="line",
                name=f"aborted-x:{name}@{r.offset}",
                xref="x",
                yref="y",
                x0=x - 0.4,
                x1=x + 0.4,
                y0=y1 - 0.02,
                y1=y0 + 0.02,
                line=dict(color=S.MUTED, width=1.5),
                layer="above",
            )
        )
        text = f"<b>{name} offset {r.offset}</b> · value {S.show_value(r.value)}<br>{TXN_HELP['aborted']}"
    else:
        fill = colours[P.key_text(r.key)]
        keys_seen.setdefault(S.show(r.key, 16) if r.key is not None else NULL_LABEL, fill)
        shapes.append(
            _cell(
                x,
                y0,
                y1,
                f"cell:{name}@{r.offset}",
                fill,
                S.INK if r.txn == "open" or not committed else _outline(fill, True),
                str(r.offset)[-3:],
                S.text_on(fill),
                dash="dash" if r.txn == "open" or not committed else "solid",
            )
        )
        if not committed:
            shapes.append(_hatch(x, y0, y1, f"hatch:{name}@{r.offset}"))
        text = f"<b>{name} offset {r.offset}</b> · value {S.show_value(r.value)}<br>{TXN_HELP.get(r.txn or '', '')}"
    hover[0].append(x)
    hover[1].append(y + (Y_CELL0 + Y_CELL1) / 2)
    hover[2].append(text)


def _outline(fill: str, committed: bool) -> str:
    """A committed cell's outline: white between neighbours, grey around an empty (null-key) cell."""
    if not committed:
        return P.NOT_COMMITTED
    return S.NULL_KEY_LINE if fill == S.NULL_KEY else S.WHITE


def _hatch(x: int, y0: float, y1: float, name: str) -> dict:
    """Diagonal hatching over a cell above the high watermark: written, not readable by consumers yet."""
    lines = " ".join(
        f"M {x - 0.46 + i * 0.23:.3f},{y1:.3f} L {x - 0.46 + (i + 1) * 0.23:.3f},{y0:.3f}" for i in range(4)
    )
    return dict(
        type="path",
        name=name,
        xref="x",
        yref="y",
        path=lines,
        layer="above",
        line=dict(color=P.NOT_COMMITTED, width=1.4),
    )


def _key_legend(data: list[dict], keys_seen: dict[str, str]) -> int:
    """Legend entries: the keys seen (null and other keys last), "above the high watermark", transaction
    markers and the consumer markers. Returns how many key entries were added."""
    special = {NULL_LABEL, *TXN_LEGEND}
    keys = sorted(
        ((k, c) for k, c in keys_seen.items() if k not in special and c != S.OTHER_KEYS),
        key=lambda kv: natural_key(kv[0]),
    )
    entries = [(f"key {k}", c) for k, c in keys[:MAX_KEY_LEGEND]]
    if len(keys) > MAX_KEY_LEGEND:
        entries.append((f"+{len(keys) - MAX_KEY_LEGEND} more keys (hover a cell)", "rgba(0,0,0,0)"))
    if any(c == S.OTHER_KEYS for c in keys_seen.values()):
        entries.append(("other keys (> 24 colours)", S.OTHER_KEYS))
    if NULL_LABEL in keys_seen:
        entries.append((NULL_LABEL, S.NULL_KEY))
    for label, colour in entries:
        data.append(
            dict(
                type="scatter",
                x=[None],
                y=[None],
                mode="markers",
                name=label,
                marker=dict(
                    symbol="square",
                    size=13,
                    color=colour,
                    line=dict(color=S.NULL_KEY_LINE if colour == S.NULL_KEY else colour, width=1),
                ),
            )
        )
    data.append(
        dict(
            type="bar",
            x=[None],
            y=[None],
            name=ABOVE_HW,
            marker=dict(
                color=S.WHITE,
                line=dict(color=P.NOT_COMMITTED, width=1.5),
                pattern=dict(shape=P.HATCH, fgcolor=P.NOT_COMMITTED, size=6, solidity=0.3),
            ),
        )
    )
    return len(entries) + 1


def text_w(text: str, size: int = 12) -> float:
    return len(text) * size * 0.62


def topic_table(snap: ClusterSnapshot, topic: str) -> list[dict]:
    """What `kafka-topics.sh --describe` prints, one row per partition (leader None = offline)."""
    rows = []
    for p in sorted((p for p in snap.partitions if p.topic == topic), key=lambda p: p.partition):
        rows.append(
            {
                "partition": p.partition,
                "leader": p.leader,
                "leader epoch": p.leader_epoch,
                "replicas": ", ".join(map(str, p.replicas)),
                "ISR": ", ".join(map(str, p.isr)),
                "log start": p.log_start_offset,
                "high watermark": p.high_watermark,
                "log end offset": p.log_end_offset,
                "lost records": len(p.lost),
            }
        )
    return rows


LEGEND_ROW_PX = 24  # one row of the strips' legend (`log_strips` reserves this much per row under the strips)


def legend_apart(fig: go.Figure) -> tuple[go.Figure, go.Figure | None]:
    """The strips without their legend, and the legend as a figure of its own, to be drawn right under them
    (None when the figure has no legend: no topic yet, "No topics" alone).

    The legend is ~17 legend-only traces (keys, "above HW", consumer markers), and plotly redraws every trace on
    every `Plotly.react`, ~1 ms each, although the legend rarely changes; as its own live chart it is redrawn
    only when it does (`ui/live_chart.py` skips a figure it has drawn). The legend keeps its look: the same
    entries, order, width and left edge; the strips lose the margin that held it."""
    whole = fig.to_plotly_json()
    legend_only = [t for t in whole["data"] if (x := t.get("x")) is not None and all(v is None for v in x)]
    layout = whole["layout"]
    if not legend_only or "entrywidth" not in layout.get("legend", {}):
        return fig, None
    margin = layout["margin"]
    rows = max(1, round((margin["b"] - 30) / LEGEND_ROW_PX))
    strips = S.figure(
        [t for t in whole["data"] if t not in legend_only],
        {
            **layout,
            "showlegend": False,
            "margin": {**margin, "b": 4},
            "height": layout["height"] - margin["b"] + 4,
        },
    )
    legend = S.figure(
        legend_only,
        S.base_layout(
            height=LEGEND_ROW_PX * rows + 8,
            show_legend=True,
            margin=dict(l=margin["l"], r=margin["r"], t=2, b=0),
            # maxheight: all of this figure (a horizontal legend gets half of it by default, then scrolls)
            legend=dict(
                y=1,
                yanchor="top",
                maxheight=1,
                entrywidthmode="pixels",
                entrywidth=layout["legend"]["entrywidth"],
            ),
            **S.hidden_axes((0, 1), (0, 1)),
        ),
    )
    return strips, legend
