"""Issue 17: a Step is a moment a student can see; waits for a timeout are one step; moves replay exactly."""

from __future__ import annotations

from engine.scenario import PRESETS
from engine.timeline import Timeline


def _snap_key(tl: Timeline) -> tuple:
    snap = tl.cluster.snapshot(tail=0)
    return (
        tl.cluster.now,
        tl.cluster.events.seq,
        tuple((p.topic, p.partition, p.leader, tuple(p.isr), p.high_watermark) for p in snap.partitions),
        tuple((g.group_id, g.state, g.generation) for g in snap.groups),
    )


def test_default_group_stable_and_first_records_consumed_within_10_steps():
    """Issue 17: on Default, 10 Step clicks reach a Stable group, acknowledged records and a poll() with records."""
    tl = Timeline(PRESETS["Default"])
    seen: set[str] = set()
    for _ in range(10):
        seen |= {e.kind for e in tl.step()}
    snap = tl.cluster.snapshot(tail=0)
    assert [g.state for g in snap.groups if g.group_id == "g1"] == ["Stable"]
    assert {"batch_acked", "records_polled"} <= seen
    assert sum(k.records_received for k in snap.consumers) > 0


def test_initial_rebalance_delay_is_one_step_that_says_so():
    """Issue 17: group.initial.rebalance.delay.ms (3 s) is waited out in one step, and the step knows why."""
    tl = Timeline(PRESETS["Default"])
    tl.steps(2)  # the topic, then both members join
    before = tl.cluster.now
    evs = tl.step()
    assert tl.cluster.now - before >= 2900
    assert "group.initial.rebalance.delay.ms=3000" in (tl.last_wait or "")
    assert any(e.kind == "rebalance_completed" for e in evs)


def test_broker_failure_new_leader_within_5_steps_and_the_wait_says_session_timeout():
    """Issue 17: crash the leader on Broker failure; a new leader is elected within 5 Step clicks, and waiting
    out broker.session.timeout.ms is one step whose wait names it."""
    tl = Timeline(PRESETS["Broker failure"])
    tl.steps(12)
    snap = tl.cluster.snapshot(tail=0)
    leader = next(p.leader for p in snap.partitions if p.topic == "payments")
    tl.apply({"op": "crash_broker", "broker": leader})
    waits, elected = [], False
    for _ in range(5):
        evs = tl.step()
        waits.append(tl.last_wait or "")
        if any(e.kind == "leader_elected" for e in evs):
            elected = True
            break
    assert elected
    assert any("broker.session.timeout.ms=9000" in w for w in waits)
    new = {p.partition: p.leader for p in tl.cluster.snapshot(tail=0).partitions if p.topic == "payments"}
    assert leader not in new.values()


def test_back_is_exact_after_visible_steps_skip_and_until():
    """Back returns the same picture as before a visible step, a +1 s step and a Step until."""
    tl = Timeline(PRESETS["Default"], checkpoint_every=3)
    tl.steps(4)
    for move in (None, "ms:1000", "until:rebalance"):
        before = _snap_key(tl)
        tl.step(move)
        assert _snap_key(tl) != before
        tl.back()
        assert _snap_key(tl) == before


def test_plus_one_second_is_a_step():
    tl = Timeline(PRESETS["Default"])
    tl.steps(3)
    pos, now = tl.position, tl.cluster.now
    tl.step("ms:1000")
    assert (tl.position, tl.cluster.now) == (pos + 1, now + 1000)


def test_state_replays_moves_and_every_event_steps():
    """A shared state (v2) with visible steps, +1 s, Step until and every-event steps replays the same picture."""
    tl = Timeline(PRESETS["Broker failure"])
    tl.steps(5)
    tl.step("ms:1000")
    tl.every_event = True
    tl.steps(3)
    tl.every_event = False
    tl.apply({"op": "crash_broker", "broker": 1})
    tl.step("until:election")
    tl.steps(2)
    state = tl.to_state()
    assert state["v"] == 2 and state["moves"][0] == [5, 5, "ms:1000"] and state["moves"][1] == [6, 8, "event"]
    again = Timeline.from_state(state)
    assert _snap_key(again) == _snap_key(tl)


def test_version_1_link_replays_one_event_per_step():
    """A link made before visible steps (no "v") lands on the same picture: its steps are single events."""
    old = Timeline(PRESETS["Default"])
    for _ in range(12):
        old.step("event")
    state = old.to_state()
    v1 = {"scenario": state["scenario"], "position": 12, "commands": []}
    assert _snap_key(Timeline.from_state(v1)) == _snap_key(old)


def test_visible_steps_are_deterministic():
    a, b = Timeline(PRESETS["Default"]), Timeline(PRESETS["Default"])
    ka = [(e.seq, e.kind, e.time_ms) for e in a.steps(15)]
    kb = [(e.seq, e.kind, e.time_ms) for e in b.steps(15)]
    assert ka == kb


def test_step_until_again_after_back_replays_the_recorded_step():
    tl = Timeline(PRESETS["Default"])
    tl.step("until:rebalance")
    after = _snap_key(tl)
    tl.back()
    tl.step_until("rebalance", max_substeps=1)  # a smaller budget this time: the recorded step wins
    assert _snap_key(tl) == after and len(tl.moves) == 1
