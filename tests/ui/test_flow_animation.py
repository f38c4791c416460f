"""Issue 17, Play looks like data flowing: between two Play steps the message dots glide along their edges
(ui/figures/flow.py); Step and Back draw the exact picture with no frames."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest
from ui_fixtures import chart_specs, make_snapshot

from engine.scenario import PRESETS
from engine.snapshot import InFlightView
from ui.figures.diagram import cluster_diagram
from ui.figures.flow import animated, autoplay_script, flow_frames
from ui.session import SESSION_KEY, PlaygroundSession

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _dots(data: list, fig: go.Figure) -> dict[str, tuple[float, float]]:
    """Message id -> drawn position, over the message traces of a figure or a frame's trace list."""
    out = {}
    for tr in data:
        tr = tr if isinstance(tr, dict) else tr.to_plotly_json()
        for i, x, y in zip(tr.get("ids") or [], tr["x"], tr["y"], strict=True):
            if x is not None:
                out[i] = (x, y)
    return out


def _diagram_dots(fig: go.Figure) -> list[tuple[float, float]]:
    """Where the exact picture draws its message dots (the diagram's message traces carry no ids)."""
    return sorted(
        (x, y)
        for tr in fig.data
        if tr.legendgroup == "messages"
        for x, y in zip(tr.x, tr.y, strict=True)
        if x is not None
    )


def _r(points) -> list[tuple[float, float]]:
    return sorted((round(x, 6), round(y, 6)) for x, y in points)


def _played_steps(n: int = 8):
    """(before, after) snapshot pairs of the first Play ticks of the Default preset, one step each."""
    s = PlaygroundSession.new(PRESETS["Default"])
    pairs = []
    for _ in range(n):
        before = s.cluster.snapshot()
        s.step(1)
        pairs.append((before, s.cluster.snapshot()))
    return pairs


def test_a_message_halfway_through_its_flight_is_drawn_halfway_along_its_edge():
    snap = make_snapshot()  # at 105 ms: Produce p1 -> broker-1 sent 100, arrives 110
    before = replace(
        snap, time_ms=100, in_flight=(InFlightView(1, "Produce", "p1", "broker-1", 100, 110, "orders", 0),)
    )
    after = replace(
        snap, time_ms=110, in_flight=(InFlightView(1, "Produce", "p1", "broker-1", 100, 110, "orders", 0),)
    )
    start = _diagram_dots(cluster_diagram(before))[0]  # the exact picture at 100 ms: at the producer
    end = _diagram_dots(cluster_diagram(after))[0]  # at 110 ms: at the leader replica
    assert start != end
    frames = flow_frames(cluster_diagram(after), before, after, "t")
    positions = [_dots(f["data"], None)["m1"] for f in frames]
    # the exact picture at 105 ms: half way along the route the diagram draws (through the gaps between boxes)
    mid = replace(
        snap, time_ms=105, in_flight=(InFlightView(1, "Produce", "p1", "broker-1", 100, 110, "orders", 0),)
    )
    half = _diagram_dots(cluster_diagram(mid))[0]
    assert positions[0] == pytest.approx(start) and positions[-1] == pytest.approx(end)
    assert any(p == pytest.approx(half) for p in positions), (positions, half)
    xs = [p[0] for p in positions]
    assert xs == sorted(xs) or xs == sorted(xs, reverse=True)  # it moves one way along its edge, never back


def test_a_message_sent_and_delivered_inside_a_long_step_still_crosses_its_edge():
    """A 1 ms hop inside a 3 s step gets frames of its own: it is seen leaving, half way and arriving."""
    snap = make_snapshot()
    hop = InFlightView(7, "Fetch", "c1", "broker-1", 1000, 1001, "orders", 0)
    before = replace(snap, time_ms=0, in_flight=(hop,))  # sent "later": only `before` knows it (a replay)
    after = replace(snap, time_ms=3000, in_flight=())
    frames = flow_frames(cluster_diagram(after), before, after, "t")
    seen = [d["m7"] for f in frames if "m7" in (d := _dots(f["data"], None))]
    assert len(seen) >= 3 and len(set(seen)) >= 3, seen


def test_the_first_and_last_frames_are_the_exact_pictures_of_both_steps():
    checked = 0
    for before, after in _played_steps():
        fig = animated(cluster_diagram(after), before, after, "t")
        if not fig.frames:
            continue
        checked += 1
        first, last = fig.frames[0].data, fig.frames[-1].data
        assert _r(_dots(last, fig).values()) == _r(_diagram_dots(cluster_diagram(after)))
        assert _r(_dots(first, fig).values()) == _r(_diagram_dots(cluster_diagram(before)))
        # the chart starts on the first frame (the previous picture), so the glide starts where the last one ended
        start = _dots([fig.data[i] for i in fig.frames[0].traces], fig).values()
        assert _r(start) == _r(_diagram_dots(cluster_diagram(before)))
    assert checked >= 3


def test_frames_are_valid_plotly_and_glide_in_time_for_three_steps_a_second():
    before, after = next((b, a) for b, a in _played_steps() if b.in_flight and a.time_ms > b.time_ms)
    fig = animated(cluster_diagram(after), before, after, "t")
    go.Figure(fig.to_dict())  # plotly's own validation of frames and the replay button
    (button,) = fig.layout.updatemenus[-1].buttons
    opts = button.args[1]
    total = opts["frame"]["duration"] * (len(fig.frames) - 1)
    assert 100 <= total <= 300 and opts["transition"]["duration"] <= opts["frame"]["duration"]
    assert opts["frame"]["redraw"] is False
    assert json.dumps(fig.frames[0].name) in autoplay_script(fig)


def test_nothing_to_move_means_no_frames():
    snap = make_snapshot()
    fig = cluster_diagram(snap)
    assert animated(fig, snap, snap, "t") is fig  # no simulated time passed
    quiet = replace(snap, in_flight=())
    fig = cluster_diagram(replace(quiet, time_ms=200))
    assert animated(fig, quiet, replace(quiet, time_ms=200), "t") is fig
    assert autoplay_script(fig) == ""


def _diagram_spec(at: AppTest) -> dict:
    specs = chart_specs(at)
    return next(
        s
        for s in specs
        if any((sh.get("name") or "").startswith("broker-") for sh in s["layout"].get("shapes", []))
    )


def test_frames_only_while_playing_step_and_back_stay_exact():
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("ui/playground.py").run()
    for key in ("step", "step", "back"):
        at.button(key=key).click().run()
        assert not at.exception, at.exception
        assert not _diagram_spec(at).get("frames"), key
    s: PlaygroundSession = at.session_state[SESSION_KEY]
    at.button(key="step").click().run()  # a step whose picture has messages on the wire
    s.playing, s.skip_tick = True, False  # what a Play timer tick finds
    ticks = []
    for _ in range(4):
        at.run()
        assert not at.exception, at.exception
        ticks.append(bool(_diagram_spec(at).get("frames")))
    assert any(ticks), ticks
    s.playing = False
    at.run()
    assert not _diagram_spec(at).get("frames")
