"""The produce command can send a tombstone (a null value), so a compaction lesson is a replayable timeline."""

from __future__ import annotations

from engine.scenario import Scenario
from engine.timeline import Timeline


def _timeline() -> Timeline:
    return Timeline(
        Scenario.model_validate(
            {
                "brokers": 1,
                "topics": [
                    {
                        "name": "profiles",
                        "partitions": 1,
                        "replication_factor": 1,
                        "config": {"cleanup.policy": "compact"},
                    }
                ],
                "producers": [{"id": "p1", "topic": "profiles", "rate_per_s": 0, "config": {"linger.ms": 0}}],
            }
        )
    )


def test_produce_tombstone_writes_a_null_value_and_replays():
    tl = _timeline()
    tl.apply({"op": "produce", "producer": "p1", "key": "user-0", "value": "v1"})
    assert "tombstone" in tl.apply({"op": "produce", "producer": "p1", "key": "user-0", "tombstone": True})
    tl.apply({"op": "run_for", "ms": 100})
    tail = tl.cluster.snapshot().partition("profiles", 0).tail
    assert [(r.key, r.value) for r in tail] == [(b"user-0", b"v1"), (b"user-0", None)]
    again = Timeline.from_state(tl.to_state())  # recorded like any command: the same picture
    assert again.cluster.snapshot() == tl.cluster.snapshot()


def test_produce_without_value_still_sends_a_default_value():
    tl = _timeline()
    tl.apply({"op": "produce", "producer": "p1", "key": "k", "value": None})
    tl.apply({"op": "run_for", "ms": 100})
    assert tl.cluster.snapshot().partition("profiles", 0).tail[0].value == b"p1-manual-0"
