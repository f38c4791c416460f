"""Issue 17 in a real browser: while the Playground plays, message dots glide along their edges between steps.

Starts Play on the Default preset (3 steps/s) and watches the diagram's message markers in the DOM: a marker must change its position while the chart still holds one step's frames (so within one step, not
because the next step redrew it). The screenshot while playing (1280x720) goes to pytest's tmp dir and to
/tmp/kc-play-flow.png for a look. Uses the module-scoped `server` and `browser` fixtures of tests/conftest.py.
"""

from __future__ import annotations

import pytest

VIEWPORT = {"width": 1280, "height": 720}
SHOT = "/tmp/kc-play-flow.png"
STEP_INTERVAL_MS = 350  # "3 steps/s" in ui/session.py SPEEDS

pytestmark = pytest.mark.e2e

# Watches the diagram (the chart holding "flow-" frames) for up to `limit` ms: every time plotly writes a message
# marker's position (a MutationObserver sees each write, even when a busy machine paints few frames), it notes the
# marker (by its message id), its position and the step whose frames the chart holds. Returns the first marker
# seen at two positions under the same step's frames within `window` ms.
WATCH = """([limit, window]) => new Promise(resolve => {
  const t0 = performance.now(), seen = new Map(), steps = new Set();
  const isMessage = el => {
    const gd = el.closest('.js-plotly-plot'), layer = el.closest('.trace');
    if (!gd || !layer || !gd._fullData) return null;
    const fr = gd._transitionData && gd._transitionData._frames;
    if (!fr || !fr.length || !String(fr[0].name).startsWith('flow-')) return null;
    const i = Array.from(gd.querySelectorAll('.scatterlayer .trace')).indexOf(layer);
    return gd._fullData[i] && gd._fullData[i].legendgroup === 'messages' ? fr[0].name : null;
  };
  const done = r => { obs.disconnect(); resolve(r); };
  const obs = new MutationObserver(records => {
    const now = performance.now();
    for (const r of records) {
      const el = r.target;
      if (!(el instanceof SVGElement) || !el.classList.contains('point') || !el.__data__) continue;
      const step = isMessage(el);
      if (!step) continue;
      steps.add(step);
      const key = step + '/' + el.__data__.id, at = el.getAttribute('transform'), old = seen.get(key);
      if (old && old.at !== at && now - old.t <= window) {
        return done({moved: true, step, id: el.__data__.id, from: old.at, to: at, dt: now - old.t});
      }
      seen.set(key, {at, t: now});
    }
  });
  obs.observe(document.body, {subtree: true, attributes: true, attributeFilter: ['transform']});
  setTimeout(() => done({moved: false, steps: Array.from(steps)}), limit);
})"""


# The diagram on screen with its step's glide just started (ui/live_chart.py redraws one chart in place).
GLIDING = """() => Array.from(document.querySelectorAll('.st-key-diagram .js-plotly-plot')).some(gd => {
  const fr = gd._transitionData && gd._transitionData._frames;
  return fr && fr.length && gd.__flowPlayed === fr[0].name && getComputedStyle(gd).visibility === 'visible';
})"""


def test_play_moves_message_dots_along_their_edges_within_one_step(browser, server, tmp_path):
    from playwright.sync_api import expect

    ctx = browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    page.goto(f"{server}/")
    expect(page.get_by_role("heading", name="Kafka Classroom")).to_be_visible(timeout=30_000)
    page.get_by_test_id("stTopNav").get_by_role("link", name="Playground", exact=True).click()
    expect(page.locator(".st-key-narration")).to_contain_text("Step 0", timeout=30_000)
    expect(page.locator(".st-key-diagram .js-plotly-plot")).to_be_visible(timeout=30_000)

    page.get_by_role("button", name="Play", exact=True).click()
    expect(page.get_by_role("button", name="Pause", exact=True)).to_be_visible(timeout=30_000)
    page.evaluate("() => document.querySelector('.st-key-diagram').scrollIntoView({block: 'start'})")
    seen = page.evaluate(WATCH, [45_000, STEP_INTERVAL_MS])
    page.wait_for_function(GLIDING, timeout=60_000, polling="raf")  # a shown chart, its glide just pressed
    page.screenshot(path=SHOT)  # while playing: dots between their ends
    page.screenshot(path=tmp_path / "playing.png")
    assert seen["moved"], f"no message marker moved within one step while playing: {seen}"
    assert seen["dt"] <= STEP_INTERVAL_MS

    # Step and Back: the exact picture, no glide. Pause must take at the first click, also on a loaded machine
    # where Play ticks overrun their interval (it used to be undone by a second delivery of the same click).
    page.get_by_role("button", name="Pause", exact=True).click()
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible(timeout=30_000)
    page.wait_for_timeout(2000)  # a second delivery of the click would have pressed Play again by now
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Step", exact=True)).to_be_enabled(timeout=30_000)
    page.get_by_role("button", name="Step", exact=True).click()
    page.wait_for_function(
        "() => document.querySelector(\"[data-testid='stApp']\")"
        ".getAttribute('data-test-script-state') === 'notRunning'",
        timeout=60_000,
    )
    page.wait_for_timeout(500)
    buttons = page.evaluate("() => document.querySelectorAll('.js-plotly-plot .updatemenu-button').length")
    assert buttons == 0, "a stepped picture still offers the replay of animation frames"
    ctx.close()
