"""KRaft broker registration needs an active controller."""

from __future__ import annotations

from engine import Cluster


def test_a_restarted_broker_stays_fenced_and_leads_nothing_while_no_controller_is_elected():
    """Kafka: ClusterControlManager.registerBroker throws "ClusterControlManager is not active." off the active
    controller and BrokerLifecycleManager keeps retrying; BrokerServer.startup waits for the controller's
    caught-up heartbeat and for the broker to be unfenced before it opens its listeners. So while the quorum has
    no leader, a restarted broker is not unfenced and does not lead its partition, even though the last
    committed metadata names it leader; once a controller is elected it registers and leads again."""
    c = Cluster(brokers=3, seed=1)
    c.create_topic("t", partitions=1, replication_factor=1)
    c.run_for(1_000)
    leader = c.snapshot().partition("t", 0).leader
    for b in (1, 2, 3):
        c.crash_broker(b)
    c.run_for(15_000)  # every voter is down: no controller
    assert c.controller.active is None
    restarted_at = c.now
    c.restart_broker(leader)  # 1 voter of 3: still no quorum
    p = c.producer(
        "p", {"acks": "1", "retries": 0, "delivery.timeout.ms": 120_000, "request.timeout.ms": 1000}
    )
    fut = p.send("t", value="v")
    c.run_for(5_000)
    after = [e for e in c.events.events if e.time_ms >= restarted_at]
    assert not [e for e in after if e.kind in ("broker_unfenced", "batch_appended")]
    assert c.brokers[leader].replicas[("t", 0)].leader_id is None  # restart() forgets it; no metadata came
    assert not (fut.done and fut.error is None)  # not acknowledged
    c.restart_broker(next(b for b in (1, 2, 3) if b != leader))  # a majority of voters: one is elected
    c.run_for(10_000)
    elected = [
        e.time_ms for e in c.events.events if e.kind == "controller_elected" and e.time_ms > restarted_at
    ]
    unfenced = [
        e.time_ms
        for e in c.events.events
        if e.kind == "broker_unfenced" and e.data.get("broker") == leader and e.time_ms > restarted_at
    ]
    assert elected and unfenced and unfenced[0] >= elected[0]
    assert c.brokers[leader].replicas[("t", 0)].leader_id == leader
    p.send("t", value="w")
    p.flush()
    assert c.brokers[leader].replicas[("t", 0)].leo >= 1
