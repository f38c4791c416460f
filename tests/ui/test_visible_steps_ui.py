"""Issue 17 in the Playground (AppTest): Steps are moments, +1 s is a step Back undoes, the narration says how
long a step took, "… and N more" points at a list that exists, and the narration agrees with the diagram."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest
from ui_fixtures import chart_specs

from engine.scenario import PRESETS
from ui.figures.diagram import cluster_diagram
from ui.session import SESSION_KEY, PlaygroundSession

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _playground() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("ui/playground.py").run()
    assert not at.exception, at.exception
    return at


def _click(at: AppTest, key: str) -> None:
    at.button(key=key).click().run()
    assert not at.exception, at.exception


def _headline(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("#### "))


def _member_labels(at: AppTest) -> dict[str, str]:
    specs = chart_specs(at)
    spec = next(
        s
        for s in specs
        if any((sh.get("name") or "").startswith("member:") for sh in s["layout"].get("shapes", []))
    )
    return {
        sh["name"]: (sh.get("label") or {}).get("text", "")
        for sh in spec["layout"]["shapes"]
        if (sh.get("name") or "").startswith("member:")
    }


def test_ten_steps_reach_a_consumed_record_and_plus_one_second_is_undone_by_back():
    """Issue 17: 10 Steps on Default reach a Stable group and a poll() with records; +1 s is one step whose
    narration says a second passed, and Back returns the picture from before it."""
    at = _playground()
    s: PlaygroundSession = at.session_state[SESSION_KEY]
    for _ in range(10):
        _click(at, "step")
    snap = s.cluster.snapshot(tail=0)
    assert [g.state for g in snap.groups] == ["Stable"]
    assert sum(k.records_received for k in snap.consumers) > 0
    waited = [t for p in range(1, 11) for t in [s.story(p, s.events_at(p) or [])[1]] if "s pass" in t]
    assert any("3.0 s pass" in w for w in waited)  # the initial rebalance delay, as one step

    pos, now, head = s.position, s.cluster.now, _headline(at)
    _click(at, "skip_1s")
    assert (s.position, s.cluster.now) == (pos + 1, now + 1000)
    assert _headline(at).startswith("#### 1 s passes")
    assert _headline(at) != head
    _click(at, "back")
    assert (s.position, s.cluster.now) == (pos, now)
    assert _headline(at) == head


def test_and_n_more_points_at_a_list_that_exists():
    at = _playground()
    for _ in range(3):  # the third step waits out the 3 s initial rebalance delay: hundreds of events
        _click(at, "step")
    also = next(c.value for c in at.caption if c.value.startswith("Also in this step"))
    assert "more" in also and "Every event of this step" in also
    assert any(e.label.startswith("Every event of this step") for e in at.expander)


def test_run_until_is_one_step():
    at = _playground()
    s: PlaygroundSession = at.session_state[SESSION_KEY]
    _click(at, "run_rebalance")
    assert s.position == 1
    _click(at, "back")
    assert s.position == 0 and s.cluster.now == 0


def test_narration_never_says_stable_while_a_member_box_says_syncing():
    """Issue 17: the text and the picture read the same state (the coordinator's view of the group)."""
    s = PlaygroundSession.new(PRESETS["Default"])
    checked = 0
    for _ in range(12):
        s.step()
        _head, text, _passed = s.story(s.position, s.current_events())
        fig = cluster_diagram(s.cluster.snapshot())
        labels = [sh.label.text or "" for sh in fig.layout.shapes if (sh.name or "").startswith("member:")]
        if "Stable" in text:
            checked += 1
            assert not any("syncing" in lab or "joining" in lab for lab in labels), (text, labels)
    assert checked  # the step where the group becomes Stable was looked at


def test_every_event_toggle_steps_one_event_and_is_recorded():
    at = _playground()
    s: PlaygroundSession = at.session_state[SESSION_KEY]
    at.toggle(key="every_event").set_value(True).run()
    assert not at.exception, at.exception
    for _ in range(3):
        _click(at, "step")
    assert s.timeline.every_event and s.timeline.moves == [[0, 2, "event"]]
    assert s.cluster.now < 100  # three single events: still in the first 0.1 s


def test_share_link_replays_plus_one_second_and_until_steps():
    """A link carries the recorded moves (state v2): it reopens the same step and the same picture."""
    s = PlaygroundSession.new(PRESETS["Broker failure"])
    s.step(4)
    s.skip(1000)
    s.apply({"op": "crash_broker", "broker": 2})
    s.run_until("election", "leader election")
    s.step(2)
    again = PlaygroundSession.from_link(s.share_params())
    assert (again.position, again.cluster.now, again.cluster.events.seq) == (
        s.position,
        s.cluster.now,
        s.cluster.events.seq,
    )
    assert cluster_diagram(again.cluster.snapshot()) == cluster_diagram(s.cluster.snapshot())


def test_a_room_student_follows_the_teachers_plus_one_second_and_until_steps():
    """The room's recipe carries the step moves: a student (incremental or joining late) sees the teacher's picture."""
    from ui.room_page import follow
    from ui.rooms import RoomStore
    from ui.session import PlaygroundSession as Session

    store = RoomStore()
    teacher = Session.new(PRESETS["Broker failure"])
    code, token = store.create(teacher.timeline.to_state())
    run, synced = None, None

    def sync() -> Session:
        nonlocal run, synced
        store.update(code, token, state=teacher.timeline.to_state(), step=teacher.position)
        view = store.get(code)
        run = follow(run, synced, view)
        synced = view.state_json
        return run

    teacher.step(4)
    first = sync()
    teacher.skip(1000)
    teacher.apply({"op": "crash_broker", "broker": 2})
    teacher.run_until("election", "leader election")
    teacher.step(2)
    assert sync() is first
    assert run.cluster.snapshot() == teacher.cluster.snapshot()
    late = follow(None, None, store.get(code))
    assert late.cluster.snapshot() == teacher.cluster.snapshot()
