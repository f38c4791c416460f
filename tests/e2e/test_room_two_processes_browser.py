"""Issue 20: one room across two app processes on one Redis. Two `streamlit run app.py` servers with
KC_ROOM_STORE pointing at a redis-server the test starts; the teacher's browser is on process A, the
student's on process B. The student follows the teacher's steps and answers a question that is counted in
the teacher's histogram on A. (Skipped with the reason when redis-server or Chromium is absent.)"""

from __future__ import annotations

import pytest
from browser import join_room, pose_and_answer, start_room, step_of, step_to, wait_for

pytestmark = pytest.mark.e2e

VIEWPORT = {"width": 1280, "height": 900}
FOLLOW_SECONDS = 8.0  # the student polls once a second; a loaded machine adds a few


@pytest.fixture(scope="module")
def server(tmp_path_factory, redis_srv):
    """Process A (the teacher's); the conftest's `browser` fixture starts Chromium once it is up."""
    from browser import streamlit_app

    redis_srv.flush()
    yield from streamlit_app(tmp_path_factory, env={"KC_ROOM_STORE": redis_srv.url})


@pytest.fixture(scope="module")
def server_b(tmp_path_factory, redis_srv, server):
    """Process B (the student's), on the same Redis."""
    from browser import streamlit_app

    yield from streamlit_app(tmp_path_factory, env={"KC_ROOM_STORE": redis_srv.url})


def test_a_student_on_process_b_follows_a_teacher_on_process_a(browser, server, server_b):
    assert server != server_b
    teacher_ctx = browser.new_context(viewport=VIEWPORT)
    student_ctx = browser.new_context(viewport=VIEWPORT)
    try:
        teacher = teacher_ctx.new_page()
        code = start_room(teacher, server, lesson="Lesson 1")

        student = student_ctx.new_page()
        join_room(
            student, f"{server_b}/classroom?room={code}", "the student on process B"
        )  # another app process
        for n in range(1, 4):
            step_to(teacher, n)
        wait_for(lambda: step_of(student) == 3, FOLLOW_SECONDS, "the student's screen at step 3 on process B")
        assert student.locator(".st-key-room_diagram .js-plotly-plot").count() == 1

        counts = pose_and_answer(teacher, student, FOLLOW_SECONDS)  # the answer is sent on process B
        assert counts[1] == 1
    finally:
        teacher_ctx.close()
        student_ctx.close()
