"""Bulk runs (a lesson's sweep) skip the per-batch narration nobody reads, and nothing else changes: the same
records, requests, offsets, latencies and wire sizes, and every other event still recorded."""

from __future__ import annotations

from engine.codecs import compress
from engine.records import BATCH_OVERHEAD, compressed_size
from engine.scenario import PRESETS, Scenario, build_cluster
from lessons.experiments import run_sweep
from lessons.model import SweepOp

ROUTINE = {"batch_sent", "batch_appended", "records_replicated", "high_watermark", "batch_acked"}


def _cluster(preset: str, narrate: bool, linger: int = 5, rate: float = 2000):
    data = PRESETS[preset].model_dump()
    data["producers"][0]["config"]["linger.ms"] = linger
    data["producers"][0]["rate_per_s"] = rate
    c = build_cluster(Scenario.model_validate(data))
    c.events.max_events = 1_000_000  # keep everything, so the two logs can be compared whole
    c.narrate_batches = narrate
    return c


def _state(c):
    p = c.producers["p1"]
    logs = {}
    for name, t in c.topics.items():
        for part in range(t.partitions):
            r = c.leader_replica((name, part))
            if r is not None:
                logs[(name, part)] = (
                    r.hw,
                    r.log.log_end_offset,
                    [(b.base_offset, b.count, b.wire_bytes) for b in r.log.batches()],
                )
    return (
        p.acked,
        p.requests_sent,
        c.metrics.ack_percentile(0.5),
        c.metrics.ack_percentile(0.99),
        dict(c.metrics.ack_histogram),
        logs,
        c.now,
    )


def test_without_narration_the_run_is_the_same_and_other_events_stay():
    # "Default" replicates (RF 3, so follower fetches and records_replicated), "Batching" compresses
    for preset in ("Default", "Batching"):
        told, quiet = _cluster(preset, True), _cluster(preset, False)
        for c in (told, quiet):
            c.run_for(4000)
            c.crash_broker(c.leader_replica((PRESETS[preset].producers[0].topic, 0)).broker_id)
            c.run_for(2000)  # (retries and dropped messages follow the crash)
        assert _state(quiet) == _state(told)
        told_kinds = {e.kind for e in told.events.events}
        assert ROUTINE & told_kinds  # the narrated run tells each batch's hops
        assert not ROUTINE & {e.kind for e in quiet.events.events}
        others = [(e.time_ms, e.kind, e.summary) for e in told.events.events if e.kind not in ROUTINE]
        assert [(e.time_ms, e.kind, e.summary) for e in quiet.events.events] == others
        assert {"broker_crashed", "batch_retried"} <= {kind for _t, kind, _s in others}


def test_sweep_rows_are_the_narrated_runs_numbers():
    op = SweepOp(producer="p1", config="linger.ms", values=[0, 5], rate_per_s=5000, run_ms=1500)
    rows = run_sweep(PRESETS["Batching"], op)["rows"]
    for row, linger in zip(rows, (0, 5), strict=True):
        c = _cluster("Batching", True, linger=linger, rate=5000)
        c.run_for(1500)
        p = c.producers["p1"]
        assert (row["acked"], row["requests"]) == (p.acked, p.requests_sent)
        assert row["p99_latency_ms"] == c.metrics.ack_percentile(0.99)
        assert sum(1 for e in c.events.events if e.kind == "batch_sent") == p.requests_sent


def test_a_batch_compressed_again_has_the_same_wire_size():
    values = tuple(f"p1-{i}".encode().ljust(40, b".") for i in range(44))
    keys = (None,) * len(values)
    fresh = len(compress("gzip", b"".join(values))) + BATCH_OVERHEAD
    assert compressed_size(keys, values, "gzip") == fresh
    assert compressed_size(keys, values, "gzip") == fresh  # the second time from the cache
    assert compressed_size(keys, values, "zstd") == len(compress("zstd", b"".join(values))) + BATCH_OVERHEAD
