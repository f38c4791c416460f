"""Bulk experiments for lessons: the same scenario rebuilt once per config value, run, and measured.

A sweep answers questions one run cannot ("what does linger.ms buy, and what does it cost?"). Each run
is a fresh, deterministic cluster (same seed), so the only difference between rows is the swept config.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.scenario import Scenario, build_cluster

from .model import CommandError, SweepOp

Progress = Callable[[int, int, str], None]


def run_sweep(scenario: Scenario, op: SweepOp, progress: Progress | None = None) -> dict[str, Any]:
    """Rows of measurements, one per value of `op.config` on producer `op.producer`."""
    spec = next((p for p in scenario.producers if p.id == op.producer), None)
    if spec is None:
        raise CommandError(
            f"sweep: the scenario has no producer {op.producer!r}; producers are "
            f"{[p.id for p in scenario.producers]}"
        )
    rows = []
    for i, value in enumerate(op.values):
        if progress is not None:
            progress(i, len(op.values), f"{op.config} = {value}")
        data = scenario.model_dump()
        for p in data["producers"]:
            if p["id"] == op.producer:
                p["config"] = {**p["config"], op.config: value}
                if op.rate_per_s is not None:
                    p["rate_per_s"] = op.rate_per_s
        c = build_cluster(Scenario.model_validate(data))
        # the rows come from counts, metrics and the logs, never from the event log: no per-batch narration
        # (~5 events per produce request, each built and then trimmed away unread)
        c.narrate_batches = False
        c.run_for(op.run_ms)
        rows.append(_measure(c, op, value, spec.topic))
    if progress is not None:
        progress(len(op.values), len(op.values), "done")
    return {
        "config": op.config,
        "values": list(op.values),
        "producer": op.producer,
        "run_ms": op.run_ms,
        "rows": rows,
    }


def _measure(c, op: SweepOp, value: Any, topic: str) -> dict[str, Any]:
    p = c.producers[op.producer]
    seconds = op.run_ms / 1000
    requests = p.requests_sent  # (the event log keeps only the newest events: count on the producer)
    raw = wire = 0
    for part in range(c.topics[topic].partitions):
        r = c.leader_replica((topic, part))
        if r is None:
            continue
        for b in r.log.batches():
            raw += b.size_bytes
            wire += b.wire_bytes
    pct = c.metrics.ack_percentile
    return {
        "value": value,
        "acked": p.acked,
        "requests": requests,
        "records_per_request": round(p.acked / requests, 1) if requests else 0.0,
        "requests_per_s": round(requests / seconds, 1),
        "acked_per_s": round(p.acked / seconds, 1),
        "p50_latency_ms": pct(0.5) or 0.0,
        "p99_latency_ms": pct(0.99) or 0.0,
        "wire_kb": round(wire / 1024, 1),
        "compression_ratio": round(raw / wire, 2) if wire else 1.0,
    }


__all__ = ["run_sweep"]
