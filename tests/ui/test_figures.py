"""Figure builders, tested without Streamlit: a snapshot in, the figure's data checked out.

Shapes are named (``broker-1``, ``replica:orders-0@2``, ``member:c1``, ``cell:orders-0@3``, ...), so the
tests read the picture the way a student sees it: which box is filled, outlined, dashed, red or crossed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import plotly.graph_objects as go
import pytest
from ui_fixtures import make_snapshot

from engine.scenario import PRESETS
from engine.timeline import Timeline
from ui.figures import style as S
from ui.figures.charts import lag_history_figure, latency_figure, throughput_figure
from ui.figures.diagram import PATH_COLOUR, cluster_diagram, diagram_layout, message_family
from ui.figures.groups import STATES, assignment_rows, group_state_figure, lag_figure
from ui.figures.logs import legend_apart, log_strips, topic_table, window_start
from ui.figures.overview import fan_in_fan_out, latency_histogram, online_scaling, replicated_log
from ui.figures.producer import producer_panel

ROOT = Path(__file__).resolve().parents[2]


def shapes(fig: go.Figure) -> dict[str, dict]:
    return {s.name: s.to_plotly_json() for s in fig.layout.shapes if s.name}


def names(fig: go.Figure, prefix: str) -> list[str]:
    return sorted(n for n in shapes(fig) if n.startswith(prefix))


# -- the cluster diagram -----------------------------------------------------------------------------------
def test_one_box_per_broker_replica_member_and_producer(snap):
    fig = cluster_diagram(snap)
    assert names(fig, "broker-") == ["broker-1", "broker-2", "broker-3"]
    expected = sorted(f"replica:{p.topic}-{p.partition}@{b}" for p in snap.partitions for b in p.replicas)
    assert names(fig, "replica:") == expected
    assert names(fig, "member:") == ["member:c1", "member:c2"]
    assert names(fig, "producer:") == ["producer:p1"]
    assert names(fig, "group:") == ["group:g1"]


def test_replica_styles_leader_follower_out_of_isr_down_offline(snap):
    sh = shapes(cluster_diagram(snap))
    leader = sh["replica:orders-0@1"]
    follower = sh["replica:orders-0@2"]
    out_of_isr = sh["replica:orders-1@1"]
    on_down_broker = sh["replica:orders-0@3"]
    offline = sh["replica:orders-2@3"]
    assert leader["fillcolor"] == S.LEADER and leader["line"]["dash"] == "solid"
    assert follower["fillcolor"] == S.WHITE and follower["line"]["color"] == S.FOLLOWER
    assert follower["line"]["dash"] == "solid"
    assert out_of_isr["fillcolor"] == S.WHITE and out_of_isr["line"]["dash"] == "dash"
    assert out_of_isr["line"]["color"] == S.OUT_OF_ISR
    assert on_down_broker["line"]["color"] == S.OFFLINE and on_down_broker["line"]["dash"] == "dot"
    assert offline["fillcolor"] == S.OFFLINE
    assert "<b>" in leader["label"]["text"] and "<b>" not in follower["label"]["text"]


def test_crashed_broker_is_red_and_crossed_out_controller_is_marked(snap):
    sh = shapes(cluster_diagram(snap))
    assert sh["broker-3"]["line"]["color"] == S.OFFLINE and sh["broker-3"]["fillcolor"] == S.DOWN_FILL
    assert len([n for n in sh if n.startswith("crossed:broker-3")]) == 2
    assert not [n for n in sh if n.startswith("crossed:broker-1")]
    assert sh["broker-1"]["line"]["width"] > sh["broker-2"]["line"]["width"]  # the controller's box
    assert sh["voter-1"]["fillcolor"] == S.BLACK  # the active KRaft controller
    assert sh["voter-3"]["line"]["dash"] == "dot"  # its broker is down


def test_zookeeper_mode_draws_the_ensemble():
    fig = cluster_diagram(make_snapshot("zookeeper"))
    sh = shapes(fig)
    assert "zookeeper" in sh and "zk-controller-link" in sh
    assert not [n for n in sh if n.startswith("voter-")]


def test_members_link_to_the_leader_replica_of_owned_partitions(snap):
    sh = shapes(cluster_diagram(snap))
    edges = sorted(n for n in sh if n.startswith("edge:c"))
    assert edges == ["edge:c1->replica:orders-0@1", "edge:c1->replica:orders-1@2"]
    assert sh["member:c1"]["fillcolor"] == S.group_colour(["g1"], "g1")  # stable: filled in the group colour
    assert sh["member:c2"]["line"]["color"] == S.OFFLINE and sh["member:c2"]["line"]["dash"] == "dash"


def test_in_flight_messages_sit_along_their_edge(snap):
    fig = cluster_diagram(snap)
    g = diagram_layout(snap)
    produce = next(t for t in fig.data if t.meta == "produce")
    assert len([x for x in produce.x if x is not None]) == 1
    # Produce p1 -> broker-1 for orders-0, sent at 100, arrives at 110, now 105: halfway along the drawn edge,
    # which runs out of p1, down the gap left of broker 1 and into the chip (issue 17: dots move along edges).
    p1, chip = g.nodes["p1"]["box"], g.nodes["replica:orders-0@1"]["box"]
    gap = g.nodes["broker-1"]["box"].x0 - 1
    assert produce.x[0] == pytest.approx(gap)
    assert min(p1.cy, chip.cy) < produce.y[0] < max(p1.cy, chip.cy)
    edge = shapes(fig)["edge:p1->replica:orders-0@1"]["path"]
    assert f"{gap:.3f}" in edge  # the edge runs through that same gap
    assert message_family("ReplicaFetchResponse") == "replication"
    assert message_family("Heartbeat") == "group"
    assert message_family("FetchResponse") == "fetch"


def test_positions_do_not_depend_on_state():
    """Nothing jumps: the same ids keep the same boxes across steps, failures and group changes."""
    tl = Timeline(PRESETS["Default"])
    tl.steps(5)
    before = diagram_layout(tl.cluster.snapshot())
    tl.steps(400)
    tl.apply({"op": "crash_broker", "broker": 2})
    tl.steps(50)
    after = diagram_layout(tl.cluster.snapshot())
    for n in before.nodes:
        assert before.nodes[n]["box"] == after.nodes[n]["box"], n
    tl.apply({"op": "add_broker"})  # a new broker takes a new slot; the old ones stay put
    grown = diagram_layout(tl.cluster.snapshot())
    for n in ("broker-1", "broker-2", "broker-3", "p1", "c1", "c2"):
        assert grown.nodes[n]["box"] == before.nodes[n]["box"]


def test_large_cluster_fits_without_overlapping_boxes():
    tl = Timeline(PRESETS["Large"])
    tl.steps(50)
    g = diagram_layout(tl.cluster.snapshot())
    boxes = [(n, g.nodes[n]["box"]) for n in g.nodes if g.nodes[n]["kind"] in ("broker", "producer", "group")]
    for i, (a, ba) in enumerate(boxes):
        for b, bb in boxes[i + 1 :]:
            overlap = ba.x0 < bb.x1 and bb.x0 < ba.x1 and ba.y0 < bb.y1 and bb.y0 < ba.y1
            assert not overlap, (a, b)
    chips = [g.nodes[n] for n in g.nodes if g.nodes[n]["kind"] == "replica"]
    assert len(chips) == 3 * 12 * 3
    for c in chips:  # every chip inside its broker's box
        bb = g.nodes[f"broker-{c['broker']}"]["box"]
        assert bb.x0 <= c["box"].x0 and c["box"].x1 <= bb.x1 and bb.y0 <= c["box"].y0 and c["box"].y1 <= bb.y1


def test_highlight_draws_a_halo_around_the_event_actors(snap):
    sh = shapes(cluster_diagram(snap, highlight=("broker-2", "p1")))
    assert {"halo:broker-2", "halo:p1"} <= set(sh)


# -- partition logs ----------------------------------------------------------------------------------------------
def test_log_cells_markers_and_lost_records(snap):
    fig = log_strips(snap, "orders")
    sh = shapes(fig)
    cells = names(fig, "cell:orders-0@")
    assert cells == sorted(f"cell:orders-0@{o}" for o in range(6))
    # Issue 17: above the high watermark (4) a cell keeps its key's colour and is hatched with a dashed
    # outline (it used to be a paler tint, which read as another key).
    assert "hatch:orders-0@3" not in sh and sh["cell:orders-0@3"]["line"]["dash"] == "solid"  # committed
    assert "hatch:orders-0@4" in sh and sh["cell:orders-0@4"]["line"]["dash"] == "dash"  # not readable yet
    assert sh["cell:orders-0@4"]["fillcolor"] == sh["cell:orders-0@1"]["fillcolor"]  # k1 both: same colour
    assert sh["cell:orders-0@0"]["fillcolor"] == S.key_colour(b"k0")
    assert sh["cell:orders-0@3"]["fillcolor"] == S.key_colour(b"k0")  # same key, same colour
    assert len({sh[f"cell:orders-0@{o}"]["fillcolor"] for o in range(3)}) == 3  # k0, k1, k2: three colours
    assert sh["cell:orders-1@0"]["fillcolor"] == S.NULL_KEY
    assert {"hw:orders-0", "leo:orders-0"} <= set(sh)
    assert sh["hw:orders-0"]["x0"] == pytest.approx(4 - window_start(snap.partition("orders", 0)) - 0.5)
    lost = sh["lost:orders-0@5"]
    assert lost["line"]["color"] == S.OFFLINE
    assert len([n for n in sh if n.startswith("lost-x:orders-0@5")]) == 2
    records = next(t for t in fig.data if t.name == "records")  # cells and lost cells: hover text + clickable
    assert any("acks=1 leader crashed" in h for h in records.hovertext)
    marker_names = [t.name for t in fig.data if t.name and ":" in t.name]
    assert "committed:orders-0:g1" in marker_names and "position:orders-0:c1" in marker_names


def test_every_record_cell_is_clickable_and_says_which_record_it_is(snap):
    """One invisible marker per drawn record (lost ones too), on the cell, carrying [topic, partition, offset,
    "log" | "lost"] for the Streamlit selection event; markers, HW lines and positions are not clickable."""
    fig = log_strips(snap, "orders")
    sh = shapes(fig)
    records = next(t for t in fig.data if t.name == "records")
    points = {(tuple(cd)): (x, y) for cd, x, y in zip(records.customdata, records.x, records.y, strict=True)}
    expected = {}
    for name, cell in sh.items():
        kind, _, where = name.partition(":")
        if kind in ("cell", "lost"):
            tp, off = where.rsplit("@", 1)
            topic, part = tp.rsplit("-", 1)
            expected[(topic, int(part), int(off), "lost" if kind == "lost" else "log")] = (
                (cell["x0"] + cell["x1"]) / 2,
                (cell["y0"] + cell["y1"]) / 2,
            )
    assert set(points) == set(expected) and ("orders", 0, 5, "lost") in points
    for rec, (x, y) in expected.items():  # the marker sits on its cell
        assert points[rec] == (pytest.approx(x), pytest.approx(y)), rec
    assert all("click to follow" in h for h in records.hovertext)
    assert records.marker.color == "rgba(0,0,0,0)"  # invisible: the cell shapes are what the student sees
    # a click-selection must not dim the consumer-position and committed-offset markers
    assert all(
        t.unselected.marker.opacity == 1 for t in fig.data if t.name and t.name.startswith("position:")
    )


def test_the_followed_record_is_ringed_in_the_route_colour(snap):
    ring = shapes(log_strips(snap, "orders", followed=("orders", 0, 3, False)))["followed:orders-0@3"]
    cell = shapes(log_strips(snap, "orders"))["cell:orders-0@3"]
    assert ring["line"]["color"] == PATH_COLOUR
    assert (
        ring["x0"] < cell["x0"] < cell["x1"] < ring["x1"]
        and ring["y0"] < cell["y0"] < cell["y1"] < ring["y1"]
    )
    lost = shapes(log_strips(snap, "orders", followed=("orders", 0, 5, True)))
    assert lost["followed:orders-0@5"]["y0"] > lost["lost:orders-0@5"]["y0"] - 0.1  # on the lost lane
    for other in (("orders", 0, 99, False), ("payments", 0, 3, False), ("orders", 0, 3, True)):
        assert not names(log_strips(snap, "orders", followed=other), "followed:"), other


def _rects(path: str) -> set[tuple[float, ...]]:
    """The rectangles of a compact path ("M x0,y0 H x1 V y1 H x0 Z ...")."""
    out = set()
    for part in path.split("Z"):
        nums = [float(v) for v in re.findall(r"-?\d+\.?\d*", part)]
        if nums:
            out.add(tuple(round(v, 3) for v in nums[:4]))  # x0, y0, x1, y1
    return out


def test_compact_log_strips_draw_the_same_cells_hatches_lines_and_labels(snap):
    """The Playground draws the strips in their compact form (a few paths, one text trace: plotly redraws it
    faster). Every record cell is still there, in its key's colour with its outline (dashed above the HW),
    labelled with its offset in the same colour; hatches, lost crosses and offset lines are all drawn; the
    lanes, the followed ring, the clickable records and the legend are unchanged."""
    ring = ("orders", 0, 5, True)
    plain, compact = (
        log_strips(snap, "orders", followed=ring),
        log_strips(snap, "orders", followed=ring, compact=True),
    )
    merged = [
        sh.to_plotly_json() for sh in compact.layout.shapes if sh.type == "path" and sh.name.endswith("s")
    ]
    drawn = set()
    for sh in merged:
        if sh["fillcolor"] != "rgba(0,0,0,0)":
            look = (sh["fillcolor"], sh["line"]["color"], sh["line"]["dash"])
            drawn |= {(look, r) for r in _rects(sh["path"])}
    cells = {n: c for n, c in shapes(plain).items() if n.startswith(("cell:", "lost:"))}
    want = {
        (
            (c["fillcolor"], c["line"]["color"], c["line"]["dash"]),
            (round(c["x0"], 3), round(c["y0"], 3), round(c["x1"], 3), round(c["y1"], 3)),
        )
        for c in cells.values()
    }
    assert want and drawn == want
    labels = next(t for t in compact.data if t.name == "offsets")
    assert labels.hoverinfo == "skip"  # the clickable records stay the only points a click reaches
    got = sorted(
        (t, c, round(x, 6), round(y, 6))
        for t, c, x, y in zip(labels.text, labels.textfont.color, labels.x, labels.y, strict=True)
    )
    # every cell's offset label at its centre, and every annotation (partition name, HW / LEO, consumers, older
    # records) at its place, in the same colour: the compact form draws them as text, not annotations
    want = [
        (c["label"]["text"], c["label"]["font"]["color"], (c["x0"] + c["x1"]) / 2, (c["y0"] + c["y1"]) / 2)
        for c in cells.values()
        if c["label"]["text"]
    ] + [
        (a.text, a.font.color or S.INK, -0.6 if a.xref == "paper" else a.x, a.y)
        for a in plain.layout.annotations
    ]
    assert got == sorted((t, c, round(x, 6), round(y, 6)) for t, c, x, y in want)
    assert not compact.layout.annotations and any("orders-0" in t for t, *_ in got)
    # hatches (one per cell above the HW), the lost record's cross and the HW / LEO lines: the same strokes
    segs = lambda path: len(re.findall(r"M", path))  # noqa: E731
    for prefix, n in (("hatch:", 4), ("lost-x:", 1), ("hw:", 1), ("leo:", 1)):
        assert sum(segs(sh["path"]) for sh in merged if sh["name"] == prefix[:-1] + "s") == n * len(
            names(plain, prefix)
        ), prefix
    kept = {n for n in shapes(compact) if ":" in n}
    assert kept == {n for n in shapes(plain) if n.startswith(("lane:", "followed:"))}
    single = (
        "position:",
        "committed:",
    )  # one trace per marker in the plain form, one per kind in the compact
    assert [t.name for t in compact.data if t.name not in ("offsets", "positions", "committeds")] == [
        t.name for t in plain.data if not t.name.startswith(single)
    ]
    for kind in ("position", "committed"):
        one = next(t for t in compact.data if t.name == f"{kind}s")
        points = set(zip(one.x, one.y, one.marker.color, one.hovertext, strict=True))
        each = [t for t in plain.data if t.name.startswith(f"{kind}:")]
        assert each and points == {(t.x[0], t.y[0], t.marker.color, t.hovertext[0]) for t in each}
        assert {t.marker.symbol for t in each} == {one.marker.symbol}
    assert next(t for t in compact.data if t.name == "records") == next(
        t for t in plain.data if t.name == "records"
    )


def test_the_strips_legend_apart_has_every_entry_and_the_strips_keep_everything_else(snap):
    """The Playground draws the strips' legend as its own chart under them (redrawn only when it changes): the
    legend has every legend entry, in order, with its marker; the strips keep every other trace, shape and
    label, and only lose the margin that held the legend."""
    whole = log_strips(snap, "orders", followed=("orders", 0, 3, False), compact=True)
    strips, legend = legend_apart(whole)
    entries = [t for t in whole.data if t.x == (None,)]
    assert [t.name for t in legend.data] == [t.name for t in entries]
    assert "followed record" in [t.name for t in legend.data]
    assert [t.marker for t in legend.data] == [t.marker for t in entries]
    assert legend.layout.showlegend and legend.layout.legend.maxheight == 1  # never a scroll box
    assert legend.layout.margin.l == whole.layout.margin.l  # the same left edge as under the strips
    assert [t.name for t in strips.data] == [t.name for t in whole.data if t.x != (None,)]
    assert not strips.layout.showlegend and strips.layout.shapes == whole.layout.shapes
    plot = lambda f: f.layout.height - f.layout.margin.t - f.layout.margin.b  # noqa: E731
    assert plot(strips) == plot(whole)  # the strips are drawn at the same size


def test_log_strips_without_topics_say_so():
    empty = make_snapshot()
    empty = type(empty)(
        **{**{f: getattr(empty, f) for f in empty.__dataclass_fields__}, "topics": (), "partitions": ()}
    )
    fig = log_strips(empty)
    assert "No topics" in fig.layout.annotations[0].text


def test_topic_table_is_describe_output(snap):
    rows = topic_table(snap, "orders")
    assert [r["leader"] for r in rows] == [1, 2, None]
    assert rows[0]["ISR"] == "1, 2" and rows[0]["lost records"] == 1


# -- producers, groups, charts, home -------------------------------------------------------------------------------
def test_producer_panel_one_row_per_partition(snap):
    fig = producer_panel(snap, "p1", "orders")
    fill = fig.data[0]
    assert list(fill.y) == ["orders-0", "orders-1", "orders-2"]
    assert fill.x[0] == pytest.approx(100 * 300 / 16384)
    assert "filling" in fill.text[0]
    assert list(fig.data[2].x) == [0, 1, 0]  # orders-1 has one batch in flight


def test_group_state_machine_highlights_the_current_state(snap):
    fig = group_state_figure(snap, "g1")
    sh = shapes(fig)
    assert [n for n in sh if n.startswith("state:")] == [f"state:{s}" for s in STATES]
    colour = S.group_colour(["g1"], "g1")
    assert sh["state:Stable"]["fillcolor"] == colour
    assert all(sh[f"state:{s}"]["fillcolor"] == S.WHITE for s in STATES if s != "Stable")
    assert "generation <b>3</b>" in fig.layout.annotations[-2].text


def test_assignment_rows_and_lag(snap):
    rows = assignment_rows(snap, "g1")
    assert [(r["partition"], r["consumer"], r["committed offset"], r["lag"]) for r in rows] == [
        (0, "c1", 2, 2),
        (1, "c1", 2, 0),
    ]
    fig = lag_figure(snap, "g1")
    assert list(fig.data[0].y) == [2, 0]


def test_charts_from_real_metrics():
    tl = Timeline(PRESETS["Default"])
    tl.cluster.run_for(3000)
    series = tl.cluster.metrics.series()
    fig = throughput_figure(series)
    assert [t.name for t in fig.data] == ["appended by leaders", "acknowledged to producers", "consumed"]
    assert max(fig.data[0].y) > 0
    assert len(latency_figure(series).data) == 2
    lag = lag_history_figure([(0.1, {"g1": 3}), (0.2, {"g1": 1, "g2": 4})], ["g1", "g2"])
    assert [list(t.y) for t in lag.data] == [[3, 1], [4]]
    assert throughput_figure({}).layout.annotations  # empty: says "press Step"


def test_home_pictures_build():
    for fig in (fan_in_fan_out(), replicated_log(), online_scaling(), latency_histogram([40, 60, 80])):
        assert isinstance(fig, go.Figure) and fig.layout.height


def test_figures_import_without_streamlit():
    code = (
        "import sys; import ui.figures.diagram, ui.figures.logs, ui.figures.producer, ui.figures.groups, "
        "ui.figures.charts, ui.figures.overview, ui.session, ui.kafka_cli, ui.share; "
        "assert 'streamlit' not in sys.modules, 'streamlit was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_okabe_ito_palette_and_readable_fonts(snap):
    for fig in (cluster_diagram(snap), log_strips(snap)):
        assert fig.layout.font.size >= 14
    assert S.text_on(S.BLUE) == S.WHITE and S.text_on(S.YELLOW) == S.INK


def test_every_builder_output_passes_plotly_validation(snap):
    """Builders skip validation for speed (style.figure); this re-validates every property they set."""
    tl = Timeline(PRESETS["Default"])
    tl.cluster.run_for(2000)
    series = tl.cluster.metrics.series()
    figs = [
        cluster_diagram(snap, highlight=("broker-1",)),
        cluster_diagram(make_snapshot("zookeeper")),
        log_strips(snap),
        producer_panel(snap),
        group_state_figure(snap, "g1"),
        lag_figure(snap, "g1"),
        throughput_figure(series),
        latency_figure(series),
        lag_history_figure([(0.1, {"g1": 1})], ["g1"]),
        throughput_figure({}),
        fan_in_fan_out(),
        replicated_log(),
        online_scaling(),
        latency_histogram([1, 2, 3]),
        cluster_diagram(tl.cluster.snapshot()),
        log_strips(tl.cluster.snapshot()),
        log_strips(snap, followed=("orders", 0, 3, False)),
        log_strips(snap, followed=("orders", 0, 5, True)),
        log_strips(snap, followed=("orders", 0, 5, True), compact=True),
        log_strips(tl.cluster.snapshot(), compact=True),
    ]
    for fig in figs:
        go.Figure(fig.to_plotly_json())  # raises ValueError on any invalid property


def test_a_leader_chosen_but_not_yet_serving_is_drawn_as_leader_elect():
    import dataclasses

    snap = make_snapshot()
    p0 = snap.partition("orders", 0)
    states = tuple(dataclasses.replace(r, is_leader=False) if r.broker == 1 else r for r in p0.replica_states)
    moving = dataclasses.replace(
        p0, leader=2, replica_states=states
    )  # controller says 2, broker 2 not told yet
    snap = dataclasses.replace(snap, partitions=(moving, *snap.partitions[1:]))
    sh = shapes(cluster_diagram(snap))
    assert sh["replica:orders-0@2"]["fillcolor"] == S.LEADER_ELECT
    assert sh["replica:orders-0@2"]["line"]["dash"] == "dash"
    assert sh["replica:orders-0@1"]["fillcolor"] == S.WHITE
