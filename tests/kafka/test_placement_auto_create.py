"""Conformance: core's RackAwareAutoTopicCreationTest through the engine's public face.

Kafka: core/src/test/scala/integration/kafka/api/RackAwareAutoTopicCreationTest.scala (a ZooKeeper-mode
harness). Adaptations: Kafka's brokers 0-3 are our brokers 1-4, each in rack (node / 2) as in the test
(brokers 1, 2 in rack "0"; 3, 4 in rack "1"); the random start index is checked over several cluster seeds.
"""

from __future__ import annotations

from _placement_helpers import check_replica_distribution

from engine import Cluster

NUM_SERVERS, NUM_PARTITIONS, REPLICATION_FACTOR = 4, 8, 2
RACKS = {node + 1: str(node // 2) for node in range(NUM_SERVERS)}


def test_auto_create_topic():
    # RackAwareAutoTopicCreationTest.testAutoCreateTopic
    assert RACKS == {1: "0", 2: "0", 3: "1", 4: "1"}  # the test's expectedMap, ids shifted by one
    for seed in range(10):
        c = Cluster(
            brokers=NUM_SERVERS,
            seed=seed,
            controller="zookeeper",
            racks=RACKS,
            config={"num.partitions": NUM_PARTITIONS, "default.replication.factor": REPLICATION_FACTOR},
        )
        producer = c.producer("producer")
        fut = producer.send("topic", key=b"key", value=b"value")  # auto-creates the topic
        producer.flush()
        assert fut.error is None and fut.offset == 0, "Should have offset 0"
        assert c.leaders_of("topic")[0] is not None
        assert {b.id: b.rack for b in c.snapshot().brokers} == RACKS
        assignment = {p: list(c.controller.partitions[("topic", p)].replicas) for p in range(NUM_PARTITIONS)}
        check_replica_distribution(assignment, RACKS, NUM_SERVERS, NUM_PARTITIONS, REPLICATION_FACTOR)
