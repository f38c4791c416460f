"""The page's own pictures and tables, from plain data (no Streamlit)."""

from __future__ import annotations

import pytest

from lessons.runner import LessonRun
from lessons.views import (
    assignment_figure,
    headline_events,
    record_rows,
    revoked_by_group,
    sweep_figure,
    sweep_table,
    traffic_summary,
)


@pytest.fixture(scope="module")
def rebalance_run(lesson_by_id):
    run = LessonRun(lesson_by_id["rebalance-on-failure"])
    run.run_all()
    return run


def test_assignment_figure_shows_who_reads_what(rebalance_run):
    snap = rebalance_run.results[2].snapshot  # c1 crashed, the eager group is rebalancing
    fig = assignment_figure(snap, ["eager"])
    cells = {s.name: s.fillcolor for s in fig.layout.shapes}
    assert cells["cell:eager:c1:orders-0"] == "#FBE3D6"  # owned by a dead member: stuck
    assert cells["cell:eager:c2:orders-2"] not in ("#F2F4F7", "#FBE3D6")  # read
    texts = [a.text for a in fig.layout.annotations]
    assert any("2 of 4 partitions have no reader" in t for t in texts)
    assert "c1 (crashed)" in texts


def test_revoked_counts_eager_against_cooperative(rebalance_run):
    last = rebalance_run.results[-1]
    got = revoked_by_group(last.all_events, ["eager", "cooperative"])
    assert {m: sorted(v) for m, v in got["eager"].items()} == {"c2": ["orders-2"], "c3": ["orders-3"]}
    assert got["cooperative"] == {}


def test_headlines_pick_the_important_events(rebalance_run):
    res = rebalance_run.results[2]
    kinds = [e.kind for e in headline_events(res.events)]
    assert "member_expired" in kinds and "batch_appended" not in kinds
    assert "appended" in traffic_summary(res.events)


def test_record_rows_put_lost_records_in_place(lesson_by_id):
    run = LessonRun(lesson_by_id["broker-failure-and-data-loss"])
    res = run.run_to(4)
    rows = record_rows(res.snapshot, "clicks")
    assert [(r["offset"], r["value"], r["state"]) for r in rows] == [
        (0, "before-the-crash", "committed"),
        (1, "kept", "committed"),
        (1, "doomed", "LOST"),
    ]
    assert rows[-1]["lost"] and "acks=1" in rows[-1]["why"]


def test_sweep_figure_and_table():
    sweep = {
        "config": "linger.ms",
        "values": [0, 50],
        "rows": [
            {
                "value": 0,
                "records_per_request": 8.0,
                "requests_per_s": 500.0,
                "acked_per_s": 4000.0,
                "p50_latency_ms": 3.0,
                "p99_latency_ms": 3.0,
                "wire_kb": 170.0,
                "compression_ratio": 5.0,
            },
            {
                "value": 50,
                "records_per_request": 120.0,
                "requests_per_s": 33.0,
                "acked_per_s": 3950.0,
                "p50_latency_ms": 52.0,
                "p99_latency_ms": 52.0,
                "wire_kb": 38.0,
                "compression_ratio": 20.0,
            },
        ],
    }
    fig = sweep_figure(sweep)
    assert list(fig.data[0].x) == [8.0, 120.0] and list(fig.data[0].text) == ["linger.ms=0", "linger.ms=50"]
    assert sweep_table(sweep)[1]["linger.ms"] == 50
