"""Issue 17 "Pictures": what a student notices in the diagram and the log strips.

One meaning, one colour; keys shown together never share a colour; "above the high watermark" is a hatch,
not a paler tint; no line crosses a label; every broker says how many partitions it leads; the log strip
says how many older records it leaves out; share groups are drawn with their members; values are shown as
produced; lag is "-" without a committed offset, in the table and in the chart.
"""

from __future__ import annotations

import dataclasses
import re

import pytest
from ui_fixtures import make_snapshot

from engine.scenario import PRESETS
from engine.snapshot import RecordView
from engine.timeline import Timeline
from ui.figures import palette as P
from ui.figures import style as S
from ui.figures.diagram import BOX_HEADER, GROUP_HEADER, cluster_diagram, diagram_layout
from ui.figures.groups import assignment_rows, lag_figure
from ui.figures.logs import log_strips


def _shapes(fig) -> dict[str, dict]:
    return {s.name: s.to_plotly_json() for s in fig.layout.shapes if s.name}


def _legend(fig) -> dict[str, str]:
    """Legend label -> colour, as the student reads it."""
    out = {}
    for t in fig.data:
        if t.showlegend is False or not t.name or t.name in ("hover", "records"):
            continue
        out[t.name] = t.marker.color
    return out


def _lab(h: str) -> tuple[float, float, float]:
    r, g, b = (int(h.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4))
    f = lambda c: c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4  # noqa: E731
    r, g, b = f(r), f(g), f(b)
    x, y, z = (
        (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047,
        0.2126 * r + 0.7152 * g + 0.0722 * b,
        (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883,
    )
    t = lambda v: v ** (1 / 3) if v > 0.008856 else 7.787 * v + 16 / 116  # noqa: E731
    return 116 * t(y) - 16, 500 * (t(x) - t(y)), 200 * (t(y) - t(z))


def _delta_e(a: str, b: str) -> float:
    return sum((p - q) ** 2 for p, q in zip(_lab(a), _lab(b), strict=True)) ** 0.5


@pytest.fixture(scope="module")
def busy():
    """Default after the group is stable and records flow, plus a share group of 3 reading the same topic."""
    tl = Timeline(PRESETS["Default"])
    tl.steps(300)
    tl.apply({"op": "add_share_consumer", "group": "sg", "count": 3, "topics": ["orders"]})
    tl.steps(60)
    return tl.cluster.snapshot()


# -- colours -------------------------------------------------------------------------------------------------
def test_palette_meanings_are_disjoint_and_far_apart():
    """The palette module itself: request kinds, groups and replica states never share (or nearly share)
    a colour, and 24 key colours are pairwise distinguishable."""
    states = [P.IN_SYNC, P.LEADER_ELECT, P.OUT_OF_ISR, P.FAILURE, P.HIGHLIGHT, P.ROUTE]
    requests = [c for _, c in P.MESSAGE_FAMILIES.values()]
    diagram = states + requests + list(P.GROUP_COLOURS)
    assert len({c.upper() for c in diagram}) == len(diagram)
    assert min(_delta_e(a, b) for i, a in enumerate(diagram) for b in diagram[i + 1 :]) >= 25
    keys = list(P.KEY_COLOURS)
    assert len(keys) >= 20 and len({k.upper() for k in keys}) == len(keys)
    assert min(_delta_e(a, b) for i, a in enumerate(keys) for b in keys[i + 1 :]) >= 25


def test_no_two_meanings_share_a_colour_in_the_diagram(busy):
    fig = cluster_diagram(busy, highlight=("broker-1", "c1"))
    legend = _legend(fig)
    assert "In this step (highlighted)" in legend  # the yellow ring is explained
    sh = _shapes(fig)
    assert sh["halo:broker-1"]["fillcolor"] == legend["In this step (highlighted)"]
    # Filled vs outlined blue is one meaning (in sync; the fill says leader): every other entry has its own.
    distinct = {k: v for k, v in legend.items() if k != "Follower in ISR"}
    assert len(set(distinct.values())) == len(distinct)
    groups = {sh[n]["line"]["color"] for n in sh if n.startswith("group:")}
    assert len(groups) == 2  # the consumer group and the share group
    assert not groups & set(legend.values())  # a group never looks like a request kind or a replica state
    members = {sh[n]["fillcolor"] for n in sh if n.startswith("member:")} - {S.WHITE, S.DOWN_FILL, S.PANEL}
    assert members <= groups


def test_twenty_keys_shown_together_get_twenty_colours_and_the_rest_are_other_keys():
    snap = make_snapshot()
    p0 = snap.partitions[0]
    for n, others in ((20, False), (26, True)):
        tail = tuple(RecordView("orders", 0, o, f"user-{o}".encode(), b"v", o) for o in range(n))
        p = dataclasses.replace(p0, tail=tail, log_end_offset=n, high_watermark=n, lost=())
        fig = log_strips(dataclasses.replace(snap, partitions=(p, *snap.partitions[1:])), "orders", window=30)
        sh = _shapes(fig)
        fills = [sh[f"cell:orders-0@{o}"]["fillcolor"] for o in range(n)]
        coloured = [f for f in fills if f != P.OTHER_KEYS]
        assert len(coloured) >= 20 and len(set(coloured)) == len(coloured)  # never two keys alike
        groups = {S.group_colour(S.colour_group_ids(snap), "g1")}
        assert not groups & set(coloured)  # a key never looks like the group's position markers
        assert ("other keys (> 24 colours)" in _legend(fig)) is others


def test_above_the_high_watermark_is_hatched_not_a_paler_key():
    fig = log_strips(make_snapshot(), "orders")  # orders-0: HW 4, LEO 6
    sh = _shapes(fig)
    assert all(sh[f"cell:orders-0@{o}"].get("opacity", 1) == 1 for o in range(6))  # no tint
    assert {n for n in sh if n.startswith("hatch:orders-0@")} == {"hatch:orders-0@4", "hatch:orders-0@5"}
    legend = [t for t in fig.data if t.name == "above HW: not readable"]
    assert legend and legend[0].marker.pattern.shape == P.HATCH


# -- the diagram reads at a glance ---------------------------------------------------------------------------
def test_every_broker_says_how_many_partitions_it_leads(busy):
    fig = cluster_diagram(busy)
    texts = {a.name: a.text for a in fig.layout.annotations if a.name}
    for b in busy.brokers:
        n = sum(1 for p in busy.partitions if p.leader == b.id)
        assert texts[f"leads:broker-{b.id}"] == f"leads {n} partition{'s' * (n != 1)}"  # controller too


def _points(path: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r"(-?[\d.]+),(-?[\d.]+)", path)]


def _crosses(a: tuple[float, float], b: tuple[float, float], box) -> bool:
    """Does segment a-b pass through the inside of `box` (shrunk a little: touching an edge is fine)?"""
    x0, x1, y0, y1 = box.x0 + 0.05, box.x1 - 0.05, box.y0 + 0.5, box.y1 - 0.5
    steps = 40
    for i in range(steps + 1):
        x = a[0] + (b[0] - a[0]) * i / steps
        y = a[1] + (b[1] - a[1]) * i / steps
        if x0 < x < x1 and y0 < y < y1:
            return True
    return False


@pytest.mark.parametrize("preset", ["Default", "Queue vs pub-sub", "Broker failure"])
def test_no_edge_crosses_a_label(preset):
    """Producer and consumer edges run through the gaps: they touch only their own two ends, never a chip,
    a broker's header, a producer, another member or a group's header."""
    tl = Timeline(PRESETS[preset])
    tl.steps(300)
    snap = tl.cluster.snapshot()
    g = diagram_layout(snap)
    fig = cluster_diagram(snap)
    edges = {n: s for n, s in _shapes(fig).items() if n.startswith("edge:")}
    assert edges
    labels = {}
    for n, d in g.nodes(data=True):
        box = d["box"]
        if d["kind"] == "broker":
            labels[n] = type(box)(box.x0, box.y0, box.x1, box.y0 + BOX_HEADER)
        elif d["kind"] == "group":
            labels[n] = type(box)(box.x0, box.y0, box.x1, box.y0 + GROUP_HEADER)
        elif d["kind"] in ("replica", "producer", "member"):
            labels[n] = box
    for name, shape in edges.items():
        u, v = name.removeprefix("edge:").split("->")
        pts = _points(shape["path"])
        for node, box in labels.items():
            if node in (u, v):
                continue
            hit = any(_crosses(a, b, box) for a, b in zip(pts, pts[1:], strict=False))
            assert not hit, f"{name} crosses {node}"


def test_share_groups_are_drawn_with_their_members(busy):
    sh = _shapes(cluster_diagram(busy))
    assert "group:sg" in sh and sh["group:sg"]["line"]["dash"] == "dash"
    for m in ("s1", "s2", "s3"):
        assert f"member:{m}" in sh
        assert any(n.startswith(f"edge:{m}->replica:orders-") for n in sh)  # it fetches from the leader


def test_log_strip_says_how_many_older_records_it_leaves_out():
    snap = make_snapshot()
    p0 = snap.partitions[0]
    tail = tuple(RecordView("orders", 0, o, b"k", b"v", o) for o in range(30, 54))
    p = dataclasses.replace(p0, tail=tail, log_start_offset=0, log_end_offset=54, high_watermark=54, lost=())
    fig = log_strips(dataclasses.replace(snap, partitions=(p, *snap.partitions[1:])), "orders")
    texts = {a.name: a.text for a in fig.layout.annotations if a.name}
    assert "◀ 34 older records" in texts["older:orders-0"]  # 54 - 20 shown
    assert "older:orders-1" not in texts  # everything of orders-1 is shown


def test_values_are_shown_as_produced_without_the_padding():
    tl = Timeline(PRESETS["Default"])
    tl.steps(120)
    fig = log_strips(tl.cluster.snapshot())
    hovers = [h for t in fig.data if t.name == "records" for h in t.hovertext]
    assert hovers and not any(".." in h for h in hovers)
    assert any(re.search(r"value p1-\d+ \(\d+ bytes\)", h) for h in hovers)
    assert S.show(b"p1-17" + b"." * 15) == "p1-17" and S.show(b"wait...") == "wait..."


# -- lag as Kafka shows it -----------------------------------------------------------------------------------
def test_lag_is_a_dash_without_a_committed_offset_in_the_table_and_the_chart():
    snap = make_snapshot()
    g = snap.groups[0]
    # orders-1 was never committed: the engine knows HW - log start, kafka-consumer-groups.sh prints "-".
    g = dataclasses.replace(g, committed={("orders", 0): 2}, lag={("orders", 0): 2, ("orders", 1): 2})
    snap = dataclasses.replace(snap, groups=(g,))
    rows = {r["partition"]: r for r in assignment_rows(snap, "g1")}
    assert rows[0]["lag"] == 2 and rows[1]["lag"] is None and rows[1]["committed offset"] is None
    bars = lag_figure(snap, "g1").data[0]
    assert list(bars.y) == [2, 0]
    assert bars.text[0].startswith("2 ·") and bars.text[1].startswith("- ·")


def test_in_flight_dots_never_sit_on_a_label():
    """Request dots travel through the gaps and lanes like the edges: over 120 steps of Default (joins,
    produce, follower fetches, consumer fetches) no dot lands inside a chip, a broker header or a client box."""
    tl = Timeline(PRESETS["Default"])
    seen = 0
    for _ in range(120):
        tl.step("event")  # one event at a time (the expert stepping): many pictures with requests in flight
        snap = tl.cluster.snapshot()
        g = diagram_layout(snap)
        labels = []
        for _n, d in g.nodes(data=True):
            box = d["box"]
            if d["kind"] == "broker":
                labels.append(type(box)(box.x0, box.y0, box.x1, box.y0 + BOX_HEADER))
            elif d["kind"] in ("replica", "producer", "member"):
                labels.append(box)
        for t in cluster_diagram(snap).data:
            if t.legendgroup != "messages":
                continue
            for x, y in zip(t.x, t.y, strict=True):
                if x is None:
                    continue
                seen += 1
                assert not any(b.x0 + 0.3 < x < b.x1 - 0.3 and b.y0 + 2 < y < b.y1 - 2 for b in labels), (
                    t.name,
                    x,
                    y,
                )
    assert seen > 50


def test_a_label_cut_short_has_its_full_text_on_hover():
    snap = make_snapshot()
    long_p, long_g = "payments-service-producer", "fraud-detection-consumers"
    snap = dataclasses.replace(
        snap,
        producers=(dataclasses.replace(snap.producers[0], id=long_p),),
        consumers=tuple(dataclasses.replace(k, group_id=long_g) for k in snap.consumers),
        groups=(dataclasses.replace(snap.groups[0], group_id=long_g),),
    )
    fig = cluster_diagram(snap)
    texts = [a.text for a in fig.layout.annotations if a.text]
    texts += [s.label.text for s in fig.layout.shapes if s.label and s.label.text]
    cut = [re.sub(r"<[^>]+>", "", t) for t in texts if "…" in t]
    assert cut  # the long names do not fit their boxes
    hovers = " ".join(h for t in fig.data if t.name == "hover" for h in t.hovertext)
    for t in cut:
        head = t.split("…")[0]
        assert re.search(re.escape(head) + r"\w", hovers), t  # the hover carries the whole word
    assert long_p in hovers and long_g in hovers


def test_the_followed_record_ring_is_in_the_log_strip_legend_and_no_key_wears_its_colour():
    snap = make_snapshot()
    fig = log_strips(snap, "orders", followed=("orders", 0, 3, False))
    assert _legend(fig)["followed record"] == P.ROUTE
    assert "followed record" not in _legend(log_strips(snap, "orders"))
    special = {P.ROUTE, P.FAILURE, P.FAILURE_FILL, P.OTHER_KEYS, P.NULL_KEY, P.NOT_COMMITTED}
    assert not {c.upper() for c in P.KEY_COLOURS} & {c.upper() for c in special}
    assert min(_delta_e(k, c) for k in P.KEY_COLOURS for c in special) >= 25


def test_a_group_keeps_one_colour_in_every_picture_even_next_to_a_share_group():
    """The share group "a-jobs" sorts before g1: g1's colour must still match across the diagram, the state
    machine, the lag bars, the lag history and its markers in the log strip."""
    from engine.snapshot import ShareGroupView
    from ui.figures.charts import lag_history_figure
    from ui.figures.groups import group_state_figure

    snap = make_snapshot()
    snap = dataclasses.replace(
        snap, share_groups=(ShareGroupView("a-jobs", 1, ("s1",), {"s1": (("orders", 0),)}, ()),)
    )
    colour = _shapes(cluster_diagram(snap))["group:g1"]["line"]["color"]
    assert colour != _shapes(cluster_diagram(snap))["group:a-jobs"]["line"]["color"]
    assert _shapes(group_state_figure(snap, "g1"))["state:Stable"]["fillcolor"] == colour
    assert lag_figure(snap, "g1").data[0].marker.color == colour
    history = lag_history_figure([(0.1, {"g1": 2})], ["g1"], S.colour_group_ids(snap))
    assert history.data[0].line.color == colour
    strip = log_strips(snap, "orders")
    assert next(t for t in strip.data if t.name.startswith("committed:orders-0:")).marker.color == colour
