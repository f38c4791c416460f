"""Issue 15 behaviour 2 and rack awareness through the public face (`Cluster`).

Kafka places a new topic's replicas with StripedReplicaPlacer (KRaft) or AdminUtils.assignReplicasToBrokers
(ZooKeeper mode); both spread a 3-partition, RF-2 topic on 3 brokers 2/2/2 whatever their random draws, and
both put replicas in different racks when brokers have `broker.rack`.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import Cluster
from engine.errors import ConfigError, InvalidReplicationFactorError
from engine.scenario import Scenario, ScenarioError, build_cluster, parse_scenario


def _replicas(c: Cluster, topic: str) -> list[list[int]]:
    return [list(c.controller.partitions[(topic, p)].replicas) for p in range(c.topics[topic].partitions)]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), mode=st.sampled_from(["kraft", "zookeeper"]))
def test_three_partitions_rf2_on_three_brokers_is_2_2_2_for_every_seed(seed, mode):
    """Issue 15 behaviour 2: a 3-partition RF-2 topic on 3 brokers holds 2 replicas on each broker, any seed."""
    c = Cluster(brokers=3, seed=seed, controller=mode)
    c.create_topic("t", partitions=3, replication_factor=2)
    per_broker = Counter(b for rs in _replicas(c, "t") for b in rs)
    assert sorted(per_broker.values()) == [2, 2, 2], _replicas(c, "t")
    leaders = Counter(rs[0] for rs in _replicas(c, "t"))
    assert sorted(leaders.values()) == [1, 1, 1]


@pytest.mark.parametrize("mode", ["kraft", "zookeeper"])
@pytest.mark.parametrize("seed", range(40))
def test_even_spread_for_every_seed_parametrized(seed, mode):
    """Issue 15 behaviour 2: the same check over fixed seeds (the 2/2/2 spread once failed for some)."""
    c = Cluster(brokers=3, seed=seed, controller=mode)
    c.create_topic("t", partitions=3, replication_factor=2)
    assert sorted(Counter(b for rs in _replicas(c, "t") for b in rs).values()) == [2, 2, 2]


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_zookeeper_first_lap_uses_one_follower_shift_from_any_start_index(n):
    """Issue 15 behaviour 2: AdminUtils shifts followers when the partition id laps the brokers (p > 0 and
    p % n == 0), not when the start index + p does, so n partitions from any start index spread evenly."""
    from engine.placement import BrokerMetadata, EngineRandom, assign_replicas_to_brokers

    for start in range(n):
        for rf in range(1, n + 1):
            got = assign_replicas_to_brokers(
                [BrokerMetadata(b) for b in range(1, n + 1)], n, rf, EngineRandom(None), start
            )
            assert sorted(Counter(b for rs in got.values() for b in rs).values()) == [rf] * n, (
                start,
                rf,
                got,
            )


def test_kraft_places_on_fenced_brokers_only_as_followers():
    """StripedReplicaPlacer: a fenced broker is never a new partition's first replica (its preferred leader)."""
    c = Cluster(brokers=3, seed=3)
    c.crash_broker(2)
    c.run_for(12_000)  # broker.session.timeout.ms: broker 2 is fenced
    assert 2 not in c.controller.live
    c.create_topic("t", partitions=6, replication_factor=3)
    assert all(rs[0] != 2 for rs in _replicas(c, "t"))
    assert all(2 in rs for rs in _replicas(c, "t"))  # RF 3 on 3 registered brokers still uses it


def test_zookeeper_places_only_on_registered_brokers():
    """ZooKeeper mode: ZkAdminManager.createTopics assigns over metadataCache.getAliveBrokers()."""
    c = Cluster(brokers=3, seed=3, controller="zookeeper")
    c.crash_broker(2)
    c.run_for(20_000)  # zookeeper.session.timeout.ms: /brokers/ids/2 is gone
    c.create_topic("t", partitions=4, replication_factor=2)
    assert all(2 not in rs for rs in _replicas(c, "t"))
    with pytest.raises(InvalidReplicationFactorError, match="larger than the 2 available broker"):
        c.create_topic("u", partitions=1, replication_factor=3)


RACKS = {1: "a", 2: "a", 3: "b", 4: "b", 5: "c", 6: "c"}


@pytest.mark.parametrize("mode", ["kraft", "zookeeper"])
@pytest.mark.parametrize("seed", range(8))
def test_rack_aware_placement_puts_each_replica_in_another_rack(seed, mode):
    """broker.rack: RF 3 over 3 racks puts one replica in each rack (AdminUtils rack-aware / StripedReplicaPlacer)."""
    c = Cluster(brokers=6, seed=seed, controller=mode, racks=RACKS)
    c.create_topic("t", partitions=12, replication_factor=3)
    for rs in _replicas(c, "t"):
        assert sorted(RACKS[b] for b in rs) == ["a", "b", "c"]
    assert sorted(Counter(rs[0] for rs in _replicas(c, "t")).values()) == [2] * 6


def test_rack_unaware_placement_can_put_two_replicas_in_one_rack():
    """The same cluster without racks: some partition has two replicas in one of the racks above (so the test
    above checks something the rack-aware placer does)."""
    c = Cluster(brokers=6, seed=1)
    c.create_topic("t", partitions=12, replication_factor=3)
    assert any(len({RACKS[b] for b in rs}) < 3 for rs in _replicas(c, "t"))


def test_zookeeper_mode_refuses_racks_on_only_some_brokers():
    """AdminUtils: 'Not all brokers have rack information' (KRaft's placer treats them as one more rack)."""
    from engine.placement import AdminOperationError

    c = Cluster(brokers=3, seed=1, controller="zookeeper", racks={1: "a", 2: "b"})
    with pytest.raises(AdminOperationError, match="Not all brokers have rack information"):
        c.create_topic("t", partitions=3, replication_factor=2)
    k = Cluster(brokers=3, seed=1, racks={1: "a", 2: "b"})
    k.create_topic("t", partitions=3, replication_factor=3)
    assert all(sorted(rs) == [1, 2, 3] for rs in _replicas(k, "t"))


def test_rack_is_in_the_broker_snapshot_and_events():
    c = Cluster(brokers=3, seed=1, racks={1: "eu-1a", 2: "eu-1b", 3: "eu-1c"})
    assert {b.id: b.rack for b in c.snapshot().brokers} == {1: "eu-1a", 2: "eu-1b", 3: "eu-1c"}
    assert "eu-1a" in c.events.events[0].summary
    new = c.add_broker(rack="eu-1a")
    assert {b.id: b.rack for b in c.snapshot().brokers}[new] == "eu-1a"
    assert [b.rack for b in Cluster(brokers=2).snapshot().brokers] == [None, None]


@pytest.mark.parametrize(
    "racks, field",
    [
        ({4: "a"}, "not a broker id"),
        ({0: "a"}, "not a broker id"),
        ({1: ""}, "non-empty"),
        ({1: 7}, "non-empty"),
        (["a", "b", "c"], "map broker ids"),
    ],
)
def test_bad_racks_are_refused_with_a_config_error(racks, field):
    with pytest.raises(ConfigError, match=field):
        Cluster(brokers=3, racks=racks)


def test_scenario_carries_racks():
    s = Scenario(
        brokers=3,
        racks={1: "a", 2: "b", 3: "c"},
        topics=[{"name": "t", "partitions": 3, "replication_factor": 3}],
    )
    c = build_cluster(Scenario.model_validate_json(s.to_json()))
    assert [b.rack for b in c.snapshot().brokers] == ["a", "b", "c"]
    with pytest.raises(ScenarioError):
        parse_scenario('{"brokers": 3, "racks": {"5": "a"}}')


@pytest.mark.parametrize("seed", range(12))
def test_kraft_controller_failover_does_not_fence_the_surviving_brokers(seed):
    """ClusterControlManager.activate: a new active controller starts every broker's session afresh, so
    heartbeats lost while no controller was active do not fence live brokers. (The new placement's rng draws
    made tests/server/test_engine_hooks.py hit this: an election longer than broker.session.timeout.ms fenced
    brokers 2 and 3 and left the partition offline.)"""
    c = Cluster(brokers=3, seed=seed, config={"broker.session.timeout.ms": 3000})
    c.create_topic("t", 1, 3)
    c.crash_broker(c.controller.active)
    c.run_for(12_000)
    fenced = {e.data["broker"] for e in c.events.events if e.kind == "broker_fenced"}
    assert fenced == {1}
    assert c.controller.partitions[("t", 0)].leader in (2, 3)
