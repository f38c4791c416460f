"""Click a record to follow it, in a real browser: Playwright + Debian's Chromium against `streamlit run app.py`.

A real mouse click on a cell of the partition log strip (plotly's own hit-testing of the invisible record
markers, then Streamlit's selection event inside the Playground's fragment) must show that record's trace
right under the strip, ring the cell, draw its route on the cluster diagram and name it above the diagram;
"Stop following" takes it all away. Screenshots go to pytest's tmp dir (and to $KC_SHOTS when set).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from browser import settled_chart

VIEWPORT = {"width": 1280, "height": 900}
PATH_COLOUR = "#CC79A7"  # ui.figures.diagram.PATH_COLOUR (style.PURPLE)

pytestmark = pytest.mark.e2e

# Where a record's invisible click marker is on screen: the `records` trace point whose customdata is the
# record, converted with plotly's own axis functions (so the test clicks exactly where a student would).
RECORD_XY = """([key, topic, partition, offset]) => {
  const el = document.querySelector('.st-key-' + key + ' .js-plotly-plot');
  if (!el || !el._fullLayout) return null;
  const tr = el.data.find(t => t.name === 'records');
  if (!tr) return null;
  const i = tr.customdata.findIndex(c => c[0] === topic && c[1] === partition && c[2] === offset && c[3] === 'log');
  if (i < 0) return null;
  const fl = el._fullLayout, box = el.getBoundingClientRect();
  return [box.left + fl._size.l + fl.xaxis.d2p(tr.x[i]), box.top + fl._size.t + fl.yaxis.d2p(tr.y[i])];
}"""
COMMITTED_AND_READ = """key => {
  const el = document.querySelector('.st-key-' + key + ' .js-plotly-plot');
  const tr = el && el.data.find(t => t.name === 'records');
  if (!tr) return null;
  // below the high watermark: the record's hover says so (the strips are drawn compact, no shape per line)
  const ok = tr.customdata.filter((c, i) => c[3] === 'log' && c[1] === 0
                                  && tr.hovertext[i].includes('committed: below the high watermark'));
  return ok.length > 6 ? ok[ok.length - 6] : null;  // a few offsets back: the group has fetched it
}"""
SHAPES = """key => {
  const el = document.querySelector('.st-key-' + key + ' .js-plotly-plot');
  if (!el || !el.layout) return null;
  return JSON.stringify({shapes: (el.layout.shapes || []).map(s => [s.name, s.line && s.line.color]),
                         label: (el.layout.annotations || []).filter(a => a.name === 'path-label').map(a => a.text)});
}"""
IDLE = "() => document.querySelector(\"[data-testid='stApp']\").getAttribute('data-test-script-state') === 'notRunning'"


def settled(page) -> None:
    page.wait_for_timeout(300)
    page.wait_for_function(IDLE, timeout=60_000)
    page.wait_for_timeout(300)


def chart(page, key: str) -> dict:
    """The chart's shapes and path label once they stop changing."""
    return settled_chart(page, SHAPES, key, tries=50, interval_ms=100)


def shot(page, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    page.screenshot(path=path)
    if os.environ.get("KC_SHOTS"):
        Path(os.environ["KC_SHOTS"]).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(os.environ["KC_SHOTS"]) / name)


def test_click_a_record_in_the_log_strip_follows_it(browser, server, tmp_path):
    from playwright.sync_api import expect

    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.goto(f"{server}/")
    expect(page.get_by_role("heading", name="Kafka Classroom")).to_be_visible(timeout=30_000)
    page.get_by_test_id("stTopNav").get_by_role("link", name="Playground", exact=True).click()
    expect(page.locator(".st-key-narration")).to_contain_text("Step 0", timeout=30_000)
    settled(page)
    expect(page.locator(".st-key-follow_bar")).to_contain_text("Follow one record")
    bar_height = page.locator(".st-key-follow_bar").bounding_box()["height"]
    for _ in range(6):  # six simulated seconds: the group has joined and fetched what was committed
        page.get_by_role("button", name="+1 s", exact=True).click()
        settled(page)

    # Click a committed record of orders-0 (one the group has read), where the student sees it.
    rec = page.evaluate(COMMITTED_AND_READ, "logs")
    assert rec is not None, "no committed record in orders-0 after 6 simulated seconds"
    topic, partition, offset, _ = rec
    page.locator(".st-key-logs").scroll_into_view_if_needed()
    x, y = page.evaluate(RECORD_XY, ["logs", topic, partition, offset])
    page.mouse.move(x, y)
    page.wait_for_timeout(200)
    page.mouse.click(x, y)
    settled(page)

    # Its life right under the strip...
    label = f"{topic}-{partition} offset {offset}"
    followed = page.locator(".st-key-logs_followed")
    expect(followed).to_contain_text(f"The life of {label}", timeout=30_000)
    expect(followed.locator(".js-plotly-plot")).to_be_visible()
    assert f"{label} ·" in page.evaluate(
        "() => document.querySelector('.st-key-logs_followed .js-plotly-plot').layout.title.text"
    )
    # ...the cell ringed...
    assert f"followed:{topic}-{partition}@{offset}" in {s[0] for s in chart(page, "logs")["shapes"]}
    shot(page, tmp_path, "trace-click-01-after-the-click.png")
    followed.scroll_into_view_if_needed()
    shot(page, tmp_path, "trace-click-02-under-the-strip.png")

    # ...and its route on the cluster diagram, named above it.
    bar = page.locator(".st-key-follow_bar")
    expect(bar).to_contain_text(f"Following {label}")
    assert bar.bounding_box()["height"] == pytest.approx(bar_height, abs=2)  # the diagram below did not move
    diagram = chart(page, "diagram")
    assert diagram["label"] and f"{topic}-{partition} @{offset}" in diagram["label"][0]
    route = {s[0] for s in diagram["shapes"] if (s[0] or "").startswith("path") and s[1] == PATH_COLOUR}
    assert "path:p1" in route and any(n.startswith(f"path:replica:{topic}-{partition}@") for n in route)
    assert any(n.startswith("path:c") for n in route), route  # ...to the consumer that fetched it
    assert any(n.startswith("path-edge:p1->replica:") for n in route)
    page.locator(".st-key-diagram").scroll_into_view_if_needed()
    bar.scroll_into_view_if_needed()
    shot(page, tmp_path, "trace-click-03-path-on-diagram.png")

    # The Follow a message tab opens on the same record.
    page.get_by_role("tab", name="Follow a message").click()
    settled(page)
    note = page.get_by_text("Its path is highlighted on the cluster diagram above.")
    expect(note).to_be_visible(timeout=30_000)
    note.scroll_into_view_if_needed()
    shot(page, tmp_path, "trace-click-04-follow-tab.png")

    # Stop following: the route, the ring and the caption go.
    bar.get_by_role("button", name="Stop following").click()
    settled(page)
    expect(bar).to_contain_text("Follow one record")
    assert not any((s[0] or "").startswith("path") for s in chart(page, "diagram")["shapes"])
    page.context.close()
