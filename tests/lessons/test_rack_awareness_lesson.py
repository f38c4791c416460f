"""The rack-awareness lesson: its `replica_racks` partition check can fail, the scenario's per-member
`client_racks` reach the consumers, and its notebook export runs."""

from __future__ import annotations

import pytest

from engine import Cluster
from engine.scenario import ScenarioError, build_cluster, validate_scenario
from lessons.checks import CheckContext, parse_check


def _ok(raw: dict, c: Cluster) -> bool:
    return not parse_check(raw).evaluate(CheckContext(c, None, [], []))


def test_replica_racks_names_the_racks_of_a_partitions_replicas():
    c = Cluster(brokers=4, seed=1, racks={1: "a", 2: "b", 3: "a", 4: "b"})
    c.create_topic("t", partitions=1, replication_factor=2)
    racks = sorted({c.brokers[b].rack for b in c.controller.partitions[("t", 0)].replicas})
    assert racks == ["a", "b"]  # rack-aware placement: RF 2 over 2 racks spans both
    assert _ok({"partition": "t-0", "replica_racks": ["a", "b"]}, c)
    assert not _ok({"partition": "t-0", "replica_racks": ["a"]}, c)
    assert not _ok({"partition": "t-0", "replica_racks": ["a", "b", "c"]}, c)


def test_replica_racks_is_empty_without_broker_rack():
    c = Cluster(brokers=2, seed=1)
    c.create_topic("t", partitions=1, replication_factor=2)
    assert _ok({"partition": "t-0", "replica_racks": []}, c)
    assert not _ok({"partition": "t-0", "replica_racks": ["a"]}, c)


def test_scenario_client_racks_set_each_members_client_rack():
    s = validate_scenario(
        {
            "brokers": 1,
            "topics": [{"name": "t", "replication_factor": 1}],
            "groups": [{"group_id": "g", "topics": ["t"], "members": 3, "client_racks": ["x", "y"]}],
        }
    )
    c = build_cluster(s)
    assert [c.consumers[m].config.client_rack for m in ("c1", "c2", "c3")] == ["x", "y", ""]


def test_scenario_refuses_more_racks_than_members():
    with pytest.raises(ScenarioError, match="client_racks"):
        validate_scenario(
            {
                "brokers": 1,
                "topics": [{"name": "t", "replication_factor": 1}],
                "groups": [{"group_id": "g", "topics": ["t"], "members": 1, "client_racks": ["x", "y"]}],
            }
        )
