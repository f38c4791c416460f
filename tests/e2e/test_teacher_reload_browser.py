"""Issue 17, Classroom, in a real browser: a teacher who reloads the page is still the room's teacher (the
browser's cookie), and the teacher-only link opens the room as teacher on a second device, without leaving
the secret in the address bar."""

from __future__ import annotations

import re
import time

import pytest

VIEWPORT = {"width": 1280, "height": 900}

pytestmark = pytest.mark.e2e


def wait_for(predicate, timeout: float, what: str):
    """Poll `predicate` until it returns something truthy (the room's fragments rerun on timers)."""
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


def step_to(page, n: int) -> None:
    page.get_by_role("button", name="Step", exact=True).click()
    wait_for(lambda: step_of(page) == n, 20, f"the room at step {n}")


def test_a_teacher_who_reloads_is_still_the_teacher_and_the_teacher_link_works_elsewhere(
    browser, server, tmp_path
):
    first = browser.new_context(viewport=VIEWPORT)
    second = browser.new_context(viewport=VIEWPORT)
    try:
        teacher = first.new_page()
        teacher.goto(f"{server}/classroom")
        teacher.get_by_role("button", name="Start a room").click()
        code = wait_for(lambda: code_of(teacher), 30, "the room code")
        step_to(teacher, 1)
        step_to(teacher, 2)
        wait_for(
            lambda: any(
                c["name"] == "kc_room_teacher" and c["value"].startswith(code + ".") for c in first.cookies()
            ),
            10,
            "the teacher cookie",
        )

        teacher.reload()
        wait_for(
            lambda: (
                "Welcome back" in teacher.locator("[data-testid='stAlert']").first.inner_text()
                if teacher.locator("[data-testid='stAlert']").count()
                else False
            ),
            30,
            "the welcome back note",
        )
        assert wait_for(lambda: code_of(teacher), 20, "the room code after the reload") == code
        assert wait_for(lambda: step_of(teacher), 20, "the step after the reload") == 2
        step_to(teacher, 3)  # still the teacher: the room moves
        teacher.screenshot(path=tmp_path / "teacher-after-reload.png", full_page=True)

        teacher.get_by_text("Teacher link: to teach from another device").click()
        link = wait_for(
            lambda: next(
                (c.inner_text() for c in teacher.locator("code").all() if "teacher=" in c.inner_text()), None
            ),
            10,
            "the teacher link",
        )
        assert link.startswith(f"{server}/classroom?room={code}&teacher=")

        device = second.new_page()
        device.goto(link)
        assert wait_for(lambda: code_of(device), 30, "the room code on the second device") == code
        assert wait_for(lambda: step_of(device), 20, "the step on the second device") == 3
        wait_for(lambda: "teacher=" not in device.url, 10, "the secret to leave the address bar")
        step_to(device, 4)  # the second device moves the room too
        device.screenshot(path=tmp_path / "second-device.png", full_page=True)
    finally:
        first.close()
        second.close()
