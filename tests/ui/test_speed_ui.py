"""Issue 17, Speed: the shortcuts that make clicks fast must not change what a student sees."""

from __future__ import annotations

from ui_fixtures import chart_specs

from ui.session import DEFAULT_PRESET, REPLAY_TAIL, PlaygroundSession, preset


def test_a_long_shared_link_copies_the_cluster_rarely_and_back_stays_exact():
    """Issue 17 speed: a link replays 600 steps with few checkpoints; Back and jumps give the original pictures."""
    s = PlaygroundSession.new(preset(DEFAULT_PRESET))
    s.step(600)
    opened = PlaygroundSession.from_link(s.share_params())
    assert opened.position == 600
    assert len(opened.timeline._checkpoints) <= 8  # every 25 steps would be 24 copies of the cluster
    for _ in range(REPLAY_TAIL + 5):
        assert opened.cluster.snapshot() == s.cluster.snapshot(), s.position
        s.back()
        opened.back()
    s.goto(130)
    opened.goto(130)
    assert opened.cluster.snapshot() == s.cluster.snapshot()
    assert opened.cluster.events.seq == s.cluster.events.seq


def test_lag_samples_from_the_groups_alone_are_the_snapshots_lag():
    """Issue 17 speed: each step samples lag from `Cluster.group_views()`, not a whole snapshot; the lag chart
    shows the same numbers, in every preset, and a shared link reopens the original lag history."""
    from engine.scenario import PRESETS

    for name in PRESETS:
        s = PlaygroundSession.new(preset(name))
        for _ in range(60):
            s.step()
            assert s.cluster.group_views() == s.cluster.snapshot(tail=0).groups, (name, s.position)
    s = PlaygroundSession.new(preset(DEFAULT_PRESET))
    s.step(300)
    assert any(any(lags.values()) for _t, lags in s.lag_history())  # the chart has lag to show
    assert PlaygroundSession.from_link(s.share_params()).lag_history() == s.lag_history()


def _diagram(at) -> dict:

    specs = chart_specs(at)
    return next(
        s
        for s in specs
        if any((sh.get("name") or "").startswith("broker-") for sh in s["layout"].get("shapes", []))
    )


def _strips(at) -> dict:
    return next(s for s in chart_specs(at) if any(t.get("name") == "records" for t in s["data"]))


def test_cached_diagrams_are_the_pictures_of_their_step_and_a_command_is_never_hidden():
    """Issue 17 speed: Back reuses the diagram and log strips drawn for that step; a crash at the same step
    draws anew."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("ui/playground.py").run()
    for _ in range(3):
        at.button(key="step").click().run()
    at3, strips3 = _diagram(at), _strips(at)
    at.button(key="step").click().run()
    assert _diagram(at) != at3
    assert _strips(at) != strips3  # step 4 acknowledged or appended a record
    at.button(key="back").click().run()
    assert _diagram(at) == at3  # the picture of step 3, exactly
    assert _strips(at) == strips3
    at.button(key="crash_b1").click().run()
    crashed = _diagram(at)
    assert crashed != at3  # same position, another run: not the cached picture
    broker1 = next(sh for sh in crashed["layout"]["shapes"] if sh.get("name") == "broker-1")
    assert broker1 != next(sh for sh in at3["layout"]["shapes"] if sh.get("name") == "broker-1")
    assert not at.exception
