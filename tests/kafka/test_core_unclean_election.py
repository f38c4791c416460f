"""Ported from Apache Kafka core: kafka.integration.UncleanLeaderElectionTest.

Kafka's test runs two brokers (a separate controller quorum) and a topic with one partition on both. Here
the cluster has five brokers (combined KRaft mode needs a quorum of them alive while two are down) and the
partition's two replicas are where the controller placed them; "shutdown" is a broker crash, which the
controller notices by its session timeout. Parametrized over ZooKeeper and KRaft as Kafka's is.
"""

from __future__ import annotations

import pytest

from engine import Cluster
from engine.errors import ConfigError, KafkaTimeoutError

TOPIC = "topic1"
TP = (TOPIC, 0)


def _cluster(quorum: str, broker_unclean: bool | None, topic_unclean: bool | None) -> Cluster:
    cfg = {} if broker_unclean is None else {"unclean.leader.election.enable": broker_unclean}
    c = Cluster(brokers=5, seed=3, controller=quorum, config=cfg)
    tcfg = {} if topic_unclean is None else {"unclean.leader.election.enable": topic_unclean}
    c.create_topic(TOPIC, partitions=1, replication_factor=2, config=tcfg)
    c.run_for(1000)
    return c


_n = 0


def _produce(c: Cluster, value: str, **config):
    global _n
    _n += 1
    p = c.producer(f"p{_n}", {"linger.ms": 0, **config})
    fut = p.send(TOPIC, value=value)
    c.run_until(lambda: fut.done, 120_000)
    return fut


def _consume_all(c: Cluster) -> list[str]:
    """consumeAllMessages: a fresh consumer assigned to the partition, from offset 0."""
    global _n
    _n += 1
    k = c.consumer(f"k{_n}", config={"auto.offset.reset": "earliest"})
    k.assign([TP])
    k.seek(TP, 0)
    out = []
    for _ in range(6):
        out += k.poll(500)
    k.close()
    return [r.value.decode() if isinstance(r.value, bytes) else r.value for r in out]


def _unclean_elections(c: Cluster) -> int:
    return sum(1 for e in c.events.events if e.kind == "leader_elected" and e.data.get("unclean"))


def _leader(c: Cluster) -> int | None:
    return c.snapshot().partition(*TP).leader


def _wait_leader(c: Cluster, expected: int | None) -> bool:
    return c.run_until(lambda: _leader(c) == expected, 60_000)


def _start(c: Cluster) -> tuple[int, int]:
    leader = _leader(c)
    replicas = c.snapshot().partition(*TP).replicas
    assert leader in replicas
    follower = next(b for b in replicas if b != leader)
    assert not _produce(c, "first").error
    assert _consume_all(c) == ["first"]
    c.crash_broker(follower)  # shutdown follower server
    c.run_until(lambda: follower not in c.snapshot().partition(*TP).isr, 60_000)
    assert not _produce(c, "second").error
    assert _consume_all(c) == ["first", "second"]
    assert _unclean_elections(c) == 0
    c.crash_broker(leader)  # shutdown leader and then restart follower
    c.run_for(20_000)
    c.restart_broker(follower)
    return leader, follower


def _verify_unclean_leader_election_enabled(c: Cluster) -> None:
    leader, follower = _start(c)
    assert _wait_leader(c, follower)  # wait until the new leader is (uncleanly) elected
    assert _unclean_elections(c) == 1
    assert not _produce(c, "third").error
    assert _consume_all(c) == ["first", "third"]  # "second" was lost in the unclean election


def _verify_unclean_leader_election_disabled(c: Cluster) -> None:
    leader, follower = _start(c)
    c.run_for(20_000)
    pv = c.snapshot().partition(*TP)
    assert pv.leader is None and list(pv.isr) == [leader]  # NO_LEADER, the ISR keeps the old leader
    assert _unclean_elections(c) == 0
    fut = _produce(c, "third", **{"delivery.timeout.ms": 1000, "request.timeout.ms": 1000})
    assert isinstance(fut.error, KafkaTimeoutError)  # TimeoutException
    assert _consume_all(c) == []
    c.restart_broker(leader)  # restart the leader temporarily to send a replicated message
    assert _wait_leader(c, leader)
    assert not _produce(c, "third").error
    assert c.run_until(lambda: follower in c.snapshot().partition(*TP).isr, 60_000)
    c.crash_broker(leader)
    assert _wait_leader(c, follower)  # a clean transition to the ISR follower
    assert _consume_all(c) == ["first", "second", "third"]


@pytest.mark.parametrize("quorum", ["zookeeper", "kraft"])
def test_unclean_leader_election_enabled(quorum):
    """UncleanLeaderElectionTest.testUncleanLeaderElectionEnabled"""
    _verify_unclean_leader_election_enabled(_cluster(quorum, True, None))


@pytest.mark.parametrize("quorum", ["zookeeper", "kraft"])
def test_unclean_leader_election_disabled(quorum):
    """UncleanLeaderElectionTest.testUncleanLeaderElectionDisabled (disabled by default)"""
    _verify_unclean_leader_election_disabled(_cluster(quorum, None, None))


@pytest.mark.parametrize("quorum", ["zookeeper", "kraft"])
def test_unclean_leader_election_enabled_by_topic_override(quorum):
    """UncleanLeaderElectionTest.testUncleanLeaderElectionEnabledByTopicOverride"""
    _verify_unclean_leader_election_enabled(_cluster(quorum, False, True))


@pytest.mark.parametrize("quorum", ["zookeeper", "kraft"])
def test_unclean_leader_election_disabled_by_topic_override(quorum):
    """UncleanLeaderElectionTest.testUncleanLeaderElectionDisabledByTopicOverride"""
    _verify_unclean_leader_election_disabled(_cluster(quorum, True, False))


@pytest.mark.parametrize("quorum", ["zookeeper", "kraft"])
def test_unclean_leader_election_invalid_topic_override(quorum):
    """UncleanLeaderElectionTest.testUncleanLeaderElectionInvalidTopicOverride (Kafka:
    InvalidConfigurationException; here the engine's ConfigError naming the field)"""
    c = Cluster(brokers=1, seed=3, controller=quorum)
    with pytest.raises(ConfigError, match="unclean.leader.election.enable"):
        c.create_topic(
            TOPIC, partitions=1, replication_factor=1, config={"unclean.leader.election.enable": "invalid"}
        )
