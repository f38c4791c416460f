"""Bad input gets a clear error naming the field and the fix: topic names, partitions, configs."""

from __future__ import annotations

import pytest

from engine import Cluster
from engine.config import BrokerConfig, TopicConfig
from engine.errors import (
    ConfigError,
    InvalidPartitionsError,
    InvalidReplicationFactorError,
    InvalidTopicError,
    KafkaError,
    TopicAlreadyExistsError,
)


@pytest.mark.parametrize(
    "name, fragment",
    [
        ("", "non-empty"),
        (".", "reserved"),
        ("..", "reserved"),
        ("a" * 250, "maximum is 249"),
        ("orders!", "illegal character"),
        ("my topic", "illegal character"),
        ("zażółć", "illegal character"),
    ],
)
def test_invalid_topic_names_are_refused_with_the_rule(cluster, name, fragment):
    with pytest.raises(InvalidTopicError) as exc:
        cluster.create_topic(name)
    assert fragment in str(exc.value)
    assert isinstance(exc.value, KafkaError)


def test_legal_topic_names_including_the_longest(cluster):
    for name in ("orders", "a.b_c-D9", "x" * 249):
        cluster.create_topic(name)
    assert {"orders", "a.b_c-D9", "x" * 249} <= set(cluster.topics)


def test_dot_and_underscore_mix_warns_about_metric_collisions(cluster):
    cluster.create_topic("my.topic_v1")
    assert "collide in metric names" in cluster.events.events[-1].summary


def test_partitions_below_one_and_too_large_rf(cluster):
    with pytest.raises(InvalidPartitionsError, match="at least 1"):
        cluster.create_topic("t", partitions=0)
    with pytest.raises(InvalidReplicationFactorError, match="larger than the 3 available broker"):
        cluster.create_topic("t", partitions=1, replication_factor=4)
    cluster.create_topic("t")
    with pytest.raises(TopicAlreadyExistsError):
        cluster.create_topic("t")


def test_reserved_internal_prefix(cluster):
    with pytest.raises(InvalidTopicError, match="reserved"):
        cluster.create_topic("__mine")


def test_unknown_config_key_suggests_the_nearest_kafka_name(cluster):
    with pytest.raises(ConfigError) as exc:
        cluster.producer("p1", {"linger_ms": 5})
    assert "linger_ms" in str(exc.value) and "Did you mean linger.ms?" in str(exc.value)
    with pytest.raises(ConfigError, match="Did you mean min.insync.replicas"):
        cluster.create_topic("t", config={"min.insync.replica": 2})
    with pytest.raises(ConfigError, match="Did you mean session.timeout.ms"):
        cluster.consumer("c1", group_id="g", config={"session.timeout": 10000})


def test_bad_config_values_name_key_value_and_allowed_values(cluster):
    with pytest.raises(ConfigError) as exc:
        cluster.producer("p1", {"compression.type": "brotli"})
    msg = str(exc.value)
    assert "compression.type" in msg and "'brotli'" in msg and "'gzip'" in msg and "'zstd'" in msg
    with pytest.raises(ConfigError, match="acks must be one of 0, 1, all"):
        cluster.producer("p2", {"acks": "2"})
    with pytest.raises(ConfigError, match="linger.ms"):
        cluster.producer("p3", {"linger.ms": -1})
    with pytest.raises(ConfigError, match="auto.offset.reset.*'earliest'"):
        cluster.consumer("c1", group_id="g", config={"auto.offset.reset": "beginning"})


def test_kafka_rules_between_configs(cluster):
    with pytest.raises(ConfigError, match="delivery.timeout.ms"):
        cluster.producer("p1", {"delivery.timeout.ms": 1000})
    with pytest.raises(ConfigError, match="enable.idempotence=true needs acks=all"):
        cluster.producer("p2", {"enable.idempotence": True, "acks": 1})
    # left at its default, idempotence is quietly switched off by acks=1 (Kafka 3.2+)
    p = cluster.producer("p3", {"acks": "1"})
    assert p.config.enable_idempotence is False and p.pid == -1
    with pytest.raises(ConfigError, match="heartbeat.interval.ms"):
        cluster.consumer(
            "c1", group_id="g", config={"session.timeout.ms": 6000, "heartbeat.interval.ms": 6000}
        )


def test_properties_style_string_values_are_accepted(cluster):
    p = cluster.producer("p1", {"linger.ms": "50", "acks": "-1", "enable.idempotence": "true"})
    assert p.config.linger_ms == 50 and p.config.acks == "all"
    k = cluster.consumer(
        "c1",
        group_id="g",
        config={"partition.assignment.strategy": "org.apache.kafka.clients.consumer.RoundRobinAssignor"},
    )
    assert k.config.partition_assignment_strategy == ("roundrobin",)


def test_kafka_4_defaults():
    c = Cluster(brokers=1)
    p = c.producer("p")
    k = c.consumer("k", group_id="g")
    assert (p.config.acks, p.config.linger_ms, p.config.batch_size, p.config.enable_idempotence) == (
        "all",
        5,
        16384,
        True,
    )
    assert (k.config.session_timeout_ms, k.config.heartbeat_interval_ms, k.config.auto_offset_reset) == (
        45000,
        3000,
        "latest",
    )
    assert k.config.partition_assignment_strategy == ("range", "cooperative-sticky")


def test_cluster_arguments_are_checked():
    with pytest.raises(ConfigError, match="from 1 to 12"):
        Cluster(brokers=0)
    with pytest.raises(ConfigError, match="'kraft' or 'zookeeper'"):
        Cluster(controller="zk")
    with pytest.raises(ConfigError, match="Unknown broker config"):
        Cluster(config={"replica.lag.time.max": 1})


def test_consumer_offsets_is_internal_and_created_on_first_group(cluster):
    cluster.create_topic("orders", partitions=2)
    assert "__consumer_offsets" not in cluster.topics
    cluster.consumer("c1", group_id="g1", topics=["orders"])
    cluster.run_for(100)
    t = cluster.topics["__consumer_offsets"]
    assert t.internal and t.partitions == 50 and t.replication_factor == 3
    assert all(not tv.internal for tv in cluster.snapshot().topics)


def test_single_broker_cannot_host_offsets_topic_with_rf3_like_real_kafka():
    c = Cluster(brokers=1, seed=1)
    c.create_topic("orders")
    k = c.consumer("c1", group_id="g1", topics=["orders"])
    c.run_for(5000)
    assert k.state == "joining"
    assert any("offsets.topic.replication.factor=1" in e.summary for e in c.events.events)
    ok = Cluster(brokers=1, seed=1, config={"offsets.topic.replication.factor": 1})
    ok.create_topic("orders")
    k2 = ok.consumer("c1", group_id="g1", topics=["orders"])
    ok.run_for(5000)
    assert k2.state == "stable" and k2.assignment == [("orders", 0)]


def test_a_replaced_topic_or_broker_config_applies_to_the_next_batch():
    # The produce path reads configs from plain copies (Topic.hot, Cluster.broker_hot): replacing a config, as an
    # alter-config command would, must reach them. max.message.bytes on the topic, else the broker's
    # message.max.bytes (UnifiedLog.analyzeAndValidateRecords), refuses a batch larger than the limit.
    c = Cluster(brokers=3, seed=1)
    c.create_topic("t", partitions=1, replication_factor=3)
    c.run_for(500)
    p = c.producer("p", config={"acks": "1", "linger.ms": 0})

    def send_500_bytes():
        fut = p.send("t", value=bytes(500))
        c.run_until(lambda: fut.done, 60_000)
        return fut.error

    assert send_500_bytes() is None
    c.topics["t"].config = TopicConfig.parse({"max.message.bytes": 200})
    err = send_500_bytes()
    assert err is not None and err.name == "RECORD_TOO_LARGE"
    c.topics["t"].config = TopicConfig.parse({})
    assert send_500_bytes() is None
    c.broker_config = BrokerConfig.parse({"message.max.bytes": 200})
    err = send_500_bytes()
    assert err is not None and err.name == "RECORD_TOO_LARGE"
