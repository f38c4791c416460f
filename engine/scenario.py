"""Scenarios: the whole starting state of a run as data (brokers, topics, producers, groups, seed).

A scenario plus the list of commands applied at each step *is* the state (the engine is deterministic),
so it is what the Playground's URL, a lesson file, a notebook and a bug report carry. Every scenario from
outside (file upload, URL, lesson YAML) is validated here by pydantic; a mistake raises `ScenarioError`
naming the field path and what is allowed.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .cluster import MAX_BROKERS, MAX_PARTITIONS, Cluster, validate_topic_name
from .errors import ConfigError, KafkaError, UserInputError
from .load import LoadGenerator

ConfigValue = str | int | float | bool
MAX_SCENARIO_BYTES = 256 * 1024
_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"


class ScenarioError(KafkaError, UserInputError):
    """A scenario (file, URL or lesson) that does not describe a valid cluster; the message says where."""

    name = "INVALID_SCENARIO"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TopicSpec(_Model):
    name: str = Field(min_length=1, max_length=249)
    partitions: int = Field(3, ge=1, le=MAX_PARTITIONS)
    replication_factor: int = Field(3, ge=1, le=MAX_BROKERS)
    config: dict[str, ConfigValue] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _legal(cls, v: str) -> str:
        try:
            return validate_topic_name(v)
        except KafkaError as exc:
            raise ValueError(str(exc)) from None


class ProducerSpec(_Model):
    id: str = Field(pattern=_ID, description="a short client id like p1")
    topic: str
    keys: Literal["fixed", "user_ids", "none"] = "user_ids"
    key_count: int = Field(6, ge=1, le=10_000)
    rate_per_s: float = Field(20, ge=0, le=10_000)
    value_bytes: int = Field(20, ge=1, le=100_000)
    config: dict[str, ConfigValue] = Field(default_factory=dict)


class GroupSpec(_Model):
    group_id: str = Field(pattern=_ID)
    topics: list[str] = Field(min_length=1)
    members: int = Field(2, ge=0, le=12)
    config: dict[str, ConfigValue] = Field(default_factory=dict)
    poll_interval_ms: int = Field(100, ge=1, le=60_000)
    member_ids: list[str] | None = Field(None, description="optional names for the members, e.g. [c1, c2]")
    # KIP-345: each member sets group.instance.id to its own id, so a restart within session.timeout.ms keeps
    # its partitions without a rebalance (one shared config cannot give every member its own instance id)
    static_membership: bool = False
    # KIP-881 / KIP-392: client.rack per member, in member order (one shared config cannot give each its own rack)
    client_racks: list[str] | None = Field(
        None, description="client.rack of each member in order, e.g. [a, b, c]"
    )


class Scenario(_Model):
    name: str = Field("Custom", max_length=80)
    description: str = Field("", max_length=2000)
    seed: int = Field(7, ge=0, le=2**31 - 1)
    brokers: int = Field(3, ge=1, le=MAX_BROKERS)
    controller: Literal["kraft", "zookeeper"] = "kraft"
    broker_config: dict[str, ConfigValue] = Field(default_factory=dict)
    racks: dict[int, str] = Field(
        default_factory=dict, description="broker.rack per broker id, e.g. {1: a, 2: b}"
    )
    topics: list[TopicSpec] = Field(default_factory=list, max_length=20)
    producers: list[ProducerSpec] = Field(default_factory=list, max_length=20)
    groups: list[GroupSpec] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        for b, rack in self.racks.items():
            if not 1 <= b <= self.brokers or not rack.strip() or len(rack) > 64:
                raise ValueError(
                    f"racks: broker {b} -> {rack!r}: keys are broker ids 1 to {self.brokers}, values "
                    f"non-empty rack names of at most 64 characters"
                )
        names = [t.name for t in self.topics]
        if len(set(names)) != len(names):
            raise ValueError(f"topic names must be unique, got {names}")
        for t in self.topics:
            if t.replication_factor > self.brokers:
                raise ValueError(
                    f"topic {t.name!r}: replication_factor {t.replication_factor} is more than the "
                    f"{self.brokers} broker(s); use at most {self.brokers}"
                )
        for p in self.producers:
            if p.topic not in names:
                raise ValueError(
                    f"producer {p.id!r} writes to topic {p.topic!r}, which is not in topics {names}"
                )
        for g in self.groups:
            if g.client_racks is not None and (
                len(g.client_racks) > g.members or not all(r.strip() and len(r) <= 64 for r in g.client_racks)
            ):
                raise ValueError(
                    f"group {g.group_id!r}: client_racks {g.client_racks} must name at most one rack "
                    f"(non-empty, at most 64 characters) per member ({g.members} members)"
                )
            for name in g.topics:
                if name not in names:
                    raise ValueError(
                        f"group {g.group_id!r} reads topic {name!r}, which is not in topics {names}"
                    )
        ids = [p.id for p in self.producers] + [m for g in self.groups for m in member_ids(self, g)]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"client ids must be unique, these repeat: {dup}")
        return self

    def to_json(self) -> str:
        return json.dumps(self.model_dump(exclude_defaults=False), separators=(",", ":"), sort_keys=True)


def member_ids(s: Scenario, g: GroupSpec) -> list[str]:
    """Consumer ids for a group's members: given names, else c1, c2, ... numbered across all groups."""
    if g.member_ids:
        return list(g.member_ids[: g.members]) + [
            f"{g.group_id}-{i}" for i in range(len(g.member_ids), g.members)
        ]
    start = 1
    for other in s.groups:
        if other is g:
            break
        start += other.members if not other.member_ids else 0
    return [f"c{start + i}" for i in range(g.members)]


def _explain(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(x) for x in err["loc"]) or "scenario"
        msg = err["msg"].removeprefix("Value error, ")
        ctx = err.get("ctx") or {}
        if "expected" in ctx:
            msg += f" (allowed: {ctx['expected']})"
        parts.append(f"{loc}: {msg}")
    more = f" (+{len(exc.errors()) - 5} more)" if len(exc.errors()) > 5 else ""
    return "Invalid scenario - " + "; ".join(parts) + more


def validate_scenario(data: Any) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_explain(exc)) from None


def _where(exc: BaseException) -> str:
    """A YAML error as the line, column and problem (not the parser's internals)."""
    mark, problem = getattr(exc, "problem_mark", None), getattr(exc, "problem", None)
    if mark is None or not problem:
        return "it could not be parsed (check indentation, colons and brackets)"
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"


def _what(data: Any) -> str:
    """A parsed value described in words (never a Python type name)."""
    if data is None:
        return "nothing (the file is empty)"
    if isinstance(data, list):
        return "a list"
    if isinstance(data, bool | int | float):
        return "a single number or true/false"
    return "a single value"


def parse_scenario(text: str | bytes) -> Scenario:
    """A scenario file (JSON or YAML, at most 256 KB) -> Scenario, or ScenarioError saying what is wrong."""
    if isinstance(text, bytes):
        if len(text) > MAX_SCENARIO_BYTES:
            raise ScenarioError(
                f"Scenario file is {len(text)} bytes; the limit is {MAX_SCENARIO_BYTES} (256 KB)."
            )
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise ScenarioError("Scenario file is not UTF-8 text (JSON or YAML expected).") from None
    if len(text.encode()) > MAX_SCENARIO_BYTES:
        raise ScenarioError(f"Scenario text is over the {MAX_SCENARIO_BYTES}-byte (256 KB) limit.")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        try:
            data = yaml.safe_load(text)
        except (yaml.YAMLError, RecursionError) as exc:
            raise ScenarioError(
                f"Scenario file is neither valid JSON nor valid YAML: {_where(exc)}"
            ) from None
        except ValueError:  # an integer of more than 4300 digits (Python's int conversion limit)
            raise ScenarioError(
                "Scenario file holds a number that cannot be read: it has thousands of digits; the "
                "numbers in a scenario are small (e.g. brokers: 3, rate_per_s: 20)."
            ) from None
    if not isinstance(data, dict):
        raise ScenarioError(
            f"A scenario must be a mapping with keys like brokers, topics, producers, groups "
            f"(e.g. brokers: 3); the file holds {_what(data)}."
        )
    return validate_scenario(data)


def build_cluster(s: Scenario) -> Cluster:
    """Create the cluster a scenario describes and start its producers' load and consumers' poll loops."""
    try:
        c = Cluster(
            brokers=s.brokers,
            seed=s.seed,
            controller=s.controller,
            config=dict(s.broker_config),
            racks=dict(s.racks) or None,
        )
        for t in s.topics:
            c.create_topic(t.name, t.partitions, t.replication_factor, dict(t.config))
        for p in s.producers:
            prod = c.producer(p.id, dict(p.config))
            gen = LoadGenerator(c, prod, p.topic, p.rate_per_s, p.keys, p.key_count, p.value_bytes)
            c.load_generators[p.id] = gen
            gen.start()
        for g in s.groups:
            racks = list(g.client_racks or [])
            for i, mid in enumerate(member_ids(s, g)):
                cfg = dict(g.config) | ({"group.instance.id": mid} if g.static_membership else {})
                cfg |= {"client.rack": racks[i]} if i < len(racks) else {}
                k = c.consumer(mid, group_id=g.group_id, topics=list(g.topics), config=cfg)
                k.start(g.poll_interval_ms)
    except ConfigError as exc:
        raise ScenarioError(f"Invalid scenario - {exc}") from None
    except KafkaError as exc:
        raise ScenarioError(f"Invalid scenario - {exc}") from None
    return c


# -- presets ---------------------------------------------------------------------------------------------------
_FAST_GROUP = {"auto.offset.reset": "earliest", "session.timeout.ms": 10000, "heartbeat.interval.ms": 3000}

PRESETS: dict[str, Scenario] = {
    "Default": Scenario(
        name="Default",
        description="Three brokers, one replicated topic, one producer, one group of two.",
        topics=[
            TopicSpec(name="orders", partitions=3, replication_factor=3, config={"min.insync.replicas": 2})
        ],
        producers=[ProducerSpec(id="p1", topic="orders", keys="user_ids", key_count=30, rate_per_s=20)],
        groups=[GroupSpec(group_id="g1", topics=["orders"], members=2, config=dict(_FAST_GROUP))],
    ),
    "Queue vs pub-sub": Scenario(
        name="Queue vs pub-sub",
        description="The notes' example: a topic with two partitions; group-1 has two consumers (each owns one "
        "partition: a queue), group-2 has one consumer (reads both: pub-sub).",
        topics=[TopicSpec(name="orders", partitions=2, replication_factor=3)],
        producers=[ProducerSpec(id="p1", topic="orders", keys="user_ids", key_count=16, rate_per_s=10)],
        groups=[
            GroupSpec(group_id="group-1", topics=["orders"], members=2, config=dict(_FAST_GROUP)),
            GroupSpec(group_id="group-2", topics=["orders"], members=1, config=dict(_FAST_GROUP)),
        ],
    ),
    "Broker failure": Scenario(
        name="Broker failure",
        description="RF=3, min.insync.replicas=2, acks=all. Crash the leader's broker and watch the election.",
        broker_config={"replica.lag.time.max.ms": 10000},
        topics=[
            TopicSpec(name="payments", partitions=3, replication_factor=3, config={"min.insync.replicas": 2})
        ],
        producers=[
            ProducerSpec(
                id="p1",
                topic="payments",
                keys="user_ids",
                key_count=30,
                rate_per_s=20,
                config={"acks": "all"},
            )
        ],
        groups=[GroupSpec(group_id="g1", topics=["payments"], members=2, config=dict(_FAST_GROUP))],
    ),
    "Batching": Scenario(
        name="Batching",
        description="linger.ms=50 and a small batch.size: records wait in the accumulator and leave together.",
        topics=[TopicSpec(name="clicks", partitions=2, replication_factor=1)],
        producers=[
            ProducerSpec(
                id="p1",
                topic="clicks",
                keys="none",
                rate_per_s=200,
                value_bytes=40,
                config={"linger.ms": 50, "batch.size": 2048, "compression.type": "gzip"},
            )
        ],
        groups=[GroupSpec(group_id="g1", topics=["clicks"], members=1, config=dict(_FAST_GROUP))],
    ),
    "Large": Scenario(
        name="Large",
        description="9 brokers, 3 topics x 12 partitions, RF 3, 3 groups.",
        brokers=9,
        topics=[
            TopicSpec(name=n, partitions=12, replication_factor=3, config={"min.insync.replicas": 2})
            for n in ("orders", "payments", "clicks")
        ],
        producers=[
            ProducerSpec(id=f"p{i + 1}", topic=n, rate_per_s=50)
            for i, n in enumerate(("orders", "payments", "clicks"))
        ],
        groups=[
            GroupSpec(group_id=f"g{i + 1}", topics=[n], members=3, config=dict(_FAST_GROUP))
            for i, n in enumerate(("orders", "payments", "clicks"))
        ],
    ),
    # Modern Kafka (issue 11). Share consumers are not part of a scenario: the Playground's "Add a share group
    # of 3" button adds them (an add_share_consumer command), next to this consumer group with two idle members.
    "Share group (KIP-932)": Scenario(
        name="Share group (KIP-932)",
        description="One partition: consumer group 'classic' has three members and two are idle. Add a share "
        "group of 3 (under Break something): all three share the partition, record by record.",
        topics=[TopicSpec(name="jobs", partitions=1, replication_factor=3)],
        producers=[ProducerSpec(id="p1", topic="jobs", keys="user_ids", key_count=12, rate_per_s=10)],
        groups=[
            GroupSpec(
                group_id="classic",
                topics=["jobs"],
                members=3,
                member_ids=["c1", "c2", "c3"],
                config=dict(_FAST_GROUP),
            )
        ],
    ),
    "Transactions": Scenario(
        name="Transactions",
        description="A billing app turns orders into receipts with a transactional producer (billing-1; billing-2 "
        "shares its transactional.id). rc reads receipts read_committed, ru read_uncommitted. Use the "
        "Producers tab: process a batch and commit, abort or stop; then initTransactions() on billing-2.",
        topics=[
            TopicSpec(name="orders", partitions=1, replication_factor=3, config={"min.insync.replicas": 2}),
            TopicSpec(name="receipts", partitions=1, replication_factor=3, config={"min.insync.replicas": 2}),
        ],
        producers=[
            ProducerSpec(id="shop", topic="orders", keys="user_ids", key_count=8, rate_per_s=2),
            ProducerSpec(
                id="billing-1", topic="receipts", rate_per_s=0, config={"transactional.id": "billing-app"}
            ),
            ProducerSpec(
                id="billing-2", topic="receipts", rate_per_s=0, config={"transactional.id": "billing-app"}
            ),
        ],
        groups=[
            GroupSpec(
                group_id="audit-committed",
                topics=["receipts"],
                members=1,
                member_ids=["rc"],
                config={**_FAST_GROUP, "isolation.level": "read_committed"},
            ),
            GroupSpec(
                group_id="audit-all",
                topics=["receipts"],
                members=1,
                member_ids=["ru"],
                config={**_FAST_GROUP, "isolation.level": "read_uncommitted"},
            ),
        ],
    ),
}
