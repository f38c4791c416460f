"""Issue 20, a lecture hall: followers share one picture per (recipe, step), a session cannot scan room
codes, and a room store that cannot be reached is a message and a retry on the page, never a traceback nor
the embedded store in its place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui import room_page
from ui.rooms import STORE, RoomStore

PAGE = str(Path(__file__).resolve().parents[2] / "ui" / "room_page.py")


def _page(params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _diagram(at: AppTest) -> dict:
    for c in at.get("plotly_chart"):
        spec = json.loads(c.proto.spec)
        if any((sh.get("name") or "").startswith("broker-") for sh in spec["layout"].get("shapes", [])):
            return spec
    raise AssertionError("no cluster diagram on the page")


@pytest.fixture
def store_env(monkeypatch):
    """Point KC_ROOM_STORE somewhere for one test."""

    def point(value: str) -> None:
        monkeypatch.setenv("KC_ROOM_STORE", value)

    return point


def test_followers_of_a_step_share_one_picture_built_once():
    cache = room_page.PICTURES
    cache.clear()
    teacher = _page()
    teacher.button(key="room_start").click().run()
    t = teacher.session_state[room_page.TEACHER_KEY]
    for _ in range(3):
        teacher.button(key="room_step").click().run()
    before = cache.builds
    students = [_page({"room": t.code}) for _ in range(3)]
    pictures = [s.session_state[room_page.STUDENT_KEY].picture for s in students]
    assert cache.builds == before + 1  # three followers, one replay and one pair of figures
    assert all(p is pictures[0] for p in pictures) and pictures[0].position == 3
    assert all(_diagram(s) == _diagram(teacher) for s in students)
    teacher.button(key="room_step").click().run()
    for s in students:
        s.run()
    assert cache.builds == before + 2  # the next step: one more build, shared again
    assert {s.session_state[room_page.STUDENT_KEY].picture.position for s in students} == {4}
    assert _diagram(students[0]) == _diagram(teacher)


def test_a_follower_reruns_the_page_only_when_the_room_moved(monkeypatch):
    teacher = _page()
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
    at = _page()
    for code in ("AAAAAA", "BBBBBB", "CCCCCC", "DDDDDD", "EEEEEE"):
        at.text_input(key="room_code_input").set_value(code)
        at.button(key="room_join_btn").click().run()
        assert "no open room" in at.error[0].value
    teacher = _page()
    teacher.button(key="room_start").click().run()
    code = teacher.session_state[room_page.TEACHER_KEY].code
    at.text_input(key="room_code_input").set_value(code)  # even the right code waits now
    at.button(key="room_join_btn").click().run()
    assert "5 wrong codes in a minute" in at.error[0].value and room_page.STUDENT_KEY not in at.session_state
    link = _page({"room": "FFFFFF"})  # the limit holds for links too, but another session starts afresh
    assert "no open room" in link.error[0].value


def test_a_stale_link_rerun_does_not_use_up_the_tries():
    teacher = _page()
    teacher.button(key="room_start").click().run()
    code = teacher.session_state[room_page.TEACHER_KEY].code
    at = _page({"room": "GGGGGG"})  # a link to a room that has closed
    for _ in range(6):  # the page reruns (lobby clicks): the same link is one wrong try, not six
        at.run()
        assert "no open room" in at.error[0].value
    at.text_input(key="room_code_input").set_value(code)
    at.button(key="room_join_btn").click().run()
    assert at.session_state[room_page.STUDENT_KEY].code == code


def test_a_bad_store_setting_is_named_on_the_page(store_env):
    store_env("mysql://localhost/rooms")
    at = _page()
    assert "KC_ROOM_STORE" in at.error[0].value and "redis://" in at.error[0].value


def test_an_unreachable_redis_says_unavailable_and_never_uses_the_embedded_store(store_env, redis_srv):
    redis_srv.flush()
    store_env(redis_srv.url)
    rooms_before = len(STORE)
    teacher = _page()
    teacher.button(key="room_start").click().run()
    t = teacher.session_state[room_page.TEACHER_KEY]
    student = _page({"room": t.code})
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
        lobby = _page()
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
