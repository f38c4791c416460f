"""Helpers shared by tests: small clusters built through the public face only."""

from __future__ import annotations

from engine import Cluster

GROUP_FAST = {"auto.offset.reset": "earliest", "session.timeout.ms": 10000, "heartbeat.interval.ms": 3000}


def make_cluster(
    partitions: int = 2, rf: int = 1, seed: int = 7, brokers: int = 3, topic_config=None, config=None
) -> Cluster:
    c = Cluster(brokers=brokers, seed=seed, config=config)
    c.create_topic("orders", partitions=partitions, replication_factor=rf, config=topic_config)
    return c


def acks1_loss(seed: int = 3):
    """The classic acks=1 loss: a first record reaches every replica, then the followers lag (slowed 20 ms),
    a second record is acknowledged by the leader alone, and the leader crashes before they copy it.
    Returns (cluster, old leader id, future of the kept record, future of the doomed one)."""
    c = Cluster(brokers=3, seed=seed)
    c.create_topic("orders", partitions=1, replication_factor=3)
    leader = c.leaders_of("orders")[0]
    p = c.producer("p1", {"acks": 1, "linger.ms": 0})
    kept = p.send("orders", key="bob", value="kept")
    p.flush()
    c.run_for(100)
    for b in (1, 2, 3):
        if b != leader:
            c.slow_broker(b, 20)
    doomed = p.send("orders", key="bob", value="doomed")
    c.run_until(lambda: doomed.done, 1000)
    c.crash_broker(leader)
    c.run_for(15_000)
    return c, leader, kept, doomed
