"""Real-browser test plumbing shared by the e2e tests: one `streamlit run app.py` on a free localhost port,
stopped by its own pid (bench/servers.py, which the browser benchmarks use too), Debian's Chromium
driven by Playwright with the flags from shared/BROWSER.md, and the Classroom tests' page helpers."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from bench.servers import ARGS, CHROMIUM, start_streamlit, stop


def streamlit_app(tmp_path_factory, env: dict[str, str] | None = None):
    """Generator for a module fixture: yields the app's URL once /_stcore/health answers ok. `env`: extra
    environment variables for the app process (e.g. KC_ROOM_STORE)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium): real-browser tests skipped")
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    try:
        proc, url = start_streamlit(tmp_path_factory.mktemp("streamlit") / "server.log", env)
    except RuntimeError as e:
        pytest.fail(str(e))
    try:
        yield url
    finally:
        stop(proc)


def chromium_browser():
    """Generator for a module fixture: a headless Debian Chromium (Playwright cannot download browsers here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def settled_chart(page, script: str, key: str, tries: int = 60, interval_ms: int = 100) -> dict:
    """A chart as `script` (a JS function of the chart's key returning JSON text, or null while it is not drawn)
    reads it from the page, once two reads `interval_ms` apart agree: plotly draws asynchronously after the
    rerun, so a chart read too early is half drawn."""
    last = None
    for _ in range(tries):
        now = page.evaluate(script, key)
        if now is not None and now == last:
            return json.loads(now)
        last = now
        page.wait_for_timeout(interval_ms)
    raise AssertionError(f"chart {key!r} never settled")


# -- the Classroom page (tests/e2e/test_room*_browser.py, test_teacher_reload_browser.py) --------------------------
HISTOGRAM = """() => {
  const el = document.querySelector('.st-key-room_histogram .js-plotly-plot');
  return el && el.data ? el.data[0].x : null;
}"""  # the teacher's answer histogram: the count per choice, or null while it is not drawn


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


def text_of(page, key: str) -> str:
    loc = page.locator(f".st-key-{key}")
    return loc.inner_text() if loc.count() == 1 else ""  # "" while a rerun swaps it: the caller polls again


def step_of(page) -> int | None:
    m = re.search(r"Step (\d+)", text_of(page, "room_narration"))
    return int(m.group(1)) if m else None


def code_of(page) -> str | None:
    m = re.search(r"Room code: ([A-Z0-9]{6})", text_of(page, "room_code"))
    return m.group(1) if m else None


def start_room(page, server: str, lesson: str | None = None) -> str:
    """Open the Classroom page at `server`, start a room (on `lesson`'s cluster, e.g. "Lesson 1", when given)
    and return its code."""
    page.goto(f"{server}/classroom")
    start = page.get_by_role("button", name="Start a room")
    start.wait_for(timeout=30_000)
    wait_idle(page)
    if lesson is not None:
        box = page.locator(".st-key-room_start_from")
        for _ in range(3):  # a rerun landing while the list is open redraws it closed: choose again
            box.get_by_role("combobox").click()
            page.get_by_role("option", name=re.compile(rf"^{re.escape(lesson)}: ")).click()
            wait_idle(page)
            chosen = box.get_by_role("combobox")
            if (
                chosen.input_value().startswith(f"{lesson}: ")
                and chosen.get_attribute("aria-expanded") != "true"
            ):
                break
        else:
            raise AssertionError(f"could not choose {lesson} to start the room from")
    start.click()
    return wait_for(lambda: code_of(page), 30, "the room code")


def wait_idle(page, timeout_ms: int = 30_000) -> None:
    """Until the app has no script run going (Streamlit marks the app's root with its script state)."""
    page.wait_for_function(
        "() => document.querySelector(\"[data-testid='stApp']\")?.getAttribute('data-test-script-state')"
        " === 'notRunning'",
        timeout=timeout_ms,
    )


def join_room(page, link: str, who: str = "the student") -> None:
    """Open a room link; the page follows the teacher within 30 s."""
    page.goto(link)
    wait_for(
        lambda: "Following the teacher" in page.locator(".st-key-room_status").inner_text(),
        30,
        f"{who} to join",
    )


def step_to(page, n: int) -> None:
    """The teacher presses Step; the room is at step `n` within 20 s."""
    page.get_by_role("button", name="Step", exact=True).click()
    wait_for(lambda: step_of(page) == n, 20, f"the room at step {n}")


def pose_and_answer(teacher, student, follow_seconds: float, choice: int = 1) -> list[int]:
    """The teacher poses the lesson's question (the histogram is drawn, all zeros), the student picks choice
    `choice` once the question reaches their screen and sends it; the teacher's histogram once it counts
    that one answer."""
    teacher.get_by_role("button", name="Pose to the room").click()
    wait_for(lambda: (x := teacher.evaluate(HISTOGRAM)) and sum(x) == 0, 20, "the empty histogram")
    choices = student.locator(".st-key-room_answer_1 [role='radiogroup'] label")
    wait_for(lambda: choices.count() > choice, follow_seconds + 4, "the question on the student's screen")
    choices.nth(choice).click()
    student.get_by_role("button", name="Send my answer").click()
    return wait_for(
        lambda: (x := teacher.evaluate(HISTOGRAM)) and sum(x) == 1 and x,
        10,
        "the answer in the teacher's histogram",
    )
