"""The Streamlit app through `streamlit.testing.v1.AppTest`: pages render, controls change the session's
cluster, bad input is an error message (never a traceback) and the current cluster survives it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from ui_fixtures import chart_specs

from engine.scenario import PRESETS
from ui.live_chart import NAME
from ui.navigation import WARMED
from ui.session import SESSION_KEY, PlaygroundSession
from ui.share import encode_state
from ui.step_list import NAME as STEP_LIST
from ui.step_list import rows_of

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")


def open_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def playground(at: AppTest | None = None) -> AppTest:
    at = at or open_app()
    at.switch_page("ui/playground.py").run()
    assert not at.exception, at.exception
    return at


def session(at: AppTest) -> PlaygroundSession:
    return at.session_state[SESSION_KEY]


def diagram_spec(at: AppTest) -> dict:
    specs = chart_specs(at)
    return next(
        s
        for s in specs
        if any((sh.get("name") or "").startswith("broker-") for sh in s["layout"].get("shapes", []))
    )


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


# -- pages --------------------------------------------------------------------------------------------------
def test_home_renders_pictures_and_ways_in():
    at = open_app()
    assert at.title[0].value == "Kafka Classroom"
    assert len([c for c in at.get("plotly_chart") if c.key.startswith("home_")]) == 4
    assert {"go_playground", "go_lessons"} <= {b.key for b in at.button}


def test_the_first_run_warms_up_plotly_and_widgets_before_the_page_then_never_again():
    """Issue 17 speed: a session's first run sends hidden elements before the page's own ones (an empty chart
    of the kind the page draws, one widget of each kind), so the browser loads their code while the server
    replays a link; later runs leave their slot empty, the page's elements where they were."""
    at = open_app()
    charts = at.get("plotly_chart")
    assert charts[0].key == "kc_warm_chart" and len(charts) == 5
    assert ".st-key-kc_warm { display: none; }" in at.get("html")[0].proto.body
    warm = {n.key for n in at if getattr(n, "key", None) and n.key.startswith("kc_warm_")}
    assert {"kc_warm_button", "kc_warm_select", "kc_warm_toggle", "kc_warm_file"} <= warm
    home = [c.proto.id for c in charts[1:]]
    places = {i: type(n).__name__ for i, n in at.main.children.items() if i > 0}
    at.run()
    assert [c.proto.id for c in at.get("plotly_chart")] == home
    assert not any(getattr(n, "key", None) and n.key.startswith("kc_warm_") for n in at)
    assert {i: type(n).__name__ for i, n in at.main.children.items() if i > 0} == places  # nothing moved
    at.switch_page("ui/playground.py").run()
    assert not any(c.key == "kc_warm_chart" for c in at.get("plotly_chart"))


def test_a_classroom_link_warms_up_the_live_charts_not_streamlits_plotly():
    """Issue 20: the Classroom draws only live charts too, so a student who opens a room link (200 at once in a
    lecture hall) never makes the browser load Streamlit's full plotly.js, which live charts would then prefer."""
    at = open_app()  # AppTest finds a page whose address is not its file name only after a first run
    del at.session_state[WARMED]  # ... so this session starts again, as one that opened the room link
    at.switch_page("ui/room_page.py").run()
    assert not at.exception, at.exception
    assert at.text_input(key="room_code_input")  # the Classroom page, not Home
    assert not at.get("plotly_chart")
    live = [n for n in at.get("bidi_component") if n.proto.component_name == NAME]
    assert live[0].key == "kc_warm_live"


def test_a_playground_link_warms_up_the_live_charts_not_streamlits_plotly():
    """Issue 17 speed: the Playground draws only live charts (plotly.js's basic build), so a session that starts
    there (a shared link) warms up a hidden live chart and never makes the browser load Streamlit's full
    plotly.js."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("ui/playground.py").run()
    assert not at.exception, at.exception
    assert not at.get("plotly_chart")
    live = [n for n in at.get("bidi_component") if n.proto.component_name == NAME]
    assert live[0].key == "kc_warm_live" and {"diagram", "logs"} <= {n.key for n in live}
    assert "kc_warm_button" in {n.key for n in at.button}
    at.button(key="step").click().run()
    charts = [n.key for n in at.get("bidi_component") if n.proto.component_name == NAME]
    assert charts[:1] == ["diagram"]  # the warm-up chart is gone after the first run


def test_every_page_renders_without_exception():
    at = playground()
    keys = {b.key for b in at.button}
    assert {
        "step",
        "back",
        "play",
        "reset",
        "run_rebalance",
        "run_election",
        "crash_b1",
        "isolate_b1",
        "add_broker",
        "crash_c_c1",
        "close_c_c1",
        "add_c_g1",
    } <= keys
    assert [b.label for b in at.button if b.key in ("step", "back", "play", "reset")] == [
        "Step",
        "Back",
        "Play",
        "Reset",
    ]
    at.switch_page("ui/lessons_page.py").run()  # the lessons page has its own tests; here: it renders
    assert not at.exception


def test_diagram_is_read_from_the_chart_spec():
    spec = diagram_spec(playground())
    names = {sh.get("name") for sh in spec["layout"]["shapes"]}
    assert {"broker-1", "broker-2", "broker-3", "member:c1", "member:c2", "producer:p1"} <= names
    assert sum(1 for n in names if n and n.startswith("replica:orders-")) == 9


# -- controls -----------------------------------------------------------------------------------------------
def test_step_advances_the_cluster_and_the_narration():
    at = playground()
    s = session(at)
    first = [m.value for m in at.markdown if m.value.startswith("#### ")]
    for _ in range(3):
        click(at, "step")
    assert s.position == 3 and s.cluster.now > 0
    assert [m.value for m in at.markdown if m.value.startswith("#### ")] != first
    assert any(m.value.startswith("**Step 3**") for m in at.markdown)


def test_back_restores_the_exact_picture():
    at = playground()
    for _ in range(6):
        click(at, "step")
    before = diagram_spec(at)
    click(at, "step")
    click(at, "back")
    assert session(at).position == 6
    assert diagram_spec(at) == before


def test_a_pause_click_delivered_twice_stays_paused():
    """While Play runs, Streamlit can deliver one click twice (the Play timer's auto rerun carries the pending
    click, then the click's own message follows): the second delivery must not start Play again."""
    at = playground()
    click(at, "play")
    pause = next(b for b in at.button if b.label == "Pause").click()
    again = pause._widget_state  # the same click, as the second message carries it
    at.run()
    assert not session(at).playing and any(b.label == "Play" for b in at.button)
    states = at._tree.get_widget_states()
    states.widgets.append(again)
    at._run(states)
    assert not at.exception, at.exception
    assert not session(at).playing, "a second delivery of one Pause click started Play again"


def _recent_steps(at: AppTest):
    return next(n for n in at.get("bidi_component") if n.proto.component_name == STEP_LIST)


def _goto(at: AppTest, value) -> None:
    """A click on a row of Recent steps, as the page sends it: the list's trigger "goto" with the position."""
    states = at._tree.get_widget_states()
    w = states.widgets.add()
    w.id = f"$$STREAMLIT_INTERNAL_KEY_{_recent_steps(at).proto.id}__events"
    w.json_trigger_value = json.dumps([{"event": "goto", "value": value}])
    at._run(states)
    assert not at.exception, at.exception


def test_timeline_entries_jump_to_their_step():
    at = playground()
    for _ in range(5):
        click(at, "step")
    listed = rows_of(_recent_steps(at))
    assert listed["current"] == 5 and [p for p, _ in listed["rows"]] == [5, 4, 3, 2, 1, 0]  # newest first
    assert all(text.startswith(f"#{p} · ") and " s · " in text for p, text in listed["rows"])
    _goto(at, 2)
    assert session(at).position == 2
    assert rows_of(_recent_steps(at))["current"] == 2  # the list now marks step 2 as the current one
    for bad in (99, -1, "2", 2.5, None):  # not a listed step: nothing moves, no traceback
        _goto(at, bad)
        assert session(at).position == 2, bad


def test_play_pause_speed_and_reset():
    at = playground()
    click(at, "play")
    assert session(at).playing and at.button(key="pause").label == "Pause"
    assert "play" not in {b.key for b in at.button}  # one key per action: a repeated click cannot toggle back
    assert at.button(key="step").disabled
    at.selectbox(key="speed").select("10 steps/s").run()
    assert session(at).speed == "10 steps/s"
    click(at, "pause")
    assert not session(at).playing and at.button(key="play").label == "Play"
    click(at, "step")
    click(at, "reset")
    assert session(at).position == 0


def test_run_until_rebalance_and_election():
    at = playground()
    click(at, "run_rebalance")
    s = session(at)
    assert any(e.kind.startswith("rebalance") or e.kind == "assignment_received" for e in s.current_events())
    leader = s.cluster.snapshot().partitions[0].leader
    click(at, f"crash_b{leader}")
    click(at, "run_election")
    assert any(e.kind in ("leader_elected", "partition_offline") for e in s.current_events())
    assert s.cluster.snapshot().partitions[0].leader != leader


def test_broker_failure_buttons():
    at = playground()
    s = session(at)
    click(at, "crash_b2")
    assert not s.cluster.brokers[2].alive
    spec = diagram_spec(at)
    crossed = [sh for sh in spec["layout"]["shapes"] if (sh.get("name") or "").startswith("crossed:broker-2")]
    assert len(crossed) == 2
    click(at, "restart_b2")
    assert s.cluster.brokers[2].alive
    click(at, "isolate_b1")
    assert s.cluster.brokers[1].isolated
    click(at, "heal_b1")
    assert not s.cluster.brokers[1].isolated
    click(at, "add_broker")
    assert sorted(s.cluster.brokers) == [1, 2, 3, 4]
    assert "crash_b4" in {b.key for b in at.button}


def test_consumer_buttons():
    at = playground()
    s = session(at)
    click(at, "crash_c_c1")
    assert not s.cluster.consumers["c1"].alive
    click(at, "close_c_c2")
    assert s.cluster.consumers["c2"].state == "closed"
    click(at, "add_c_g1")
    assert len(s.cluster.consumers) == 3 and "crash_c_c3" in {b.key for b in at.button}
    click(at, "restart_c_c1")  # the crashed process starts again (a static member would keep its partitions)
    assert s.cluster.consumers["c1"].alive
    assert [c for c, _ in s.timeline.commands] == [0, 0, 0, 0]


def test_each_action_shows_its_real_kafka_equivalent():
    at = playground()
    click(at, "crash_b3")
    assert any("kill -9" in c.value for c in at.code)
    assert "Crashed broker 3" in session(at).last_action


# -- scenario input -------------------------------------------------------------------------------------------
def test_bad_scenario_text_shows_an_error_and_keeps_the_cluster():
    at = playground()
    click(at, "step")
    s = session(at)
    cluster, pos = s.cluster, s.position
    at.text_area(key=f"scenario_text_{s.version}").set_value("brokers: 0\ntopics: []").run()
    click(at, "apply_text")
    msgs = errors(at)
    assert msgs and "brokers" in msgs[0] and "greater than or equal to 1" in msgs[0]
    assert "unchanged" in msgs[0]
    assert s.cluster is cluster and s.position == pos


def test_unreadable_scenario_text_is_an_error_too():
    at = playground()
    s = session(at)
    at.text_area(key=f"scenario_text_{s.version}").set_value("{not: [valid").run()
    click(at, "apply_text")
    assert errors(at) and "YAML" in errors(at)[0]


def test_scenario_text_applies_a_new_cluster():
    at = playground()
    s = session(at)
    at.text_area(key=f"scenario_text_{s.version}").set_value(PRESETS["Batching"].to_json()).run()
    click(at, "apply_text")
    assert not errors(at) and s.scenario.name == "Batching" and s.position == 0


def test_builder_form_builds_and_validates():
    at = playground()
    s = session(at)
    v = s.version
    at.slider(key=f"b_brokers_{v}").set_value(2)  # form widgets are sent with the submit click
    next(b for b in at.button if b.label == "Apply scenario").click().run()
    assert not at.exception
    msgs = errors(at)
    assert msgs and "replication_factor 3" in msgs[0] and s.version == v  # RF 3 on 2 brokers: refused
    at.slider(key=f"b_brokers_{v}").set_value(5)
    next(b for b in at.button if b.label == "Apply scenario").click().run()
    assert not errors(at) and len(s.cluster.brokers) == 5 and s.version == v + 1


def test_presets_load():
    at = playground()
    s = session(at)
    at.selectbox(key=f"preset_{s.version}").select("Queue vs pub-sub").run()
    click(at, "load_preset")
    assert s.scenario.name == "Queue vs pub-sub"
    assert {"add_c_group-1", "add_c_group-2"} <= {b.key for b in at.button}


# -- shareable links ----------------------------------------------------------------------------------------------
def test_query_params_follow_the_run_and_reopen_it():
    at = playground()
    for _ in range(4):
        click(at, "step")
    assert any("?step=4&state=" in c.value for c in at.code)  # the Share box holds the same link
    params = {k: at.query_params[k] for k in ("step", "state")}
    assert params["step"] in ("4", ["4"])
    state = params["state"][0] if isinstance(params["state"], list) else params["state"]
    again = AppTest.from_file(APP, default_timeout=60)
    again.query_params["state"] = state
    again.query_params["step"] = "4"
    again.run()
    playground(again)
    assert session(again).position == 4
    assert diagram_spec(again) == diagram_spec(at)


@pytest.mark.parametrize(
    "params, word",
    [
        ({"state": "%%%", "step": "2"}, "state"),
        ({"state": encode_state({"scenario": {"brokers": 0}})["state"]}, "brokers"),
        ({"state": encode_state({"scenario": {}})["state"], "step": "x"}, "step"),
    ],
)
def test_bad_query_params_show_an_error_not_a_traceback(params, word):
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    playground(at)
    assert errors(at) and word in errors(at)[0]
    assert session(at).scenario.name == "Default"


def open_panel(at: AppTest, label: str) -> AppTest:
    at.session_state["panel"] = label  # the tabs are lazy (on_change="rerun"): only the open one runs
    at.run()
    assert not at.exception, at.exception
    return at


def test_every_panel_renders_and_shows_its_real_kafka_command():
    at = playground()
    click(at, "run_rebalance")
    open_panel(at, "Partition logs")
    logs = chart_specs(at)[1]
    assert any((sh.get("name") or "").startswith("lane:orders-") for sh in logs["layout"]["shapes"])
    assert any("kafka-topics.sh" in m.value for m in at.markdown)
    open_panel(at, "Producers")
    assert [m.label for m in at.metric] == ["sent", "acked", "failed", "buffer bytes", "in flight"]
    sent = session(at).cluster.producers["p1"].sent
    click(at, "produce10")
    assert session(at).cluster.producers["p1"].sent == sent + 10
    assert any("bootstrap.servers=localhost:9092" in c.value for c in at.code)
    open_panel(at, "Consumer groups")
    assert any("kafka-consumer-groups.sh" in c.value for c in at.code)
    states = chart_specs(at)[1]
    assert {sh["name"] for sh in states["layout"]["shapes"] if sh["name"].startswith("state:")} == {
        "state:Empty",
        "state:PreparingRebalance",
        "state:CompletingRebalance",
        "state:Stable",
    }
    open_panel(at, "Charts")
    assert len(chart_specs(at)) == 4
    open_panel(at, "Real Kafka")
    assert any(
        "kafka-topics.sh --bootstrap-server localhost:9092 --create --topic orders" in c.value
        for c in at.code
    )


def test_scenario_files_import_and_export():
    at = playground()
    s = session(at)
    exported = at.get("download_button")[0]
    assert "Download this scenario" in exported.proto.label
    up = at.file_uploader(key="scenario_file")
    up.upload(
        "batching.yaml",
        b"name: Uploaded\nbrokers: 2\ntopics:\n  - {name: t, partitions: 2, replication_factor: 2}\n",
        "application/x-yaml",
    ).run()
    assert not at.exception and not errors(at)
    assert s.scenario.name == "Uploaded" and len(s.cluster.brokers) == 2
    cluster = s.cluster
    at.file_uploader(key="scenario_file").upload(
        "bad.json", b'{"brokers": 3, "topics": [{"name": "a b"}]}', "application/json"
    ).run()
    assert errors(at) and "topics.0.name" in errors(at)[0] and s.cluster is cluster


# -- first contact (issue 17) -------------------------------------------------------------------------------
def test_home_says_where_to_start_before_anything_else():
    """Issue 17: Home shows a first lesson, a first experiment and the classroom in one glance, above the
    pictures; the links use the pages' short addresses and the first lesson's opens its step 1."""
    at = open_app()
    links = [link.proto for link in at.get("page_link")]
    assert [(link.page, link.label) for link in links[:3]] == [
        ("lessons", "Start lesson 1"),
        ("playground", "Open the Playground"),
        ("classroom", "Open the Classroom"),
    ]
    assert links[0].query_string == "lesson=brokers-producers-consumers&step=1"
    blocks = [m.value for m in at.markdown]
    assert blocks.index("**New to Kafka? Start with lesson 1**") < blocks.index("**Teaching a class?**")
    at.switch_page("ui/lessons_page.py").run()
    assert not at.exception


def test_every_page_has_its_short_address():
    """Issue 17: /playground, /lessons, /compare and /classroom reach their pages."""
    import streamlit as st

    seen: dict[str, str] = {}
    real = st.navigation

    def spy(pages, **kw):
        seen.update({p.url_path: str(p._page) for p in pages})
        return real(pages, **kw)

    st.navigation = spy
    try:
        open_app()
    finally:
        st.navigation = real
    assert {k: Path(v).name for k, v in seen.items() if k} == {
        "playground": "playground.py",
        "lessons": "lessons_page.py",
        "compare": "compare_page.py",
        "classroom": "room_page.py",
        "lessons_page": "old_lessons_link.py",
    }


def test_an_old_lessons_page_link_still_opens_the_same_lesson_step():
    """Issue 17: /lessons_page?lesson=...&step=... (shared before /lessons) opens that lesson step."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lesson"] = "queue-vs-pubsub"
    at.query_params["step"] = "3"
    at.run()
    at.switch_page("ui/old_lessons_link.py").run()
    assert not at.exception, at.exception
    s = at.session_state["kc_lessons"]
    assert (s.lesson_id, s.step) == ("queue-vs-pubsub", 2)


def test_a_scenario_without_topics_draws_the_playground_and_says_so():
    """A scenario may start with no topic (the builder allows it, to create one later): the Partition logs tab
    says "No topics" instead of the page failing (its legend split once raised KeyError 'entrywidth')."""
    from engine.scenario import Scenario

    at = playground()
    session(at).load(Scenario(name="empty", brokers=1))
    at.run()
    assert not at.exception, at.exception
    says_no_topics = [
        s for s in chart_specs(at) if "No topics" in json.dumps(s["layout"].get("annotations", []))
    ]
    assert says_no_topics, "no chart on the page says No topics"
