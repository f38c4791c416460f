"""The rack-awareness lesson: its `replica_racks` partition check can fail, the scenario's per-member
`client_racks` reach the consumers, and its notebook export runs."""

from __future__ import annotations

import nbformat
import pytest

from engine import Cluster
from engine.scenario import ScenarioError, build_cluster, validate_scenario
from lessons.__main__ import main
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


def test_rack_awareness_lesson_runs_as_a_notebook(tmp_path):
    nbclient = pytest.importorskip("nbclient", reason="nbclient is in the dev extra")
    from test_notebook_export import _ensure_kernel

    out = tmp_path / "rack-awareness.ipynb"
    assert main(["export", "rack-awareness", "-o", str(out)]) == 0
    nb = nbformat.read(str(out), as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name=_ensure_kernel(), resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError on any failing cell
    final = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    assert "All of the lesson's final checks hold." in final
