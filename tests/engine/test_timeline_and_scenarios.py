"""Scenarios are validated data; the timeline steps, goes back exactly and replays from a shared state."""

from __future__ import annotations

import json

import pytest

from engine.commands import parse_command
from engine.errors import ConfigError
from engine.scenario import PRESETS, ScenarioError, build_cluster, parse_scenario
from engine.timeline import Timeline


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_builds_and_runs(name):
    c = build_cluster(PRESETS[name])
    c.run_for(6000)
    s = c.snapshot()
    assert s.partitions and all(not p.offline for p in s.partitions)
    assert all(g.state == "Stable" for g in s.groups)
    assert sum(p.acked for p in s.producers) > 0


def test_queue_vs_pubsub_preset_is_the_notes_example():
    c = build_cluster(PRESETS["Queue vs pub-sub"])
    c.run_for(8000)
    s = c.snapshot()
    g1, g2 = s.group("group-1"), s.group("group-2")
    assert sorted(len(m.assignment) for m in g1.members) == [1, 1]  # each owns one partition: a queue
    assert len(g2.members) == 1 and len(g2.members[0].assignment) == 2  # one consumer reads both: pub-sub


def test_back_gives_the_identical_picture():
    tl = Timeline(PRESETS["Default"])
    tl.steps(40)
    before = tl.cluster.snapshot()
    tl.step()
    assert tl.cluster.snapshot() != before
    tl.back()
    assert tl.cluster.snapshot() == before and tl.position == 40


def test_back_across_a_command_and_branching_history():
    tl = Timeline(PRESETS["Broker failure"], checkpoint_every=10)
    tl.steps(30)
    tl.apply({"op": "crash_broker", "broker": 1})
    tl.steps(20)
    crashed = tl.cluster.snapshot()
    tl.goto(35)
    assert not next(b for b in tl.cluster.snapshot().brokers if b.id == 1).alive
    tl.goto(50)
    assert tl.cluster.snapshot() == crashed
    tl.goto(20)  # before the crash: applying a new command replaces the future
    tl.apply({"op": "crash_consumer", "consumer": "c1"})
    tl.steps(30)
    assert next(b for b in tl.cluster.snapshot().brokers if b.id == 1).alive
    assert [c.model_dump()["op"] for _, c in tl.commands] == ["crash_consumer"]


def test_state_round_trips_through_json_like_a_url():
    tl = Timeline(PRESETS["Default"])
    tl.steps(25)
    tl.apply({"op": "isolate_broker", "broker": 2})
    tl.steps(25)
    state = json.loads(json.dumps(tl.to_state()))
    again = Timeline.from_state(state)
    assert again.position == 50 and again.cluster.snapshot() == tl.cluster.snapshot()


def test_bad_scenarios_name_the_field():
    with pytest.raises(ScenarioError, match=r"brokers: Input should be less than or equal to 12"):
        parse_scenario(json.dumps({"brokers": 40}))
    with pytest.raises(ScenarioError, match=r"topics\.0\.name"):
        parse_scenario(json.dumps({"topics": [{"name": "bad name!"}]}))
    with pytest.raises(ScenarioError, match=r"producers\.0\.keys.*'fixed', 'user_ids' or 'none'"):
        parse_scenario(
            json.dumps({"topics": [{"name": "t"}], "producers": [{"id": "p1", "topic": "t", "keys": "x"}]})
        )
    with pytest.raises(ScenarioError, match="not in topics"):
        parse_scenario(
            json.dumps({"topics": [{"name": "t"}], "groups": [{"group_id": "g", "topics": ["u"]}]})
        )
    with pytest.raises(ScenarioError, match="replication_factor 3 is more than the 1 broker"):
        parse_scenario(json.dumps({"brokers": 1, "topics": [{"name": "t", "replication_factor": 3}]}))
    with pytest.raises(ScenarioError, match="Did you mean linger.ms"):
        build_cluster(
            parse_scenario(
                json.dumps(
                    {
                        "topics": [{"name": "t"}],
                        "producers": [{"id": "p1", "topic": "t", "config": {"linger": 5}}],
                    }
                )
            )
        )
    with pytest.raises(ScenarioError, match="neither valid JSON nor valid YAML"):
        parse_scenario("{: [")
    with pytest.raises(ScenarioError, match="256 KB"):
        parse_scenario(b"x" * (257 * 1024))


def test_yaml_scenarios_are_accepted():
    s = parse_scenario("brokers: 2\ntopics:\n  - name: t\n    partitions: 2\n    replication_factor: 2\n")
    assert s.brokers == 2 and s.topics[0].partitions == 2


def test_commands_are_validated():
    with pytest.raises(ConfigError, match="allowed ops are crash_broker"):
        parse_command({"op": "explode"})
    with pytest.raises(ConfigError, match="broker"):
        parse_command({"op": "crash_broker", "broker": "two"})
    tl = Timeline(PRESETS["Default"])
    with pytest.raises(ConfigError, match="there is no broker 7"):
        tl.apply({"op": "crash_broker", "broker": 7})
    assert tl.commands == []  # a failed command is not recorded
