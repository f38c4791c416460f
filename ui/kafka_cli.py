"""The real-Kafka equivalent of every Playground action, so the lesson carries over to a real cluster.

Pure functions: scenario parts or commands in, shell commands or client properties out. The commands
are Apache Kafka 3.x/4.x tools (`kafka-topics.sh`, `kafka-consumer-groups.sh`, ...) against a local
cluster at localhost:9092; the "Docker" lines assume one container per broker named kafka-<id>.
"""

from __future__ import annotations

import json

from engine.scenario import GroupSpec, ProducerSpec, Scenario, TopicSpec

BOOTSTRAP = "--bootstrap-server localhost:9092"


def topic_create(t: TopicSpec) -> str:
    cfg = "".join(f" \\\n    --config {k}={_v(v)}" for k, v in sorted(t.config.items()))
    return (
        f"kafka-topics.sh {BOOTSTRAP} --create --topic {t.name} \\\n    --partitions {t.partitions} "
        f"--replication-factor {t.replication_factor}{cfg}"
    )


def topic_describe(topic: str) -> str:
    return f"kafka-topics.sh {BOOTSTRAP} --describe --topic {topic}"


def producer_properties(p: ProducerSpec) -> str:
    """The Java client's producer.properties for this producer (defaults of Kafka 4.x made explicit)."""
    base = {
        "bootstrap.servers": "localhost:9092",
        "client.id": p.id,
        "acks": "all",
        "linger.ms": 5,
        "batch.size": 16384,
        "enable.idempotence": "true",
        "compression.type": "none",
        "key.serializer": "org.apache.kafka.common.serialization.StringSerializer",
        "value.serializer": "org.apache.kafka.common.serialization.StringSerializer",
    }
    base.update({k: _v(v) for k, v in p.config.items()})
    return "\n".join(f"{k}={v}" for k, v in base.items())


def producer_console(p: ProducerSpec) -> str:
    keyed = p.keys != "none"
    props = " \\\n    --property parse.key=true --property key.separator=:" if keyed else ""
    cfg = "".join(f" \\\n    --producer-property {k}={_v(v)}" for k, v in sorted(p.config.items()))
    return f"kafka-console-producer.sh {BOOTSTRAP} --topic {p.topic}{props}{cfg}"


def consumer_console(group: str, topics: list[str]) -> str:
    if len(topics) == 1:
        return f"kafka-console-consumer.sh {BOOTSTRAP} --topic {topics[0]} --group {group}"
    pattern = "|".join(topics)
    return f"kafka-console-consumer.sh {BOOTSTRAP} --include '{pattern}' --group {group}"


def group_describe(group_id: str) -> str:
    return (
        f"kafka-consumer-groups.sh {BOOTSTRAP} --describe --group {group_id}\n"
        f"kafka-consumer-groups.sh {BOOTSTRAP} --describe --group {group_id} --members --verbose\n"
        f"kafka-consumer-groups.sh {BOOTSTRAP} --describe --group {group_id} --state"
    )


def group_config(g: GroupSpec) -> str:
    base = {"group.id": g.group_id, "enable.auto.commit": "true", "auto.offset.reset": "latest"}
    base.update({k: _v(v) for k, v in g.config.items()})
    return "\n".join(f"{k}={v}" for k, v in base.items())


def controller_status(mode: str) -> str:
    if mode == "kraft":
        return (
            f"kafka-metadata-quorum.sh {BOOTSTRAP} describe --status\n"
            f"kafka-metadata-quorum.sh {BOOTSTRAP} describe --replication"
        )
    return (
        "zookeeper-shell.sh localhost:2181 get /controller\nzookeeper-shell.sh localhost:2181 ls /brokers/ids"
    )


def scenario_setup(s: Scenario) -> str:
    """Everything needed to build this scenario on a real cluster, as one shell script."""
    lines = [
        f"# {s.name}: {s.brokers} broker(s) in {'KRaft' if s.controller == 'kraft' else 'ZooKeeper'} mode"
    ]
    if s.broker_config:
        lines.append("# server.properties on every broker:")
        lines += [f"#   {k}={_v(v)}" for k, v in sorted(s.broker_config.items())]
    lines += [topic_create(t) for t in s.topics]
    for p in s.producers:
        lines.append(f"# producer {p.id} (~{p.rate_per_s:g} records/s):")
        lines.append(producer_console(p))
    for g in s.groups:
        lines.append(f"# group {g.group_id}: run this in {g.members} terminal(s)")
        lines.append(consumer_console(g.group_id, list(g.topics)))
    return "\n".join(lines)


def for_command(cmd: dict, topic_of: dict[str, str] | None = None) -> str:
    """The real-world action matching an engine command (a dict with an `op`)."""
    op = cmd.get("op")
    b = cmd.get("broker")
    if op == "crash_broker":
        return (
            f"kill -9 $(pgrep -f 'server-{b}.properties')   # or: docker kill kafka-{b}\n"
            f"# the process dies at once; its log files stay on disk"
        )
    if op == "shutdown_broker":
        return (
            f"kafka-server-stop.sh   # on broker {b}'s host: SIGTERM; or: docker stop kafka-{b}\n"
            f"# controlled.shutdown.enable=true (default): its leaderships move before it exits"
        )
    if op == "restart_broker":
        return f"kafka-server-start.sh -daemon config/server-{b}.properties   # or: docker start kafka-{b}"
    if op == "isolate_broker":
        return (
            f"docker network disconnect kafka-net kafka-{b}   # a network partition\n"
            f"# (bare metal: iptables -A INPUT -s <other brokers> -j DROP on broker {b})"
        )
    if op == "heal_broker":
        return f"docker network connect kafka-net kafka-{b}"
    if op == "slow_broker":
        return f"tc qdisc add dev eth0 root netem delay {cmd.get('extra_latency_ms', 100)}ms   # on broker {b}'s host"
    if op == "add_broker":
        return (
            "kafka-server-start.sh -daemon config/server-<new id>.properties   # node.id=<new id>\n"
            "# it gets partitions only when you move some:\n"
            f"kafka-reassign-partitions.sh {BOOTSTRAP} --execute --reassignment-json-file move.json"
        )
    if op == "crash_consumer":
        return (
            f"kill -9 <pid of {cmd.get('consumer')}>   # no LeaveGroup is sent: the coordinator waits\n"
            f"# session.timeout.ms before it rebalances the group"
        )
    if op == "close_consumer":
        return (
            f"consumer.close()   # {cmd.get('consumer')} sends LeaveGroup: the group rebalances at once\n"
            "# (console consumer: press Ctrl+C)"
        )
    if op == "restart_consumer":
        return (
            f"# start {cmd.get('consumer')}'s process again with the same config; with group.instance.id set\n"
            "# (static membership, KIP-345) it gets its partitions back without a rebalance"
        )
    if op == "add_consumer":
        group = cmd.get("group", "g1")
        topic = (topic_of or {}).get(group, "<topic>")
        return consumer_console(group, [topic])
    if op == "produce":
        topic = cmd.get("topic") or (topic_of or {}).get(cmd.get("producer", ""), "<topic>")
        return f"kafka-console-producer.sh {BOOTSTRAP} --topic {topic}"
    if op == "reassign":
        plan = {
            "version": 1,
            "partitions": [
                {
                    "topic": cmd.get("topic"),
                    "partition": cmd.get("partition"),
                    "replicas": cmd.get("replicas"),
                }
            ],
        }
        return (
            f"echo '{json.dumps(plan)}' > move.json\n"
            f"kafka-reassign-partitions.sh {BOOTSTRAP} --execute --reassignment-json-file move.json"
        )
    if op == "preferred_election":
        return f"kafka-leader-election.sh {BOOTSTRAP} --election-type PREFERRED --all-topic-partitions"
    if op == "alter_partitions":
        return (
            f"kafka-topics.sh {BOOTSTRAP} --alter --topic {cmd.get('topic')} --partitions {cmd.get('partitions')}"
            "\n# partitions can be added, never removed; keys hash over the new count from now on"
        )
    if op == "reset_offsets":
        to = cmd.get("to", "earliest")
        how = f"--to-offset {cmd.get('offset')}" if to == "offset" else f"--to-{to}"
        return (
            f"kafka-consumer-groups.sh {BOOTSTRAP} --reset-offsets --group {cmd.get('group')} "
            f"--topic {cmd.get('topic')} {how} --execute   # the group must have no active members"
        )
    if op == "run_for":
        return "# nothing to type: on a real cluster time simply passes"
    if op == "set_rate":
        return "# change how fast your application calls producer.send()"
    from .modern import MODERN_OPS, real_kafka  # share groups and transactions

    if op in MODERN_OPS:
        return real_kafka(cmd)
    return f"# no direct equivalent for {op}"


def _v(v: object) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)


STEP_NOTE = (
    "A real cluster never pauses: Step, Back and Play exist only in the simulator. "
    "To watch the same events live, tail the broker logs (server.log, controller.log, state-change.log)."
)
