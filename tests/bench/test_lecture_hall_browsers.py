"""The lecture hall's real Chromium students (bench/lecture_hall.py `--browsers`): a browser student on the
room link shows each teacher step (its narration and both charts), and the run says so. No timing is
asserted (the bar is for `python -m bench` on a quiet machine); this guards the page script that notes when
a browser's screen showed a step against a Streamlit whose page no longer looks the way it expects."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e


def test_a_browser_student_shows_every_teacher_step(tmp_path):
    out = tmp_path / "hall.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.lecture_hall", "--students", "1", "--steps", "2", "--idle", "0.5"]
        + ["--browsers", "1", "--interval", "1", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    d = json.loads(out.read_text())
    assert d["browsers"] == 1 and d["lost_browsers"] == 0
    assert [len(r["browsers_ms"]) for r in d["per_step"]] == [1, 1]
    assert all(ms is not None and ms > 0 for r in d["per_step"] for ms in r["browsers_ms"])
    assert "1 Chromium, 0 lost, 0 Chromium never showed a step" in proc.stdout
