"""Benchmark 5: the issue-17 browser bars, measured in headless Chromium against `streamlit run app.py`.

One server on a free localhost port (stopped by its own pid), Debian's Chromium driven by Playwright
(shared/BROWSER.md). Each sample is click (or page open) -> settled: the script run it caused has finished
(counted on the `data-test-script-state` attribute, as Streamlit's own browser tests wait) and the step
line changed. Figures: the median of the samples, with the spread (min-max) and the machine's load average
before and after the run beside them; a run on a busy machine says so.

- Playground Step on Default after 1,000 steps (the run is opened from a shared link at step 1,000);
- Playground Back from there;
- opening that shared link (step 1,000 of Default, replayed from the link) until the diagram is drawn;
- Compare Step (the page's default pair), from its first steps.

`--quick` measures nothing here (a real browser takes about a minute): the four lines say so.
"""

from __future__ import annotations

import os
import time
import urllib.parse
from pathlib import Path

from bench import Result, median
from bench.servers import ARGS, CHROMIUM, start_streamlit, stop

VIEWPORT = {"width": 1280, "height": 800}
STEPS_BEFORE = 1000
SAMPLES = 11
LINK_SAMPLES = 3
BUSY_LOAD = 1.0  # 1-minute load average before the run above which a 2-core machine is not "quiet"
BUSY_AFTER = 2.5  # ... and after it (the run's own server and Chromium count too)
BARS = {  # name -> (bar in ms, what is timed)
    "step_browser": (250, "Playground Step click -> settled, Default after 1,000 steps"),
    "back_browser": (250, "Playground Back click -> settled, Default after 1,000 steps"),
    "link_browser": (3000, "open a shared Playground link at step 1,000 -> diagram drawn"),
    "compare_step_browser": (400, "Compare Step click -> settled"),
}

STEP_LINE = """() => { const m = document.body.innerText.match(/Step \\d+ · simulated time/); return m ? m[0] : ''; }"""
# Click -> settled, timed inside the page (no Playwright round trips in the figure): click the button, wait for
# a script run to finish (the attribute flips running -> notRunning, as Streamlit's own browser tests wait),
# then for the next frame to be painted.
CLICK_SETTLED = """([name, before]) => new Promise((resolve, reject) => {
  const app = document.querySelector("[data-testid='stApp']");
  const btn = [...document.querySelectorAll('button')].find(b => b.innerText.trim() === name && !b.disabled);
  if (!btn) { reject(new Error('no enabled button ' + name)); return; }
  let finished = 0;
  const obs = new MutationObserver(rs => { for (const r of rs) if (r.oldValue === 'running') finished += 1; });
  obs.observe(app, {attributes: true, attributeOldValue: true, attributeFilter: ['data-test-script-state']});
  const t0 = performance.now();
  window.__kcClickT0 = t0;
  setTimeout(() => { obs.disconnect(); reject(new Error(name + ': no finished run within 60 s')); }, 60000);
  const check = () => {
    const idle = app.getAttribute('data-test-script-state') === 'notRunning';
    // a very fast fragment run can flip the attribute before the observer sees it: then the moved step line
    const moved = () => { const m = document.body.innerText.match(/Step \\d+ · simulated time/);
                          return !!m && m[0] !== before; };
    if (idle && (finished > 0 || (performance.now() - t0 > 50 && moved()))) {
      obs.disconnect();
      requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0), 0));
    } else requestAnimationFrame(check);
  };
  btn.click();
  requestAnimationFrame(check);
})"""
STEP_READY = """() => [...document.querySelectorAll('button')].some(b => b.innerText.trim() === 'Step' && !b.disabled)"""
IDLE = """() => document.querySelector("[data-testid='stApp']").getAttribute('data-test-script-state') === 'notRunning'"""
DRAWN = """want => {
  const app = document.querySelector("[data-testid='stApp']");
  const el = document.querySelector('.st-key-diagram .js-plotly-plot');
  return !!app && app.getAttribute('data-test-script-state') === 'notRunning' && !!el && !!el.layout
         && document.body.innerText.includes(want);
}"""


# ui/live_chart.py redraws its charts after the run, in the page (React effect -> Plotly.react): a click is
# settled only once every such redraw it caused has finished (window.__kcLastDraw, ms on the page's clock).
NO_PENDING_DRAW = "() => !document.querySelector('[data-kc-pending]')"
LAST_DRAW = """() => (window.__kcLastDraw || 0) > (window.__kcClickT0 || 0)
  ? window.__kcLastDraw - window.__kcClickT0 : 0"""


def _click(page, name: str) -> float:
    """Click the button; seconds until the rerun it caused finished and was painted (checked: the step moved),
    including the live charts' redraws that finish after that frame."""
    before = page.evaluate(STEP_LINE)
    ms = page.evaluate(CLICK_SETTLED, [name, before])
    page.wait_for_timeout(
        150
    )  # let plotly finish any drawing left after the frame, so samples do not overlap
    page.wait_for_function(NO_PENDING_DRAW, timeout=60_000)
    ms = max(ms, page.evaluate(LAST_DRAW))
    if page.evaluate(STEP_LINE) == before:
        raise RuntimeError(f"{name} did not move the step line ({before!r})")
    return ms / 1000


def _shared_link(url: str) -> str:
    from ui.session import DEFAULT_PRESET, PlaygroundSession, preset

    s = PlaygroundSession.new(preset(DEFAULT_PRESET))
    s.step(STEPS_BEFORE)
    return f"{url}/playground?{urllib.parse.urlencode(s.share_params())}"


def _measure(browser, url: str) -> dict[str, list[float]]:
    got: dict[str, list[float]] = {k: [] for k in BARS}
    link = _shared_link(url)
    usable = got["link_usable"] = []  # ms until the Step button is enabled, per link sample (detail only)
    for _ in range(LINK_SAMPLES):  # a fresh browser context each time: a new Streamlit session
        ctx = browser.new_context(viewport=VIEWPORT)
        page = ctx.new_page()
        t0 = time.perf_counter()
        page.goto(link)
        page.wait_for_function(DRAWN, arg=f"Step {STEPS_BEFORE} ·", timeout=60_000)
        got["link_browser"].append(time.perf_counter() - t0)
        # not the bar, but said beside it: the controls can still be placeholders when the diagram is drawn
        page.wait_for_function(STEP_READY, timeout=60_000)
        usable.append(round((time.perf_counter() - t0) * 1000, 1))
        ctx.close()
    ctx = browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    page.goto(link)
    page.wait_for_function(DRAWN, arg=f"Step {STEPS_BEFORE} ·", timeout=60_000)
    page.wait_for_function(STEP_READY, timeout=60_000)
    _click(page, "Step")  # warm-up: the first click after a page load also fetches frontend code
    got["step_browser"] = [_click(page, "Step") for _ in range(SAMPLES)]
    got["back_browser"] = [_click(page, "Back") for _ in range(SAMPLES)]
    page.goto(f"{url}/compare")
    page.wait_for_selector(".st-key-cmp_step button", timeout=60_000)
    page.wait_for_function(IDLE, timeout=60_000)
    _click(page, "Step")
    got["compare_step_browser"] = [_click(page, "Step") for _ in range(SAMPLES)]
    ctx.close()
    return got


def _results(got: dict[str, list[float]], load: tuple[float, float]) -> list[Result]:
    busy = load[0] > BUSY_LOAD or load[1] > BUSY_AFTER  # the run itself (server + Chromium) adds ~1.5
    out = []
    for name, (bar, what) in BARS.items():
        ms = [round(x * 1000, 1) for x in got[name]]
        med = median(ms)
        out.append(
            Result(
                name,
                round(med, 1),
                "ms",
                f"{what} <= {bar} ms (median)",
                med <= bar,
                detail={
                    "samples_ms": ms,
                    "spread": [min(ms), max(ms)],
                    "load_before": round(load[0], 2),
                    "load_after": round(load[1], 2),
                    "busy": busy,
                    **({"step_usable_ms": got["link_usable"]} if name == "link_browser" else {}),
                },
            )
        )
    return out


def _unmeasured(why: str) -> list[Result]:
    return [
        Result(name, None, "ms", f"{what} <= {bar} ms (median)", None, note=why)
        for name, (bar, what) in BARS.items()
    ]


def run(quick: bool = False) -> list[Result]:
    if quick:
        return _unmeasured("not measured in --quick (a real browser run takes about a minute)")
    if not Path(CHROMIUM).exists():
        return _unmeasured(f"not available ({CHROMIUM} is not installed)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return _unmeasured("not available (the playwright package is not installed)")
    import tempfile

    load_before = os.getloadavg()[0]
    proc, url = start_streamlit(Path(tempfile.mkdtemp(prefix="bench-browser-")) / "server.log")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                got = _measure(browser, url)
            finally:
                browser.close()
    finally:
        stop(proc)
    return _results(got, (load_before, os.getloadavg()[0]))


if __name__ == "__main__":  # `python -m bench.step_browser`: just these four lines
    for r in run():
        print(r.line())
