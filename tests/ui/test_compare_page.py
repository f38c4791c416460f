"""The Compare page through AppTest: acks=1 vs acks=all through a leader crash, Back, and bad settings."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from ui_fixtures import chart_specs

from engine.scenario import PRESETS
from ui.compare_page import PAIRS, SESSION_KEY, CompareError, CompareSession, parse_changes
from ui.figures.compare import outcome_figure, race_figure
from ui.trace_panel import md_escape

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "ui" / "compare_page.py")


def open_page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=90)
    at.run()
    assert not at.exception, at.exception
    return at


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def session(at: AppTest) -> CompareSession:
    return at.session_state[SESSION_KEY]


def metrics(at: AppTest, label: str) -> list[str]:
    return [m.value for m in at.metric if m.label == label]


def charts(at: AppTest) -> list[dict]:
    return chart_specs(at)


def test_acks1_loses_acknowledged_records_in_a_leader_crash_and_acks_all_does_not():
    at = open_page()
    at.selectbox(key="cmp_preset").set_value("Broker failure")
    at.selectbox(key="cmp_pair").set_value("acks=1 vs acks=all")
    click(at, "cmp_build")
    s = session(at)
    assert s.left_changes == ["producer.acks=1"] and s.right_changes == ["producer.acks=all"]
    click(at, "cmp_step")
    assert s.position == 1
    s.step(39)  # the page's own function: quicker than 39 clicks
    at.run()
    leader = s.pair.left.snapshot().partition("payments", 0).leader
    assert leader == s.pair.right.snapshot().partition("payments", 0).leader  # same scenario and seed
    for b in (1, 2, 3):  # slow the followers so they lag a little behind the leader
        if b != leader:
            click(at, f"cmp_slow_b{b}")
    s.step(30)
    at.selectbox(key="cmp_until").set_value("the next acknowledgement")
    for _ in range(60):  # until the left run's leader has just acknowledged a payments-0 batch alone
        click(at, "cmp_run_until")
        left_events, _ = s.events_now()
        if any(e.kind == "batch_acked" and e.topic == "payments" and e.partition == 0 for e in left_events):
            break
    else:
        pytest.fail("no acknowledgement of payments-0 on the left")
    click(at, f"cmp_crash_b{leader}")
    assert not s.pair.left.brokers[leader].alive and not s.pair.right.brokers[leader].alive  # both runs
    at.selectbox(key="cmp_until").set_value("a lost record")
    for _ in range(4):
        click(at, "cmp_run_until")
        if s.pair.left.losses.lost_count:
            break
    crashed_at = next(e.time_ms for e in s.pair.left.events.events if e.kind == "broker_crashed")
    while s.pair.left.now < crashed_at + 11_000:  # past the election on both sides
        s.step(50)
    at.run()
    assert abs(s.pair.left.now - s.pair.right.now) <= 1  # aligned on simulated time

    lost = metrics(at, "lost after ack")
    assert len(lost) == 2 and int(lost[0]) > 0 and lost[1] == "0", lost
    assert s.pair.outcomes()[1].records_acked > 0
    # the divergence line names the first differing event
    div = next(m.value for m in at.markdown if m.value.startswith("**Where the runs part:**"))
    pairs = zip(s.pair.left.events.events, s.pair.right.events.events, strict=False)
    a, b = next((a, b) for a, b in pairs if (a.time_ms, a.kind, a.summary) != (b.time_ms, b.kind, b.summary))
    assert f"t={min(a.time_ms, b.time_ms)} ms" in div
    assert md_escape(a.summary)[:60] in div and md_escape(b.summary)[:40] in div
    # the outcome picture agrees: a vermillion outline on the left 'lost' bar only
    outcome = next(c for c in charts(at) if any(t.get("name") == "outcome:records_lost" for t in c["data"]))
    bar = next(t for t in outcome["data"] if t["name"] == "outcome:records_lost")
    assert bar["y"][0] > 0 and bar["y"][1] == 0
    # the trace panel opens on the lost record of the left run, with the reason
    assert any("Lost at t=" in e.value and "acks=1" in e.value for e in at.error)
    trace = next(
        c
        for c in charts(at)
        if "offset" in str(c["layout"].get("title", {}).get("text", ""))
        and any((sh.get("name") or "").startswith("lane:") for sh in c["layout"].get("shapes", []))
    )
    assert any(a_.get("name") == "problem:lost" for a_ in trace["layout"]["annotations"])


def test_back_restores_both_pictures_and_commands_hit_both_runs():
    at = open_page()
    s = session(at)
    s.step(20)
    at.run()
    before = [c for c in charts(at)]
    click(at, "cmp_step")
    click(at, "cmp_back")
    after = charts(at)
    names = lambda cs: [json.dumps(c["layout"].get("shapes"), sort_keys=True) for c in cs]  # noqa: E731
    assert names(after) == names(before)
    click(at, "cmp_crash_c_c1")
    assert all(c.consumers["c1"].state == "crashed" for c in (s.pair.left, s.pair.right))
    assert "Crash consumer c1" not in [b.label for b in at.button if not b.disabled]


def test_custom_settings_are_validated_and_name_the_side():
    at = open_page()
    s = session(at)
    at.selectbox(key="cmp_pair").set_value("Your own settings").run()
    at.text_area(key="cmp_left").set_value("producer.linger.ms=0")
    at.text_area(key="cmp_right").set_value("producer.lingr.ms=50")
    click(at, "cmp_build")
    errs = [e.value for e in at.error]
    assert any(e.startswith("Right settings:") and "linger.ms" in e for e in errs), errs
    assert session(at) is s  # the current comparison is kept
    at.text_area(key="cmp_right").set_value("acks=all")
    click(at, "cmp_build")
    assert any(e.value.startswith("Right settings:") and "scope.config=value" in e.value for e in at.error)
    at.text_area(key="cmp_right").set_value("producer.linger.ms=50")
    click(at, "cmp_build")
    assert session(at).right_changes == ["producer.linger.ms=50"] and not at.error


def test_pairs_build_and_parse_changes():
    for name, (_, _, preset, _) in PAIRS.items():
        s = CompareSession.build(preset, name)
        s.step(3)
        assert s.position == 3
    assert parse_changes("producer.acks=1; producer.linger.ms=5\n", "Left") == [
        "producer.acks=1",
        "producer.linger.ms=5",
    ]
    with pytest.raises(CompareError, match="^Left settings"):
        parse_changes("  ", "Left")
    with pytest.raises(CompareError, match="^Preset"):
        CompareSession.build("Nope", "acks=1 vs acks=all")


def test_compare_figures_are_valid_plotly():
    import plotly.graph_objects as go

    s = CompareSession.build("Default", "linger.ms=0 vs linger.ms=50")
    s.step(200)
    left, right = s.pair.outcomes()
    for fig in (
        outcome_figure(left, right),
        race_figure(
            s.pair.left.metrics.series(),
            s.pair.right.metrics.series(),
            [1200],
            [],
            s.pair.left.now,
            moments=[(900, "crash")],
        ),
    ):
        go.Figure(fig.to_plotly_json())
    assert PRESETS["Default"].producers  # the preset the linger pair runs on has a producer


def test_play_is_a_toggle_that_steps_both_runs_until_switched_off():
    at = open_page()
    s = session(at)
    at.toggle(key="cmp_playing").set_value(True).run()  # AppTest has no timer: each run() is one tick
    assert not at.exception, at.exception
    at.run()
    moved = s.position
    assert moved > 0 and at.button(key="cmp_step").disabled
    at.toggle(key="cmp_playing").set_value(False).run()
    at.run()
    assert s.position == moved and not at.button(key="cmp_step").disabled


# -- issue 17: whole-number tiles and the share link ---------------------------------------------------------------
WHOLE = r"^(—|\d{1,3}(,\d{3})*)$"  # "7,241": never "7241.3" nor "19.6"
DELTA = r"^(same|[+-]\d{1,3}(,\d{3})*)$"


def crashed_comparison(at: AppTest) -> CompareSession:
    """acks=1 vs acks=all on Broker failure, through a leader crash and its election (p99 in the thousands)."""
    s = session(at)
    s.step(40)
    at.run()
    leader = s.pair.left.snapshot().partition("payments", 0).leader
    click(at, f"cmp_crash_b{leader}")
    while s.pair.left.now < 12_000:
        s.step(100)
    at.run()
    assert not at.exception, at.exception
    return s


def test_outcome_tiles_show_whole_numbers_with_their_units():
    """Issue 17 compare: tiles read on a projector: whole numbers, the unit in the label, no decimals to cut."""
    at = open_page()
    s = crashed_comparison(at)
    tiles = [
        m
        for m in at.metric
        if m.label
        in ("records acked", "lost after ack", "duplicates", "ack p50 (ms)", "ack p99 (ms)", "acked per s")
    ]
    assert len(tiles) == 12, [m.label for m in at.metric]
    for m in tiles:
        assert re.match(WHOLE, m.value), (m.label, m.value)
    assert int(metrics(at, "ack p99 (ms)")[1].replace(",", "")) >= 1000  # acks=all waited for the new leader
    assert "," in metrics(at, "ack p99 (ms)")[1]
    for m in tiles[6:]:  # the right row: its difference to the left, whole too
        assert re.match(DELTA, m.delta or ""), (m.label, m.delta)
    left_rate, right_rate = s.pair.outcomes()[0].throughput_per_s, s.pair.outcomes()[1].throughput_per_s
    assert metrics(at, "acked per s") == [f"{round(left_rate):,}", f"{round(right_rate):,}"]


def test_a_share_link_reopens_the_same_comparison_at_the_same_step():
    """Issue 17 compare: the Compare page has a share link like the Playground; a fresh session opening it
    sees the same pair, commands, step and outcome tiles."""
    at = open_page()
    at.selectbox(key="cmp_pair").set_value("Your own settings").run()
    at.text_area(key="cmp_left").set_value("producer.linger.ms=0")
    at.text_area(key="cmp_right").set_value("producer.linger.ms=50")
    at.selectbox(key="cmp_preset").set_value("Broker failure")
    click(at, "cmp_build")
    s = crashed_comparison(at)
    click(at, "cmp_step")
    params = s.share_params()
    assert {k: at.query_params[k] for k in ("step", "state")} == params  # the address bar holds the link
    assert params["step"] == str(s.position)
    shared = next(c.value for c in at.code if "state=" in c.value)  # the Share box shows the same link
    assert f"step={params['step']}" in shared and params["state"] in shared

    fresh = AppTest.from_file(PAGE, default_timeout=90)
    fresh.query_params.update(params)
    fresh.run()
    assert not fresh.exception, fresh.exception
    t = session(fresh)
    assert t is not s
    assert (t.preset, t.pair_name, t.left_changes, t.right_changes) == (
        "Broker failure",
        "Your own settings",
        ["producer.linger.ms=0"],
        ["producer.linger.ms=50"],
    )
    assert t.position == s.position and t.pair.left.now == s.pair.left.now
    assert [(e.time_ms, e.kind, e.summary) for e in t.pair.right.events.events] == [
        (e.time_ms, e.kind, e.summary) for e in s.pair.right.events.events
    ]
    assert [[e.seq for e in side] for side in t.events_now()] == [
        [e.seq for e in side] for side in s.events_now()
    ]
    assert [(m.label, m.value, m.delta) for m in fresh.metric] == [
        (m.label, m.value, m.delta) for m in at.metric
    ]
    assert any(f"at step {s.position}" in i.value for i in fresh.info)
    assert any(not b.alive for b in t.pair.right.brokers.values())  # the crash came along


@pytest.mark.parametrize(
    "params, words",
    [
        ({"step": "3", "state": "not-a-real-state"}, ["'state'", "could not be read", "copy the whole link"]),
        ({"step": "many", "state": "abcdefgh"}, ["'step'", "whole number"]),
        ({"step": "99999", "state": None}, ["'step'", "at most step 5000"]),
        ({"step": "5", "state": "playground"}, ["Playground run", "Playground page"]),
    ],
)
def test_a_malformed_share_link_says_what_is_wrong_without_a_traceback(params, words):
    """Issue 17 compare: a bad link is a plain sentence naming the parameter; the default comparison opens."""
    good = CompareSession.build("Broker failure", "acks=1 vs acks=all")
    good.step(5)
    if params["state"] is None:
        params = {**params, "state": good.share_params()["state"]}
    elif params["state"] == "playground":
        from ui.session import PlaygroundSession

        params = {**params, "state": PlaygroundSession.new(PRESETS["Default"]).share_params()["state"]}
    at = AppTest.from_file(PAGE, default_timeout=90)
    at.query_params.update(params)
    at.run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1, errors
    for w in words:
        assert w in errors[0], errors[0]
    assert "Traceback" not in errors[0] and not re.search(r"\b[A-Z][a-z]+(Error|Exception)\b", errors[0])
    assert session(at).pair_name == "acks=1 vs acks=all" and session(at).position == 0
