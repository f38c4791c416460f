"""Smoke test of the benchmark runner: `python -m bench --quick` runs every benchmark at tiny sizes and
reports in the agreed format. No timing is asserted (a test machine's speed is not the engine's)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # bench/ is not an installed package: import it from the checkout
    sys.path.insert(0, str(ROOT))

from bench import Result  # noqa: E402
from bench.__main__ import BENCHMARKS  # noqa: E402

LINE = re.compile(r"^(?P<name>[a-z_]+): (?P<shown>.+) \(target: (?P<target>.+), (?P<status>PASS|MISS)\)$")
EXPECTED = {
    "throughput",
    "throughput_distinct_values",
    "throughput_headers_null_keys",
    "throughput_vs_librdkafka_mock",
    "produce_vs_librdkafka_mock",
    "throughput_vs_mockafka",
    "scaling",
    "memory",
    "memory_large",
    "step_server_default",
    "step_browser",
    "back_browser",
    "link_browser",
    "compare_step_browser",
    "time_travel",
    "bulk_lesson",
    "lecture_hall_step",  # --quick: 2 students over the websocket protocol, one process
    "lecture_hall_idle_cpu",
    "lecture_hall_rss",
    "fixture_first_produce",
    "mock_first_produce",
    "example_suite",
}


def test_quick_run_prints_one_line_per_benchmark_and_writes_results(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [ln for ln in proc.stdout.splitlines() if ln and not ln.startswith("#")]
    parsed = [LINE.match(ln) for ln in lines]
    assert all(parsed), [ln for ln, m in zip(lines, parsed, strict=True) if not m]
    assert {m["name"] for m in parsed} == EXPECTED

    data = json.loads((tmp_path / "results.json").read_text())
    assert data["quick"] is True
    assert {"cores", "python", "date"} <= set(data["machine"])
    by_name = {r["name"]: r for r in data["results"]}
    assert set(by_name) == EXPECTED
    for r in data["results"]:
        assert r["status"] in ("PASS", "MISS") and r["line"] in lines
        assert r["figure"] is None or isinstance(r["figure"], int | float)
    for name in ("throughput", "scaling", "memory", "time_travel"):  # pure-engine ones always measure
        assert by_name[name]["figure"] is not None, by_name[name]["line"]
    hall = by_name["lecture_hall_step"]  # two websocket students received every teacher step, none lost
    assert hall["figure"] is not None and hall["detail"]["lost_sessions"] == 0, hall["line"]

    table = (tmp_path / "benchmarks.md").read_text()
    assert "| Benchmark | Result | Same, from CPU time | Target | Status |" in table
    assert f"{data['machine']['cores']} cores" in table


def test_quick_run_leaves_the_real_results_alone():
    real = ROOT / "bench" / "results.json"
    before = real.read_bytes() if real.exists() else None
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "step_browser"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (real.read_bytes() if real.exists() else None) == before


def test_result_line_format():
    assert (
        Result("x", 512345.4, "records/s", ">= 500,000 records/s", True).line()
        == "x: 512,345 records/s (target: >= 500,000 records/s, PASS)"
    )
    assert (
        Result("y", None, "ms", "<= 450 ms", None, note="not collected").line()
        == "y: not collected (target: <= 450 ms, MISS)"
    )
    assert set(BENCHMARKS) >= {"throughput", "memory", "bulk_lesson"}


def test_a_full_run_rewrites_only_the_readme_table(tmp_path):
    from bench.__main__ import README_END, README_START, readme_table, update_readme

    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nbefore\n\n{README_START}\nold table\n{README_END}\n\nafter\n")
    results = [Result("throughput", 612345, "records/s", ">= 500,000 records/s", True)]
    update_readme(
        readme,
        readme_table(results, {"date": "2026-11-29", "cores": 2, "python": "3.11.7", "load_average_1m": 0.4}),
    )
    text = readme.read_text()
    assert "old table" not in text and text.startswith("# Title\n\nbefore\n") and text.endswith("\n\nafter\n")
    assert "| 1. End-to-end engine throughput | 612,345 records/s | >= 500,000 records/s | PASS |" in text
    assert "2026-11-29" in text
    # the real README has the markers, so a full run has somewhere to write
    real = (ROOT / "README.md").read_text()
    assert real.index(README_START) < real.index(README_END)
