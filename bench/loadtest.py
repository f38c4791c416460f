"""Load test of the hosted demo: many students stepping their own clusters in one Streamlit process.

    python bench/loadtest.py [--sessions 30] [--apptest 30] [--seconds 60] [--heavy-steps 10000] [--out PATH]

Three measurements, written to bench/loadtest-result.json and printed:
1. heavy: one session of the Default scenario (PRESETS["Default"] through engine.timeline.Timeline) stepped
   10,000 times, memory measured with tracemalloc around building + stepping (budget: 60 MB per session).
2. timeline: `--sessions` Timeline sessions in threads stepping concurrently for `--seconds`, each applying
   its own commands; afterwards every session must hold only its own records and events (no cross-talk).
3. apptest: `--apptest` real Streamlit sessions (streamlit.testing.v1.AppTest of app.py, one per thread)
   pressing Step (and, in every other session, Crash broker) for `--seconds`; no exception, no cross-talk.
   All sessions are alive at once, but their reruns take turns (a lock): AppTest runs scripts on one
   process-wide bare-mode Runtime, and overlapping runs break AppTest itself, not the app.
The process's peak RSS is compared with the 2.7 GB the public Streamlit hosting tier gives an app.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import threading
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.scenario import PRESETS  # noqa: E402
from engine.timeline import Timeline  # noqa: E402

SESSION_BUDGET_MB = 60
PROCESS_BUDGET_MB = 2700
OUT = ROOT / "bench" / "loadtest-result.json"


def rss_mb() -> float | None:
    try:
        import psutil
    except ImportError:
        return None
    return psutil.Process(os.getpid()).memory_info().rss / 1e6


class _PeakRss:
    """Samples the process RSS every 0.2 s while the load runs (tracemalloc misses non-Python memory)."""

    def __init__(self) -> None:
        self.peak = rss_mb() or 0.0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, rss_mb() or 0.0)

    def __enter__(self) -> _PeakRss:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, rss_mb() or 0.0)


# -- 1. one heavy session ------------------------------------------------------------------------------------------
def heavy_session(steps: int) -> dict[str, Any]:
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        tl = Timeline(PRESETS["Default"])
        samples = []
        for i in range(1, steps + 1):
            tl.step()
            if i % max(1, steps // 5) == 0 or i == steps:
                cur, peak = tracemalloc.get_traced_memory()
                samples.append(
                    {"step": i, "current_mb": round(cur / 1e6, 1), "peak_mb": round(peak / 1e6, 1)}
                )
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    c = tl.cluster
    return {
        "scenario": "Default",
        "steps": steps,
        "seconds": round(time.perf_counter() - t0, 1),
        "simulated_ms": c.now,
        "current_mb": round(current / 1e6, 1),
        "peak_mb": round(peak / 1e6, 1),
        "events_kept": len(c.events),
        "events_trimmed": c.events.trimmed,
        "checkpoints": len(tl._checkpoints),  # noqa: SLF001 - the figure that dominates memory
        "within_budget": peak / 1e6 <= SESSION_BUDGET_MB,
        "samples": samples,
    }


# -- 2. many Timeline sessions in threads ----------------------------------------------------------------------------
def _timeline_student(i: int, deadline: float) -> dict[str, Any]:
    tl = Timeline(PRESETS["Default"])
    steps = 0
    marker = f"session-{i}"
    while time.perf_counter() < deadline:
        tl.step()
        steps += 1
        if steps % 25 == 1:
            tl.apply({"op": "produce", "producer": "p1", "count": 3, "key": marker, "value": marker})
        if steps == 40 and i % 2 == 0:
            tl.apply({"op": "crash_broker", "broker": 1 + i % 3})
        if steps == 80 and i % 2 == 0:
            tl.apply({"op": "restart_broker", "broker": 1 + i % 3})
    return {"i": i, "steps": steps, "timeline": tl}


def _own_records_only(i: int, tl: Timeline) -> list[str]:
    """Cross-talk check: this session's logs hold its own manual records only, and only its own crashes."""
    c = tl.cluster
    problems = []
    for b in c.brokers.values():
        for r in b.replicas.values():
            for batch in r.log.batches():
                for v in batch.values:
                    if v and v.startswith(b"session-") and v != f"session-{i}".encode():
                        problems.append(f"session {i} holds {v!r} on broker {b.id}")
                        break
    crashed = {e.data.get("broker") for e in c.events.events if e.kind == "broker_crashed"}
    allowed = {1 + i % 3} if i % 2 == 0 else set()  # even sessions crash one broker (if they got that far)
    if not crashed <= allowed:
        problems.append(
            f"session {i} saw crashes of brokers {sorted(crashed)}, it only crashed {sorted(allowed)}"
        )
    return problems


def timeline_sessions(n: int, seconds: float) -> tuple[dict[str, Any], list[str], list[str]]:
    errors: list[str] = []
    tracemalloc.start()
    t0 = time.perf_counter()
    deadline = t0 + seconds
    try:
        with ThreadPoolExecutor(n) as pool:
            futs = [pool.submit(_timeline_student, i, deadline) for i in range(n)]
            results = []
            for f in futs:
                try:
                    results.append(f.result())
                except Exception as exc:  # noqa: BLE001 - a load test reports every failure
                    errors.append(f"timeline session: {type(exc).__name__}: {exc}")
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    cross = [p for r in results for p in _own_records_only(r["i"], r["timeline"])]
    ids = [id(r["timeline"].cluster) for r in results]
    if len(set(ids)) != len(ids):
        cross.append("two sessions share one Cluster object")
    steps = [r["steps"] for r in results]
    return (
        {
            "sessions": n,
            "seconds": seconds,
            "steps_total": sum(steps),
            "steps_min": min(steps, default=0),
            "steps_max": max(steps, default=0),
            "traced_current_mb": round(current / 1e6, 1),
            "traced_peak_mb": round(peak / 1e6, 1),
            "traced_peak_per_session_mb": round(peak / 1e6 / max(1, n), 1),
            "wall_seconds": round(time.perf_counter() - t0, 1),
        },
        errors,
        cross,
    )


# -- 3. many real Streamlit sessions (AppTest) in threads -------------------------------------------------------------
_APPTEST_LOCK = threading.Lock()


def _rerun(at: Any) -> None:
    with _APPTEST_LOCK:
        at.run()


def _apptest_student(i: int, deadline: float) -> dict[str, Any]:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    _rerun(at)
    if (ROOT / "ui" / "playground.py").exists():
        _rerun(at.switch_page("ui/playground.py"))
    reruns = 2
    errors = [str(e.value) for e in at.exception]
    crash_key = f"crash_b{1 + i % 3}"
    crashed = False
    while time.perf_counter() < deadline and not errors:
        keys = {b.key for b in at.button}
        if i % 2 == 0 and not crashed and crash_key in keys:
            at.button(key=crash_key).click()
            crashed = True
        elif "step" in keys:
            at.button(key="step").click()
        _rerun(at)
        reruns += 1
        errors = [str(e.value) for e in at.exception]
    return {"i": i, "reruns": reruns, "errors": errors, "at": at, "crashed": crashed}


def _clusters_of(at: Any) -> list[Any]:
    sys.path.insert(0, str(ROOT / "tests" / "reliability"))
    from test_hosted_demo import session_clusters  # the same walk the isolation test uses

    return session_clusters(at)


def apptest_sessions(n: int, seconds: float) -> tuple[dict[str, Any], list[str], list[str]]:
    errors: list[str] = []
    t0 = time.perf_counter()
    with ThreadPoolExecutor(n) as pool:
        futs = [pool.submit(_apptest_student, i, t0 + seconds) for i in range(n)]
        results = []
        for f in futs:
            try:
                results.append(f.result())
            except Exception as exc:  # noqa: BLE001
                errors.append(f"AppTest session: {type(exc).__name__}: {exc}")
    cross: list[str] = []
    seen: dict[int, int] = {}
    for r in results:
        errors.extend(f"AppTest session {r['i']}: {e}" for e in r["errors"])
        clusters = _clusters_of(r["at"])
        if not clusters:
            errors.append(f"AppTest session {r['i']} holds no cluster in st.session_state")
            continue
        for c in clusters:
            if id(c) in seen:
                cross.append(f"AppTest sessions {seen[id(c)]} and {r['i']} share a Cluster")
            seen[id(c)] = r["i"]
        crashed = {
            e.data.get("broker") for c in clusters for e in c.events.events if e.kind == "broker_crashed"
        }
        want = {1 + r["i"] % 3} if r["crashed"] else set()
        if crashed != want:
            cross.append(f"AppTest session {r['i']} saw crashes of {sorted(crashed)}, pressed {sorted(want)}")
    reruns = [r["reruns"] for r in results]
    return (
        {
            "sessions": n,
            "seconds": seconds,
            "reruns_total": sum(reruns),
            "reruns_min": min(reruns, default=0),
            "reruns_max": max(reruns, default=0),
            "wall_seconds": round(time.perf_counter() - t0, 1),
        },
        errors,
        cross,
    )


# -- the run ----------------------------------------------------------------------------------------------------------
def run(
    sessions: int = 30,
    seconds: float = 60.0,
    heavy_steps: int = 10_000,
    apptest: int = 30,
    out: Path | None = OUT,
) -> dict[str, Any]:
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    result: dict[str, Any] = {
        "date": started,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "errors": [],
        "cross_talk": [],
    }
    with _PeakRss() as rss:
        result["heavy"] = heavy_session(heavy_steps)
        tl, errs, cross = timeline_sessions(sessions, seconds)
        result["timeline"] = tl
        result["errors"] += errs
        result["cross_talk"] += cross
        if apptest:
            ap, errs, cross = apptest_sessions(apptest, seconds)
            result["apptest"] = ap
            result["errors"] += errs
            result["cross_talk"] += cross
    result["rss_peak_mb"] = round(rss.peak, 1)
    result["projected_mb_30_sessions_at_heavy"] = round(30 * result["heavy"]["peak_mb"], 1)
    result["within_budget"] = {
        "session_60mb": result["heavy"]["within_budget"],
        "process_2700mb": rss.peak <= PROCESS_BUDGET_MB,
        "projected_30_sessions_2700mb": 30 * result["heavy"]["peak_mb"] <= PROCESS_BUDGET_MB,
    }
    if out is not None:
        out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=30, help="Timeline sessions stepping in threads")
    ap.add_argument("--apptest", type=int, default=30, help="AppTest (real Streamlit) sessions; 0 to skip")
    ap.add_argument("--seconds", type=float, default=60.0, help="how long each group of sessions runs")
    ap.add_argument("--heavy-steps", type=int, default=10_000, help="steps of the single-session measurement")
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args(argv)
    r = run(a.sessions, a.seconds, a.heavy_steps, a.apptest, a.out)
    h, t = r["heavy"], r["timeline"]
    print(
        f"heavy: Default scenario, {h['steps']} steps in {h['seconds']} s: {h['current_mb']} MB now, "
        f"{h['peak_mb']} MB peak (budget {SESSION_BUDGET_MB} MB: {'ok' if h['within_budget'] else 'OVER'}), "
        f"{h['events_kept']} events kept, {h['events_trimmed']} trimmed, {h['checkpoints']} checkpoints"
    )
    print(
        f"timeline: {t['sessions']} sessions x {t['seconds']} s: {t['steps_total']} steps "
        f"({t['steps_min']}-{t['steps_max']} per session), traced peak {t['traced_peak_mb']} MB "
        f"({t['traced_peak_per_session_mb']} MB/session)"
    )
    if "apptest" in r:
        p = r["apptest"]
        print(
            f"apptest: {p['sessions']} Streamlit sessions x {p['seconds']} s: {p['reruns_total']} reruns "
            f"({p['reruns_min']}-{p['reruns_max']} per session)"
        )
    print(
        f"process peak RSS {r['rss_peak_mb']} MB (budget {PROCESS_BUDGET_MB} MB); 30 sessions at the heavy "
        f"figure would be {r['projected_mb_30_sessions_at_heavy']} MB"
    )
    print(
        f"errors: {len(r['errors'])}, cross-talk: {len(r['cross_talk'])}" + (f" -> {a.out}" if a.out else "")
    )
    for line in r["errors"][:10] + r["cross_talk"][:10]:
        print("  " + line)
    return 0 if not r["errors"] and not r["cross_talk"] and all(r["within_budget"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
