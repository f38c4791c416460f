"""Helpers shared by tests: small clusters built through the public face only."""

from __future__ import annotations

from engine import Cluster

GROUP_FAST = {"auto.offset.reset": "earliest", "session.timeout.ms": 10000, "heartbeat.interval.ms": 3000}


def make_cluster(partitions: int = 2, rf: int = 1, seed: int = 7, brokers: int = 3, topic_config=None,
                 config=None) -> Cluster:
    c = Cluster(brokers=brokers, seed=seed, config=config)
    c.create_topic("orders", partitions=partitions, replication_factor=rf, config=topic_config)
    return c
