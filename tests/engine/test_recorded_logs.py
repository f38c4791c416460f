"""Behaviour unchanged across refactors and speed work: each preset, run with the same seed and the same
commands (a crash and a restart of broker 2), gives the event log recorded in recorded_logs.json before the
design and performance rounds (issues 19 and 21). A refactor that changes one event's time, kind or wording,
or the final offsets, fails here with the first differing event named.

Re-record only for an intended behaviour change, and say why in the commit:
    python tests/engine/test_recorded_logs.py --record
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RECORDED = Path(__file__).with_name("recorded_logs.json")


def _run(name: str) -> dict:
    from engine.scenario import PRESETS
    from engine.timeline import Timeline

    tl = Timeline(PRESETS[name])
    for i in range(400):
        tl.step()
        if i == 80:
            tl.apply({"op": "crash_broker", "broker": 2})
        if i == 220:
            tl.apply({"op": "restart_broker", "broker": 2})
    c = tl.cluster
    lines = [f"{e.time_ms} {e.kind} {e.summary}" for e in c.events.since(0)]
    snap = c.snapshot()
    ends = sorted(
        (p.topic, p.partition, p.high_watermark, p.log_end_offset)
        for p in snap.partitions
        if not p.topic.startswith("__")
    )
    return {
        "events": len(lines),
        "sha256": hashlib.sha256("\n".join(lines).encode()).hexdigest(),
        "first_20": lines[:20],
        "last_5": lines[-5:],
        "partitions": [list(t) for t in ends],
        "_lines": lines,
    }


def _presets() -> list[str]:
    from engine.scenario import PRESETS

    return list(PRESETS)


@pytest.mark.parametrize("name", _presets())
def test_preset_event_log_matches_the_recording(name):
    recorded = json.loads(RECORDED.read_text())[name]
    now = _run(name)
    assert now["partitions"] == recorded["partitions"], "high watermarks / log ends differ"
    if now["sha256"] != recorded["sha256"]:
        first = recorded["first_20"]
        for i, (a, b) in enumerate(zip(now["_lines"][:20], first, strict=False)):
            assert a == b, f"event {i} differs: now {a!r}, recorded {b!r}"
        assert now["events"] == recorded["events"], (
            f"{now['events']} events now, {recorded['events']} recorded"
        )
        assert now["last_5"] == recorded["last_5"]
        pytest.fail(f"{name}: the event log differs from the recording somewhere after event 20")


if __name__ == "__main__" and "--record" in sys.argv:
    sys.path.insert(0, str(ROOT))
    out = {}
    for n in _presets():
        r = _run(n)
        r.pop("_lines")
        out[n] = r
    RECORDED.write_text(json.dumps(out, indent=1) + "\n")
    print(f"recorded {len(out)} presets in {RECORDED}")
