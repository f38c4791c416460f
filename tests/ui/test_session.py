"""The Playground's session logic, share links and real-Kafka commands, without Streamlit."""

from __future__ import annotations

import pytest

from engine.errors import ConfigError
from engine.events import REBALANCE_KINDS
from engine.scenario import PRESETS, GroupSpec, ProducerSpec, Scenario, TopicSpec
from ui import kafka_cli
from ui.builder import scenario_from_builder
from ui.figures.diagram import cluster_diagram
from ui.session import PlaygroundSession
from ui.share import ShareError, decode_params, encode_state


def picture(s: PlaygroundSession) -> str:
    return cluster_diagram(s.cluster.snapshot()).to_json()


def test_step_back_and_goto_give_the_same_picture():
    s = PlaygroundSession.new(PRESETS["Default"])
    s.step(14)
    before = picture(s)
    s.step()
    assert picture(s) != before or s.position == 15
    s.back()
    assert s.position == 14 and picture(s) == before
    s.goto(20)
    s.goto(14)
    assert picture(s) == before


def test_events_per_step_and_history():
    s = PlaygroundSession.new(PRESETS["Default"])
    evs = s.step()
    assert s.current_events() == evs
    s.step(5)
    hist = s.history(4)
    assert [p for p, _ in hist] == [6, 5, 4, 3]
    s.goto(3)
    assert [p for p, _ in s.history(10)] == [3, 2, 1, 0]
    assert s.events_at(5) is None  # beyond where we are now


def test_apply_records_the_command_and_its_cli():
    s = PlaygroundSession.new(PRESETS["Default"])
    s.step(10)
    msg = s.apply({"op": "crash_broker", "broker": 2})
    assert msg == "Crashed broker 2"
    assert not s.cluster.brokers[2].alive
    assert any(e.kind == "broker_crashed" for e in s.current_events())
    assert "kill -9" in s.last_cli
    with pytest.raises(ConfigError):
        s.apply({"op": "crash_broker", "broker": 7})
    with pytest.raises(ConfigError):
        s.apply({"op": "explode"})


def test_run_until_rebalance_finds_one():
    s = PlaygroundSession.new(PRESETS["Default"])
    msg = s.run_until(REBALANCE_KINDS, "rebalance")
    assert msg.startswith("Ran ") and any(e.kind in REBALANCE_KINDS for e in s.current_events())


def test_reset_and_load():
    s = PlaygroundSession.new(PRESETS["Default"])
    s.step(5)
    s.apply({"op": "add_broker"})
    s.reset()
    assert s.position == 0 and len(s.cluster.brokers) == 3 and not s.timeline.commands
    v = s.version
    s.load(PRESETS["Batching"])
    assert s.version == v + 1 and s.scenario.name == "Batching" and s.position == 0


def test_share_link_round_trip_reopens_the_same_picture():
    s = PlaygroundSession.new(PRESETS["Broker failure"])
    s.step(30)
    s.apply({"op": "crash_broker", "broker": 1})
    s.step(12)
    params = s.share_params()
    assert params["step"] == "42" and len(params["state"]) < 2000
    again = PlaygroundSession.from_link(params)
    assert again.position == 42 and picture(again) == picture(s)
    assert [p for p, _ in again.history(5)] == [42, 41, 40, 39, 38]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"state": "!!!", "step": "1"}, "state"),
        ({"state": "abcdefgh", "step": "-3"}, "step"),
        ({"state": "abcdefgh", "step": "many"}, "step"),
        ({"state": "abcdefgh"}, "state"),
    ],
)
def test_bad_links_name_the_parameter(params, field):
    with pytest.raises(ShareError, match=f"'{field}'"):
        PlaygroundSession.from_link(params)


def test_link_with_an_invalid_scenario_is_refused():
    bad = encode_state({"scenario": {"brokers": 99}, "commands": [], "position": 0})
    with pytest.raises(ShareError, match="brokers"):
        PlaygroundSession.from_link(bad)
    assert decode_params(encode_state({"scenario": {}, "position": 3}))["position"] == 3


def test_builder_rows_become_a_validated_scenario():
    old = PRESETS["Default"]
    sc = scenario_from_builder(
        old,
        4,
        "zookeeper",
        11,
        [{"name": "orders", "partitions": 6.0, "replication_factor": 3, "min.insync.replicas": 2}],
        [
            {
                "id": "p1",
                "topic": "orders",
                "keys": "none",
                "rate_per_s": 5,
                "acks": "1",
                "linger.ms": 20,
                "batch.size": 1024,
            }
        ],
        [
            {
                "group_id": "g1",
                "topics": "orders",
                "members": 3,
                "assignor": "roundrobin",
                "auto.offset.reset": "earliest",
            }
        ],
    )
    assert (sc.brokers, sc.controller, sc.seed) == (4, "zookeeper", 11)
    assert sc.topics[0].partitions == 6 and sc.topics[0].config["min.insync.replicas"] == 2
    assert sc.producers[0].config["acks"] == "1" and sc.producers[0].keys == "none"
    assert sc.groups[0].config["partition.assignment.strategy"] == "roundrobin"


def test_builder_errors_name_the_field():
    from engine.scenario import ScenarioError

    with pytest.raises(ScenarioError, match="replication_factor"):
        scenario_from_builder(
            PRESETS["Default"],
            2,
            "kraft",
            7,
            [{"name": "orders", "partitions": 3, "replication_factor": 3}],
            [],
            [],
        )
    with pytest.raises(ScenarioError, match="brokers"):
        scenario_from_builder(PRESETS["Default"], 10, "kraft", 7, [], [], [])


def test_real_kafka_equivalents():
    t = TopicSpec(name="orders", partitions=3, replication_factor=3, config={"min.insync.replicas": 2})
    assert kafka_cli.topic_create(t) == (
        "kafka-topics.sh --bootstrap-server localhost:9092 --create --topic orders "
        "\\\n    --partitions 3 --replication-factor 3 \\\n"
        "    --config min.insync.replicas=2"
    )
    assert kafka_cli.group_describe("g1").splitlines()[0] == (
        "kafka-consumer-groups.sh --bootstrap-server localhost:9092 --describe --group g1"
    )
    props = kafka_cli.producer_properties(
        ProducerSpec(id="p1", topic="orders", config={"acks": "1", "linger.ms": 50})
    )
    assert "acks=1" in props and "linger.ms=50" in props
    sc = Scenario(topics=[t], groups=[GroupSpec(group_id="g1", topics=["orders"])])
    script = kafka_cli.scenario_setup(sc)
    assert "kafka-topics.sh" in script and "kafka-console-consumer.sh" in script
    for op in (
        "crash_broker",
        "restart_broker",
        "isolate_broker",
        "heal_broker",
        "add_broker",
        "crash_consumer",
        "close_consumer",
        "add_consumer",
        "preferred_election",
        "run_for",
    ):
        assert kafka_cli.for_command({"op": op, "broker": 2, "consumer": "c1", "group": "g1"})


def test_an_idle_cluster_stops_play_and_says_so():
    s = PlaygroundSession.new(
        Scenario(brokers=1, topics=[TopicSpec(name="t", partitions=1, replication_factor=1)])
    )
    s.playing = True
    assert s.step(5) == [] and s.position == 1  # stopped at the first step with nothing to show
    assert not s.playing and "idle" in s.flash[-1][1]
