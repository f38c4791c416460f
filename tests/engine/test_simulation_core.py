"""The simulation core: clock, steps, network in flight, bounded loops, determinism, readable events."""

from __future__ import annotations

import pytest

from engine import Cluster
from engine.errors import SimulationLimitError
from helpers import GROUP_FAST, make_cluster


def _queue_scenario(seed: int = 7) -> Cluster:
    """The notes' queue example: one group of two consumers on a two-partition topic."""
    c = make_cluster(partitions=2, rf=3, seed=seed)
    p = c.producer("p1", {"linger.ms": 5})
    for i in range(20):
        p.send("orders", key=f"user-{i % 5}", value=f"order-{i}")
    for cid in ("c1", "c2"):
        c.consumer(cid, group_id="group-1", topics=["orders"], config=GROUP_FAST).start(100)
    c.run_for(4000)
    for i in range(20, 40):
        p.send("orders", key=f"user-{i % 5}", value=f"order-{i}")
        c.run_for(50)
    c.run_for(1000)
    return c


def test_same_seed_and_commands_give_the_identical_event_log():
    def run(seed):
        c = _queue_scenario(seed)
        c.crash_broker(2)
        c.consumers["c1"].crash()
        c.run_for(30_000)
        return [(e.time_ms, e.kind, e.summary) for e in c.events.events]

    a, b = run(11), run(11)
    assert a == b and len(a) > 50
    assert run(12) != a  # the seed matters (member ids, replica placement)


def test_requests_are_visible_while_in_flight():
    c = make_cluster(partitions=1, config={"simulator.network.latency.ms": 5})
    p = c.producer("p1", {"linger.ms": 0})
    p.send("orders", value="v")
    c.run_for(2)
    flying = [m for m in c.snapshot().in_flight if m.kind == "Produce"]
    assert len(flying) == 1
    m = flying[0]
    assert m.src == "p1" and m.dst.startswith("broker-") and m.arrive_ms - m.sent_ms == 5
    c.run_for(10)
    assert not [m for m in c.snapshot().in_flight if m.kind == "Produce"]


def test_step_runs_one_action_and_step_event_stops_at_the_next_event():
    c = make_cluster(partitions=1)
    p = c.producer("p1", {"linger.ms": 0})
    p.send("orders", value="v")
    before = c.scheduler.actions_run
    assert c.step() is True
    assert c.scheduler.actions_run == before + 1
    seq = c.events.seq
    evs = c.step_event()
    assert evs and evs[0].seq == seq + 1
    assert all(e.seq > seq for e in evs)


def test_run_for_advances_the_clock_exactly():
    c = Cluster(brokers=1)
    c.run_for(1234)
    assert c.now == 1234
    with pytest.raises(Exception, match="0 ms or more"):
        c.run_for(-1)


def test_run_until_idle_finishes_a_normal_run():
    c = make_cluster(partitions=2, rf=3)
    p = c.producer("p1")
    for i in range(50):
        p.send("orders", key=f"k{i}", value="v")
    c.consumer("c1", group_id="g", topics=["orders"], config=GROUP_FAST).start(100)
    c.run_until_idle()
    assert not c.busy()
    assert c.consumers["c1"].received == 50


def test_run_until_idle_is_bounded_and_says_why():
    c = make_cluster(partitions=1, rf=1)
    c.crash_broker(c.leaders_of("orders")[0])  # the only replica is gone: the batch can never be acknowledged
    p = c.producer("p1", {"delivery.timeout.ms": 10**7, "request.timeout.ms": 1000})
    p.send("orders", value="stuck")
    with pytest.raises(SimulationLimitError, match="still busy: producer p1"):
        c.run_until_idle(max_ms=20_000)


def test_the_applications_gc_thresholds_come_back_after_every_run_loop():
    import gc

    before = gc.get_threshold()
    gc.set_threshold(900, 11, 12)
    try:
        c = make_cluster(partitions=1, rf=1)
        p = c.producer("p1", {"linger.ms": 5})
        p.send("orders", value="a")
        p.flush()  # run_until
        c.run_for(100)
        c.run_until_idle()
        assert gc.get_threshold() == (900, 11, 12)
        c.crash_broker(c.leaders_of("orders")[0])
        p2 = c.producer("p2", {"delivery.timeout.ms": 10**7, "request.timeout.ms": 1000})
        p2.send("orders", value="stuck")
        with pytest.raises(SimulationLimitError):
            c.run_until_idle(max_ms=5_000)
        assert gc.get_threshold() == (900, 11, 12)  # also when the loop ends in an error
    finally:
        gc.set_threshold(*before)


def test_event_summaries_a_student_can_read(tmp_path):
    c = _queue_scenario()
    lines = [f"{e.seq:3d} t={e.time_ms:>5} ms  {e.kind:<20} {e.summary}" for e in c.events.events[:40]]
    out = tmp_path / "queue-scenario-events.txt"
    out.write_text("\n".join(lines) + "\n")
    text = out.read_text()
    assert len(lines) == 40
    for phrase in (
        "3-broker Kafka cluster started",
        "Topic orders created with 2 partition(s)",
        "p1 sent",
        "appended",
        "High watermark of orders-",
        "got the acknowledgement",
        "joined group group-1",
        "rebalancing",
        "Stable (generation 1)",
        "c1: [orders-0]",
        "c2: [orders-1]",
    ):
        assert phrase in text, f"missing {phrase!r} in:\n{text}"
    for e in c.events.events[:40]:
        assert e.summary[0].isupper() or e.summary[0].isdigit() or e.summary.startswith(("c", "p"))
        assert len(e.summary) < 400 and "\n" not in e.summary


def test_snapshot_is_plain_immutable_data():
    c = _queue_scenario()
    s = c.snapshot()
    with pytest.raises(AttributeError):
        s.time_ms = 0  # frozen
    p0 = s.partition("orders", 0)
    assert p0.leader in p0.replicas and set(p0.isr) == set(p0.replicas)
    assert p0.high_watermark == p0.log_end_offset
    assert all(r.topic == "orders" and r.partition == 0 for r in p0.tail)
    assert s.group("group-1").state == "Stable"
    assert {b.id for b in s.brokers} == {1, 2, 3}
    assert sum(b.controller for b in s.brokers) == 1


def test_step_event_on_an_idle_cluster_stops_after_max_ms():
    from engine.scenario import Scenario, TopicSpec
    from engine.timeline import STEP_MAX_MS, Timeline

    c = Cluster(brokers=1)
    c.run_for(10)
    assert c.step_event(max_ms=5000) == [] and c.now == 5010
    tl = Timeline(Scenario(brokers=1, topics=[TopicSpec(name="t", replication_factor=1)]))
    tl.steps(3)  # nothing produces: each Step advances at most a simulated minute
    assert tl.cluster.now <= 3 * STEP_MAX_MS
