"""KIP-392 fetch from follower: `client.rack` consumers read from a same-rack follower when the brokers set
`replica.selector.class=org.apache.kafka.common.replica.RackAwareReplicaSelector`.

Ported: clients `ReplicaSelectorTest`, core `FetchFromFollowerIntegrationTest` and the preferred-read-replica
cases of core `ReplicaManagerTest`. Adaptations: Kafka's brokers 0 and 1 are our brokers 1 and 2, each in the
rack named by its Kafka id as `TestUtils.createBrokerConfigs(enableFetchFromFollower = true)` sets it; the tests
cannot pin the leader with a manual replica assignment, so they read which broker leads and use the other
replica as "the follower"; in KRaft mode a third broker stands in for Kafka's separate controller quorum. `getPreferredReplica` (a raw Fetch with rack id "1") becomes a consumer with client.rack of
the follower's rack and its preferred read replica (`Consumer.read_replicas`).
"""

from __future__ import annotations

import pytest

from engine import Cluster
from engine.errors import ConfigError
from engine.replica_selector import ReplicaView, rack_aware_select

SELECTOR = "org.apache.kafka.common.replica.RackAwareReplicaSelector"
TOPIC = "test-fetch-from-follower"


# -- clients ReplicaSelectorTest --------------------------------------------------------------------------------
def _replica_info_set() -> list[ReplicaView]:
    """ReplicaSelectorTest.replicaInfoSet: (node, rack, log end offset, time since last caught up)."""
    return [
        ReplicaView(0, "rack-a", 4, 0),
        ReplicaView(1, "rack-a", 2, 5),
        ReplicaView(2, "rack-b", 3, 3),
        ReplicaView(3, "rack-b", 4, 2),
    ]


def test_same_rack_selector():
    # ReplicaSelectorTest.testSameRackSelector
    replicas = _replica_info_set()
    leader = replicas[0]
    selected = rack_aware_select("rack-b", replicas, leader)
    assert selected.rack == "rack-b", "Expect replica to be in rack-b"
    assert selected.id == 3, "Expected replica 3 since it is more caught-up"
    assert rack_aware_select("not-a-rack", replicas, leader) == leader, (
        "Expect leader when we can't find any nodes in given rack"
    )
    selected = rack_aware_select("rack-a", replicas, leader)
    assert selected.rack == "rack-a", "Expect replica to be in rack-a"
    assert selected == leader, "Expect the leader since it's in rack-a"


# -- through the engine ----------------------------------------------------------------------------------------
def _cluster(mode: str = "kraft", selector: str | None = SELECTOR, seed: int = 1) -> tuple[Cluster, int, int]:
    """FetchFromFollowerIntegrationTest's cluster: 2 brokers, rack = Kafka node id, 1 partition with 2 replicas,
    offsets.topic.replication.factor=2. KRaft mode adds a third broker, standing in for Kafka's separate
    controller quorum (ours runs combined mode: two voters cannot lose one). Returns (cluster, leader, follower)."""
    config = {"offsets.topic.replication.factor": 2}
    if selector is not None:
        config["replica.selector.class"] = selector
    brokers = 3 if mode == "kraft" else 2
    racks = {b: str(b - 1) for b in range(1, brokers + 1)}
    c = Cluster(brokers=brokers, seed=seed, controller=mode, racks=racks, config=config)
    c.create_topic(TOPIC, partitions=1, replication_factor=2)
    leader, follower = c.controller.partitions[(TOPIC, 0)].replicas
    return c, leader, follower


def _produce(c: Cluster, n: int, start: int = 0) -> None:
    p = c.producers.get("producer") or c.producer("producer", {"linger.ms": 0})
    for i in range(start, start + n):
        p.send(TOPIC, key=f"k{i}".encode(), value=f"v{i}".encode())
    p.flush()


def _rack(c: Cluster, broker: int) -> str:
    return c.brokers[broker].rack


def _fetched_from(c: Cluster, consumer: str) -> list[int]:
    return [e.data["broker"] for e in c.events.events if e.kind == "records_fetched" and consumer in e.actors]


def _poll_until(k, n: int, limit_ms: int = 30_000) -> list:
    got: list = []
    waited = 0
    while len(got) < n and waited < limit_ms:
        got += k.poll(100)
        waited += 100
    return got


def test_consumer_reads_from_the_follower_in_its_rack():
    """KIP-392: a consumer whose client.rack holds a follower (not the leader) reads from that follower."""
    c, leader, follower = _cluster()
    _produce(c, 5)
    k = c.consumer("k", config={"client.rack": _rack(c, follower), "auto.offset.reset": "earliest"})
    k.assign([(TOPIC, 0)])
    assert [r.value for r in _poll_until(k, 5)] == [f"v{i}".encode() for i in range(5)]
    assert _fetched_from(c, "k") == [follower]
    assert k.read_replicas[(TOPIC, 0)][0] == follower
    assert any(e.kind == "note" and "preferred read replica" in e.summary for e in c.events.events)


def test_without_a_replica_selector_consumers_read_from_the_leader():
    """replica.selector.class is unset by default: the leader never names a preferred read replica."""
    c, leader, follower = _cluster(selector=None)
    _produce(c, 3)
    k = c.consumer("k", config={"client.rack": _rack(c, follower), "auto.offset.reset": "earliest"})
    k.assign([(TOPIC, 0)])
    assert len(_poll_until(k, 3)) == 3
    assert set(_fetched_from(c, "k")) == {leader}
    assert not k.read_replicas


def test_consumer_in_the_leaders_rack_reads_from_the_leader():
    # ReplicaManagerTest.testPreferredReplicaAsLeader: the leader is the choice, so no preferred read replica
    c, leader, _ = _cluster()
    _produce(c, 3)
    k = c.consumer("k", config={"client.rack": _rack(c, leader), "auto.offset.reset": "earliest"})
    k.assign([(TOPIC, 0)])
    assert len(_poll_until(k, 3)) == 3
    assert set(_fetched_from(c, "k")) == {leader}
    assert not k.read_replicas


def test_fetch_should_return_immediately_when_preferred_read_replica_is_defined():
    # ReplicaManagerTest.testFetchShouldReturnImmediatelyWhenPreferredReadReplicaIsDefined: minBytes=1 and
    # maxWaitMs=5000 on an empty partition, yet the leader answers at once with the preferred read replica
    c, _, follower = _cluster()
    k = c.consumer(
        "k",
        config={
            "client.rack": _rack(c, follower),
            "fetch.max.wait.ms": 5000,
            "auto.offset.reset": "earliest",
        },
    )
    k.assign([(TOPIC, 0)])
    start = c.now
    assert c.run_until(lambda: (TOPIC, 0) in k.read_replicas, 5000)
    assert c.now - start < 100
    assert k.read_replicas[(TOPIC, 0)][0] == follower


def test_preferred_replica_as_leader_when_same_rack_follower_is_out_of_isr():
    # ReplicaManagerTest.testPreferredReplicaAsLeaderWhenSameRackFollowerIsOutOfIsr: a follower outside the ISR
    # is not offered to the selector, so the consumer in its rack reads from the leader
    c, leader, follower = _cluster()
    c.slow_broker(follower, 60_000)  # it stops keeping up: replica.lag.time.max.ms takes it out of the ISR
    _produce(c, 1)
    assert c.run_until(lambda: c.controller.partitions[(TOPIC, 0)].isr == [leader], 60_000)
    k = c.consumer("k", config={"client.rack": _rack(c, follower), "auto.offset.reset": "earliest"})
    k.assign([(TOPIC, 0)])
    assert len(_poll_until(k, 1)) == 1
    assert set(_fetched_from(c, "k")) == {leader}
    assert not k.read_replicas


@pytest.mark.parametrize("mode", ["zookeeper", "kraft"])
def test_follower_complete_delayed_fetches_on_replication(mode):
    # FetchFromFollowerIntegrationTest.testFollowerCompleteDelayedFetchesOnReplication: a fetch parked on the
    # follower (fetch.max.wait.ms=20000) is answered when replication brings the record, not after 20 s
    c, _, follower = _cluster(mode)
    k = c.consumer(
        "k",
        config={
            "client.rack": _rack(c, follower),
            "fetch.max.wait.ms": 20000,
            "auto.offset.reset": "earliest",
        },
    )
    k.assign([(TOPIC, 0)])
    assert c.run_until(lambda: follower in k.fetching, 5000)  # its fetch is waiting at the follower
    start = c.now
    _produce(c, 1)
    got = _poll_until(k, 1, limit_ms=15_000)
    assert len(got) == 1 and c.now - start < 15_000
    assert _fetched_from(c, "k") == [follower]


@pytest.mark.parametrize("mode", ["zookeeper", "kraft"])
def test_fetch_from_leader_while_preferred_read_replica_is_unavailable(mode):
    # FetchFromFollowerIntegrationTest.testFetchFromLeaderWhilePreferredReadReplicaIsUnavailable
    c, leader, follower = _cluster(mode)
    _produce(c, 10)
    first = c.consumer("first", config={"client.rack": _rack(c, follower), "auto.offset.reset": "earliest"})
    first.assign([(TOPIC, 0)])
    _poll_until(first, 10)
    assert first.read_replicas[(TOPIC, 0)][0] == follower  # getPreferredReplica == follower
    c.crash_broker(follower)
    assert c.run_until(
        lambda: not c.controller.is_live(follower), 30_000
    )  # the follower is gone from metadata
    second = c.consumer("second", config={"client.rack": _rack(c, follower), "auto.offset.reset": "earliest"})
    second.assign([(TOPIC, 0)])
    assert len(_poll_until(second, 10)) == 10
    assert not second.read_replicas  # getPreferredReplica == -1
    assert set(_fetched_from(c, "second")) == {leader}


@pytest.mark.parametrize("mode", ["zookeeper", "kraft"])
def test_fetch_from_follower_with_roll(mode):
    # FetchFromFollowerIntegrationTest.testFetchFromFollowerWithRoll
    c, _, follower = _cluster(mode)
    k = c.consumer(
        "consumer",
        group_id="test-group",
        topics=[TOPIC],
        config={"client.rack": _rack(c, follower), "auto.offset.reset": "earliest"},
    )
    assert c.run_until(lambda: (k.poll(0) or True) and (TOPIC, 0) in k.read_replicas, 60_000)
    assert k.read_replicas[(TOPIC, 0)][0] == follower  # preferred replica is set to the follower
    _produce(c, 1, 0)
    assert len(_poll_until(k, 1)) == 1
    c.crash_broker(follower)  # shut down the follower: produce and consume still work
    _produce(c, 1, 1)
    assert len(_poll_until(k, 1)) == 1
    c.restart_broker(follower)  # start the follower and wait until it is the preferred replica again
    assert c.run_until(
        lambda: (k.poll(0) or True) and k.read_replicas.get((TOPIC, 0), (0,))[0] == follower, 60_000
    )
    _produce(c, 1, 2)
    assert len(_poll_until(k, 1)) == 1
    assert [r.value for r in k.history] == [b"v0", b"v1", b"v2"]


def test_unknown_replica_selector_is_refused():
    with pytest.raises(ConfigError, match="replica.selector.class"):
        Cluster(brokers=2, config={"replica.selector.class": "com.example.MySelector"})
