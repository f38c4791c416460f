"""Benchmark 8 (issue 22): the pytest plugin as a test dependency.

- `fixture_first_produce`: what `kafka_bootstrap` does before a test (`start_server`: a 3-broker cluster on
  free loopback ports), then a confluent-kafka producer's first acknowledged record (acks=all, linger.ms=0),
  until the delivery report; median of several runs in one warm process (the first, which also imports the
  engine and its server, is kept in the detail as `cold_s`).
- `mock_first_produce`: librdkafka's own mock cluster (`test.mock.num.brokers=3`) from producer creation to
  its first acknowledged record, in the same run, for comparison (it cannot move leaders when a broker dies).
- `example_suite`: `pytest examples/testing` (10 tests with kafka_bootstrap) in a subprocess, wall clock, with
  Python's bytecode cache on as on a developer's machine: one untimed run fills it, then the median of 5.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time

from bench import ROOT, Result, median

FULL_SAMPLES = 7
QUICK_SAMPLES = 2
BAR_FIRST_PRODUCE_S = 0.5
BAR_SUITE_S = 10.0


def _first_ack(config: dict) -> float:
    """Seconds from creating a confluent-kafka producer (with `config`) to its first delivery report."""
    from confluent_kafka import Producer

    started = time.perf_counter()
    p = Producer({"acks": "all", "linger.ms": 0, **config})
    reports: list = []
    p.produce("bench", key=b"k", value=b"v", on_delivery=lambda err, msg: reports.append(err))
    while not reports and time.perf_counter() - started < 30:
        p.poll(0.001)
    took = time.perf_counter() - started
    if reports != [None]:
        raise RuntimeError(f"no acknowledgement within 30 s: {reports}")
    p.flush(5)
    return took


def _fixture_sample() -> float:
    from kafka_classroom.pytest_plugin import start_server

    started = time.perf_counter()
    server = start_server(seed=7)
    try:
        _first_ack({"bootstrap.servers": server.bootstrap})
        return time.perf_counter() - started
    finally:
        server.stop()


def _spread(xs: list[float]) -> list[float]:
    return [round(min(xs), 3), round(max(xs), 3)]


def first_produce(quick: bool) -> list[Result]:
    try:
        import confluent_kafka  # noqa: F401
    except ImportError:
        note = "confluent-kafka is not installed (pip install -e .[dev])"
        return [
            Result(
                "fixture_first_produce", None, "s", f"<= {BAR_FIRST_PRODUCE_S} s (median)", None, note=note
            ),
            Result(
                "mock_first_produce", None, "s", "librdkafka mock cluster, for comparison", None, note=note
            ),
        ]
    samples = QUICK_SAMPLES if quick else FULL_SAMPLES
    cold = _fixture_sample()  # imports the engine and its server once
    ours = [_fixture_sample() for _ in range(samples)]
    mock = [_first_ack({"test.mock.num.brokers": 3, "log_level": 4}) for _ in range(samples)]
    med, mock_med = median(ours), median(mock)
    return [
        Result(
            "fixture_first_produce",
            round(med, 3),
            "s",
            f"kafka_bootstrap start -> first acknowledged confluent-kafka produce <= {BAR_FIRST_PRODUCE_S} s "
            "(median)",
            med <= BAR_FIRST_PRODUCE_S,
            detail={
                "samples_s": [round(x, 3) for x in ours],
                "spread": _spread(ours),
                "cold_s": round(cold, 3),
            },
        ),
        Result(
            "mock_first_produce",
            round(mock_med, 3),
            "s",
            "librdkafka mock cluster (test.mock.num.brokers=3) start -> first acknowledged produce, same run "
            "(for comparison, no bar)",
            True,
            detail={"samples_s": [round(x, 3) for x in mock], "spread": _spread(mock)},
        ),
    ]


SUITE_RUNS = 5


def _suite_once(target: list[str], env: dict[str, str]) -> tuple[float, bool, int, str]:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "kafka_classroom.pytest_plugin", "-q", *target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    took = time.perf_counter() - started
    m = re.search(r"^(\d+) passed", proc.stdout, re.M)
    last = (proc.stdout.strip().splitlines() or [""])[-1]
    return took, proc.returncode == 0, int(m.group(1)) if m else 0, last


def example_suite(quick: bool) -> Result:
    """`pytest examples/testing` as a developer runs it: Python's bytecode cache on (a sandbox's
    PYTHONDONTWRITEBYTECODE=1 would make pytest re-rewrite every plugin's modules, hypothesis' 74 among them,
    on every run), kept in a throw-away PYTHONPYCACHEPREFIX. One untimed first run fills the cache (its time is
    `cold_s`), then the median of 5 runs (1 with --quick)."""
    target = ["examples/testing/test_orders_flow.py"] if quick else ["examples/testing"]
    runs = 1 if quick else SUITE_RUNS
    desc = (
        f"examples/testing ({'one file, quick' if quick else '10 tests'} with kafka_bootstrap) <= "
        f"{BAR_SUITE_S:.0f} s in total"
    )
    with tempfile.TemporaryDirectory(prefix="kc-pycache-") as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        cold, ok, passed, last = _suite_once(target, env)
        walls: list[float] = []
        for _ in range(runs if ok else 0):
            took, ok, passed, last = _suite_once(target, env)
            if not ok:
                break
            walls.append(took)
    if not ok:
        return Result("example_suite", None, "s", desc, False, note=f"the suite failed: {last}")
    took = median(walls)
    return Result(
        "example_suite",
        round(took, 2),
        "s",
        desc,
        took <= BAR_SUITE_S,
        detail={
            "tests_passed": passed,
            "runs": len(walls),
            "wall_s": [round(w, 2) for w in walls],
            "spread": _spread(walls),
            "cold_s": round(cold, 2),
        },
    )


def run(quick: bool = False) -> list[Result]:
    return [*first_produce(quick), example_suite(quick)]
