"""Soak run of the fault-injection state machine (tests/reliability/test_guarantees.py) with many examples.

    python bench/soak.py [--examples N] [--seed S] [--out PATH]

Runs the same `KafkaGuarantees` machine as the test suite under the `soak` profile (longer command
sequences, random rather than derandomized examples) and writes the result to bench/soak-result.json:
examples, steps, failures (with the shrunk, readable command sequence), time and date. Exit code 1 on a
failure, so CI can run it nightly.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "tests", ROOT / "tests" / "reliability"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))
OUT = ROOT / "bench" / "soak-result.json"


def soak(examples: int, seed: int | None = None, out: Path | None = OUT) -> dict:
    os.environ["KC_RELIABILITY_PROFILE"] = "soak"
    os.environ["KC_SOAK_EXAMPLES"] = str(examples)
    import _profiles
    import _stats
    import test_guarantees
    from hypothesis import seed as hyp_seed
    from hypothesis import settings
    from hypothesis.stateful import run_state_machine_as_test

    _stats.reset()
    cfg = settings(_profiles.machine_settings(), max_examples=examples)
    started = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    failure = None
    printed = io.StringIO()
    machine = test_guarantees.KafkaGuarantees
    if seed is not None:
        machine = hyp_seed(seed)(machine)  # hypothesis.seed on a state machine class pins its random stream
    with contextlib.redirect_stdout(printed):
        try:
            run_state_machine_as_test(machine, settings=cfg)
        except BaseException as exc:  # noqa: BLE001 - any failure is the result, not a crash of the runner
            text = "".join(traceback.format_exception(exc))  # includes each failure's shrunk example (notes)
            failure = {"error": f"{type(exc).__name__}: {str(exc)[:2000]}", "report": text[-20000:]}
    name = test_guarantees.NAME
    result = {
        "date": started.isoformat(timespec="seconds"),
        "profile": "soak",
        "examples": _stats.EXAMPLES[name],
        "examples_requested": examples,
        "steps": _stats.STEPS[name],
        "failures": 0 if failure is None else 1,
        "failure": failure,
        "seconds": round(time.perf_counter() - t0, 1),
        "seed": seed,
        "exercised": dict(sorted(_stats.COVERAGE.items())),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "printed": printed.getvalue()[-6000:] or None,  # hypothesis' shrunk example, if any
    }
    if out is not None:
        out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Soak the reliability state machine; writes bench/soak-result.json"
    )
    ap.add_argument("--examples", type=int, default=2000, help="state-machine examples to run (default 2000)")
    ap.add_argument("--seed", type=int, default=None, help="hypothesis seed, to repeat a run")
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args(argv)
    r = soak(a.examples, a.seed, a.out)
    print(
        f"soak: {r['examples']} examples, {r['steps']} steps, {r['failures']} failure(s) in {r['seconds']} s "
        f"-> {a.out}"
    )
    if r["failure"]:
        print(r["failure"]["error"])
        print(r["printed"] or "")
    return 1 if r["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
