"""Compare (page and lesson step) in a real browser at 1280x720, a projector's size (issue 17, pictures).

Playwright + Debian's Chromium against `streamlit run app.py` (tests/browser.py). What is checked is what a
student in the back row sees: every outcome tile's number whole (no "…", nothing wider than its box), chart
titles that do not overlap, the two cluster panels side by side or stacked but never on top of each other,
legends that are not squeezed into scroll boxes, and a Compare share link that reopens the same picture in a
fresh browser.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from browser import settled_chart

VIEWPORT = {"width": 1280, "height": 720}
LESSON = "broker-failure-and-data-loss"
LESSON_STEP = 7  # "Side by side: acks=1 vs acks=all"
WHOLE = re.compile(r"^(—|\d{1,3}(,\d{3})*)$")

pytestmark = pytest.mark.e2e

# Each tile's text parts with their widths; each chart's annotation boxes; the panels' boxes; legend scrollbars.
LAYOUT = """k => {
  const box = e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const q = s => [...document.querySelectorAll(s)];
  const tiles = q('.st-key-' + k + '_difference [data-testid="stMetric"]').map(m => {
    const parts = ['stMetricLabel', 'stMetricValue', 'stMetricDelta'].map(t => m.querySelector('[data-testid="' + t + '"]'));
    return {box: box(m), parts: parts.filter(p => p).map(p => ({text: p.innerText.trim(), scroll: p.scrollWidth,
                                                               client: p.clientWidth, box: box(p)}))};
  });
  const titles = key => q('.st-key-' + key + ' .annotation').map(a => ({text: a.textContent, box: box(a)}));
  const scrollbars = q('.st-key-' + k + '_panels .legend .scrollbar').map(s => box(s));
  const panel = side => { const e = document.querySelector('.st-key-' + k + '_panel_' + side); return e ? box(e) : null; };
  return {tiles, outcome: titles(k + '_outcome'), race: titles(k + '_race'), scrollbars,
          panels: [panel('left'), panel('right')], width: document.documentElement.clientWidth};
}"""
# A chart as the browser holds it: named shapes, annotation texts, trace points.
PICTURE = """key => {
  const el = document.querySelector('.st-key-' + key + ' .js-plotly-plot');
  if (!el || !el.layout) return null;
  return JSON.stringify({shapes: (el.layout.shapes || []).map(s => [s.name, s.fillcolor, s.x0, s.y0]),
                         annotations: (el.layout.annotations || []).map(a => a.text),
                         data: el.data.map(t => [t.name, t.x, t.y])});
}"""
TILE_TEXT = """k => [...document.querySelectorAll('.st-key-' + k + '_difference [data-testid="stMetric"]')]
  .map(m => m.innerText.replace(/\\s+/g, ' ').trim())"""


# -- helpers ---------------------------------------------------------------------------------------------------
def new_page(browser):
    """A fresh browser context (its own Streamlit session) at the projector's size; patient timeouts, since
    the machine's cores are shared."""
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.set_default_timeout(90_000)
    return page


def idle(page) -> None:
    """Wait until the app is connected and no script (or fragment) is running."""
    page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=60_000)
    page.wait_for_timeout(300)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)


def picture(page, key: str) -> dict:
    """The chart's data once it stops changing (plotly draws asynchronously after the rerun)."""
    return settled_chart(page, PICTURE, key, tries=60, interval_ms=150)


def tile_texts(page, key: str = "cmp") -> list[str]:
    """The twelve outcome tiles' texts, once all are drawn."""
    page.wait_for_function(
        f"() => document.querySelectorAll('.st-key-{key}_difference [data-testid=\"stMetric\"]')"
        ".length === 12"
    )
    return page.evaluate(TILE_TEXT, key)


def overlaps(a: list[float], b: list[float], slack: float = 1.0) -> bool:
    return a[0] < b[2] - slack and b[0] < a[2] - slack and a[1] < b[3] - slack and b[1] < a[3] - slack


def check_layout(page, key: str) -> dict:
    """The projector checks, for the Compare page (`cmp`) or the lesson step (`lesson_cmp`)."""
    for chart in (f"{key}_race", f"{key}_outcome", f"{key}_diagram_left", f"{key}_logs_right"):
        picture(page, chart)  # drawn and settled
    got = page.evaluate(LAYOUT, key)
    assert len(got["tiles"]) == 12, got["tiles"]
    for tile in got["tiles"]:
        assert tile["box"][2] <= got["width"], f"a tile runs off the page: {tile}"
        for part in tile["parts"]:
            assert "…" not in part["text"] and "..." not in part["text"], f"cut text in a tile: {tile}"
            assert part["scroll"] <= part["client"], f"text wider than its tile: {part}"
            assert part["box"][0] >= tile["box"][0] - 1 and part["box"][2] <= tile["box"][2] + 1, part
        value = tile["parts"][1]["text"]
        assert WHOLE.match(value), f"not a whole number: {value!r} in {tile['parts'][0]['text']!r}"
    labels = {t["parts"][0]["text"] for t in got["tiles"]}
    assert {"ack p50 (ms)", "ack p99 (ms)", "acked per s"} <= labels, labels  # every number has its unit
    for chart in ("outcome", "race"):
        boxes = [t for t in got[chart] if t["text"].strip()]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert not overlaps(a["box"], b["box"]), f"{chart} chart titles overlap: {a} / {b}"
    assert len(got["outcome"]) >= 6
    left, right = got["panels"]
    assert left and right and not overlaps(left, right), got["panels"]
    assert right[0] >= left[2] - 1 or right[1] >= left[3] - 1  # side by side, or stacked left above right
    assert all(b[3] - b[1] < 1 for b in got["scrollbars"]), f"a legend is squeezed into a scroll box: {got}"
    return got


def open_lesson_compare(page, server: str) -> None:
    """The lesson's compare step through its link: the link opens it unanswered, so answer first."""
    page.goto(f"{server}/lessons_page?lesson={LESSON}&step={LESSON_STEP}")
    idle(page)
    page.locator("[data-testid='stRadio'] label").filter(has_text="Only the left").first.click()
    page.wait_for_timeout(500)
    page.locator(".st-key-predict_check button:not([disabled])").first.click()
    idle(page)
    page.locator(".st-key-lesson_cmp_difference").wait_for(timeout=120_000)


def crashed_link() -> dict[str, str]:
    """A Compare link made in the test process: acks=1 vs acks=all, leader crashed, 12 s in (p99 in the
    thousands, the widest numbers the tiles show)."""
    from ui.compare_page import CompareSession

    s = CompareSession.build("Broker failure", "acks=1 vs acks=all")
    s.step(40)
    s.apply({"op": "crash_broker", "broker": s.pair.left.snapshot().partition("payments", 0).leader})
    while s.pair.left.now < 12_000:
        s.step(100)
    return s.share_params()


# -- tests ------------------------------------------------------------------------------------------------------
def test_compare_page_tiles_are_whole_and_nothing_overlaps_at_1280x720(browser, server, tmp_path):
    page = new_page(browser)
    page.goto(f"{server}/compare?{urlencode(crashed_link())}")
    idle(page)
    page.locator(".st-key-cmp_difference").wait_for(timeout=60_000)
    got = check_layout(page, "cmp")
    values = [t["parts"][1]["text"] for t in got["tiles"]]
    assert any("," in v for v in values), values  # thousands of ms, printed whole
    page.locator(".st-key-cmp_difference").scroll_into_view_if_needed()
    page.screenshot(path=tmp_path / "compare-1280.png")


def test_lesson_compare_step_tiles_are_whole_and_panels_do_not_overlap_at_1280x720(browser, server, tmp_path):
    page = new_page(browser)
    open_lesson_compare(page, server)
    got = check_layout(page, "lesson_cmp")
    left, right = got["panels"]
    assert right[1] >= left[3] - 1, "the lesson column has no room for two readable diagrams: they stack"
    page.locator(".st-key-lesson_cmp_difference").scroll_into_view_if_needed()
    page.screenshot(path=tmp_path / "lesson-compare-1280.png")


def test_the_compare_share_link_reproduces_the_picture(browser, server, tmp_path):
    """Clicks in one browser, the address bar's link in a fresh one: the same step, tiles and pictures."""
    page = new_page(browser)
    page.goto(f"{server}/compare")
    idle(page)
    for _ in range(3):
        page.get_by_role("button", name="Step", exact=True).click()
        idle(page)
    page.get_by_role("button", name="Crash broker 2").click()
    idle(page)
    page.locator(".st-key-cmp_until").click()
    page.get_by_role("option", name="1 s of simulated time").click()
    page.get_by_role("button", name="Step until", exact=True).click()
    idle(page)
    page.wait_for_function("() => location.search.includes('state=')")
    page.get_by_role("button", name="Share").click()
    shared = page.locator(
        "[data-testid='stPopover'] code, [data-testid='stPopoverBody'] code"
    ).first.inner_text()
    link = page.url
    assert link.split("?", 1)[1] in shared.replace("\n", "")  # the Share box and the address bar agree
    before = {
        k: picture(page, k)
        for k in (
            "cmp_race",
            "cmp_outcome",
            "cmp_diagram_left",
            "cmp_diagram_right",
            "cmp_logs_left",
            "cmp_logs_right",
        )
    }
    tiles = tile_texts(page)
    step = page.get_by_text(re.compile(r"^Step \d+ · simulated time")).inner_text()

    fresh = new_page(browser)
    fresh.goto(link)
    idle(fresh)
    fresh.locator(".st-key-cmp_difference").wait_for(timeout=60_000)
    assert fresh.get_by_text(re.compile(r"^Step \d+ · simulated time")).inner_text() == step
    assert tile_texts(fresh) == tiles
    for k, pic in before.items():
        assert picture(fresh, k) == pic, f"{k} differs after opening the link"
    assert fresh.get_by_role("button", name="Restart broker 2").is_visible()  # the crash came along
    fresh.screenshot(path=tmp_path / "compare-from-link.png")
