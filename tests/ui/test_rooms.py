"""The room store: unguessable codes, expiry, limits, and only the teacher moves it. Answer counting (anonymous,
checked, right under concurrent answers), question checks and closing are in the store contract that runs
against both stores, tests/ui/test_room_store.py."""

from __future__ import annotations

import pytest

from engine.scenario import PRESETS
from engine.timeline import Timeline
from ui.rooms import ALPHABET, CODE_LENGTH, RoomError, RoomStore, normalize_code


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


STATE = {"scenario": PRESETS["Default"].model_dump(), "commands": []}


def test_codes_are_unique_short_unambiguous_and_not_sequential():
    store = RoomStore(max_rooms=500)
    codes = [store.create(STATE)[0] for _ in range(300)]
    assert len(set(codes)) == len(codes)
    assert all(len(c) == CODE_LENGTH and set(c) <= set(ALPHABET) for c in codes)
    assert not set("01OIL") & set(ALPHABET)
    # not counting: consecutive codes share few positions and do not differ by one in the alphabet
    idx = [[ALPHABET.index(ch) for ch in c] for c in codes]
    steps = [sum(x != y for x, y in zip(a, b, strict=True)) for a, b in zip(idx, idx[1:], strict=False)]
    assert sum(steps) / len(steps) > 4.5
    sequential = sum(1 for a, b in zip(idx, idx[1:], strict=False) if a[:-1] == b[:-1])
    assert sequential < 3
    first_chars = {c[0] for c in codes}
    assert len(first_chars) > 20  # spread over the alphabet, not one prefix


def test_codes_are_normalized_and_bad_ones_name_the_field():
    assert normalize_code(" k7mq-3r ") == "K7MQ3R"
    for bad in ("", "K7MQ3", "K7MQ3RX", "K0MQ3R", "<script>", None, "K7 MQ 3Ŕ"):
        with pytest.raises(RoomError, match="room code"):
            normalize_code(bad)
    store = RoomStore()
    assert store.get("nope") is None and store.get("AAAAAA") is None


def test_only_the_teacher_moves_the_room_and_versions_bump():
    store = RoomStore()
    code, token = store.create(STATE)
    v0 = store.get(code).version
    assert store.update(code, token, step=5) == v0 + 1
    assert store.update(code, token, step=5) == v0 + 1  # no change, no new version
    with pytest.raises(RoomError, match="only the teacher"):
        store.update(code, "guess", step=6)
    tl = Timeline(PRESETS["Default"])
    tl.steps(3)
    tl.apply({"op": "crash_broker", "broker": 2})
    store.update(code, token, state=tl.to_state(), step=tl.position)
    view = store.get(code.lower())
    assert view.step == 3 and view.state()["commands"][0]["op"] == "crash_broker"
    assert "position" not in view.state()  # the step travels on its own, not inside the recipe


def test_room_holds_only_the_recipe_step_and_counts():
    store = RoomStore()
    code, _ = store.create(STATE, step=2)
    view = store.get(code)
    # (and how long ago the teacher was seen, read with it: a follower's page needs both)
    assert set(view.__slots__) == {"code", "state_json", "step", "version", "question", "away"}
    assert set(view.state()) == {"scenario", "commands"}


def test_expiry_after_inactivity_and_answers_keep_a_room_alive():
    clock = Clock()
    store = RoomStore(clock=clock, idle_seconds=100)
    code, token = store.create(STATE)
    q = store.pose(code, token, "Which broker leads?", ["1", "2", "3"])
    clock.t += 90
    store.answer(code, q.qid, 1)  # a student's answer is activity
    clock.t += 90
    assert store.get(code) is not None
    store.peek(code, token)  # the teacher's page polling is activity too
    clock.t += 99
    assert store.get(code) is not None  # a student's poll alone is not activity...
    clock.t += 2
    assert store.get(code) is None and len(store) == 0  # ...so the room expires
    with pytest.raises(RoomError, match="expired"):
        store.update(code, token, step=1)
    with pytest.raises(RoomError, match="expired"):
        store.answer(code, q.qid, 0)


def test_limits_on_rooms_state_and_step():
    clock = Clock()
    store = RoomStore(clock=clock, max_rooms=3, idle_seconds=10)
    for _ in range(3):
        store.create(STATE)
    with pytest.raises(RoomError, match="3 rooms are open"):
        store.create(STATE)
    clock.t += 11  # idle rooms expire and make space
    store.create(STATE)
    big = {
        "scenario": STATE["scenario"],
        "commands": [{"at": i, "op": "run_for", "ms": 1} for i in range(3000)],
    }
    with pytest.raises(RoomError, match="room state"):
        store.create(big)
    with pytest.raises(RoomError, match="room step"):
        store.create(STATE, step=-1)
    with pytest.raises(RoomError, match="room state"):
        store.create({"commands": []})


# -- following: the student's replay equals the teacher's run ------------------------------------------------------
def test_follow_replays_incrementally_and_rebuilds_when_the_teacher_goes_back():
    from ui.room_page import follow
    from ui.session import PlaygroundSession

    store = RoomStore()
    teacher = PlaygroundSession(Timeline(PRESETS["Broker failure"]))
    code, token = store.create(teacher.timeline.to_state())

    def publish():
        store.update(code, token, state=teacher.timeline.to_state(), step=teacher.position)

    run, synced = None, None

    def sync():
        nonlocal run, synced
        view = store.get(code)
        run = follow(run, synced, view)
        synced = view.state_json
        return run

    teacher.step(30)
    publish()
    first = sync()
    teacher.apply({"op": "crash_broker", "broker": 2})
    teacher.step(10)
    publish()
    assert sync() is first  # only new steps and commands were replayed, on the same run
    assert run.cluster.snapshot() == teacher.cluster.snapshot()
    assert [e.seq for e in run.current_events()] == [e.seq for e in teacher.current_events()]
    teacher.goto(20)  # back before the crash: the recipe loses the command, so the student rebuilds
    publish()
    assert sync() is not first and run.position == 20
    assert run.cluster.snapshot() == teacher.cluster.snapshot()


def test_teacher_and_student_pages_through_apptest():
    from pathlib import Path

    from streamlit.testing.v1 import AppTest
    from ui_fixtures import chart_specs

    page = str(Path(__file__).resolve().parents[2] / "ui" / "room_page.py")
    teacher = AppTest.from_file(page, default_timeout=60)
    teacher.run()
    teacher.button(key="room_start").click().run()
    t = teacher.session_state["kc_room_teacher"]
    assert any(t.code in m.value for m in teacher.markdown)
    assert any(f"?room={t.code}" in c.value for c in teacher.code)
    for _ in range(4):
        teacher.button(key="room_step").click().run()
    teacher.toggle(key="room_playing").set_value(True).run()  # one Play tick (1 step/s)
    teacher.toggle(key="room_playing").set_value(False).run()

    student = AppTest.from_file(page, default_timeout=60)
    student.query_params["room"] = t.code.lower()
    student.run()
    assert not student.exception, student.exception
    s = student.session_state["kc_room_student"]

    def diagram(at):
        return next(
            spec
            for spec in chart_specs(at)
            if any((sh.get("name") or "").startswith("broker-") for sh in spec["layout"].get("shapes", []))
        )

    assert s.picture.position == 5 and diagram(student) == diagram(teacher)
    # a free question: students answer, the teacher's histogram counts, reveal shows the right one
    teacher.radio(key="room_q_src").set_value("Your own question").run()
    teacher.text_input(key="room_q_text").set_value("Which broker leads orders-0?")
    teacher.text_area(key="room_q_choices").set_value("broker 1\nbroker 2\nbroker 3").run()
    teacher.selectbox(key="room_q_answer").set_value("A")
    teacher.button(key="room_pose").click().run()
    student.run()
    assert any("Which broker leads orders-0?" in m.value for m in student.markdown)
    student.radio(key="room_answer_1").set_value(0)
    student.button(key="room_send").click().run()
    assert not student.error
    teacher.run()
    hist = next(spec for spec in chart_specs(teacher) if spec["data"][0].get("name") == "answers")
    assert hist["data"][0]["x"] == [1, 0, 0]
    teacher.button(key="room_reveal").click().run()
    student.run()
    assert any(sc.value.startswith("Right answer: **A.**") for sc in student.success)
    # break away: the teacher's steps no longer move this screen; rejoin snaps back
    student.button(key="room_break").click().run()
    teacher.button(key="room_step").click().run()
    student.run()
    assert s.run.position == 5 and any("the teacher is at step **6**" in m.value for m in student.markdown)
    student.button(key="room_s_step").click().run()
    student.button(key="room_s_crash_broker_1").click().run()  # the student's own copy only
    assert t.run.cluster.brokers[1].alive and not s.run.cluster.brokers[1].alive
    student.button(key="room_rejoin").click().run()
    assert s.picture.position == 6 and s.run is None  # back on the teacher's run: their copy is dropped
    assert s.picture.snapshot == t.run.cluster.snapshot()
    assert diagram(student) == diagram(teacher)
    # a bad link names the field; closing the room tells the student
    other = AppTest.from_file(page, default_timeout=60)
    other.query_params["room"] = "<b>x</b>"
    other.run()
    assert other.error and other.error[0].value.startswith("Link parameter room code:")
    teacher.button(key="room_close").click().run()
    student.run()
    assert any("closed or has expired" in w.value for w in student.warning)


def test_a_lesson_question_shows_the_whole_room_the_same_shuffled_order():
    """Issue 16: a room's lesson question is shuffled with the room code as seed, so every student sees the
    same letters as the teacher's histogram, and the right answer is where the shuffle put it."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from lessons.choices import shuffled
    from ui.room_page import lesson_clusters, lesson_questions

    page = str(Path(__file__).resolve().parents[2] / "ui" / "room_page.py")
    teacher = AppTest.from_file(page, default_timeout=60)
    teacher.run()
    label, scenario = lesson_clusters()[0]
    teacher.selectbox(key="room_start_from").set_value(label)
    teacher.button(key="room_start").click().run()
    t = teacher.session_state["kc_room_teacher"]
    p = lesson_questions(scenario)[0][1]
    teacher.button(key="room_pose").click().run()  # the default: the first question asked on this cluster
    choices, answer = shuffled(p, t.code)
    views = []
    for _ in range(2):
        student = AppTest.from_file(page, default_timeout=60)
        student.query_params["room"] = t.code
        student.run()
        assert not student.exception, student.exception
        radio = next(r for r in student.radio if r.key and r.key.startswith("room_answer_"))
        views.append(list(radio.options))  # "A. <choice>", as the student sees them
    assert views[0] == views[1]
    assert [v.split(". ", 1)[1] for v in views[0]] == choices
    assert choices[answer] == p.choices[p.answer]
