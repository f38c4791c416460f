"""A teacher-led room in a real browser: Playwright + Debian's Chromium, two browser contexts (two sessions).

The teacher starts a room and steps five times; the student's screen (opened from the room link) shows
the same picture within a few seconds; the student's answer appears in the teacher's histogram; after
"Break away" the teacher's steps no longer move the student's screen, and "Rejoin" snaps back.
Pictures are read from the page itself (each chart's plotly layout in the DOM). A following student's
browser sends nothing while the room is idle: the server wakes its page when the teacher moves.
"""

from __future__ import annotations

import re
import time

import pytest

VIEWPORT = {"width": 1280, "height": 900}
FOLLOW_SECONDS = 6.0  # "within a few seconds": the server wakes a follower within 0.25 s + a page run

pytestmark = pytest.mark.e2e

# Exactly one chart with this key (while a rerun replaces an element, the stale copy can linger a moment).
PICTURE = """key => {
  const all = document.querySelectorAll('.st-key-' + key + ' .js-plotly-plot');
  if (all.length !== 1) return null;
  const el = all[0];
  if (!el || !el.layout) return null;
  return JSON.stringify({
    shapes: (el.layout.shapes || []).map(s => [s.name, s.fillcolor, s.line && s.line.color, s.line && s.line.dash,
                                              s.x0, s.y0, s.path || null]),
    annotations: (el.layout.annotations || []).map(a => a.text),
    data: el.data.map(t => [t.name, t.x, t.y])});
}"""
HISTOGRAM = """() => {
  const el = document.querySelector('.st-key-room_histogram .js-plotly-plot');
  return el && el.data ? el.data[0].x : null;
}"""


def wait_for(predicate, timeout: float, what: str):
    """Poll `predicate` until it returns something truthy (the room's fragments rerun all the time, so
    there is no quiet moment to wait for)."""
    deadline = time.monotonic() + timeout
    while True:
        got = predicate()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.15)


def narration(page) -> str:
    loc = page.locator(".st-key-room_narration")
    return loc.inner_text() if loc.count() == 1 else ""  # "" while a rerun swaps it: the caller polls again


def step_of(page) -> int | None:
    m = re.search(r"Step (\d+)", narration(page))
    return int(m.group(1)) if m else None


def test_teacher_leads_student_follows_answers_and_breaks_away(browser, server, tmp_path):
    teacher_ctx = browser.new_context(viewport=VIEWPORT)
    student_ctx = browser.new_context(viewport=VIEWPORT)
    try:
        teacher = teacher_ctx.new_page()
        teacher.goto(f"{server}/classroom")
        # a room on lesson 1's cluster, so the lesson's question (posed below) names what the students see
        teacher.locator(".st-key-room_start_from").get_by_role("combobox").click()
        teacher.get_by_role("option", name=re.compile(r"^Lesson 1: ")).click()
        teacher.get_by_role("button", name="Start a room").click()
        code_text = teacher.locator(".st-key-room_code").inner_text(timeout=30_000)
        code = re.search(r"Room code: ([A-Z0-9]{6})", code_text).group(1)
        link = teacher.locator("code").filter(has_text=f"?room={code}").first.inner_text()
        assert link.startswith(f"{server}/classroom?room={code}")

        student = student_ctx.new_page()
        sent: list = []  # what the student's browser sends the server over Streamlit's websocket
        student.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(frame)))
        student.goto(link)
        wait_for(
            lambda: "Following the teacher" in student.locator(".st-key-room_status").inner_text(),
            30,
            "the student to join",
        )

        # the teacher steps 5 times; the student's picture follows within a few seconds
        step = teacher.get_by_role("button", name="Step", exact=True)
        for n in range(1, 6):
            step.click()
            wait_for(lambda n=n: step_of(teacher) == n, 20, f"teacher at step {n}")
        t0 = time.monotonic()
        wait_for(lambda: step_of(student) == 5, FOLLOW_SECONDS, "the student's screen at step 5")
        want = wait_for(lambda: teacher.evaluate(PICTURE, "room_diagram"), 10, "the teacher's diagram")
        wait_for(
            lambda: student.evaluate(PICTURE, "room_diagram") == want,
            FOLLOW_SECONDS,
            "the student's diagram to equal the teacher's",
        )
        logs = wait_for(lambda: teacher.evaluate(PICTURE, "room_logs"), 10, "the teacher's log strips")
        wait_for(
            lambda: student.evaluate(PICTURE, "room_logs") == logs, FOLLOW_SECONDS, "the same log strips"
        )
        assert narration(student).splitlines()[-1] == narration(teacher).splitlines()[-1]
        follow_s = time.monotonic() - t0
        # an idle room: a following browser has no timer of its own (no rerun asked every second)
        before = len(sent)
        student.wait_for_timeout(
            3000
        )  # (not time.sleep: Playwright delivers the frame events while it waits)
        assert len(sent) == before, f"the follower's browser sent {len(sent) - before} messages while idle"
        teacher.screenshot(path=tmp_path / "teacher.png", full_page=True)
        student.screenshot(path=tmp_path / "student.png", full_page=True)

        # the teacher poses lesson 1's question; the student's answer lands in the histogram
        teacher.get_by_role("button", name="Pose to the room").click()
        wait_for(
            lambda: teacher.evaluate(HISTOGRAM) == [0] * len(teacher.evaluate(HISTOGRAM) or [1]),
            20,
            "the empty histogram",
        )
        choice = student.locator(".st-key-room_answer_1 [role='radiogroup'] label")
        wait_for(lambda: choice.count() >= 2, FOLLOW_SECONDS + 4, "the question on the student's screen")
        choice.nth(1).click()
        student.get_by_role("button", name="Send my answer").click()
        counts = wait_for(
            lambda: (x := teacher.evaluate(HISTOGRAM)) and sum(x) == 1 and x,
            10,
            "the answer in the teacher's histogram",
        )
        assert counts[1] == 1

        # break away: the teacher's next steps no longer move the student's screen
        student.get_by_role("button", name="Break away").click()
        wait_for(
            lambda: "On your own copy" in student.locator(".st-key-room_status").inner_text(),
            10,
            "the student to break away",
        )
        for n in (6, 7):
            step.click()
            wait_for(lambda n=n: step_of(teacher) == n, 20, f"teacher at step {n}")
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
        want = wait_for(lambda: teacher.evaluate(PICTURE, "room_diagram"), 10, "the teacher's diagram")
        wait_for(
            lambda: student.evaluate(PICTURE, "room_diagram") == want,
            FOLLOW_SECONDS,
            "the student's diagram to equal the teacher's again",
        )
        print(f"student followed 5 steps in {follow_s:.2f} s")
    finally:
        teacher_ctx.close()
        student_ctx.close()
