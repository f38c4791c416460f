"""Issue 20: one room across two app processes on one Redis. Two `streamlit run app.py` servers with
KC_ROOM_STORE pointing at a redis-server the test starts; the teacher's browser is on process A, the
student's on process B. The student follows the teacher's steps and answers a question that is counted in
the teacher's histogram on A. (Skipped with the reason when redis-server or Chromium is absent.)"""

from __future__ import annotations

import re
import time

import pytest

pytestmark = pytest.mark.e2e

VIEWPORT = {"width": 1280, "height": 900}
FOLLOW_SECONDS = 8.0  # the student polls once a second; a loaded machine adds a few
HISTOGRAM = """() => {
  const el = document.querySelector('.st-key-room_histogram .js-plotly-plot');
  return el && el.data ? el.data[0].x : null;
}"""


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


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        got = predicate()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.15)


def step_of(page) -> int | None:
    loc = page.locator(".st-key-room_narration")
    m = re.search(r"Step (\d+)", loc.inner_text() if loc.count() == 1 else "")
    return int(m.group(1)) if m else None


def test_a_student_on_process_b_follows_a_teacher_on_process_a(browser, server, server_b):
    assert server != server_b
    teacher_ctx = browser.new_context(viewport=VIEWPORT)
    student_ctx = browser.new_context(viewport=VIEWPORT)
    try:
        teacher = teacher_ctx.new_page()
        teacher.goto(f"{server}/classroom")
        teacher.locator(".st-key-room_start_from").get_by_role("combobox").click()
        teacher.get_by_role("option", name=re.compile(r"^Lesson 1: ")).click()
        teacher.get_by_role("button", name="Start a room").click()
        code_text = teacher.locator(".st-key-room_code").inner_text(timeout=30_000)
        code = re.search(r"Room code: ([A-Z0-9]{6})", code_text).group(1)

        student = student_ctx.new_page()
        student.goto(f"{server_b}/classroom?room={code}")  # another app process
        wait_for(
            lambda: "Following the teacher" in student.locator(".st-key-room_status").inner_text(),
            30,
            "the student to join on process B",
        )
        step = teacher.get_by_role("button", name="Step", exact=True)
        for n in range(1, 4):
            step.click()
            wait_for(lambda n=n: step_of(teacher) == n, 20, f"teacher at step {n}")
        wait_for(lambda: step_of(student) == 3, FOLLOW_SECONDS, "the student's screen at step 3 on process B")
        assert student.locator(".st-key-room_diagram .js-plotly-plot").count() == 1

        teacher.get_by_role("button", name="Pose to the room").click()
        wait_for(lambda: (x := teacher.evaluate(HISTOGRAM)) and sum(x) == 0, 20, "the empty histogram")
        choice = student.locator(".st-key-room_answer_1 [role='radiogroup'] label")
        wait_for(lambda: choice.count() >= 2, FOLLOW_SECONDS + 4, "the question on the student's screen")
        choice.nth(1).click()
        student.get_by_role("button", name="Send my answer").click()
        counts = wait_for(
            lambda: (x := teacher.evaluate(HISTOGRAM)) and sum(x) == 1 and x,
            10,
            "the answer from process B in the teacher's histogram on process A",
        )
        assert counts[1] == 1
    finally:
        teacher_ctx.close()
        student_ctx.close()
