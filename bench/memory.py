"""Benchmark 3: peak RSS with 1,000,000 retained records of 100 bytes at RF=3.

Runs in a fresh interpreter (a child process) so the figure is this workload's peak, not the runner's.
Every value is a distinct 100-byte object, as real data would be; the three replicas of a partition share
one immutable batch each (and so do the loss ledger and any checkpoint), so the records cost memory once.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys

from bench import ROOT, Result, median

FULL_RECORDS = 1_000_000
LARGE_RECORDS = 5_000_000
QUICK_RECORDS = 20_000
QUICK_LARGE_RECORDS = 100_000
RUNS = 5
BAR_MB = 200  # issue 21 (was 400 in issue 7)
LINEAR_PCT = 10.0  # MB per million records at 5M within this of the figure at 1M


def _status_mb(name: str) -> float | None:
    """The `name:` line of this process's /proc/self/status in MB (Linux), None where unknown."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(f"{name}:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def swap_mb() -> float:
    """This process's memory swapped out (VmSwap), 0 where unknown."""
    got = _status_mb("VmSwap")
    return 0.0 if got is None else got


def peak_rss_mb() -> float:
    """This process's peak RSS. Linux: VmHWM (ru_maxrss would include the parent's size at fork time)."""
    got = _status_mb("VmHWM")
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 if got is None else got


def child(n: int) -> dict:
    """The measured workload (runs in the child)."""
    from engine import Cluster

    base = peak_rss_mb()
    c = Cluster(brokers=3, seed=7)
    c.create_topic("bench", partitions=6, replication_factor=3, config={"min.insync.replicas": 2})
    p = c.producer("p1", config={"acks": "all", "linger.ms": 5, "batch.size": 16384})
    keys = [f"user-{i:04d}".encode() for i in range(1000)]
    for i in range(n):
        p.send("bench", key=keys[i % 1000], value=b"%099d." % i)  # distinct 100-byte values
    p.flush()
    retained = sum(
        r.leo - r.log.log_start_offset
        for b in c.brokers.values()
        for r in b.replicas.values()
        if r.topic == "bench"
    )
    snap = c.snapshot()  # the views must work at this size too
    return {
        "records": n,
        "replica_records": retained,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "baseline_rss_mb": round(base, 1),
        "swap_mb": round(swap_mb(), 1),
        "partitions_in_snapshot": len(snap.partitions),
    }


def _child(n: int) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.memory", str(n)], cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    if proc.returncode != 0:
        raise RuntimeError(f"failed: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _per_million(d: dict) -> float:
    """MB of peak RSS above the fresh interpreter's, per million retained records."""
    return (d["peak_rss_mb"] - d["baseline_rss_mb"]) / (d["records"] / 1e6)


def run(quick: bool = False) -> list[Result]:
    n = QUICK_RECORDS if quick else FULL_RECORDS
    large = QUICK_LARGE_RECORDS if quick else LARGE_RECORDS
    runs = 1 if quick else RUNS
    target = f"<= {BAR_MB} MB for {n:,} records of 100 B at RF=3"
    try:
        small = [_child(n) for _ in range(runs)]
        big = _child(large)  # once: ~5x the time and memory of a 1M run
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        return [Result("memory", None, "MB", target, None, note=str(exc))]
    peaks = [d["peak_rss_mb"] for d in small]
    peak = median(peaks)
    per_m = median([_per_million(d) for d in small])
    per_m_big = _per_million(big)
    growth = 100.0 * (per_m_big / per_m - 1)
    return [
        Result(
            "memory",
            round(peak, 1),
            "MB peak RSS",
            target,
            peak <= BAR_MB,
            detail={**small[len(small) // 2], "spread": [min(peaks), max(peaks)], "peaks_mb": peaks},
        ),
        Result(
            "memory_large",
            round(per_m_big, 1),
            "MB per million records",
            f"{large:,} records retained without swapping, MB per million within {LINEAR_PCT:g}% of "
            f"the {n:,}-record run's {per_m:.1f} (linear)",
            abs(growth) <= LINEAR_PCT and big["swap_mb"] == 0,
            detail={**big, "growth_pct": round(growth, 1), "per_million_at_small_mb": round(per_m, 1)},
        ),
    ]


if __name__ == "__main__":
    print(json.dumps(child(int(sys.argv[1]))))
