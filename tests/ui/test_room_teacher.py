"""Issue 17, Classroom: the teacher survives a reload (cookie, teacher-only link), students are told when the
teacher has gone, the room has the Playground's time controls and a projector view, and a lesson's
questions are offered only on the cluster they name."""

from __future__ import annotations

import pytest
import streamlit as st
from room_apptest import diagram_of, run_page
from streamlit.testing.v1 import AppTest
from ui_fixtures import chart_specs

from ui import room_page
from ui.rooms import ORPHAN_SECONDS, STORE


def _teacher(start_from: str = "Default") -> AppTest:
    at = run_page()
    at.selectbox(key="room_start_from").set_value(start_from)
    at.button(key="room_start").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _cookie_written(at: AppTest) -> str:
    scripts = [h.proto.body for h in at.get("html") if room_page.TEACHER_COOKIE in h.proto.body]
    assert scripts, "the teacher's page writes the teacher cookie"
    return scripts[-1].split(f"{room_page.TEACHER_COOKIE}=", 1)[1].split(";", 1)[0]


def _cookies(monkeypatch, jar: dict[str, str]) -> None:
    monkeypatch.setattr(type(st.context), "cookies", property(lambda self: jar))


def test_a_teacher_who_reloads_is_the_teacher_again_through_the_cookie(monkeypatch):
    teacher = _teacher()
    t = teacher.session_state[room_page.TEACHER_KEY]
    value = _cookie_written(teacher)  # written as the room opens
    for _ in range(3):
        teacher.button(key="room_step").click().run()
    assert value == f"{t.code}.{t.token}"
    # the reload: a new session, no query parameters, the browser sends the cookie back
    _cookies(monkeypatch, {room_page.TEACHER_COOKIE: value})
    again = run_page()
    back = again.session_state[room_page.TEACHER_KEY]
    assert (back.code, back.token, back.run.position) == (t.code, t.token, 3)
    assert any("Welcome back" in s.value for s in again.success)
    assert diagram_of(again) == diagram_of(teacher)
    again.button(key="room_step").click().run()  # and it moves the room, as the teacher
    assert STORE.get(t.code).step == 4


def test_a_cookie_of_another_room_or_a_wrong_secret_does_not_make_a_teacher(monkeypatch):
    teacher = _teacher()
    t = teacher.session_state[room_page.TEACHER_KEY]
    _cookies(monkeypatch, {room_page.TEACHER_COOKIE: f"{t.code}.not-the-secret"})
    at = run_page()
    assert room_page.TEACHER_KEY not in at.session_state
    assert not at.button(key="room_start").disabled  # the lobby
    assert any(
        room_page.TEACHER_COOKIE in h.proto.body and "max-age=0" in h.proto.body for h in at.get("html")
    ), "a cookie that does not open a room is cleared"
    # a student link to another room wins over this browser's teacher cookie
    other = _teacher()
    o = other.session_state[room_page.TEACHER_KEY]
    _cookies(monkeypatch, {room_page.TEACHER_COOKIE: f"{t.code}.{t.token}"})
    student = run_page({"room": o.code})
    assert room_page.TEACHER_KEY not in student.session_state
    assert student.session_state[room_page.STUDENT_KEY].code == o.code


def test_the_teacher_link_opens_the_room_as_teacher_on_a_second_device_and_leaves_the_address_bar():
    teacher = _teacher()
    t = teacher.session_state[room_page.TEACHER_KEY]
    teacher.button(key="room_step").click().run()
    link = next(c.value for c in teacher.code if f"teacher={t.token}" in c.value)
    assert f"?room={t.code}&" in link
    warning = " ".join(w.value for w in teacher.warning)
    assert "Do not share it" in warning
    students_see = [c.value for c in teacher.code if c.value != link]
    assert students_see and all(t.token not in v for v in students_see)  # the student link has no secret

    device = run_page({"room": t.code, "teacher": t.token})
    d = device.session_state[room_page.TEACHER_KEY]
    assert (d.code, d.run.position) == (t.code, 1)
    assert "teacher" not in device.query_params  # the secret does not stay on screen
    device.button(key="room_step").click().run()
    assert STORE.get(t.code).step == 2

    stranger = run_page({"room": t.code, "teacher": "guessed"})
    assert room_page.TEACHER_KEY not in stranger.session_state
    assert stranger.error and stranger.error[0].value.startswith("Teacher link:")
    assert "only the teacher" in stranger.error[0].value


def test_students_of_an_orphaned_room_are_told_and_can_leave(monkeypatch):
    now = [10_000.0]
    monkeypatch.setattr(STORE, "clock", lambda: now[0])
    teacher = _teacher()
    t = teacher.session_state[room_page.TEACHER_KEY]
    student = run_page({"room": t.code})
    assert not student.get("warning") or all("has not been" not in w.value for w in student.warning)
    now[0] += ORPHAN_SECONDS + 60  # the teacher closed the laptop: no action, no check-in
    student.run()
    notice = [w.value for w in student.warning if "has not been in room" in w.value]
    assert notice and "6 minutes" in notice[0] and "leave the room" in notice[0]
    assert student.session_state[room_page.STUDENT_KEY].orphaned
    teacher.run()  # the teacher is back: the notice goes
    student.run()
    assert not [w for w in student.warning if "has not been in room" in w.value]
    now[0] += ORPHAN_SECONDS + 1
    student.run()
    student.button(key="room_leave_orphaned").click().run()
    assert room_page.STUDENT_KEY not in student.session_state
    assert student.button(key="room_start")  # back in the lobby


@pytest.mark.parametrize(
    "key,kind",
    [("room_skip_1s", None), ("room_run_rebalance", "rebalance"), ("room_run_election", "leader election")],
)
def test_the_room_time_controls_move_the_room_and_the_students_follow(key, kind):
    teacher = _teacher("Broker failure")
    t = teacher.session_state[room_page.TEACHER_KEY]
    if kind == "leader election":
        teacher.button(key="room_step").click().run()
        teacher.button(key="room_t_crash_broker_1").click().run()
    before_ms, before, position = t.run.cluster.now, STORE.get(t.code).version, t.run.position
    teacher.button(key=key).click().run()
    assert not teacher.error, [e.value for e in teacher.error]
    if kind is None:
        assert t.run.cluster.now >= before_ms + 1000
    else:
        assert any(f"next {kind}" in c.value for c in teacher.caption), [c.value for c in teacher.caption]
    assert t.run.position == position + 1  # one step, as in the Playground
    assert STORE.get(t.code).version > before  # published
    student = run_page({"room": t.code})
    s = student.session_state[room_page.STUDENT_KEY]
    assert (s.picture.position, s.picture.now_ms) == (t.run.position, t.run.cluster.now)
    assert s.picture.snapshot == t.run.cluster.snapshot()
    assert diagram_of(student) == diagram_of(teacher)
    teacher.button(key="room_back").click().run()  # Back undoes it, for the students too
    assert (t.run.position, t.run.cluster.now) == (position, before_ms)
    student.run()
    assert (s.picture.position, s.picture.now_ms) == (position, before_ms)


def test_the_projector_view_shows_question_histogram_and_picture_in_the_main_area():
    teacher = _teacher()
    t = teacher.session_state[room_page.TEACHER_KEY]
    teacher.radio(key="room_q_src").set_value(room_page.FREE).run()
    teacher.text_input(key="room_q_text").set_value("Which broker leads orders-0?")
    teacher.text_area(key="room_q_choices").set_value("broker 1\nbroker 2\nbroker 3").run()
    teacher.button(key="room_pose").click().run()
    STORE.answer(t.code, STORE.get(t.code).question.qid, 1)
    teacher.button(key="room_projector_on").click().run()
    assert t.projector and not teacher.exception
    assert not teacher.sidebar.children  # nothing in the sidebar: the main area has it all
    assert not teacher.title  # no page title: the room code line is the header
    assert any(m.value.startswith(f"### Room code **{t.code}**") for m in teacher.markdown)
    assert any(m.value == "#### Which broker leads orders-0?" for m in teacher.main.markdown)
    hist = next(spec for spec in chart_specs(teacher.main) if spec["data"][0].get("name") == "answers")
    assert hist["data"][0]["x"] == [0, 1, 0]
    assert diagram_of(teacher)
    assert not any(f"teacher={t.token}" in c.value for c in teacher.code)  # never the secret on the projector
    teacher.button(key="room_step").click().run()  # the controls still work
    assert STORE.get(t.code).step == 1
    teacher.button(key="room_projector_off").click().run()
    assert not t.projector and teacher.sidebar.children


def test_a_room_offers_only_the_lesson_questions_asked_on_its_cluster():
    preset_room = _teacher("Default")
    assert preset_room.radio(key="room_q_src").value == room_page.FREE  # no lesson runs the Default preset
    preset_room.radio(key="room_q_src").set_value(room_page.LESSON).run()
    assert any("No lesson asks its questions on this room's cluster" in i.value for i in preset_room.info)

    label, scenario = next((lbl, sc) for lbl, sc in room_page.lesson_clusters() if "Broker failure" in lbl)
    room = _teacher(label)
    t = room.session_state[room_page.TEACHER_KEY]
    assert t.run.scenario.model_dump() == scenario.model_dump()
    offered = room.selectbox(key="room_q_lesson").options
    lesson_title = label.split(": ", 1)[1]
    assert offered and all(o.startswith(lesson_title) for o in offered)
    # the question names what the students see: before, a Broker failure preset room (topic payments only)
    # offered this lesson's "fast" producer and "clicks" / "ledger" topics, which its students never saw
    snap = t.run.cluster.snapshot()
    names = {tp.name for tp in snap.topics} | {pr.id for pr in snap.producers}
    asked = " ".join(p.question for _, p in room_page.lesson_questions(t.run.scenario))
    assert {"fast", "clicks", "ledger", "payments-0"} <= set(
        asked.replace("?", " ").replace(",", " ").split()
    )
    assert {"fast", "clicks", "ledger", "payments"} <= names
    preset = _teacher("Broker failure")
    assert preset.radio(key="room_q_src").value == room_page.FREE  # the lesson's cluster is not the preset's


def test_two_teacher_devices_stay_on_the_same_step():
    """A phone as remote and a laptop on the projector: each device acts on the room as it is, and the other
    one catches up (its check-in reruns the page); neither overwrites the other's moves with a stale run."""
    laptop = _teacher()
    t = laptop.session_state[room_page.TEACHER_KEY]
    phone = run_page({"room": t.code, "teacher": t.token})
    p = phone.session_state[room_page.TEACHER_KEY]
    for _ in range(3):
        phone.button(key="room_step").click().run()
    assert STORE.get(t.code).step == 3
    laptop.run()  # its check-in (or any rerun) catches up
    assert t.run.position == 3 and diagram_of(laptop) == diagram_of(phone)
    phone.button(key="room_back").click().run()
    phone.button(key="room_t_crash_broker_2").click().run()
    # the laptop's Step acts on the room as the phone left it (step 2, broker 2 down), not on its stale run
    laptop.button(key="room_step").click().run()
    assert STORE.get(t.code).step == 3 and t.run.position == 3
    assert not t.run.cluster.brokers[2].alive
    assert [c["op"] for c in STORE.get(t.code).state()["commands"]] == ["crash_broker"]
    phone.run()
    assert p.run.position == 3 and p.run.cluster.snapshot() == t.run.cluster.snapshot()
