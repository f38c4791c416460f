"""Issue 17, Classroom, in a real browser: a teacher who reloads the page is still the room's teacher (the
browser's cookie), and the teacher-only link opens the room as teacher on a second device, without leaving
the secret in the address bar."""

from __future__ import annotations

import pytest
from browser import code_of, start_room, step_of, step_to, wait_for

VIEWPORT = {"width": 1280, "height": 900}

pytestmark = pytest.mark.e2e


def test_a_teacher_who_reloads_is_still_the_teacher_and_the_teacher_link_works_elsewhere(
    browser, server, tmp_path
):
    first = browser.new_context(viewport=VIEWPORT)
    second = browser.new_context(viewport=VIEWPORT)
    try:
        teacher = first.new_page()
        code = start_room(teacher, server)
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
