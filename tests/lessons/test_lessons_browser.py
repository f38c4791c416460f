"""The Lessons page in a real browser: a step opened from its shared link asks its question, then shows the same
step and picture; a reload keeps the answer.

Playwright drives Debian's Chromium against `streamlit run app.py` on a free localhost port (stopped by its
own pid). Pictures are compared as the browser holds them: each chart's plotly shapes, annotations and
trace data, read from the DOM. Screenshots are written to pytest's tmp dir.
"""

from __future__ import annotations

import pytest
from browser import settled_chart

VIEWPORT = {"width": 1400, "height": 1000}

pytestmark = pytest.mark.e2e

PICTURE = """key => {
  const el = document.querySelector('.st-key-' + key + ' .js-plotly-plot');
  if (!el || !el.layout) return null;
  return JSON.stringify({
    shapes: (el.layout.shapes || []).map(s => [s.name, s.fillcolor, s.line && s.line.color, s.line && s.line.dash,
                                              s.x0, s.y0, s.x1, s.y1, s.path || null]),
    annotations: (el.layout.annotations || []).map(a => [a.text, a.x, a.y]),
    data: el.data.map(t => [t.name, t.x, t.y])});
}"""


def settle(page) -> None:
    """Wait until the app is connected and no script run is going on (as Streamlit's own e2e tests do)."""
    page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=60_000)
    page.wait_for_timeout(200)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=60_000)


def click(page, key: str) -> None:
    page.locator(f".st-key-{key} button").first.click()
    page.wait_for_timeout(150)
    settle(page)


def picture(page, key: str) -> dict:
    """A chart's data once it stops changing (plotly draws asynchronously after the rerun)."""
    return settled_chart(page, PICTURE, key, tries=60, interval_ms=100)


def step_title(page) -> str:
    return page.locator("h3").first.inner_text()


def test_shared_link_lands_on_the_same_step_and_picture(server, browser, tmp_path):
    ctx = browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    page.goto(f"{server}/lessons")
    settle(page)
    click(page, "open_lesson_queue-vs-pubsub")
    click(page, "lesson_next")
    for _ in range(2):  # steps 2 and 3 ask first
        page.get_by_text(
            "Each owns one partition" if "group-1" in step_title(page) else "Twice; once to", exact=False
        ).first.click()
        settle(page)
        click(page, "predict_check")
        assert page.get_by_text("Right.", exact=False).count() >= 1
        if "group-2" not in step_title(page):
            click(page, "lesson_next")
    page.wait_for_url("**/lessons?lesson=queue-vs-pubsub&step=3", timeout=10_000)
    link = page.url
    title = step_title(page)
    before = {k: picture(page, k) for k in ("lesson_assignment", "lesson_diagram", "lesson_log")}
    page.screenshot(path=str(tmp_path / "walked.png"), full_page=True)
    assert title == "group-2: one consumer reads both"

    other = browser.new_context(viewport=VIEWPORT)  # a different browser session: a friend opening the link
    page2 = other.new_page()
    page2.goto(link)
    settle(page2)
    assert step_title(page2) == title
    # issue 16: the link does not spoil the question: it is asked unanswered; answering reveals it
    assert page2.get_by_text("Right.", exact=False).count() == 0
    assert page2.locator(".st-key-lesson_next button").first.is_disabled()
    page2.get_by_text("Twice; once to", exact=False).first.click()
    settle(page2)
    click(page2, "predict_check")
    assert page2.get_by_text("Right.", exact=False).count() >= 1
    after = {k: picture(page2, k) for k in before}
    page2.screenshot(path=str(tmp_path / "from-link.png"), full_page=True)
    for key in before:
        assert after[key] == before[key], f"{key} differs between the walked step and the shared link"
    assert page2.url == link
    # issue 16: a reload keeps the progress (the answer is remembered in a cookie)
    page2.reload()
    settle(page2)
    assert step_title(page2) == title
    assert page2.get_by_text("Right.", exact=False).count() >= 1
    ctx.close()
    other.close()
