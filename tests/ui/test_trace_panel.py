"""Follow one message in the UI: the trace figure and list for a known record, a lost record's own story,
picking by key, and the panel in the Playground's "Follow a message" tab."""

from __future__ import annotations

import re
from pathlib import Path

import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest
from ui_fixtures import chart_specs

from engine import Cluster
from engine.scenario import PRESETS
from engine.timeline import Timeline
from helpers import GROUP_FAST, acks1_loss
from ui.figures import style as S
from ui.figures.diagram import LOST_PATH_COLOUR, PATH_COLOUR, cluster_diagram, diagram_layout, replica_node
from ui.figures.logs import log_strips
from ui.figures.trace import lanes, message_path, path_actors, route_text, trace_figure, trace_rows
from ui.trace_panel import (
    FOLLOW_KEY,
    Followed,
    followed_from_selection,
    followed_trace,
    md_escape,
    record_choices,
    trace_record,
    traces_for_key,
)

ROOT = Path(__file__).resolve().parents[2]


def _acks_all_record():
    c = Cluster(brokers=3, seed=3)
    c.create_topic("orders", partitions=3, replication_factor=3, config={"min.insync.replicas": 2})
    p = c.producer("p1", {"acks": "all", "linger.ms": 5})
    fut = p.send("orders", key="alice", value="order-1")
    c.run_until(lambda: fut.done, 1000)
    k = c.consumer(
        "c1", group_id="g1", topics=["orders"], config={**GROUP_FAST, "auto.commit.interval.ms": 100}
    )
    k.poll(5000)
    k.poll(500)
    k.poll(200)
    return c, fut


def test_trace_figure_and_list_for_a_known_record():
    c, fut = _acks_all_record()
    t = trace_record(c, "orders", fut.partition, fut.offset)
    leader = c.leaders_of("orders")[fut.partition]
    fig = trace_figure(t)
    go.Figure(fig.to_plotly_json())  # valid plotly
    spec = fig.to_plotly_json()["layout"]
    assert spec["title"]["text"] == f"orders-{fut.partition} offset {fut.offset} · key alice · value order-1"
    # lanes: producer, the leader, its two followers, then the consumer
    lane_ids = [a for a, _ in lanes(t)]
    assert lane_ids[:2] == ["p1", f"broker-{leader}"]
    assert sorted(lane_ids[2:4]) == sorted(f"broker-{b}" for b in (1, 2, 3) if b != leader)
    assert "c1" in lane_ids[4:]
    assert [sh["name"] for sh in spec["shapes"] if sh["name"].startswith("lane:")] == [
        f"lane:{a}" for a in lane_ids
    ]
    # one labelled marker per step, in time order, with the simulated time
    labels = [a for a in spec["annotations"] if (a.get("name") or "").startswith("step:")]
    assert [a["name"].split(":")[2] for a in labels] == t.kinds()
    assert all(f"t={s.time_ms} ms" in a["text"] for a, s in zip(labels, t.steps, strict=True))
    # hops say how long each took
    hops = [a["text"] for a in spec["annotations"] if (a.get("name") or "").startswith("dt:")]
    assert hops == [f"+{b.time_ms - a.time_ms} ms" for a, b in zip(t.steps, t.steps[1:], strict=False)]
    # nothing went wrong: no vermillion problem line
    assert not any((a.get("name") or "").startswith("problem:") for a in spec["annotations"])
    # the list: same steps, same times, full sentences
    rows = trace_rows(t)
    assert [r["t (ms)"] for r in rows] == [str(s.time_ms) for s in t.steps]
    appended = next(r for r in rows if r["what"] == "leader appended")
    assert f"offset {fut.offset}" in appended["detail"] and appended["who"] == f"broker {leader}"
    assert rows[0]["what"] == "key → partition" and "murmur2" in rows[0]["detail"]
    # the diagram's halo names: producer, the three brokers, the consumer
    assert set(path_actors(t)) >= {"p1", "broker-1", "broker-2", "broker-3", "c1"}
    # step labels never face each other across the band between two adjacent lanes (they would overlap)
    ys = [s["y"] for s in labels]
    ups = [s["yshift"] > 0 for s in labels]
    for i in range(len(labels) - 1):
        if ys[i + 1] == ys[i] + 1:
            assert not (not ups[i] and ups[i + 1]), (labels[i]["name"], labels[i + 1]["name"])
        if ys[i + 1] == ys[i] - 1:
            assert not (ups[i] and not ups[i + 1]), (labels[i]["name"], labels[i + 1]["name"])


def _lost_then_reused():
    """acks=1, slow followers, leader crash: 'doomed' is acknowledged then lost, and the new leader writes a
    different record at the same offset."""
    c, _leader, _kept, f = acks1_loss()
    p = c.producers["p1"]
    g = p.send("orders", key="carol", value="after")
    c.run_until(lambda: g.done, 5000)
    return c, f, g


def test_a_lost_record_tells_its_own_story_even_when_its_offset_was_reused():
    c, f, g = _lost_then_reused()
    assert g.offset == f.offset  # the new leader reused the offset
    now_there = trace_record(c, "orders", 0, f.offset)
    assert now_there.value == b"after"  # what the engine traces at that offset today
    t = trace_record(c, "orders", 0, f.offset, lost=True)
    assert t.value == b"doomed" and t.key == b"bob"
    assert t.kinds()[-1] == "lost" and "acked" in t.kinds() and "appended" in t.kinds()
    assert [s.time_ms for s in t.steps] == sorted(s.time_ms for s in t.steps)
    assert t.steps[0].time_ms > 0  # the partitioning step is placed at the send, not at t=0
    spec = trace_figure(t).to_plotly_json()["layout"]
    problem = next(a for a in spec["annotations"] if a.get("name") == "problem:lost")
    assert "acks=1" in problem["text"] and problem["font"]["color"] == S.VERMILLION
    lost_label = next(a for a in spec["annotations"] if (a.get("name") or "").endswith(":lost"))
    assert "LOST" in lost_label["text"]
    # the picker lists the lost record first; by key, both bob records come back (the lost one marked)
    choices = record_choices(c.snapshot(), "orders", 0)
    assert choices[0] == (f"lost:{f.offset}", f"offset {f.offset} · key bob · LOST")
    part, found = traces_for_key(c, "orders", "bob")
    assert part == 0 and sorted(tr.value for tr in found) == [b"doomed", b"kept"]


def test_bad_picks_name_the_field():
    c, f, _ = _lost_then_reused()
    for call, field in (
        (lambda: traces_for_key(c, "orders", "  "), "key"),
        (lambda: traces_for_key(c, "orders", "x" * 101), "key"),
        (lambda: traces_for_key(c, "nope", "bob"), "topic"),
        (lambda: trace_record(c, "orders", 5, 0), "partition"),
        (lambda: trace_record(c, "orders", 0, 999, lost=True), "offset"),
    ):
        try:
            call()
        except ValueError as exc:
            assert str(exc).startswith(f"{field}:"), exc
        else:
            raise AssertionError(f"{field} accepted")
    assert md_escape("*bold* [link](x) :red[hi]") == "\\*bold\\* \\[link\\](x) \\:red\\[hi\\]"


def test_follow_a_message_tab_in_the_playground():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("ui/playground.py").run()
    s = at.session_state["kc_playground"]
    s.step(60)
    at.session_state["panel"] = "Follow a message"
    at.run()
    assert not at.exception, at.exception
    pick = at.selectbox(key="pg_trace_record_orders_0")
    snap = s.cluster.snapshot()
    newest_committed = max(
        r.offset
        for r in snap.partition("orders", 0).tail
        if r.offset < snap.partition("orders", 0).high_watermark
    )
    assert pick.value == str(newest_committed)
    spec = next(
        sp for sp in chart_specs(at) if "offset" in str(sp["layout"].get("title", {}).get("text", ""))
    )
    assert spec["layout"]["title"]["text"].startswith(f"orders-0 offset {newest_committed}")
    table = at.dataframe[0].value
    assert list(table.columns) == ["t (ms)", "what", "who", "detail"] and "leader appended" in set(
        table["what"]
    )
    # by key: murmur2 picks the partition; a key nobody used says so, and the field is checked
    at.radio(key="pg_trace_how").set_value("Key").run()
    at.text_input(key="pg_trace_key").set_value("user-3").run()
    assert not at.exception and not at.error
    at.text_input(key="pg_trace_key").set_value("nobody-uses-this").run()
    assert any("murmur2 sends it to partition" in i.value for i in at.info)
    # "Follow it on the cluster diagram": the Playground's own diagram draws its route
    at.radio(key="pg_trace_how").set_value("Recent offset").run()
    at.button(key="pg_trace_follow").click().run()
    assert at.session_state[FOLLOW_KEY] == Followed("orders", 0, newest_committed)
    diagram = next(
        sp
        for sp in chart_specs(at)
        if any((sh.get("name") or "").startswith("broker-") for sh in sp["layout"].get("shapes", []))
    )
    rings = {sh["name"] for sh in diagram["layout"]["shapes"] if (sh.get("name") or "").startswith("path:")}
    assert {
        "path:p1",
        "path:replica:orders-0@1",
        "path:replica:orders-0@2",
        "path:replica:orders-0@3",
    } <= rings


# -- the followed record's path on the cluster diagram -----------------------------------------------------------
def _expected_route(t) -> tuple[set[str], set[tuple[str, str]]]:
    """Nodes and hops the diagram must draw, read from the engine's trace steps (not from the figure code)."""
    by_kind: dict[str, list[str]] = {}
    for step in t.steps:
        by_kind.setdefault(step.kind, []).append(step.actor)
    producer = by_kind["sent"][0]
    leader = replica_node(t.topic, t.partition, int(by_kind["appended"][0].split("-")[1]))
    followers = {
        replica_node(t.topic, t.partition, int(a.split("-")[1])) for a in by_kind.get("replicated", [])
    }
    readers = set(by_kind.get("polled", []))
    nodes = {producer, leader, *followers, *readers}
    hops = {(producer, leader)} | {(leader, f) for f in followers} | {(leader, r) for r in readers}
    return nodes, hops


def _shapes(fig) -> dict[str, dict]:
    return {sh["name"]: sh for sh in fig.to_plotly_json()["layout"]["shapes"] if sh.get("name")}


def _corners(svg: str) -> list[tuple[float, float]]:
    """The route's points (its rounded corners' control points are the corners of the subway line)."""
    return [(float(x), float(y)) for x, y in re.findall(r"(-?[\d.]+),(-?[\d.]+)", svg)]


def test_the_diagram_draws_the_path_the_engine_traced():
    c, fut = _acks_all_record()
    t = trace_record(c, "orders", fut.partition, fut.offset)
    nodes, hops = _expected_route(t)
    assert len(nodes) == 5  # p1, the leader, two followers, c1: the acks=all RF=3 story
    snap = c.snapshot()
    fig = cluster_diagram(snap, path=message_path(t))
    go.Figure(fig.to_plotly_json())  # valid plotly
    sh = _shapes(fig)
    assert {n.removeprefix("path:") for n in sh if n.startswith("path:")} == nodes
    assert {tuple(n.removeprefix("path-edge:").split("->")) for n in sh if n.startswith("path-edge:")} == hops
    assert all(sh[n]["line"]["color"] == PATH_COLOUR for n in sh if n.startswith("path"))
    # every hop starts on its source's box and ends, with an arrowhead, on its target's box
    g = diagram_layout(snap)
    arrows = {a["name"]: a for a in fig.to_plotly_json()["layout"]["annotations"] if a.get("name")}
    for u, v in hops:
        pts = _corners(sh[f"path-edge:{u}->{v}"]["path"])
        a, b = g.nodes[u]["box"], g.nodes[v]["box"]
        assert (
            pts[0][0] in (pytest.approx(a.x0, abs=0.01), pytest.approx(a.x1, abs=0.01))
            and a.y0 <= pts[0][1] <= a.y1
        )
        assert (
            pts[-1][0] in (pytest.approx(b.x0, abs=0.01), pytest.approx(b.x1, abs=0.01))
            and b.y0 <= pts[-1][1] <= b.y1
        )
        head = arrows[f"path-arrow:{u}->{v}"]
        assert (head["x"], head["y"]) == (
            pytest.approx(pts[-1][0], abs=0.01),
            pytest.approx(pts[-1][1], abs=0.01),
        )
    # the label names the record, and so does the route in words
    label = arrows["path-label"]["text"]
    assert f"orders-{fut.partition} @{fut.offset}" in label and "alice" in label
    assert route_text(message_path(t)).startswith("p1 → broker ")
    # nothing else changed: without a path the picture has no route and the same boxes
    plain = _shapes(cluster_diagram(snap))
    assert not any(n.startswith("path") for n in plain)
    assert {n: s for n, s in sh.items() if not n.startswith("path")} == plain


@pytest.mark.parametrize("preset,topic", [("Default", "orders"), ("Large", "payments")])
def test_no_hop_crosses_a_chip_it_did_not_visit(preset, topic):
    """Subway routing: every straight run of a route stays clear of the other replica chips."""
    tl = Timeline(PRESETS[preset])
    tl.apply({"op": "run_for", "ms": 6000})
    c, snap = tl.cluster, tl.cluster.snapshot()
    g = diagram_layout(snap)
    chips = {n: g.nodes[n]["box"] for n in g.nodes if g.nodes[n]["kind"] == "replica"}
    filled = [p for p in snap.partitions if p.topic == topic and p.high_watermark >= 3]
    assert len(filled) >= 3
    for p in filled:
        t = trace_record(c, topic, p.partition, p.high_watermark - 3)
        sh = _shapes(cluster_diagram(snap, path=message_path(t)))
        edges = [n for n in sh if n.startswith("path-edge:")]
        assert len(edges) >= 3, (p.partition, t.kinds())
        for name in edges:
            u, v = name.removeprefix("path-edge:").split("->")
            pts = _corners(sh[name]["path"])
            for (x0, y0), (x1, y1) in zip(pts, pts[1:], strict=False):
                for n, b in chips.items():
                    if n in (u, v):
                        continue
                    hit = (
                        min(x0, x1) < b.x1 - 1e-6
                        and b.x0 + 1e-6 < max(x0, x1)
                        and min(y0, y1) < b.y1 - 1e-6
                        and b.y0 + 1e-6 < max(y0, y1)
                    )
                    assert not hit, (name, n)


def test_a_lost_record_is_drawn_in_vermillion_to_the_leader_that_lost_it():
    c, f, _ = _lost_then_reused()
    t = trace_record(c, "orders", 0, f.offset, lost=True)
    path = message_path(t)
    appended = next(s.actor for s in t.steps if s.kind == "appended")
    assert path.lost and path.leader == int(appended.split("-")[1]) and not path.readers
    fig = cluster_diagram(c.snapshot(), path=path)
    sh = _shapes(fig)
    edge = sh[f"path-edge:p1->{replica_node('orders', 0, path.leader)}"]
    assert edge["line"]["color"] == LOST_PATH_COLOUR and edge["line"]["dash"] == "dash"
    assert "LOST" in next(
        a["text"] for a in fig.to_plotly_json()["layout"]["annotations"] if a.get("name") == "path-label"
    )
    go.Figure(fig.to_plotly_json())


def test_a_click_selection_names_the_record_to_follow():
    c, fut = _acks_all_record()
    fig = log_strips(c.snapshot(), "orders")
    records = next(tr for tr in fig.data if tr.name == "records")
    i = [tuple(cd) for cd in records.customdata].index(("orders", fut.partition, fut.offset, "log"))
    # what Streamlit hands the on_select callback for a click on that cell
    state = {
        "selection": {
            "points": [
                {
                    "curve_number": 3,
                    "point_number": i,
                    "point_index": i,
                    "x": records.x[i],
                    "y": records.y[i],
                    "customdata": list(records.customdata[i]),
                }
            ],
            "point_indices": [i],
            "box": [],
            "lasso": [],
        }
    }
    rec = followed_from_selection(state)
    assert rec == Followed("orders", fut.partition, fut.offset)
    assert followed_trace(c, rec).value == b"order-1"
    for junk in (
        None,
        {},
        {"selection": {"points": []}},
        {"selection": {"points": [{"x": 1}]}},
        {"selection": {"points": [{"customdata": ["orders", "x", 1, "log"]}]}},
        {"selection": {"points": [{"customdata": ["orders", 0, 1, "other"]}]}},
    ):
        assert followed_from_selection(junk) is None, junk
    assert followed_trace(c, Followed("gone", 0, 1)) is None  # another scenario: nothing to follow


def test_the_follow_bar_names_the_record_and_escapes_what_a_user_typed():
    from ui.figures.diagram import MessagePath
    from ui.trace_panel import follow_bar_lines

    path = MessagePath(
        "orders",
        0,
        7,
        "orders-0 offset 7 · key <img src=x onerror=alert(1)>",
        producer="p1",
        leader=2,
        followers=(1, 3),
        readers=("c1",),
    )
    head, sub = follow_bar_lines(Followed("orders", 0, 7), path)
    assert "<img" not in head and "&lt;img" in head and "Following orders-0 offset 7" in head
    assert sub.endswith("p1 → broker 2 (leader) → brokers 1, 3 (followers) → c1 (consumer)")
    assert (
        "LOST"
        in follow_bar_lines(Followed("orders", 0, 7, True), MessagePath("orders", 0, 7, "x", lost=True))[0]
    )
    assert "not written yet" in follow_bar_lines(Followed("orders", 0, 7), None)[1]
    assert "Follow one record" in follow_bar_lines(None, None)[0]


def test_following_a_record_in_the_playground():
    """What a click in the log strip does (it sets the followed record): its life under the strip, its cell
    ringed, its route on the main diagram and named above it; the Follow tab opens on it; Stop clears it."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("ui/playground.py").run()
    s = at.session_state["kc_playground"]
    s.timeline.apply({"op": "run_for", "ms": 6000})
    part = s.cluster.snapshot().partition("orders", 1)
    offset = part.high_watermark - 2
    at.session_state[FOLLOW_KEY] = Followed("orders", 1, offset)
    at.run()
    assert not at.exception, at.exception
    label = f"orders-1 offset {offset}"
    assert any(f"Following {label}" in m.value for m in at.markdown)
    assert any(f"The life of {label}" in m.value for m in at.markdown)
    specs = dict(enumerate(chart_specs(at)))
    titles = [sp["layout"].get("title", {}).get("text", "") for sp in specs.values()]
    assert any(t.startswith(f"{label} ·") for t in titles)  # the trace figure, under the strip
    shape_names = {sh.get("name") for sp in specs.values() for sh in sp["layout"].get("shapes", [])}
    assert f"followed:orders-1@{offset}" in shape_names and "path:p1" in shape_names
    expected, _ = _expected_route(trace_record(s.cluster, "orders", 1, offset))
    assert {f"path:{n}" for n in expected} <= shape_names
    # the Follow a message tab starts on the same record and says it is highlighted
    at.session_state["panel"] = "Follow a message"
    at.run()
    assert at.selectbox(key="pg_trace_partition").value == 1
    assert at.selectbox(key="pg_trace_record_orders_1").value == str(offset)
    assert any("highlighted on the cluster diagram" in x.value for x in at.success)
    # Stop following (the button above the diagram): route, ring and caption go
    at.button(key="follow_bar_stop").click().run()
    assert at.session_state[FOLLOW_KEY] is None
    names = {sh.get("name") for sp in chart_specs(at) for sh in sp["layout"].get("shapes", [])}
    assert not any((n or "").startswith(("path", "followed")) for n in names)
    assert any("Follow one record" in m.value for m in at.markdown)
    # follow again from the tab's own button
    at.button(key="pg_trace_follow").click().run()
    assert at.session_state[FOLLOW_KEY] == Followed("orders", 1, offset)


def test_classroom_figures_and_room_store_import_without_streamlit():
    import subprocess
    import sys

    code = (
        "import sys; import ui.figures.trace, ui.figures.compare, ui.figures.room, ui.rooms; "
        "assert 'streamlit' not in sys.modules, 'streamlit was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
