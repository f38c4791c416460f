"""A teacher-led room in a real browser: Playwright + Debian's Chromium, two browser contexts (two sessions).

The teacher starts a room and steps five times; the student's screen (opened from the room link) shows
the same picture within a few seconds; the student's answer appears in the teacher's histogram; after
"Break away" the teacher's steps no longer move the student's screen, and "Rejoin" snaps back.
Pictures are read from the page itself (each chart's plotly layout in the DOM). A following student's
browser sends nothing while the room is idle: the server wakes its page when the teacher moves.
"""

from __future__ import annotations

import time

import pytest
from browser import join_room, pose_and_answer, start_room, step_of, step_to, text_of, wait_for

VIEWPORT = {"width": 1280, "height": 900}
FOLLOW_SECONDS = 6.0  # "within a few seconds": the server wakes a follower within 0.25 s + a page run

pytestmark = pytest.mark.e2e

# Exactly one current chart with this key: while a run replaces an element, Streamlit keeps the old copy
# marked data-stale="true" until the run ends, and a page that reruns often (the teacher's histogram and
# heartbeat fragments) may show it at any moment.
PICTURE = """key => {
  const all = document.querySelectorAll('.st-key-' + key + ':not([data-stale="true"]) .js-plotly-plot');
  if (all.length !== 1) return null;
  const el = all[0];
  if (!el || !el.layout) return null;
  return JSON.stringify({
    shapes: (el.layout.shapes || []).map(s => [s.name, s.fillcolor, s.line && s.line.color, s.line && s.line.dash,
                                              s.x0, s.y0, s.path || null]),
    annotations: (el.layout.annotations || []).map(a => a.text),
    data: el.data.map(t => [t.name, t.x, t.y])});
}"""


# What the page holds under a chart's key, for a timeout message: how many copies, stale or not, drawn or not.
CHART_STATE = """key => Array.from(document.querySelectorAll('.st-key-' + key)).map(c =>
  ({stale: c.getAttribute('data-stale'), plots: c.querySelectorAll('.js-plotly-plot').length,
    drawn: Array.from(c.querySelectorAll('.js-plotly-plot')).map(p => !!p.layout)}))"""


def picture(page, key: str, timeout: float, what: str) -> str:
    """The chart's picture once there is exactly one current, drawn copy; on a timeout the message says what
    the page held instead."""
    try:
        return wait_for(lambda: page.evaluate(PICTURE, key), timeout, what)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; under .st-key-{key}: {page.evaluate(CHART_STATE, key)}") from None


def narration(page) -> str:
    return text_of(page, "room_narration")


def test_teacher_leads_student_follows_answers_and_breaks_away(browser, server, tmp_path):
    teacher_ctx = browser.new_context(viewport=VIEWPORT)
    student_ctx = browser.new_context(viewport=VIEWPORT)
    try:
        teacher = teacher_ctx.new_page()
        # a room on lesson 1's cluster, so the lesson's question (posed below) names what the students see
        code = start_room(teacher, server, lesson="Lesson 1")
        link = teacher.locator("code").filter(has_text=f"?room={code}").first.inner_text()
        assert link.startswith(f"{server}/classroom?room={code}")

        student = student_ctx.new_page()
        sent: list = []  # what the student's browser sends the server over Streamlit's websocket
        student.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(frame)))
        join_room(student, link)

        # the teacher steps 5 times; the student's picture follows within a few seconds
        for n in range(1, 6):
            step_to(teacher, n)
        t0 = time.monotonic()
        wait_for(lambda: step_of(student) == 5, FOLLOW_SECONDS, "the student's screen at step 5")
        want = picture(teacher, "room_diagram", 30, "the teacher's diagram")
        wait_for(
            lambda: student.evaluate(PICTURE, "room_diagram") == want,
            FOLLOW_SECONDS,
            "the student's diagram to equal the teacher's",
        )
        logs = picture(teacher, "room_logs", 30, "the teacher's log strips")
        wait_for(
            lambda: student.evaluate(PICTURE, "room_logs") == logs, FOLLOW_SECONDS, "the same log strips"
        )
        assert narration(student).splitlines()[-1] == narration(teacher).splitlines()[-1]
        follow_s = time.monotonic() - t0
        # an idle room: a following browser has no timer of its own (no rerun asked every second)
        before = len(sent)
        student.wait_for_timeout(3000)  # not time.sleep: Playwright delivers frame events while it waits
        assert len(sent) == before, f"the follower's browser sent {len(sent) - before} messages while idle"
        teacher.screenshot(path=tmp_path / "teacher.png", full_page=True)
        student.screenshot(path=tmp_path / "student.png", full_page=True)

        # the teacher poses lesson 1's question; the student's answer lands in the histogram
        counts = pose_and_answer(teacher, student, FOLLOW_SECONDS)
        assert counts[1] == 1

        # break away: the teacher's next steps no longer move the student's screen
        student.get_by_role("button", name="Break away").click()
        wait_for(
            lambda: "On your own copy" in student.locator(".st-key-room_status").inner_text(),
            10,
            "the student to break away",
        )
        for n in (6, 7):
            step_to(teacher, n)
        wait_for(
            lambda: "teacher is at step 7" in student.locator(".st-key-room_status").inner_text(),
            10,
            "the student's status to show the teacher's step",
        )
        time.sleep(2 * 1.0)  # two more polls: still not following
        assert wait_for(lambda: step_of(student), 5, "the student's narration") == 5
        # rejoin snaps back to the teacher's step and picture
        student.get_by_role("button", name="Rejoin").click()
        wait_for(lambda: step_of(student) == 7, FOLLOW_SECONDS, "the student back at the teacher's step")
        want = picture(teacher, "room_diagram", 30, "the teacher's diagram")
        wait_for(
            lambda: student.evaluate(PICTURE, "room_diagram") == want,
            FOLLOW_SECONDS,
            "the student's diagram to equal the teacher's again",
        )
        print(f"student followed 5 steps in {follow_s:.2f} s")
    finally:
        teacher_ctx.close()
        student_ctx.close()
