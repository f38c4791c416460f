"""mypy checks the engine's and the lessons' types with the tests (configuration in pyproject.toml: the
pydantic plugin, Python 3.11, `files = engine, lessons`), so a call that breaks a contract (a client without
`on_produce_response`, a `None` where a broker expects a session, an error code where a `KafkaError` belongs)
fails here instead of deep inside a run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_finds_no_type_errors_in_engine_and_lessons():
    r = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--cache-dir=/dev/null"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0 and "Success: no issues found" in r.stdout, r.stdout + r.stderr
