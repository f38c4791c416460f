"""The engine change this issue needed: followers keep idempotent-producer state (broker.py), so a producer
keeps writing after leadership moves back and forth; found by the real-client failover test."""

from __future__ import annotations

import pytest

from engine import Cluster

pytestmark = pytest.mark.timeout(60)


def test_idempotent_producer_survives_failover_and_failback():
    c = Cluster(brokers=3, seed=3, config={"broker.session.timeout.ms": 3000})
    c.create_topic("t", 1, 3, {"min.insync.replicas": 2})
    p = c.producer("p1", {"acks": "all"})
    futs = [p.send("t", key=b"k", value=str(i)) for i in range(200)]
    p.flush()
    old = c.controller.partitions[("t", 0)].leader
    c.crash_broker(old)
    c.run_for(8000)
    futs += [p.send("t", key=b"k", value=str(i)) for i in range(200, 400)]
    p.flush()
    c.restart_broker(old)
    c.run_for(8000)
    assert c.preferred_leader_election("t") == 1
    c.run_for(1000)
    futs += [p.send("t", key=b"k", value=str(i)) for i in range(400, 600)]
    p.flush()
    assert c.controller.partitions[("t", 0)].leader == old
    assert [f.error for f in futs if f.error] == []  # no OUT_OF_ORDER_SEQUENCE_NUMBER at the old leader
    r = c.leader_replica(("t", 0))
    assert r.leo == 600 and r.producers[p.pid].last_seq == 599
