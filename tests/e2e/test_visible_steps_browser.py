"""Issue 17 in a real browser: 10 Steps from Default reach a consumed record; +1 s is a step that Back undoes.

Uses the module-scoped `server` and `browser` fixtures of tests/conftest.py. The screenshot of the Playground
after the 10 steps (1280x720) goes to pytest's tmp dir and to /tmp/kc-visible-steps-10.png for a look.
"""

from __future__ import annotations

import pytest

VIEWPORT = {"width": 1280, "height": 720}
SHOT = "/tmp/kc-visible-steps-10.png"

pytestmark = pytest.mark.e2e

IDLE = "() => document.querySelector(\"[data-testid='stApp']\").getAttribute('data-test-script-state') === 'notRunning'"


def _narration(page) -> str:
    return page.locator(".st-key-narration").inner_text()


def _press(page, name: str, expect_text: str) -> str:
    """Click a button, then wait for the narration to show `expect_text` and the script to be idle."""
    from playwright.sync_api import expect

    page.get_by_role("button", name=name, exact=True).click()
    expect(page.locator(".st-key-narration")).to_contain_text(expect_text, timeout=60_000)
    page.wait_for_function(IDLE, timeout=60_000)
    return _narration(page)


def test_ten_steps_reach_a_consumed_record_and_plus_one_second_is_undone(browser, server, tmp_path):
    from playwright.sync_api import expect

    ctx = browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    page.goto(f"{server}/")
    expect(page.get_by_role("heading", name="Kafka Classroom")).to_be_visible(timeout=30_000)
    page.get_by_test_id("stTopNav").get_by_role("link", name="Playground", exact=True).click()
    expect(page.locator(".st-key-narration")).to_contain_text("Step 0", timeout=30_000)
    page.wait_for_function(IDLE, timeout=60_000)

    texts = [_press(page, "Step", f"Step {n}") for n in range(1, 11)]
    assert any("3.0 s pass" in t for t in texts), texts  # the initial rebalance delay: one step that says so
    assert any("poll() returned" in t for t in texts), texts  # a consumer's poll() returned records
    page.get_by_role("tab", name="Consumer groups").click()
    expect(page.get_by_text("Last records c1 received")).to_be_visible(timeout=30_000)
    page.wait_for_function(IDLE, timeout=60_000)
    page.get_by_role("tab", name="Partition logs").click()
    page.wait_for_function(IDLE, timeout=60_000)
    page.evaluate("() => document.querySelector('.st-key-controls').scrollIntoView({block: 'start'})")
    page.wait_for_timeout(500)
    page.screenshot(path=SHOT)
    page.screenshot(path=tmp_path / "after-10-steps.png")

    before = _narration(page)
    after = _press(page, "+1 s", "Step 11")
    assert "1 s passes" in after
    back = _press(page, "Back", "Step 10")
    assert back == before
    ctx.close()
