"""The Playground in a real browser: Playwright + Debian's Chromium against `streamlit run app.py`.

One server for the module on a free localhost port, stopped by its own pid. The pictures are read
from the page itself (each chart's plotly layout in the DOM), so the assertions are about what a
student sees. Screenshots and the Step latency seen on the way (click -> rerun settled) go to pytest's tmp
dir: a test run never rewrites a tracked file (the speed figures come from `python -m bench`).
"""

from __future__ import annotations

import json
import statistics
import time

import pytest
from browser import settled_chart

VIEWPORT = {"width": 1280, "height": 800}
LEADER_FILL = "#0072B2"  # ui.figures.style.LEADER
OFFLINE = "#D55E00"  # ui.figures.style.OFFLINE

pytestmark = pytest.mark.e2e

# Counts finished script runs (full or fragment): each run flips the attribute running -> notRunning. Mutation
# records carry the old value, so two flips batched into one observer callback still count.
INSTALL_COUNTER = """() => {
  if (window.__kcRuns !== undefined) return;
  window.__kcRuns = 0;
  const app = document.querySelector("[data-testid='stApp']");
  new MutationObserver(records => {
    for (const r of records) if (r.oldValue === 'running') window.__kcRuns += 1;
  }).observe(app, {attributes: true, attributeOldValue: true, attributeFilter: ['data-test-script-state']});
}"""
SETTLED = """([n, before]) => {
  if (window.__kcRuns > n) return true;
  const app = document.querySelector("[data-testid='stApp']");
  const text = document.querySelector('.st-key-narration');
  return app.getAttribute('data-test-script-state') === 'notRunning' && !!text && text.innerText !== before;
}"""
# A chart as the browser holds it: named shapes with their styling, annotation texts, trace points.
PICTURE = """key => {
  const el = document.querySelector('.st-key-' + key + ' .js-plotly-plot');
  if (!el || !el.layout) return null;
  return JSON.stringify({
    shapes: (el.layout.shapes || []).map(s => [s.name, s.fillcolor, s.line && s.line.color, s.line && s.line.dash,
                                              s.x0, s.y0, s.path || null]),
    annotations: (el.layout.annotations || []).map(a => a.text),
    data: el.data.map(t => [t.name, t.x, t.y])});
}"""


# -- helpers ---------------------------------------------------------------------------------------------------
def settle_after(page, action) -> float:
    """Do `action` (a click) and wait until the rerun it causes has finished; returns the seconds taken."""
    page.evaluate(INSTALL_COUNTER)
    runs = page.evaluate("() => window.__kcRuns")
    before = narration(page)
    t0 = time.perf_counter()
    action()
    # A finished run, as the observer counts them; or, should a very fast fragment rerun slip past it
    # (seen about once in three full-suite runs), an idle app whose narration changed.
    page.wait_for_function(SETTLED, arg=[runs, before], timeout=60_000)
    return time.perf_counter() - t0


def press(page, name: str) -> float:
    return settle_after(page, lambda: page.get_by_role("button", name=name, exact=True).click())


def narration(page) -> str:
    return page.locator(".st-key-narration").inner_text()


def picture(page, key: str = "diagram") -> dict:
    """The chart's data once it stops changing (plotly draws asynchronously after the rerun)."""
    return settled_chart(page, PICTURE, key, tries=40, interval_ms=100)


def shapes(pic: dict) -> dict[str, list]:
    return {s[0]: s for s in pic["shapes"] if s[0]}


def record_cells(pic: dict) -> list[str]:
    """The record cells the strips draw: the Playground draws them compact (ui/figures/logs.py `compact_cells`),
    one path of rectangles per look, named "cells"."""
    return sorted(s[6] for s in pic["shapes"] if s[0] == "cells" and s[6])


def leader_of(pic: dict, partition: str) -> int | None:
    for name, s in shapes(pic).items():
        if name.startswith(f"replica:{partition}@") and s[1] == LEADER_FILL:
            return int(name.rsplit("@", 1)[1])
    return None


def open_playground(page, url: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{url}/")
    expect(page.get_by_role("heading", name="Kafka Classroom")).to_be_visible(timeout=30_000)
    page.get_by_test_id("stTopNav").get_by_role("link", name="Playground", exact=True).click()
    expect(page.locator(".st-key-narration")).to_contain_text("Step 0", timeout=30_000)
    page.wait_for_function(
        "() => document.querySelector(\"[data-testid='stApp']\")"
        ".getAttribute('data-test-script-state') === 'notRunning'"
    )


# -- tests ------------------------------------------------------------------------------------------------------
def test_step_crash_leader_and_back(browser, server, tmp_path):
    from playwright.sync_api import expect

    ctx = browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    open_playground(page, server)
    page.screenshot(path=tmp_path / "01-playground.png")
    start_text = narration(page)
    start_cells = record_cells(picture(page, "logs"))

    samples = []
    for n in range(1, 16):
        samples.append(press(page, "Step"))
        expect(page.locator(".st-key-narration")).to_contain_text(f"Step {n}")
    assert narration(page) != start_text
    cells = record_cells(picture(page, "logs"))
    assert cells and cells != start_cells, "the partition log strips did not change after 15 steps"
    page.screenshot(path=tmp_path / "02-after-15-steps.png")
    (tmp_path / "step_latency.json").write_text(
        json.dumps(
            {
                "what": "Playground Step: click -> rerun finished, headless Chromium, Default preset, steps 1-15",
                "viewport": f"{VIEWPORT['width']}x{VIEWPORT['height']}",
                "median_ms": round(statistics.median(samples) * 1000, 1),
                "samples_ms": [round(s * 1000, 1) for s in samples],
            },
            indent=2,
        )
        + "\n"
    )

    # Back gives exactly the picture before the last Step.
    before = picture(page)
    press(page, "Step")
    press(page, "Back")
    expect(page.locator(".st-key-narration")).to_contain_text("Step 15")
    assert picture(page) == before

    # Crash the broker that leads orders-0: the diagram shows it down and crossed out.
    leader = leader_of(before, "orders-0")
    assert leader is not None
    settle_after(page, lambda: page.locator(f".st-key-crash_b{leader} button").first.click())
    down = shapes(picture(page))
    assert down[f"broker-{leader}"][2] == OFFLINE
    assert sum(1 for n in down if n.startswith(f"crossed:broker-{leader}")) == 2
    page.screenshot(path=tmp_path / "03-leader-broker-crashed.png")

    # Step on: the controller notices and elects a new leader from the ISR ("Next election" steps until an
    # election event, within a wall-clock budget; on a slow machine it may take a second press).
    new_leader = leader
    for _ in range(4):
        press(page, "Next election")
        new_leader = leader_of(picture(page), "orders-0")
        if new_leader not in (None, leader):
            break
    for _ in range(3):
        press(page, "Step")
    new_leader = leader_of(picture(page), "orders-0")
    assert new_leader is not None and new_leader != leader
    page.screenshot(path=tmp_path / "04-new-leader.png")

    again = picture(page)
    press(page, "Step")
    press(page, "Back")
    assert picture(page) == again
    page.screenshot(path=tmp_path / "05-back.png")
    ctx.close()


def test_two_browser_contexts_have_independent_clusters(browser, server, tmp_path):
    from playwright.sync_api import expect

    a = browser.new_context(viewport=VIEWPORT).new_page()
    b = browser.new_context(viewport=VIEWPORT).new_page()
    open_playground(a, server)
    for _ in range(3):
        press(a, "Step")
    expect(a.locator(".st-key-narration")).to_contain_text("Step 3")
    a_picture = picture(a)

    open_playground(b, server)  # a new session starts from step 0, whatever A did
    assert "Step 0" in narration(b)
    settle_after(b, lambda: b.locator(".st-key-crash_b1 button").first.click())
    press(b, "Step")
    expect(b.locator(".st-key-narration")).to_contain_text("Step 1")
    assert shapes(picture(b))["broker-1"][2] == OFFLINE

    assert "Step 3" in narration(a) and picture(a) == a_picture  # A's broker 1 is still up
    a.screenshot(path=tmp_path / "context-a.png")
    b.screenshot(path=tmp_path / "context-b.png")
    a.context.close()
    b.context.close()
