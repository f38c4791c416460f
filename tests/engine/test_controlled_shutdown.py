"""Controlled shutdown (controlled.shutdown.enable=true, the default): a broker asked to stop has the controller
move its leaderships and take it out of every ISR before it exits (KRaft BrokerHeartbeat wantShutDown,
BrokerHeartbeatManager.calculateNextBrokerState, ReplicationControlManager.handleBrokerInControlledShutdown)."""

from __future__ import annotations

from engine.scenario import ProducerSpec, Scenario, TopicSpec
from engine.timeline import Timeline

BROKER = 3  # leads some partitions of `payments` and is not the active controller (broker 1)


def _cluster(broker_config: dict | None = None, rf: int = 3) -> Timeline:
    s = Scenario(
        seed=5,
        brokers=3,
        broker_config=broker_config or {},
        topics=[
            TopicSpec(name="payments", partitions=6, replication_factor=rf, config={"min.insync.replicas": 2})
        ],
        producers=[
            ProducerSpec(
                id="p1",
                topic="payments",
                keys="user_ids",
                key_count=60,
                rate_per_s=50,
                config={"acks": "all"},
            )
        ],
    )
    tl = Timeline(s)
    tl.apply({"op": "run_for", "ms": 3000})
    return tl


def _led_by(tl: Timeline, broker: int) -> list:
    return sorted(
        tp
        for tp, ps in tl.cluster.controller.partitions.items()
        if tp[0] == "payments" and ps.leader == broker
    )


def _kinds(tl: Timeline, seq: int, kind: str) -> list:
    return [e for e in tl.cluster.events.since(seq) if e.kind == kind]


def test_leaders_move_before_the_broker_stops_and_no_partition_goes_offline():
    tl = _cluster()
    c = tl.cluster
    led = _led_by(tl, BROKER)
    assert led and c.controller.active != BROKER
    seq = c.events.seq
    tl.apply({"op": "shutdown_broker", "broker": BROKER})
    tl.apply({"op": "run_for", "ms": 3000})
    stopped = _kinds(tl, seq, "broker_stopped")
    assert len(stopped) == 1 and stopped[0].data["controlled"] is True
    moved = [e for e in _kinds(tl, seq, "leader_elected") if e.data["previous"] == BROKER]
    assert sorted((e.topic, e.partition) for e in moved) == led
    assert all(e.seq < stopped[0].seq for e in moved)  # every leadership moved while the broker still ran
    assert not _kinds(tl, seq, "partition_offline")
    assert not c.brokers[BROKER].alive and not _led_by(tl, BROKER)
    assert all(BROKER not in ps.isr for tp, ps in c.controller.partitions.items() if tp[0] == "payments")


def test_no_acks_all_write_fails_during_a_controlled_shutdown():
    tl = _cluster()
    p = tl.cluster.producers["p1"]
    sent_before = p.sent
    tl.apply({"op": "shutdown_broker", "broker": BROKER})
    tl.apply({"op": "run_for", "ms": 5000})
    assert p.sent - sent_before >= 200 and p.failed == 0
    assert p.acked >= p.sent - 50  # all but the last moments' batches are acknowledged


def test_the_controller_fences_the_stopped_broker_at_once_not_after_its_session_timeout():
    tl = _cluster()
    c = tl.cluster
    start = c.now
    seq = c.events.seq
    tl.apply({"op": "shutdown_broker", "broker": BROKER})
    tl.apply({"op": "run_for", "ms": 1000})
    fenced = _kinds(tl, seq, "broker_fenced")
    assert fenced and fenced[0].time_ms - start < c.broker_config.broker_heartbeat_interval_ms
    assert BROKER not in c.controller.live


def test_without_controlled_shutdown_leaders_move_only_after_the_session_timeout():
    """controlled.shutdown.enable=false: the broker just exits; the controller finds out as after a crash."""
    tl = _cluster({"controlled.shutdown.enable": False})
    c = tl.cluster
    start, seq = c.now, c.events.seq
    tl.apply({"op": "shutdown_broker", "broker": BROKER})
    tl.apply({"op": "run_for", "ms": 5000})
    assert not [e for e in _kinds(tl, seq, "leader_elected") if e.data["previous"] == BROKER]
    assert _kinds(tl, seq, "broker_stopped")[0].data["controlled"] is False
    tl.apply({"op": "run_for", "ms": 6000})
    fenced = _kinds(tl, seq, "broker_fenced")
    assert fenced and fenced[0].time_ms - start >= c.broker_config.broker_session_timeout_ms - 2000
    assert not _led_by(tl, BROKER)


def test_a_partition_whose_only_replica_is_the_stopping_broker_goes_offline():
    """PartitionChangeBuilder without ELR: no other ISR member, so NO_LEADER; a controlled shutdown cannot help."""
    tl = _cluster(rf=1)
    led = _led_by(tl, BROKER)
    seq = tl.cluster.events.seq
    tl.apply({"op": "shutdown_broker", "broker": BROKER})
    tl.apply({"op": "run_for", "ms": 1000})
    offline = sorted((e.topic, e.partition) for e in _kinds(tl, seq, "partition_offline"))
    assert led and offline == led


def test_restarted_broker_rejoins_the_isr_and_a_preferred_election_gives_its_leaderships_back():
    tl = _cluster()
    led = _led_by(tl, BROKER)
    tl.apply({"op": "shutdown_broker", "broker": BROKER})
    tl.apply({"op": "run_for", "ms": 2000})
    tl.apply({"op": "restart_broker", "broker": BROKER})
    tl.apply({"op": "run_for", "ms": 5000})
    c = tl.cluster
    assert all(BROKER in ps.isr for tp, ps in c.controller.partitions.items() if tp[0] == "payments")
    tl.apply({"op": "preferred_election", "topic": "payments"})
    tl.apply({"op": "run_for", "ms": 500})
    assert _led_by(tl, BROKER) == led and c.producers["p1"].failed == 0
    assert type(tl).from_state(tl.to_state()).cluster.snapshot() == c.snapshot()  # deterministic replay


def test_shutting_down_the_active_controllers_broker_elects_another_controller():
    """Combined mode: the active controller stops with its broker; the other voters elect a new one."""
    tl = _cluster()
    c = tl.cluster
    active, epoch = c.controller.active, c.controller.epoch
    tl.apply({"op": "shutdown_broker", "broker": active})
    tl.apply({"op": "run_for", "ms": 8000})
    assert c.controller.active not in (None, active) and c.controller.epoch == epoch + 1
    assert not _led_by(tl, active) and c.producers["p1"].failed == 0
