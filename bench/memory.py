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

from bench import ROOT, Result

FULL_RECORDS = 1_000_000
QUICK_RECORDS = 20_000
BAR_MB = 400


def peak_rss_mb() -> float:
    """This process's peak RSS. Linux: VmHWM (ru_maxrss would include the parent's size at fork time)."""
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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
        "partitions_in_snapshot": len(snap.partitions),
    }


def run(quick: bool = False) -> list[Result]:
    n = QUICK_RECORDS if quick else FULL_RECORDS
    proc = subprocess.run(
        [sys.executable, "-m", "bench.memory", str(n)], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    if proc.returncode != 0:
        return [
            Result(
                "memory",
                None,
                "MB",
                f"peak RSS <= {BAR_MB} MB",
                None,
                note=f"failed: {proc.stderr.strip().splitlines()[-1:]}",
            )
        ]
    detail = json.loads(proc.stdout.strip().splitlines()[-1])
    peak = detail["peak_rss_mb"]
    return [
        Result(
            "memory",
            peak,
            "MB peak RSS",
            f"<= {BAR_MB} MB for {n:,} records of 100 B at RF=3",
            peak <= BAR_MB,
            detail=detail,
        )
    ]


if __name__ == "__main__":
    print(json.dumps(child(int(sys.argv[1]))))
