"""The cluster diagram: producers left, brokers (holding partition replicas) middle, groups right.

Pure: `cluster_diagram(snapshot) -> go.Figure`, importable without Streamlit (notebooks use it too).
The layout is a networkx graph whose node positions depend only on broker ids, partition keys and
client ids, never on state, so nothing jumps between steps; state only changes colours, dashes and
the edges drawn. Every box is a named layout shape (``broker-1``, ``replica:orders-0@2``,
``member:c1``, ...), so tests and notebooks can read the picture as data. Shapes sit on the "below"
layer, so the in-flight message dots (scatter traces) are always drawn on top of them.

A followed record (`MessagePath`, built from the engine's trace by `ui.figures.trace.message_path`) is drawn
as a reddish-purple route: rings around the producer, the leader replica that appended it, the follower
replicas that copied it and the consumers that fetched it, joined by thick arrows (``path:<node>``,
``path-edge:<a>-><b>``), and named in the empty corner above the producers (``path-label``), so the legend
and the layout stay exactly as they are. A lost record's route is vermillion.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import networkx as nx
import plotly.graph_objects as go

from engine.snapshot import ClusterSnapshot, InFlightView, PartitionView

from . import palette as P
from . import style as S

DESIGN_WIDTH_PX = 800  # the narrowest width the diagram is drawn for (1280x800 window with the sidebar)
X_MAX = 100.0
PX_PER_X = DESIGN_WIDTH_PX / X_MAX
CHIP_FONT = 13
CHIP_H = 26
CHIP_GAP = 6
BOX_HEADER = 60  # name, "leads N partitions", state
TOP_BAND = 74  # controller quorum / ZooKeeper band above the brokers
GRID_COLS = 3  # brokers 1-3 on the first row, 4-6 on the second...: adding a broker never moves the others
PRODUCERS_X = (0.5, 15.5)
BROKERS_X = (18.5, 77.5)
GROUPS_X = (80.5, 99.5)
PRODUCER_H = 66
MEMBER_H = 30
GROUP_HEADER = 62
MAX_PRODUCER_EDGES = 6  # beyond this, produce edges are left out (the moving dots still show)
MAX_CONSUMER_EDGES = 12
PATH_COLOUR = P.ROUTE  # the followed record's route (not a replica-state, request or group colour)
LOST_PATH_COLOUR = P.FAILURE


@dataclass(frozen=True, slots=True)
class MessagePath:
    """Where one record went, as plain data for `cluster_diagram(path=...)` (see `ui.figures.trace.message_path`).

    `leader` is the broker whose replica appended it, `followers` the brokers whose replicas copied it,
    `readers` the consumers that fetched it (in order), `twice` those that got it a second time."""

    topic: str
    partition: int
    offset: int
    label: str  # "orders-0 offset 17 · key user-3": the legend names the record
    producer: str | None = None
    leader: int | None = None
    followers: tuple[int, ...] = ()
    readers: tuple[str, ...] = ()
    twice: tuple[str, ...] = ()
    lost: bool = False


def path_nodes(path: MessagePath) -> list[str]:
    """Diagram node names on the route, in order: producer, leader replica, follower replicas, consumers."""
    out = [path.producer] if path.producer else []
    out += [
        replica_node(path.topic, path.partition, b) for b in (path.leader, *path.followers) if b is not None
    ]
    out += [r for r in path.readers if r not in out]
    return out


@dataclass(frozen=True, slots=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def width_px(self) -> float:
        return (self.x1 - self.x0) * PX_PER_X


def text_px(text: str, size: int = CHIP_FONT, bold: bool = False) -> float:
    """A conservative width estimate for sans-serif text (used to avoid clipped or overlapping labels)."""
    return len(text) * size * (0.64 if bold else 0.6)


def fit(text: str, px: float, size: int = CHIP_FONT, bold: bool = False) -> str:
    """`text`, elided with an ellipsis if it would not fit in `px` pixels."""
    if text_px(text, size, bold) <= px:
        return text
    n = max(1, int(px / (size * (0.64 if bold else 0.6))) - 1)
    return text[:n] + "…"


def natural_key(s: str) -> tuple:
    """c2 before c10: client ids sort the way people count."""
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s))


def topic_abbreviations(topics: list[str]) -> dict[str, str]:
    """Shortest prefixes (3 letters or more) that still tell the topics apart, for crowded brokers."""
    out = {}
    for t in topics:
        n = 3
        while n < len(t) and sum(1 for o in topics if o[:n] == t[:n]) > 1:
            n += 1
        out[t] = t[:n]
    return out


# -- layout -------------------------------------------------------------------------------------------------
def diagram_layout(snap: ClusterSnapshot) -> nx.DiGraph:
    """Nodes with fixed boxes (attribute ``box``) for every actor and replica; no edges (state adds them)."""
    g = nx.DiGraph()
    broker_ids = sorted(b.id for b in snap.brokers)
    hosted: dict[int, list[tuple[str, int]]] = {b: [] for b in broker_ids}
    for p in snap.partitions:
        for b in (*p.replicas, *p.adding_replicas):
            if b in hosted and p.key not in hosted[b]:
                hosted[b].append(p.key)
    for b in hosted:
        hosted[b].sort()

    # Broker boxes: a fixed 3-column grid; chips per row chosen for the narrowest supported width.
    gap = 2.0
    box_w = (BROKERS_X[1] - BROKERS_X[0] - gap * (GRID_COLS - 1)) / GRID_COLS
    inner_px = box_w * PX_PER_X - CHIP_GAP
    topics = sorted({p.topic for p in snap.partitions})
    abbrev = topic_abbreviations(topics)
    most = max((len(v) for v in hosted.values()), default=0)

    def per_row(labels: list[str]) -> int:
        widest = max((text_px(s) for s in labels), default=40) + 14
        return max(1, int(inner_px // (widest + CHIP_GAP)))

    full = [f"{t}-{p}" for t, p in {k for v in hosted.values() for k in v}]
    short = [f"{abbrev[t]}-{p}" for t, p in {k for v in hosted.values() for k in v}]
    use_short = bool(most) and math.ceil(most / per_row(full)) > 4
    chips_per_row = per_row(short if use_short else full)
    g.graph.update(chips_per_row=chips_per_row, short_labels=use_short, abbrev=abbrev)

    rows = [
        [b for b in broker_ids if (b - 1) // GRID_COLS == r]
        for r in range((max(broker_ids, default=1) - 1) // GRID_COLS + 1)
    ]
    y = TOP_BAND + 14
    for r, row in enumerate(rows):
        chip_rows = max([math.ceil(len(hosted[b]) / chips_per_row) for b in row] + [1])
        h = BOX_HEADER + chip_rows * (CHIP_H + CHIP_GAP) + CHIP_GAP
        for b in row:
            col = (b - 1) % GRID_COLS
            x0 = BROKERS_X[0] + col * (box_w + gap)
            box = Box(x0, y, x0 + box_w, y + h)
            g.add_node(f"broker-{b}", kind="broker", box=box, broker=b, row=r)
            chip_w = (box_w - CHIP_GAP / PX_PER_X * (chips_per_row + 1)) / chips_per_row
            for i, (t, p) in enumerate(hosted[b]):
                cr, cc = divmod(i, chips_per_row)
                cx0 = x0 + CHIP_GAP / PX_PER_X + cc * (chip_w + CHIP_GAP / PX_PER_X)
                cy0 = y + BOX_HEADER + cr * (CHIP_H + CHIP_GAP)
                label = f"{abbrev[t]}-{p}" if use_short else f"{t}-{p}"
                g.add_node(
                    replica_node(t, p, b),
                    kind="replica",
                    box=Box(cx0, cy0, cx0 + chip_w, cy0 + CHIP_H),
                    broker=b,
                    topic=t,
                    partition=p,
                    label=label,
                )
        y += h + 16
    brokers_bottom = y

    # Controller band: KRaft quorum voters or the ZooKeeper ensemble, centred over the broker grid.
    band = Box(BROKERS_X[0], 8, BROKERS_X[1], TOP_BAND)
    g.add_node("controller-band", kind="band", box=band)
    if snap.controller.mode == "kraft":
        voters = sorted(snap.controller.nodes) or broker_ids[:3]
        d = 5.0
        start = band.cx - d * (len(voters) - 1) / 2
        for i, v in enumerate(voters):
            g.add_node(
                f"voter-{v}", kind="voter", voter=v, box=Box(start + i * d - 1.9, 36, start + i * d + 1.9, 66)
            )
    else:
        g.add_node("zookeeper", kind="zookeeper", box=Box(band.cx - 9, 32, band.cx + 9, 68))

    # Producers: stacked on the left in id order.
    y = TOP_BAND + 14
    for pv in sorted(snap.producers, key=lambda p: natural_key(p.id)):
        g.add_node(pv.id, kind="producer", box=Box(PRODUCERS_X[0], y, PRODUCERS_X[1], y + PRODUCER_H))
        y += PRODUCER_H + 14
    producers_bottom = y

    # Groups on the right: one region per group id (consumer groups and share groups), members inside.
    members: dict[str, list[str]] = {}
    share: set[str] = set()
    for k in snap.consumers:
        members.setdefault(k.group_id or "(no group)", []).append(k.id)
    for gv in snap.groups:
        members.setdefault(gv.group_id, [])
    for sg in snap.share_groups:  # KIP-932: share consumers are not in snap.consumers
        key = sg.group_id if sg.group_id not in members else f"{sg.group_id} (share)"
        members[key] = [m for m in sg.members if m not in g]
        share.add(key)
    y = TOP_BAND + 14
    for gid in sorted(members, key=natural_key):
        ids = sorted(members[gid], key=natural_key)
        h = GROUP_HEADER + max(1, len(ids)) * (MEMBER_H + 8) + 6
        real_id = gid.removesuffix(" (share)") if gid in share else gid
        g.add_node(
            f"group:{gid}",
            kind="group",
            group=real_id,
            share=gid in share,
            box=Box(GROUPS_X[0], y, GROUPS_X[1], y + h),
        )
        for i, cid in enumerate(ids):
            my = y + GROUP_HEADER + i * (MEMBER_H + 8)
            g.add_node(
                cid,
                kind="member",
                group=real_id,
                share=gid in share,
                box=Box(GROUPS_X[0] + 1.2, my, GROUPS_X[1] - 1.2, my + MEMBER_H),
            )
        y += h + 14
    groups_bottom = y
    g.graph["height"] = max(brokers_bottom, producers_bottom, groups_bottom + 50, 260) + 4
    return g


def replica_node(topic: str, partition: int, broker: int) -> str:
    return f"replica:{topic}-{partition}@{broker}"


def member_state(gv, k) -> str:
    """The state a member box (and the Playground's group controls) shows. The coordinator's view, as
    kafka-consumer-groups.sh --describe shows it and as the narration says it ("Group g1 is Stable"): a member
    of a Stable group is stable even while its SyncGroup response is still on the wire (the hover says so)."""
    in_group = gv is not None and any(m.client_id == k.id for m in gv.members)
    if k.alive and k.state == "syncing" and in_group and gv.state == "Stable":
        return "stable"
    return k.state if k.alive else "crashed"


# -- state -> styles ----------------------------------------------------------------------------------------
def replica_style(p: PartitionView, broker: int) -> dict:
    """How one replica chip looks: the single place that maps replica state to fill, outline and dash."""
    rs = next((r for r in p.replica_states if r.broker == broker), None)
    online = rs.online if rs is not None else False
    if broker in p.adding_replicas and broker not in p.replicas:
        return dict(state="adding", fill=S.WHITE, line=S.MUTED, dash="dash", text=S.MUTED)
    if p.offline:
        return dict(state="offline", fill=S.OFFLINE, line=S.OFFLINE, dash="solid", text=S.WHITE)
    if not online:
        return dict(state="down", fill=S.DOWN_FILL, line=S.OFFLINE, dash="dot", text=S.OFFLINE)
    if rs is not None and rs.is_leader:
        return dict(state="leader", fill=S.LEADER, line=S.LEADER, dash="solid", text=S.WHITE)
    if (
        p.leader == broker
    ):  # the controller chose it; the broker has not taken over yet (LeaderAndIsr in flight)
        return dict(state="leader-elect", fill=S.LEADER_ELECT, line=S.LEADER, dash="dash", text=S.LEADER)
    if broker in p.isr:
        return dict(state="follower", fill=S.WHITE, line=S.FOLLOWER, dash="solid", text=S.LEADER)
    return dict(state="out-of-isr", fill=S.WHITE, line=S.OUT_OF_ISR, dash="dash", text=S.INK)


def message_family(kind: str) -> str:
    k = kind.lower()
    if k.startswith("replicafetch"):
        return "replication"
    if k.startswith("produce"):
        return "produce"
    if k.startswith("fetch"):
        return "fetch"
    if any(
        w in k
        for w in (
            "join",
            "sync",
            "heartbeat",
            "commit",
            "offsetfetch",
            "leavegroup",
            "coordinator",
            "listoffsets",
        )
    ):
        return "group"
    return "control"


# -- drawing ------------------------------------------------------------------------------------------------
def _rect(
    box: Box,
    name: str,
    fill: str,
    line: str,
    width: float = 1.5,
    dash: str = "solid",
    label: str | None = None,
    font_size: int = CHIP_FONT,
    font_colour: str = S.INK,
    bold: bool = False,
    radius: bool = True,
) -> dict:
    r = 0.45 if radius else 0
    ry = 6 if radius else 0
    # A rounded rectangle as an SVG path (plotly rects have no corner radius).
    path = (
        f"M {box.x0 + r},{box.y0} L {box.x1 - r},{box.y0} Q {box.x1},{box.y0} {box.x1},{box.y0 + ry} "
        f"L {box.x1},{box.y1 - ry} Q {box.x1},{box.y1} {box.x1 - r},{box.y1} L {box.x0 + r},{box.y1} "
        f"Q {box.x0},{box.y1} {box.x0},{box.y1 - ry} L {box.x0},{box.y0 + ry} Q {box.x0},{box.y0} "
        f"{box.x0 + r},{box.y0} Z"
    )
    shape = dict(
        type="path",
        path=path,
        name=name,
        xref="x",
        yref="y",
        fillcolor=fill,
        line=dict(color=line, width=width, dash=dash),
        layer="below",
    )
    if label:
        shape["label"] = dict(
            text=f"<b>{label}</b>" if bold else label,
            font=dict(size=font_size, color=font_colour),
            textposition="middle center",
        )
    return shape


def _text(
    x: float,
    y: float,
    text: str,
    size: int = 14,
    colour: str = S.INK,
    anchor: str = "left",
    bold: bool = False,
    name: str | None = None,
) -> dict:
    return dict(
        x=x,
        y=y,
        xref="x",
        yref="y",
        text=f"<b>{text}</b>" if bold else text,
        showarrow=False,
        font=dict(size=size, color=colour),
        xanchor=anchor,
        yanchor="middle",
        name=name,
    )


def _curve(
    a: tuple[float, float],
    b: tuple[float, float],
    colour: str,
    name: str,
    width: float = 2.0,
    dash: str = "solid",
    opacity: float = 0.55,
) -> dict:
    """A horizontal-tangent cubic Bezier from a to b: edges that do not cut corners through boxes."""
    (x0, y0), (x1, y1) = a, b
    mx = (x0 + x1) / 2
    return dict(
        type="path",
        path=f"M {x0},{y0} C {mx},{y0} {mx},{y1} {x1},{y1}",
        name=name,
        xref="x",
        yref="y",
        line=dict(color=colour, width=width, dash=dash),
        opacity=opacity,
        layer="below",
    )


@dataclass
class _Canvas:
    """What the section painters below add to: the layout graph, and the figure's traces, shapes, labels."""

    g: nx.DiGraph
    snap: ClusterSnapshot
    highlight: set[str]
    group_ids: list[str]
    traces: list[dict] = field(default_factory=list)
    shapes: list[dict] = field(default_factory=list)
    annotations: list[dict] = field(default_factory=list)
    hover_x: list[float] = field(default_factory=list)
    hover_y: list[float] = field(default_factory=list)
    hover_text: list[str] = field(default_factory=list)

    def nodes(self, kind: str) -> list[str]:
        return [n for n in self.g.nodes if self.g.nodes[n]["kind"] == kind]

    def hover(self, box: Box, text: str) -> None:
        self.hover_x.append(box.cx)
        self.hover_y.append(box.cy)
        self.hover_text.append(text)

    def halo(self, box: Box, name: str) -> None:
        """The yellow ring of the current step's actors (the legend's "in this step")."""
        if name in self.highlight:
            pad = 0.6  # never past the figure's edge, where it would be cut off
            ring = Box(max(0.1, box.x0 - pad), box.y0 - 5, min(X_MAX - 0.1, box.x1 + pad), box.y1 + 5)
            self.shapes.append(_rect(ring, f"halo:{name}", S.HIGHLIGHT_FILL, S.HIGHLIGHT, width=3))

    def group_colour(self, gid: str | None) -> str:
        return S.group_colour(self.group_ids, gid)


def cluster_diagram(
    snap: ClusterSnapshot,
    highlight: tuple[str, ...] = (),
    title: str | None = None,
    path: MessagePath | None = None,
) -> go.Figure:
    """The whole cluster at one instant. `highlight`: actor names of the current event, drawn with a halo.
    `path`: a followed record's route (producer → leader → followers → consumers), drawn over everything."""
    cv = _Canvas(diagram_layout(snap), snap, set(highlight), S.colour_group_ids(snap))
    _draw_controller(cv)
    _draw_brokers(cv)
    _add_edges(cv)
    _draw_replicas(cv)
    _draw_crossed(cv)
    _draw_edges(cv)
    _draw_producers(cv)
    _draw_groups(cv)
    _draw_members(cv)
    if path is not None:
        _draw_path(cv.g, snap, path, cv.shapes, cv.annotations)
    fams = _in_flight(cv)
    _legend(cv, fams)
    height = cv.g.graph["height"]
    layout = S.base_layout(
        height=int(height) + 130 + (40 if title else 0),
        title=title,
        show_legend=True,
        margin=dict(l=6, r=6, t=48 if title else 6, b=124),
        shapes=cv.shapes,
        annotations=cv.annotations,
        legend=dict(y=-0.01, entrywidthmode="pixels", entrywidth=190, traceorder="grouped"),
        **S.hidden_axes((0, X_MAX), (height, 0)),
    )
    return S.figure(cv.traces, layout)


def _draw_controller(cv: _Canvas) -> None:
    """The band above the brokers: KRaft quorum voters (the active one filled black) or ZooKeeper."""
    g, ctl = cv.g, cv.snap.controller
    brokers = {b.id: b for b in cv.snap.brokers}
    band = g.nodes["controller-band"]["box"]
    if ctl.mode == "kraft":
        cv.annotations.append(
            _text(
                band.cx,
                18,
                f"KRaft controller quorum · metadata offset {ctl.metadata_offset} · epoch {ctl.epoch}",
                size=13,
                colour=S.MUTED,
                anchor="center",
            )
        )
        for n in cv.nodes("voter"):
            v = g.nodes[n]["voter"]
            box = g.nodes[n]["box"]
            up = brokers[v].alive and not brokers[v].isolated if v in brokers else False
            active = ctl.active == v
            fill = P.ACTIVE_CONTROLLER if active else (S.WHITE if up else S.DOWN_FILL)
            line = S.INK if up else S.OFFLINE
            cv.shapes.append(
                dict(
                    type="circle",
                    name=f"voter-{v}",
                    xref="x",
                    yref="y",
                    x0=box.x0,
                    y0=box.y0,
                    x1=box.x1,
                    y1=box.y1,
                    fillcolor=fill,
                    line=dict(color=line, width=2, dash="solid" if up else "dot"),
                    label=dict(text=f"<b>{v}</b>", font=dict(size=13, color=S.WHITE if active else S.INK)),
                    layer="below",
                )
            )
            state = "active controller" if active else ("voter" if up else "voter (down)")
            cv.hover(box, f"KRaft controller node {v}: {state}")
        return
    box = g.nodes["zookeeper"]["box"]
    cv.shapes.append(_rect(box, "zookeeper", S.WHITE, S.INK, width=2, label="ZooKeeper", bold=True))
    who = f"controller: broker {ctl.active}" if ctl.active is not None else "no controller"
    cv.annotations.append(
        _text(
            band.cx,
            18,
            f"ZooKeeper mode · {who} · controller epoch {ctl.epoch}",
            size=13,
            colour=S.MUTED,
            anchor="center",
        )
    )
    cv.hover(box, f"ZooKeeper ensemble: brokers registered {list(ctl.registered_brokers)}; {who}")
    if ctl.active is not None and f"broker-{ctl.active}" in g:
        b = g.nodes[f"broker-{ctl.active}"]["box"]
        cv.shapes.append(
            dict(
                type="line",
                name="zk-controller-link",
                xref="x",
                yref="y",
                x0=box.cx,
                y0=box.y1,
                x1=b.cx,
                y1=b.y0,
                line=dict(color=S.INK, width=2, dash="dot"),
                layer="below",
            )
        )


def _broker_look(bv) -> tuple[str, str, str, str]:
    """(fill, outline, dash, state line) of a broker box: the state line is empty for a plain broker."""
    if not bv.alive:
        look = (S.DOWN_FILL, S.OFFLINE, "dash", "DOWN (crashed)")
    elif bv.isolated:
        look = (S.PANEL, S.OUT_OF_ISR, "dot", "isolated (network cut)")
    elif bv.fenced:
        look = (S.PANEL, S.OUT_OF_ISR, "dash", "fenced by controller")
    elif bv.controller:
        look = (S.PANEL, S.INK, "solid", "★ controller")
    else:
        look = (S.PANEL, S.INK, "solid", "")
    if bv.extra_latency_ms:
        look = (*look[:3], f"slow +{bv.extra_latency_ms} ms" + (f" · {look[3]}" if look[3] else ""))
    return look


def _draw_brokers(cv: _Canvas) -> None:
    """Broker boxes: name, how many partitions it leads (always), and its state when not plain."""
    g = cv.g
    brokers = {b.id: b for b in cv.snap.brokers}
    leaders: dict[int, int] = {}
    for p in cv.snap.partitions:
        if p.leader is not None:
            leaders[p.leader] = leaders.get(p.leader, 0) + 1
    for n in sorted(cv.nodes("broker"), key=natural_key):
        box = g.nodes[n]["box"]
        bv = brokers[g.nodes[n]["broker"]]
        cv.halo(box, n)
        leads = leaders.get(bv.id, 0)
        fill, line, dash, status = _broker_look(bv)
        down = not bv.alive
        cv.shapes.append(_rect(box, n, fill, line, width=3 if bv.controller else 1.8, dash=dash))
        title = f"Broker {bv.id}" + (f" · rack {bv.rack}" if bv.rack else "")  # broker.rack, when set
        cv.annotations.append(
            _text(
                box.x0 + 0.8,
                box.y0 + 14,
                fit(title, box.width_px - 12, 15, True),
                size=15,
                bold=True,
                colour=S.OFFLINE if down else S.INK,
                name=f"label:{n}",
            )
        )
        cv.annotations.append(
            _text(
                box.x0 + 0.8,
                box.y0 + 32,
                fit(f"leads {leads} partition{'s' * (leads != 1)}", box.width_px - 12, 12),
                size=12,
                colour=S.MUTED,
                name=f"leads:{n}",
            )
        )
        if status:
            cv.annotations.append(
                _text(
                    box.x0 + 0.8,
                    box.y0 + 48,
                    fit(status, box.width_px - 12, 12),
                    size=12,
                    colour=S.OFFLINE if down else S.INK,
                    name=f"status:{n}",
                )
            )
        cv.hover(
            Box(box.x0, box.y0, box.x1, box.y0 + BOX_HEADER),
            f"Broker {bv.id}: {'alive' if bv.alive else 'crashed'}{', isolated' if bv.isolated else ''}"
            f"{', fenced' if bv.fenced else ''}{', active controller' if bv.controller else ''}"
            f"{f', {bv.extra_latency_ms} ms slower' if bv.extra_latency_ms else ''}<br>leader of "
            f"{leads} partition(s) shown here ({bv.leaders} incl. __consumer_offsets)",
        )


def _add_edges(cv: _Canvas) -> None:
    """Producer -> leader and member -> leader edges (state), as graph edges the painters route."""
    snap, g = cv.snap, cv.g
    parts = {p.key: p for p in snap.partitions}
    for pv in snap.producers:
        topics = {b.topic for b in pv.batches}
        gen_topics = topics or {p.topic for p in snap.partitions}
        own = [p for p in snap.partitions if p.topic in gen_topics and p.leader is not None]
        if (not topics and len({p.topic for p in snap.partitions}) > 1) or len(own) > MAX_PRODUCER_EDGES:
            own = []  # unknown target topic, or so many partitions that lines would hide the picture
        for p in own:
            node = replica_node(p.topic, p.partition, p.leader)
            if node in g:
                g.add_edge(pv.id, node, kind="produce")
    owned = [(k.id, k.group_id, k.assignment) for k in snap.consumers if k.alive]
    owned += [(m, sg.group_id, sg.assignment.get(m, ())) for sg in snap.share_groups for m in sg.members]
    for cid, gid, assignment in owned:
        for t, pn in assignment:
            p = parts.get((t, pn))
            if p is None:
                continue
            target = p.leader if p.leader is not None else p.replicas[0]
            node = replica_node(t, pn, target)
            if node in g and cid in g:
                g.add_edge(cid, node, kind="consume", group=gid, offline=p.leader is None)


REPLICA_WORDS = {
    "leader": "leader",
    "leader-elect": "elected leader by the controller, not serving yet (the "
    "broker has not received the new leadership)",
    "follower": "follower, in sync (ISR)",
    "out-of-isr": "follower, OUT of ISR",
    "down": "broker down",
    "offline": "partition OFFLINE (no leader)",
    "adding": "being added",
}


def _draw_replicas(cv: _Canvas) -> None:
    """One chip per replica, styled by `replica_style`; the hover has the full name and offsets."""
    g = cv.g
    parts = {p.key: p for p in cv.snap.partitions}
    for n in cv.nodes("replica"):
        d = g.nodes[n]
        p = parts[(d["topic"], d["partition"])]
        st = replica_style(p, d["broker"])
        cv.shapes.append(
            _rect(
                d["box"],
                n,
                st["fill"],
                st["line"],
                width=2.2,
                dash=st["dash"],
                label=fit(d["label"], d["box"].width_px - 8),
                font_colour=st["text"],
                bold=st["state"] in ("leader", "leader-elect"),
            )
        )
        rs = next((r for r in p.replica_states if r.broker == d["broker"]), None)
        leo = rs.log_end_offset if rs else 0
        cv.hover(
            d["box"],
            f"<b>{p.topic}-{p.partition}</b> on broker {d['broker']}: {REPLICA_WORDS[st['state']]}<br>"
            f"log end offset {leo} · high watermark {p.high_watermark} · leader epoch "
            f"{p.leader_epoch}<br>replicas {list(p.replicas)} · ISR {list(p.isr)}",
        )


def _draw_crossed(cv: _Canvas) -> None:
    """A crashed broker is crossed out, over its chips."""
    brokers = {b.id: b for b in cv.snap.brokers}
    for n in cv.nodes("broker"):
        if brokers[cv.g.nodes[n]["broker"]].alive:
            continue
        box = cv.g.nodes[n]["box"]
        for i, (y0, y1) in enumerate(
            ((box.y0 + BOX_HEADER - 4, box.y1 - 4), (box.y1 - 4, box.y0 + BOX_HEADER - 4))
        ):
            cv.shapes.append(
                dict(
                    type="line",
                    name=f"crossed:{n}:{i}",
                    xref="x",
                    yref="y",
                    x0=box.x0 + 0.6,
                    y0=y0,
                    x1=box.x1 - 0.6,
                    y1=y1,
                    line=dict(color=S.OFFLINE, width=3),
                    opacity=0.55,
                    layer="below",
                )
            )


# -- routes: edges run through the gaps between boxes, so no line crosses a label ----------------------------
def _row_spans(g: nx.DiGraph) -> dict[int, tuple[float, float]]:
    """Top and bottom of every row of broker boxes."""
    rows: dict[int, tuple[float, float]] = {}
    for n in g.nodes:
        if g.nodes[n]["kind"] == "broker":
            b, r = g.nodes[n]["box"], g.nodes[n]["row"]
            top, bottom = rows.get(r, (b.y0, b.y1))
            rows[r] = (min(top, b.y0), max(bottom, b.y1))
    return rows


def _lane_above(rows: dict[int, tuple[float, float]], row: int) -> float:
    return rows[row][0] - (14 if row == 0 else 8)  # row 0: midway between the quorum and the boxes


def _chip_side(g: nx.DiGraph, node: str, toward_x: float) -> float:
    """+1: the chip connects on its right, -1: on its left. A chip in the left column of its box connects
    on the left (the right would cross its neighbour); a chip as wide as its box faces the other end."""
    c = g.nodes[node]["box"]
    box = g.nodes[f"broker-{g.nodes[node]['broker']}"]["box"]
    if c.x1 - c.x0 > (box.x1 - box.x0) * 0.6:
        return 1.0 if toward_x >= c.cx else -1.0
    return 1.0 if c.cx > box.cx else -1.0


def _chip_port(g: nx.DiGraph, node: str, s: float, dy: float) -> tuple[tuple[float, float], float]:
    """Where a route touches the chip (its side, `dy` off centre) and the vertical gap beside its box."""
    c = g.nodes[node]["box"]
    box = g.nodes[f"broker-{g.nodes[node]['broker']}"]["box"]
    return ((c.x1 if s > 0 else c.x0), c.cy + dy), (box.x1 + 1 if s > 0 else box.x0 - 1)


def _client_route(
    g: nx.DiGraph, rows: dict[int, tuple[float, float]], client: str, target: str
) -> list[tuple[float, float]]:
    """From a producer (left) or a group member (right) to a replica chip, or to the side of a broker's
    header (requests without a partition), through the gaps and lanes."""
    box = g.nodes[client]["box"]
    producer = g.nodes[client]["kind"] == "producer"
    if g.nodes[target]["kind"] == "broker":
        b = g.nodes[target]["box"]
        end, gap_in = ((b.x0, b.y0 + 16), b.x0 - 1) if producer else ((b.x1, b.y0 + 16), b.x1 + 1)
        row = g.nodes[target]["row"]
    else:
        end, gap_in = _chip_port(g, target, _chip_side(g, target, -1.0 if producer else X_MAX), 0)
        row = g.nodes[f"broker-{g.nodes[target]['broker']}"]["row"]
    if producer:
        return _subway((box.x1, box.cy), BROKERS_X[0] - 1, gap_in, end, _lane_above(rows, row))
    return _subway((box.x0, box.cy), BROKERS_X[1] + 1, gap_in, end, _lane_above(rows, row))


def _draw_edges(cv: _Canvas) -> None:
    """Producer and consumer edges, each ending in a dot on the chip it reaches; too many: a note instead."""
    g = cv.g
    consume = [e for e in g.edges(data=True) if e[2]["kind"] == "consume"]
    if len(consume) > MAX_CONSUMER_EDGES:  # a hairball teaches nothing: say where to look instead
        g.remove_edges_from([(u, v) for u, v, _ in consume])
        last = max((g.nodes[n]["box"].y1 for n in cv.nodes("group")), default=0)
        note = _text(
            GROUPS_X[0],
            last + 4,
            f"{len(consume)} consumer→partition links<br>hidden: see the Consumer<br>groups tab",
            size=11,
            colour=S.MUTED,
        )
        cv.annotations.append(note | dict(yanchor="top"))
    rows = _row_spans(g)
    for u, v, data in g.edges(data=True):
        pts = _client_route(g, rows, u, v)
        if data["kind"] == "produce":
            colour, dash, width, opacity = S.MUTED, "solid", 1.6, 0.55
        else:
            colour = S.OFFLINE if data["offline"] else cv.group_colour(data.get("group"))
            dash, width, opacity = ("dot" if data["offline"] else "solid"), 2.4, 0.8
        cv.shapes.append(
            dict(
                type="path",
                path=_rounded(pts),
                name=f"edge:{u}->{v}",
                xref="x",
                yref="y",
                line=dict(color=colour, width=width, dash=dash),
                opacity=opacity,
                layer="below",
            )
        )
        end = pts[-1]
        r = 4.5 / PX_PER_X
        cv.shapes.append(
            dict(
                type="circle",
                name=f"edge-end:{u}->{v}",
                xref="x",
                yref="y",
                x0=end[0] - r,
                y0=end[1] - 4.5,
                x1=end[0] + r,
                y1=end[1] + 4.5,
                fillcolor=colour,
                line=dict(color=S.WHITE, width=1),
                layer="below",
            )
        )


def _draw_producers(cv: _Canvas) -> None:
    for pv in cv.snap.producers:
        box = cv.g.nodes[pv.id]["box"]
        cv.halo(box, pv.id)
        topics = sorted({b.topic for b in pv.batches})
        inflight = sum(1 for b in pv.batches if b.state in ("in_flight", "retrying"))
        cv.shapes.append(
            _rect(
                box,
                f"producer:{pv.id}",
                S.WHITE if pv.alive else S.DOWN_FILL,
                S.INK if pv.alive else S.OFFLINE,
                width=1.8,
            )
        )
        w = box.width_px - 10
        cv.annotations.append(
            _text(box.x0 + 0.7, box.y0 + 14, fit(f"{pv.id}", w - 56, 15, True), size=15, bold=True)
        )
        cv.annotations.append(
            _text(box.x1 - 0.7, box.y0 + 14, "producer", size=11, colour=S.MUTED, anchor="right")
        )
        cv.annotations.append(
            _text(
                box.x0 + 0.7,
                box.y0 + 33,
                fit(f"acks={pv.config.get('acks')}", w, 12),
                size=12,
                colour=S.MUTED,
            )
        )
        cv.annotations.append(
            _text(
                box.x0 + 0.7, box.y0 + 51, fit(f"{pv.acked}/{pv.sent} acked", w, 12), size=12, colour=S.MUTED
            )
        )
        cv.hover(
            box,
            f"Producer {pv.id}{' (' + ', '.join(topics) + ')' if topics else ''}: sent {pv.sent}, acked "
            f"{pv.acked}, failed {pv.failed}<br>{len(pv.batches)} batch(es) in the accumulator or in "
            f"flight ({inflight} in flight)<br>" + ", ".join(f"{k}={v}" for k, v in pv.config.items()),
        )


def _draw_groups(cv: _Canvas) -> None:
    """One region per consumer group or share group, outlined in the group's colour, with its state."""
    gviews = {gv.group_id: gv for gv in cv.snap.groups}
    sviews = {sg.group_id: sg for sg in cv.snap.share_groups}
    for n in cv.nodes("group"):
        d = cv.g.nodes[n]
        gid, box = d["group"], d["box"]
        colour = cv.group_colour(gid)
        cv.shapes.append(
            _rect(box, n, "rgba(255,255,255,0)", colour, width=2.5, dash="dash" if d["share"] else "solid")
        )
        w = box.width_px - 10
        tag = "share group" if d["share"] else "group"
        cv.annotations.append(
            _text(
                box.x0 + 0.7,
                box.y0 + 14,
                fit(f"{gid}", w - text_px(tag, 11), 15, True),
                size=15,
                bold=True,
                colour=S.INK,
            )
        )
        cv.annotations.append(_text(box.x1 - 0.7, box.y0 + 14, tag, size=11, colour=S.MUTED, anchor="right"))
        if d["share"]:
            sg = sviews[gid]
            lines = (f"epoch {sg.epoch}", f"{len(sg.members)} member{'s' * (len(sg.members) != 1)}")
            text = (
                f"Share group {gid} (KIP-932): group epoch {sg.epoch}; members {', '.join(sg.members) or 'none'} "
                f"take records one by one from the same partitions"
            )
        else:
            gv = gviews.get(gid)
            state = gv.state if gv and gv.state != "Unknown" else "no coordinator"
            lines = (
                state,
                f"gen {gv.generation}" + (f" · {gv.protocol}" if gv.protocol else "") if gv else "",
            )
            text = (
                f"Group {gid}: {gv.state}, generation {gv.generation}, coordinator broker {gv.coordinator}<br>"
                f"total lag {sum(gv.lag[tp] for tp in gv.committed if tp in gv.lag)} record(s) "
                f"(partitions with a committed offset)"
                if gv
                else f"Group {gid}: no coordinator yet"
            )
        for i, line in enumerate(lines):
            cv.annotations.append(
                _text(box.x0 + 0.7, box.y0 + 32 + 16 * i, fit(line, w, 12), size=12, colour=S.MUTED)
            )
        cv.hover(Box(box.x0, box.y0, box.x1, box.y0 + GROUP_HEADER), text)


def _member_look(k, gv, colour: str) -> tuple[str, str, str, str]:
    """(fill, outline, dash, tag) of a consumer box: filled in its group's colour once stable (the coordinator's
    view, `member_state`, so the box and the narration agree)."""
    if k is None:  # a share consumer: no join protocol, it fetches as soon as it has partitions
        return colour, colour, "solid", ""
    if k.state == "crashed" or not k.alive:
        return S.DOWN_FILL, S.OFFLINE, "dash", "crashed"
    if k.state == "closed":
        return S.PANEL, S.MUTED, "dash", "closed"
    state = member_state(gv, k)
    if state == "stable":
        return colour, colour, "solid", ""
    return S.WHITE, colour, "dash", state


def _draw_members(cv: _Canvas) -> None:
    gviews = {gv.group_id: gv for gv in cv.snap.groups}
    consumers = {k.id: k for k in cv.snap.consumers}
    shares = {m: sg for sg in cv.snap.share_groups for m in sg.members}
    for n in cv.nodes("member"):
        box = cv.g.nodes[n]["box"]
        gid = cv.g.nodes[n]["group"]
        k = None if cv.g.nodes[n]["share"] else consumers[n]
        gv = gviews.get(gid)
        mv = next((m for m in gv.members if m.client_id == n), None) if gv and k is not None else None
        cv.halo(box, n)
        fill, line, dash, tag = _member_look(k, gv, cv.group_colour(gid))
        if k is None:
            assignment = shares[n].assignment.get(n, ())
        else:  # what the coordinator assigned once the group is Stable, else what the client holds
            assignment = mv.assignment if mv is not None and gv.state == "Stable" else k.assignment
        star = " ★" if mv is not None and mv.is_leader else ""
        text = f"{n}{star}" + (f" · {tag}" if tag else f" · {len(assignment)} part.")
        cv.shapes.append(
            _rect(
                box,
                f"member:{n}",
                fill,
                line,
                width=2,
                dash=dash,
                label=fit(text, box.width_px - 10, 13),
                font_colour=S.text_on(fill) if fill != S.PANEL else S.MUTED,
                bold=not tag,
            )
        )
        owned = ", ".join(f"{t}-{p}" for t, p in assignment) or "nothing"
        if k is None:
            cv.hover(box, f"Share consumer {n} of share group {gid}<br>shares {owned} with the other members")
        else:
            client = " — its SyncGroup response is on its way" if k.state == "syncing" and not tag else ""
            cv.hover(
                box,
                f"Consumer {n} ({k.state}{client}){' — group leader' if star else ''}<br>owns {owned}<br>"
                f"received {k.records_received} record(s)",
            )


def _message_route(
    g: nx.DiGraph, rows: dict[int, tuple[float, float]], m: InFlightView
) -> list[tuple[float, float]]:
    """The points a message travels through, from sender to receiver, through the gaps and lanes like the
    edges (so a dot never sits on a label): client <-> replica chip along the drawn edge, client <-> broker
    to the side of its header, broker <-> broker over the lane above their row; anything else straight."""
    a = _anchor(g, m.src, m.dst, m)
    b = _anchor(g, m.dst, m.src, m)
    if a is None or b is None:
        return []
    kinds = [g.nodes[n]["kind"] if n in g else None for n in (m.src, m.dst)]
    if kinds == ["broker", "broker"]:
        ra, rb = (g.nodes[n]["row"] for n in (m.src, m.dst))
        if ra == rb:
            lane = _lane_above(rows, ra)
            return [a, (a[0], lane), (b[0], lane), b]
        return [a, b]
    for client, broker, forward in ((m.src, m.dst, True), (m.dst, m.src, False)):
        if client not in g or g.nodes[client]["kind"] not in ("producer", "member"):
            continue
        if broker not in g or g.nodes[broker]["kind"] != "broker":
            continue
        chip = (
            replica_node(m.topic, m.partition, g.nodes[broker]["broker"]) if m.partition is not None else None
        )
        pts = _client_route(g, rows, client, chip if chip in g else broker)
        return pts if forward else pts[::-1]
    return [a, b]


def _along(pts: list[tuple[float, float]], f: float) -> tuple[float, float]:
    """The point a fraction `f` of the way along a polyline (lengths measured in pixels)."""
    segs = [
        (p, q, math.hypot((q[0] - p[0]) * PX_PER_X, q[1] - p[1])) for p, q in zip(pts, pts[1:], strict=False)
    ]
    left = f * sum(d for _, _, d in segs)
    for p, q, d in segs:
        if left <= d and d > 0:
            k = left / d
            return p[0] + (q[0] - p[0]) * k, p[1] + (q[1] - p[1]) * k
        left -= d
    return pts[-1]


def _in_flight(cv: _Canvas) -> dict[str, tuple[list[float], list[float], list[str]]]:
    """In-flight messages: dots along the route between sender and receiver, by request kind."""
    fams: dict[str, tuple[list[float], list[float], list[str]]] = {
        f: ([], [], []) for f in S.MESSAGE_FAMILIES
    }
    rows = _row_spans(cv.g)
    snap = cv.snap
    for m in snap.in_flight:
        pts = _message_route(cv.g, rows, m)
        if not pts:
            continue
        span = m.arrive_ms - m.sent_ms
        f = 0.5 if span <= 0 else min(1.0, max(0.0, (snap.time_ms - m.sent_ms) / span))
        x, y = _along(pts, f)
        xs, ys, ts = fams[message_family(m.kind)]
        xs.append(x)
        ys.append(y)
        tp = f" {m.topic}-{m.partition}" if m.topic is not None and m.partition is not None else ""
        ts.append(f"{m.kind}{tp}: {m.src} → {m.dst}<br>sent at {m.sent_ms} ms, arrives at {m.arrive_ms} ms")
    return fams


LEGEND_REPLICAS = (
    ("Leader replica", "square", S.LEADER, S.LEADER),
    ("Leader elected, taking over", "square", S.LEADER_ELECT, S.LEADER),
    ("Follower in ISR", "square-open", S.FOLLOWER, S.FOLLOWER),
    ("Follower out of ISR", "square-open", S.OUT_OF_ISR, S.OUT_OF_ISR),
    ("Offline / broker down", "square", S.DOWN_FILL, S.OFFLINE),
    ("In this step (highlighted)", "square", S.HIGHLIGHT_FILL, S.HIGHLIGHT),
)


def _legend(cv: _Canvas, fams: dict[str, tuple[list[float], list[float], list[str]]]) -> None:
    """The hover layer, then the legend: always the same entries (nothing jumps), the message dots among them."""
    cv.traces.append(
        dict(
            type="scatter",
            x=cv.hover_x,
            y=cv.hover_y,
            mode="markers",
            hovertext=cv.hover_text,
            hoverinfo="text",
            marker=dict(size=18, color="rgba(0,0,0,0)"),
            showlegend=False,
            name="hover",
        )
    )
    for label, sym, colour, line_colour in LEGEND_REPLICAS:
        cv.traces.append(
            dict(
                type="scatter",
                x=[None],
                y=[None],
                mode="markers",
                name=label,
                legendgroup="replicas",
                marker=dict(symbol=sym, size=14, color=colour, line=dict(color=line_colour, width=2)),
            )
        )
    for fam, (label, colour) in S.MESSAGE_FAMILIES.items():
        xs, ys, ts = fams[fam]
        cv.traces.append(
            dict(
                type="scatter",
                x=xs or [None],
                y=ys or [None],
                mode="markers",
                name=label,
                hovertext=ts,
                hoverinfo="text",
                legendgroup="messages",
                meta=fam,
                marker=dict(size=12, color=colour, line=dict(color=S.WHITE, width=1.5)),
            )
        )


def _rounded(points: list[tuple[float, float]], r_px: float = 7.0) -> str:
    """An SVG path through axis-aligned `points` with rounded corners (x in diagram units, y in pixels)."""

    def toward(corner: tuple[float, float], other: tuple[float, float]) -> tuple[float, float]:
        dx, dy = (other[0] - corner[0]) * PX_PER_X, other[1] - corner[1]
        d = math.hypot(dx, dy) or 1.0
        k = min(r_px, d / 2) / d
        return corner[0] + dx * k / PX_PER_X, corner[1] + dy * k

    pts = [pt for i, pt in enumerate(points) if i == 0 or pt != points[i - 1]]
    out = [f"M {pts[0][0]:.3f},{pts[0][1]:.2f}"]
    for i in range(1, len(pts) - 1):
        (x0, y0), (x1, y1) = toward(pts[i], pts[i - 1]), toward(pts[i], pts[i + 1])
        out.append(f"L {x0:.3f},{y0:.2f} Q {pts[i][0]:.3f},{pts[i][1]:.2f} {x1:.3f},{y1:.2f}")
    out.append(f"L {pts[-1][0]:.3f},{pts[-1][1]:.2f}")
    return " ".join(out)


def _subway(
    start: tuple[float, float], gap_out: float, gap_in: float, end: tuple[float, float], lane: float
) -> list[tuple[float, float]]:
    """A route that never crosses a box: out sideways into a vertical gap, along a horizontal lane between
    rows when it must change gaps, down/up the target's gap, in sideways."""
    pts = [start, (gap_out, start[1])]
    if abs(gap_out - gap_in) > 1e-6:
        pts += [(gap_out, lane), (gap_in, lane)]
    return pts + [(gap_in, end[1]), end]


def _draw_path(
    g: nx.DiGraph, snap: ClusterSnapshot, path: MessagePath, shapes: list[dict], annotations: list[dict]
) -> None:
    """The followed record's route: a ring on every node it went through, an arrow for every hop.

    Hops run like a subway map through the gaps between boxes, so the route never passes over a chip it
    did not visit: produce and fetch hops use the lane above the broker row, replication hops the lane
    below, and each enters or leaves a chip at its own height (produce/fetch upper, replication lower)."""
    colour = LOST_PATH_COLOUR if path.lost else PATH_COLOUR
    chip = {
        b: replica_node(path.topic, path.partition, b)
        for b in (path.leader, *path.followers)
        if b is not None
    }
    rows = _row_spans(g)

    def host(node: str) -> tuple[Box, Box, int]:  # chip box, its broker's box, the broker's row
        d = g.nodes[node]
        broker = g.nodes[f"broker-{d['broker']}"]
        return d["box"], broker["box"], broker["row"]

    def above(row: int) -> float:
        return rows[row][0] - (14 if row == 0 else 8)  # row 0: midway between the quorum and the boxes

    def below(row: int) -> float:
        return rows[row][1] + 8

    def side(node: str, toward_x: float) -> float:
        """+1: the chip connects on its right, -1: on its left. A chip in the left column of its box connects
        on the left (the right would cross its neighbour); a chip as wide as its box faces the other end."""
        c, box, _ = host(node)
        if c.x1 - c.x0 > (box.x1 - box.x0) * 0.6:
            return 1.0 if toward_x >= c.cx else -1.0
        return 1.0 if c.cx > box.cx else -1.0

    def port(node: str, s: float, dy: float) -> tuple[tuple[float, float], float]:
        """Where a route touches the chip (its side, `dy` off centre) and the vertical gap beside it."""
        c, box, _ = host(node)
        return ((c.x1 if s > 0 else c.x0), c.cy + dy), (box.x1 + 1 if s > 0 else box.x0 - 1)

    hops: list[tuple[str, str, list[tuple[float, float]], float]] = []  # (from, to, points, arrow direction)
    lead = chip.get(path.leader)
    if lead is not None and lead in g:
        c, _, row = host(lead)
        if path.producer in g:
            p = g.nodes[path.producer]["box"]
            s_in = side(lead, -1.0)
            end, gap_in = port(lead, s_in, -6)
            hops.append(
                (path.producer, lead, _subway((p.x1, p.cy), BROKERS_X[0] - 1, gap_in, end, above(row)), -s_in)
            )
        for f in path.followers:
            node = chip.get(f)
            if node is None or node not in g or node == lead:
                continue
            fc = g.nodes[node]["box"]
            s_out, s_in = side(lead, fc.cx), side(node, c.cx)
            start, gap_out = port(lead, s_out, 6)
            end, gap_in = port(node, s_in, 6)
            hops.append((lead, node, _subway(start, gap_out, gap_in, end, below(row)), -s_in))
    # Consumers fetch from the leader of the moment: the current leader if it holds the record.
    part = snap.partition(path.topic, path.partition)
    source = chip.get(part.leader if part is not None else None) or lead
    if source is not None and source in g:
        _, _, row = host(source)
        start, gap_out = port(source, side(source, X_MAX), -6)
        for r in dict.fromkeys(path.readers):
            if r in g:
                m = g.nodes[r]["box"]
                hops.append(
                    (source, r, _subway(start, gap_out, BROKERS_X[1] + 1, (m.x0, m.cy), above(row)), 1.0)
                )
    for u, v, pts, d in hops:
        x1, y1 = pts[-1]
        shapes.append(
            dict(
                type="path",
                path=_rounded(pts),
                name=f"path-edge:{u}->{v}",
                xref="x",
                yref="y",
                line=dict(color=colour, width=4, dash="dash" if path.lost else "solid"),
                opacity=0.9,
                layer="below",
            )
        )
        annotations.append(
            dict(
                x=x1,
                y=y1,
                ax=x1 - d * 1.2,
                ay=y1,
                xref="x",
                yref="y",
                axref="x",
                ayref="y",
                text="",
                showarrow=True,
                arrowhead=2,
                arrowsize=1.4,
                arrowwidth=2.5,
                arrowcolor=colour,
                standoff=0,
                name=f"path-arrow:{u}->{v}",
            )
        )
    # The key: which record this route is, top left (above the producers, left of the controller band).
    px = (BROKERS_X[0] - PRODUCERS_X[0] - 1) * PX_PER_X
    key = path.label.partition(" · ")[2]
    at = f" @{path.offset}"
    lines = [
        f"<b>━━ {'LOST' if path.lost else 'Followed'}</b>",
        f"<b>{fit(f'{path.topic}-{path.partition}', px - text_px(at, 12, True), 12, True)}{at}</b>",
        fit(key, px, 12),
    ]
    annotations.append(
        dict(
            x=PRODUCERS_X[0],
            y=TOP_BAND - 2,
            xref="x",
            yref="y",
            xanchor="left",
            yanchor="bottom",
            align="left",
            showarrow=False,
            text="<br>".join(x for x in lines if x),
            font=dict(size=12, color=colour),
            name="path-label",
        )
    )
    for n in path_nodes(path):
        if n not in g:
            continue
        box = g.nodes[n]["box"]
        pad = 0.55 if g.nodes[n]["kind"] == "replica" else 0.8
        twice = n in path.twice
        ring = Box(max(0.15, box.x0 - pad), box.y0 - 4, min(X_MAX - 0.15, box.x1 + pad), box.y1 + 4)
        shapes.append(
            _rect(
                ring,
                f"path:{n}",
                "rgba(0,0,0,0)",
                LOST_PATH_COLOUR if twice else colour,
                width=4,
                dash="dot" if twice else "solid",
            )
        )


def _anchor(g: nx.DiGraph, actor: str, other: str, m: InFlightView) -> tuple[float, float] | None:
    """Where a message leaves or reaches `actor`: a replica chip when the message names its partition."""
    if actor == "controller":
        for n in g.nodes:
            if g.nodes[n]["kind"] in ("zookeeper",):
                box = g.nodes[n]["box"]
                return box.cx, box.y1
        band = g.nodes["controller-band"]["box"]
        return band.cx, 66
    if actor == "zookeeper":
        if "zookeeper" in g:
            box = g.nodes["zookeeper"]["box"]
            return box.cx, box.y1
        return None
    if actor not in g:
        return None
    d = g.nodes[actor]
    box = d["box"]
    if d["kind"] == "broker":
        if m.topic is not None and m.partition is not None:
            node = replica_node(m.topic, m.partition, d["broker"])
            kind = g.nodes[other]["kind"] if other in g else None
            if node in g and kind in ("producer", "member"):  # the chip's side facing the other end
                c = g.nodes[node]["box"]
                return (c.x0 if kind == "producer" else c.x1), c.cy
        if other in g and g.nodes[other]["kind"] == "producer":
            return box.x0, box.cy
        if other in g and g.nodes[other]["kind"] == "member":
            return box.x1, box.cy
        return (
            box.cx,
            box.y0,
        )  # the top edge: messages from the controller or another broker never cover a label
    if d["kind"] == "producer":
        return box.x1, box.cy
    if d["kind"] == "member":
        return box.x0, box.cy
    return box.cx, box.cy
