"""Follow one message in the UI: the trace figure and list for a known record, a lost record's own story,
picking by key, and the panel in the Playground's "Follow a message" tab."""

from __future__ import annotations

import json
from pathlib import Path

import plotly.graph_objects as go
from streamlit.testing.v1 import AppTest

from engine import Cluster
from helpers import GROUP_FAST, acks1_loss
from ui.figures import style as S
from ui.figures.trace import lanes, path_actors, trace_figure, trace_rows
from ui.trace_panel import md_escape, record_choices, trace_record, traces_for_key

ROOT = Path(__file__).resolve().parents[2]


def _acks_all_record():
    c = Cluster(brokers=3, seed=3)
    c.create_topic("orders", partitions=3, replication_factor=3, config={"min.insync.replicas": 2})
    p = c.producer("p1", {"acks": "all", "linger.ms": 5})
    fut = p.send("orders", key="alice", value="order-1")
    c.run_until(lambda: fut.done, 1000)
    k = c.consumer("c1", group_id="g1", topics=["orders"], config={**GROUP_FAST, "auto.commit.interval.ms": 100})
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
    assert [sh["name"] for sh in spec["shapes"] if sh["name"].startswith("lane:")] == [f"lane:{a}" for a in lane_ids]
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
    for call, field in ((lambda: traces_for_key(c, "orders", "  "), "key"),
                        (lambda: traces_for_key(c, "orders", "x" * 101), "key"),
                        (lambda: traces_for_key(c, "nope", "bob"), "topic"),
                        (lambda: trace_record(c, "orders", 5, 0), "partition"),
                        (lambda: trace_record(c, "orders", 0, 999, lost=True), "offset")):
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
    newest_committed = max(r.offset for r in snap.partition("orders", 0).tail
                           if r.offset < snap.partition("orders", 0).high_watermark)
    assert pick.value == str(newest_committed)
    spec = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                if "offset" in str(json.loads(c.proto.spec)["layout"].get("title", {}).get("text", "")))
    assert spec["layout"]["title"]["text"].startswith(f"orders-0 offset {newest_committed}")
    table = at.dataframe[0].value
    assert list(table.columns) == ["t (ms)", "what", "who", "detail"] and "leader appended" in set(table["what"])
    # by key: murmur2 picks the partition; a key nobody used says so, and the field is checked
    at.radio(key="pg_trace_how").set_value("Key").run()
    at.text_input(key="pg_trace_key").set_value("user-3").run()
    assert not at.exception and not at.error
    at.text_input(key="pg_trace_key").set_value("nobody-uses-this").run()
    assert any("murmur2 sends it to partition" in i.value for i in at.info)
    # the path on the cluster diagram: halos on the brokers and clients it went through
    at.radio(key="pg_trace_how").set_value("Recent offset").run()
    at.toggle(key="pg_trace_on_diagram").set_value(True).run()
    halos = {sh["name"] for c in at.get("plotly_chart") for sh in json.loads(c.proto.spec)["layout"].get("shapes", [])
             if (sh.get("name") or "").startswith("halo:")}
    assert {"halo:p1", "halo:broker-1", "halo:broker-2", "halo:broker-3"} <= halos


def test_classroom_figures_and_room_store_import_without_streamlit():
    import subprocess
    import sys

    code = ("import sys; import ui.figures.trace, ui.figures.compare, ui.figures.room, ui.rooms; "
            "assert 'streamlit' not in sys.modules, 'streamlit was imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
