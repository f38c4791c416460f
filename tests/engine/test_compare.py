"""Two runs, one setting changed: acks=1 loses acknowledged records in a leader crash, acks=all does not."""

from __future__ import annotations

import pytest

from engine.compare import ComparePair, apply_changes
from engine.errors import ConfigError
from engine.scenario import PRESETS


def _crash_leader_pair() -> ComparePair:
    pair = ComparePair(PRESETS["Broker failure"], left=["producer.acks=1"], right=["producer.acks=all"])
    for _ in range(40):
        pair.step()
    leader = pair.left.snapshot().partition("payments", 0).leader
    for b in (1, 2, 3):
        if b != leader:
            pair.apply({"op": "slow_broker", "broker": b, "extra_latency_ms": 30})  # followers lag a little
    for _ in range(30):
        pair.step()
    while True:  # crash the leader right after it acknowledged an acks=1 batch on the left
        left_events, _ = pair.step()
        if any(e.kind == "batch_acked" and e.topic == "payments" and e.partition == 0 for e in left_events):
            break
    pair.apply({"op": "crash_broker", "broker": leader})
    crashed_at = pair.left.now
    while pair.left.now < crashed_at + 11_000:  # past broker.session.timeout.ms: a new leader is elected
        pair.step()
    return pair


def test_acks1_vs_acks_all_through_a_leader_crash():
    pair = _crash_leader_pair()
    left, right = pair.outcomes()
    assert left.records_lost > 0 and right.records_lost == 0
    assert left.records_acked > 0 and right.records_acked > 0
    assert abs(pair.left.now - pair.right.now) <= 1  # aligned on simulated time
    div = pair.divergence()
    assert div is not None and div.startswith("t=")
    first_diff = next(
        i
        for i, (a, b) in enumerate(zip(pair.left.events.events, pair.right.events.events, strict=False))
        if (a.time_ms, a.kind, a.summary) != (b.time_ms, b.kind, b.summary)
    )
    a = pair.left.events.events[first_diff]
    assert f"t={min(a.time_ms, pair.right.events.events[first_diff].time_ms)} ms" in div
    assert a.summary[:60] in div


def test_back_keeps_both_runs_aligned():
    pair = ComparePair(PRESETS["Default"], left=["producer.linger.ms=0"], right=["producer.linger.ms=50"])
    for _ in range(30):
        pair.step()
    before = (pair.left.snapshot(), pair.right.snapshot())
    pair.step()
    pair.back()
    assert (pair.left.snapshot(), pair.right.snapshot()) == before


def test_changes_are_validated():
    with pytest.raises(ConfigError, match="scope.config=value"):
        apply_changes(PRESETS["Default"], ["acks1"])
    with pytest.raises(ConfigError, match="scope must be one of"):
        apply_changes(PRESETS["Default"], ["cluster.acks=1"])
    s = apply_changes(
        PRESETS["Default"],
        [
            "consumer.partition.assignment.strategy=cooperative-sticky",
            "topic.unclean.leader.election.enable=true",
        ],
    )
    assert s.groups[0].config["partition.assignment.strategy"] == "cooperative-sticky"
    assert s.topics[0].config["unclean.leader.election.enable"] is True


def test_compare_checkpoints_stay_bounded_and_back_stays_exact():
    from engine.timeline import MAX_CHECKPOINTS

    pair = ComparePair(PRESETS["Default"], left=[], right=["producer.linger.ms=50"], checkpoint_every=1)
    for _ in range(MAX_CHECKPOINTS + 40):
        pair.step()
    assert len(pair._checkpoints) <= MAX_CHECKPOINTS + 1
    before = (pair.left.snapshot(), pair.right.snapshot())
    pair.step()
    pair.back()
    assert (pair.left.snapshot(), pair.right.snapshot()) == before
