"""Benchmark 5: the Playground's `Step` in headless Chromium, click -> settled.

Not measured here: the UI's Playwright e2e test (tests/e2e) clicks Step in a real browser and writes
bench/browser_step_latency.json (`median_ms`, `samples_ms`, `what`). This reads that file, or reports
"not collected" when the e2e test has not run on this machine.
"""

from __future__ import annotations

import json

from bench import ROOT, Result

SOURCE = ROOT / "bench" / "browser_step_latency.json"
BAR_MS = 450


def run(quick: bool = False) -> list[Result]:
    target = f"Step click -> settled in headless Chromium <= {BAR_MS} ms (median)"
    if not SOURCE.exists():
        return [Result("step_browser", None, "ms", target, None,
                       note="not collected (run the e2e test: pytest -m e2e tests/e2e)")]
    try:
        data = json.loads(SOURCE.read_text())
        med = float(data["median_ms"])
    except (ValueError, KeyError, TypeError) as exc:
        return [Result("step_browser", None, "ms", target, None, note=f"unreadable {SOURCE.name}: {exc}")]
    detail = {"source": str(SOURCE.relative_to(ROOT)), "what": data.get("what", ""),
              "samples_ms": data.get("samples_ms", [])}
    return [Result("step_browser", round(med, 1), "ms", target, med <= BAR_MS, detail=detail)]
