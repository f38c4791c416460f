"""Benchmark 4: the Playground's `Step`, server side: AppTest rerun time after 1,000 steps.

Opens app.py in `streamlit.testing.v1.AppTest`, goes to the Playground page, moves its session 1,000 steps
ahead (through the session object, without 1,000 reruns), then times clicks on the button labelled `Step`:
each sample is one full rerun of the page (engine step, snapshot, figures, widgets). Default preset and the
Large preset (9 brokers, 3 topics x 12 partitions, RF 3, 3 groups).
"""

from __future__ import annotations

import logging
from pathlib import Path

from bench import ROOT, Result, median, timed

FULL_STEPS = 1000
QUICK_STEPS = 5
SAMPLES = 7
QUICK_SAMPLES = 1
BARS_MS = {"Default": 120, "Large": 300}
PAGE = "ui/playground.py"


def _unavailable(preset: str, why: str) -> Result:
    return Result(
        f"step_server_{preset.lower()}",
        None,
        "ms",
        f"AppTest rerun for Step after 1,000 steps <= {BARS_MS[preset]} ms (median)",
        None,
        note=f"not available ({why})",
    )


def _measure(preset: str, steps: int, samples: int) -> Result:
    from streamlit.testing.v1 import AppTest

    # AppTest runs pages in bare mode; Streamlit warns about that once per thread, which is noise here
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)

    from engine.scenario import PRESETS
    from ui.session import SESSION_KEY

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page(PAGE).run()
    if at.exception:
        return _unavailable(preset, f"the page raised {at.exception[0].message[:80]!r}")
    session = at.session_state[SESSION_KEY]
    if preset != "Default":
        session.load(PRESETS[preset])
    session.step(steps)
    step_buttons = [b for b in at.button if b.label == "Step"]
    if not step_buttons:
        return _unavailable(preset, "no button labelled Step on the Playground")
    walls, cpus = [], []
    for _ in range(samples):
        button = next(b for b in at.button if b.label == "Step")
        t, _ = timed(lambda b=button: b.click().run())
        if at.exception:
            return _unavailable(preset, f"Step raised {at.exception[0].message[:80]!r}")
        walls.append(t.wall * 1000)
        cpus.append(t.cpu * 1000)
    session = at.session_state[SESSION_KEY]
    med = median(walls)
    return Result(
        f"step_server_{preset.lower()}",
        round(med, 1),
        "ms",
        f"AppTest rerun for Step after {steps:,} steps on {preset} <= {BARS_MS[preset]} ms (median)",
        med <= BARS_MS[preset],
        detail={
            "steps_before": steps,
            "position_after": session.position,
            "samples_ms": [round(w, 1) for w in walls],
            "spread": [round(min(walls), 1), round(max(walls), 1)],
            "cpu_ms": round(median(cpus), 1),
        },
        cpu=round(median(cpus), 1),
    )


def run(quick: bool = False) -> list[Result]:
    steps = QUICK_STEPS if quick else FULL_STEPS
    samples = QUICK_SAMPLES if quick else SAMPLES
    presets = ["Default"] if quick else ["Default", "Large"]
    if not (Path(ROOT) / PAGE).exists():
        return [_unavailable(p, f"{PAGE} is not there yet") for p in presets]
    try:
        import streamlit.testing.v1  # noqa: F401

        import ui.session  # noqa: F401
    except ImportError as exc:
        return [_unavailable(p, f"cannot import {exc.name}") for p in presets]
    return [_measure(p, steps, samples) for p in presets]
