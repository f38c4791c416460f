"""Benchmark 6: `Timeline.back()` from step 10,000 of the Default preset.

Back is exact because the engine is deterministic: the timeline restores the nearest checkpoint (a deep copy
that shares the immutable batches and events) and replays the few steps after it. Each sample steps forward
again first, so every `back()` starts from step 10,000.
"""

from __future__ import annotations

from bench import Result, median, timed

FULL_STEPS = 10_000
QUICK_STEPS = 300
SAMPLES = 7
BAR_MS = 150


def run(quick: bool = False) -> list[Result]:
    from engine.scenario import PRESETS
    from engine.timeline import Timeline

    steps = QUICK_STEPS if quick else FULL_STEPS
    samples = 3 if quick else SAMPLES
    tl = Timeline(PRESETS["Default"])
    forward, _ = timed(lambda: tl.steps(steps))
    walls, cpus = [], []
    for _ in range(samples):
        t, _ = timed(tl.back)
        walls.append(t.wall * 1000)
        cpus.append(t.cpu * 1000)
        assert tl.position == steps - 1
        tl.step()
    med = median(walls)
    detail = {
        "steps": steps,
        "samples_ms": [round(w, 1) for w in walls],
        "spread": [round(min(walls), 1), round(max(walls), 1)],
        "cpu_ms": round(median(cpus), 1),
        "forward_s": round(forward.wall, 2),
        "simulated_ms": tl.cluster.now,
        "events": len(tl.cluster.events),
    }
    return [
        Result(
            "time_travel",
            round(med, 1),
            "ms",
            f"Back from step {steps:,} <= {BAR_MS} ms (median)",
            med <= BAR_MS,
            detail=detail,
            cpu=round(median(cpus), 1),
        )
    ]
