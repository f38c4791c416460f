"""Issue 20, a lecture hall: followers share one picture per (recipe, step), a session cannot scan room
codes, and a room store that cannot be reached is a message and a retry on the page, never a traceback nor
the embedded store in its place."""

from __future__ import annotations

import pytest
from room_apptest import diagram_of, run_page

from ui import room_page
from ui.rooms import STORE, RoomStore


@pytest.fixture
def store_env(monkeypatch):
    """Point KC_ROOM_STORE somewhere for one test."""

    def point(value: str) -> None:
        monkeypatch.setenv("KC_ROOM_STORE", value)

    return point


def test_followers_of_a_step_share_one_picture_built_once():
    cache = room_page.PICTURES
    cache.clear()
    teacher = run_page()
    teacher.button(key="room_start").click().run()
    t = teacher.session_state[room_page.TEACHER_KEY]
    for _ in range(3):
        teacher.button(key="room_step").click().run()
    before = cache.builds
    students = [run_page({"room": t.code}) for _ in range(3)]
    pictures = [s.session_state[room_page.STUDENT_KEY].picture for s in students]
    assert cache.builds == before  # three followers: no replay, no figures (the teacher's step drew them)
    assert all(p is pictures[0] for p in pictures) and pictures[0].position == 3
    assert all(diagram_of(s) == diagram_of(teacher) for s in students)
    teacher.button(key="room_step").click().run()
    for s in students:
        s.run()
    assert cache.builds == before + 1  # the next step: one build, shared by the teacher and the followers
    assert {s.session_state[room_page.STUDENT_KEY].picture.position for s in students} == {4}
    assert diagram_of(students[0]) == diagram_of(teacher)


def test_a_follower_reruns_the_page_only_when_the_room_moved(monkeypatch):
    teacher = run_page()
    teacher.button(key="room_start").click().run()
    t = teacher.session_state[room_page.TEACHER_KEY]
    s = room_page.StudentRoom(t.code)
    view = STORE.get(t.code)
    s.drawn = room_page.signature(s, view)
    reruns: list[str] = []
    monkeypatch.setattr(room_page.st, "rerun", lambda scope="app": reruns.append(scope))
    room_page._poll(s, STORE)
    assert reruns == []  # nothing changed: the tick costs one version check
    STORE.update(t.code, t.token, step=1)
    room_page._poll(s, STORE)
    assert reruns == ["app"]


def test_a_session_cannot_scan_room_codes():
    at = run_page()
    for code in ("AAAAAA", "BBBBBB", "CCCCCC", "DDDDDD", "EEEEEE"):
        at.text_input(key="room_code_input").set_value(code)
        at.button(key="room_join_btn").click().run()
        assert "no open room" in at.error[0].value
    teacher = run_page()
    teacher.button(key="room_start").click().run()
    code = teacher.session_state[room_page.TEACHER_KEY].code
    at.text_input(key="room_code_input").set_value(code)  # even the right code waits now
    at.button(key="room_join_btn").click().run()
    assert "5 wrong codes in a minute" in at.error[0].value and room_page.STUDENT_KEY not in at.session_state
    link = run_page({"room": "FFFFFF"})  # the limit holds for links too, but another session starts afresh
    assert "no open room" in link.error[0].value


def test_a_stale_link_rerun_does_not_use_up_the_tries():
    teacher = run_page()
    teacher.button(key="room_start").click().run()
    code = teacher.session_state[room_page.TEACHER_KEY].code
    at = run_page({"room": "GGGGGG"})  # a link to a room that has closed
    for _ in range(6):  # the page reruns (lobby clicks): the same link is one wrong try, not six
        at.run()
        assert "no open room" in at.error[0].value
    at.text_input(key="room_code_input").set_value(code)
    at.button(key="room_join_btn").click().run()
    assert at.session_state[room_page.STUDENT_KEY].code == code


def test_a_bad_store_setting_is_named_on_the_page(store_env):
    store_env("mysql://localhost/rooms")
    at = run_page()
    assert "KC_ROOM_STORE" in at.error[0].value and "redis://" in at.error[0].value


def test_an_unreachable_redis_says_unavailable_and_never_uses_the_embedded_store(store_env, redis_srv):
    redis_srv.flush()
    store_env(redis_srv.url)
    rooms_before = len(STORE)
    teacher = run_page()
    teacher.button(key="room_start").click().run()
    t = teacher.session_state[room_page.TEACHER_KEY]
    student = run_page({"room": t.code})
    assert student.session_state[room_page.STUDENT_KEY].picture.position == 0
    assert len(STORE) == rooms_before  # the room is in Redis, not in this process
    redis_srv.stop()
    try:
        teacher.button(key="room_step").click().run()  # the click is not lost silently: it says why
        assert not teacher.exception, [e.value for e in teacher.exception]
        assert any("unavailable" in w.value for w in teacher.warning)
        student.run()
        assert not student.exception, [e.value for e in student.exception]
        assert any("unavailable" in w.value and "tries again" in w.value for w in student.warning)
        lobby = run_page()
        lobby.text_input(key="room_code_input").set_value(t.code)
        lobby.button(key="room_join_btn").click().run()
        assert "cannot be reached" in lobby.error[0].value
        assert len(STORE) == rooms_before
    finally:
        redis_srv.start()  # back, empty (nothing saved): the room is gone and the pages say so
    student.run()
    assert any("closed or has expired" in w.value for w in student.warning)
    teacher.run()
    assert any("closed or has expired" in w.value for w in teacher.warning)


def test_the_memory_store_is_the_default(store_env):
    store_env("")
    assert isinstance(room_page.get_store(), RoomStore) and room_page.get_store() is STORE
