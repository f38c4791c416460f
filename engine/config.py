"""Kafka configs with Kafka's own names and defaults (Apache Kafka 4.x), validated by pydantic at the edge.

Each model's field aliases are the real config names (`linger.ms`, `min.insync.replicas`, ...); values may
be given as Kafka properties are, as strings ("5", "true"). A mistake raises `ConfigError` naming the key,
the bad value and what is allowed, and for an unknown key the nearest real name ("did you mean linger.ms?").
Sources: ProducerConfig, ConsumerConfig, TopicConfig and KafkaConfig documentation (kafka.apache.org/documentation).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ConfigError


class KafkaConfig(BaseModel):
    """Base: parse a {kafka.name: value} mapping into typed fields, with student-readable errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)
    scope: ClassVar[str] = "config"

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None = None, *, where: str = "") -> Self:
        if raw is not None and not isinstance(raw, Mapping):
            raise ConfigError(
                f"{where or cls.scope}: a config must be a mapping of {cls.scope} config names to "
                f"values, like {{'linger.ms': 5}}; got {type(raw).__name__}"
            )
        raw = dict(raw or {})
        for key in raw:
            if not isinstance(key, str):
                raise ConfigError(f"{where or cls.scope}: config keys must be strings, got {key!r}")
        known = cls.kafka_names()
        for key in raw:
            if key not in known:
                near = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
                hint = (
                    f" Did you mean {near[0]}?"
                    if near
                    else f" Known {cls.scope} configs: {', '.join(sorted(known))}."
                )
                raise ConfigError(f"Unknown {cls.scope} config '{key}'{_where(where)}.{hint}")
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise ConfigError(_explain(cls, exc, where)) from None

    @classmethod
    def kafka_names(cls) -> list[str]:
        return [f.alias or name for name, f in cls.model_fields.items()]

    def explicit(self) -> dict[str, Any]:
        """Only the configs the user set, by Kafka name (what `kafka-configs.sh --describe` shows)."""
        fields = type(self).model_fields
        # in declaration order: model_fields_set is a set, whose order changes from one process to the next
        return {f.alias or n: getattr(self, n) for n, f in fields.items() if n in self.model_fields_set}

    def as_kafka_dict(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True)


class PlainValues:
    """A config's field values as plain attributes of the same names, for the engine's per-batch paths: a
    pydantic model defines __getattr__, so Python does not specialise reads of its fields (each goes through
    the __getattr__ hook: ~400 instructions, ~20 reads per batch in the produce and replication cycle). A
    config is frozen and only ever replaced whole; its owner builds these again when it replaces it
    (Topic.config, Cluster.broker_config)."""

    def __init__(self, cfg: KafkaConfig, **derived: Any) -> None:
        self.__dict__.update(cfg.__dict__, **derived)  # `derived`: values the owner works out from the config

    if (
        TYPE_CHECKING
    ):  # for mypy only (a real __getattr__ would undo the point): the attributes are the fields

        def __getattr__(self, name: str) -> Any: ...


def _where(where: str) -> str:
    return f" (in {where})" if where else ""


def _explain(cls: type[KafkaConfig], exc: ValidationError, where: str) -> str:
    parts = []
    for err in exc.errors():
        key = ".".join(str(x) for x in err["loc"]) or "(config)"
        field = next((f for f in cls.model_fields.values() if f.alias == key), None)
        allowed = _allowed(field) if field is not None else ""
        value = err.get("input")
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] in ("value_error", "assertion_error") and not err["loc"]:
            parts.append(f"{cls.scope} config{_where(where)}: {msg}")
        else:
            parts.append(
                f"Invalid value {value!r} for {cls.scope} config '{key}'{_where(where)}: {msg}.{allowed}"
            )
    return " ".join(parts)


def _allowed(field: Any) -> str:
    ann = field.annotation
    args = getattr(ann, "__args__", None)
    if args and all(isinstance(a, str | int | bool) for a in args):
        return " Allowed values: " + ", ".join(repr(a) for a in args) + "."
    if field.description:
        return f" {field.description}"
    return ""


def _acks(v: Any) -> str:
    s = str(v).strip().lower()
    if s in ("-1", "all"):
        return "all"
    if s in ("0", "1"):
        return s
    raise ValueError("acks must be one of 0, 1, all (or -1, the same as all)")


Compression = Literal["none", "gzip", "snappy", "lz4", "zstd"]


class ProducerConfig(KafkaConfig):
    """ProducerConfig defaults as of Kafka 4.0 (linger.ms=5 since KIP-1030, acks=all since KIP-679)."""

    scope: ClassVar[str] = "producer"
    acks: Literal["0", "1", "all"] = Field("all", alias="acks")
    enable_idempotence: bool = Field(True, alias="enable.idempotence")
    linger_ms: int = Field(5, alias="linger.ms", ge=0, description="A time in ms, 0 or more.")
    batch_size: int = Field(
        16384, alias="batch.size", ge=0, description="Bytes per partition batch, 0 or more."
    )
    buffer_memory: int = Field(33554432, alias="buffer.memory", ge=1, description="Bytes, at least 1.")
    max_block_ms: int = Field(60000, alias="max.block.ms", ge=0)
    max_in_flight: int = Field(
        5, alias="max.in.flight.requests.per.connection", ge=1, description="At least 1."
    )
    retries: int = Field(2147483647, alias="retries", ge=0)
    retry_backoff_ms: int = Field(100, alias="retry.backoff.ms", ge=0)
    delivery_timeout_ms: int = Field(120000, alias="delivery.timeout.ms", ge=1)
    request_timeout_ms: int = Field(30000, alias="request.timeout.ms", ge=1)
    compression_type: Compression = Field("none", alias="compression.type")
    max_request_size: int = Field(1048576, alias="max.request.size", ge=1)
    partitioner_ignore_keys: bool = Field(False, alias="partitioner.ignore.keys")
    partitioner_adaptive: bool = Field(True, alias="partitioner.adaptive.partitioning.enable")
    partitioner_availability_timeout_ms: int = Field(0, alias="partitioner.availability.timeout.ms", ge=0)
    metadata_max_age_ms: int = Field(300000, alias="metadata.max.age.ms", ge=0)
    client_id: str = Field("", alias="client.id")
    transactional_id: str | None = Field(None, alias="transactional.id")

    _v_acks = field_validator("acks", mode="before")(classmethod(lambda cls, v: _acks(v)))

    @model_validator(mode="after")
    def _rules(self) -> Self:
        if self.delivery_timeout_ms < self.linger_ms + self.request_timeout_ms:
            raise ValueError(
                f"delivery.timeout.ms ({self.delivery_timeout_ms}) must be at least linger.ms + request.timeout.ms "
                f"({self.linger_ms + self.request_timeout_ms}); raise delivery.timeout.ms or lower the others"
            )
        explicit = "enable_idempotence" in self.model_fields_set
        conflict = self.acks != "all" or self.retries == 0 or self.max_in_flight > 5
        if self.transactional_id and (not self.enable_idempotence or conflict):
            raise ValueError(
                "transactional.id needs the idempotent producer: enable.idempotence=true, acks=all, "
                "retries > 0 and max.in.flight.requests.per.connection <= 5"
            )
        if self.enable_idempotence and conflict:
            if explicit:
                raise ValueError(
                    "enable.idempotence=true needs acks=all, retries > 0 and "
                    "max.in.flight.requests.per.connection <= 5; change those or set enable.idempotence=false"
                )
            # Kafka 3.2+: an idempotence left at its default is quietly turned off by conflicting configs.
            object.__setattr__(self, "enable_idempotence", False)
        return self

    @property
    def acks_int(self) -> int:
        return -1 if self.acks == "all" else int(self.acks)


Strategy = Literal["range", "roundrobin", "sticky", "cooperative-sticky"]


class ConsumerConfig(KafkaConfig):
    """ConsumerConfig defaults as of Kafka 4.0 (session.timeout.ms=45000 since KIP-735)."""

    scope: ClassVar[str] = "consumer"
    auto_offset_reset: Literal["latest", "earliest", "none"] = Field("latest", alias="auto.offset.reset")
    enable_auto_commit: bool = Field(True, alias="enable.auto.commit")
    auto_commit_interval_ms: int = Field(5000, alias="auto.commit.interval.ms", ge=0)
    session_timeout_ms: int = Field(45000, alias="session.timeout.ms", ge=1)
    heartbeat_interval_ms: int = Field(3000, alias="heartbeat.interval.ms", ge=1)
    max_poll_interval_ms: int = Field(300000, alias="max.poll.interval.ms", ge=1)
    max_poll_records: int = Field(500, alias="max.poll.records", ge=1, description="At least 1.")
    fetch_min_bytes: int = Field(1, alias="fetch.min.bytes", ge=0)
    fetch_max_wait_ms: int = Field(500, alias="fetch.max.wait.ms", ge=0)
    fetch_max_bytes: int = Field(52428800, alias="fetch.max.bytes", ge=1)
    max_partition_fetch_bytes: int = Field(1048576, alias="max.partition.fetch.bytes", ge=1)
    partition_assignment_strategy: tuple[Strategy, ...] = Field(
        ("range", "cooperative-sticky"),
        alias="partition.assignment.strategy",
        description="A list of: range, roundrobin, sticky, cooperative-sticky (or Kafka's class names).",
    )
    request_timeout_ms: int = Field(30000, alias="request.timeout.ms", ge=1)
    retry_backoff_ms: int = Field(100, alias="retry.backoff.ms", ge=0)
    group_protocol: Literal["classic", "consumer"] = Field("classic", alias="group.protocol")
    # KIP-345 static membership: a restart within session.timeout.ms keeps the partitions, no rebalance
    group_instance_id: str | None = Field(
        None,
        alias="group.instance.id",
        min_length=1,
        max_length=249,
        pattern=r"^[a-zA-Z0-9._-]+$",
        description="1-249 characters of a-z, A-Z, 0-9, '.', '_', '-'.",
    )
    group_remote_assignor: Literal["uniform", "range"] | None = Field(None, alias="group.remote.assignor")
    isolation_level: Literal["read_uncommitted", "read_committed"] = Field(
        "read_uncommitted", alias="isolation.level"
    )
    client_id: str = Field("", alias="client.id")
    # KIP-392: the consumer's rack, sent with every fetch; a leader with a replica.selector.class may then
    # name a same-rack follower to read from, for metadata.max.age.ms
    client_rack: str = Field("", alias="client.rack")
    metadata_max_age_ms: int = Field(300000, alias="metadata.max.age.ms", ge=0)

    @field_validator("partition_assignment_strategy", mode="before")
    @classmethod
    def _strategies(cls, v: Any) -> tuple[str, ...]:
        from .assignors import strategy_from_config

        items = [s.strip() for s in v.split(",")] if isinstance(v, str) else list(v)
        if not items:
            raise ValueError("give at least one assignor")
        return tuple(strategy_from_config(s) for s in items)

    @model_validator(mode="after")
    def _rules(self) -> Self:
        _check_protocol_configs(self)
        if self.heartbeat_interval_ms >= self.session_timeout_ms:
            raise ValueError(
                f"heartbeat.interval.ms ({self.heartbeat_interval_ms}) must be lower than session.timeout.ms "
                f"({self.session_timeout_ms}); Kafka recommends at most a third of it"
            )
        return self


# ConsumerConfig.CLASSIC_PROTOCOL_UNSUPPORTED_CONFIGS / CONSUMER_PROTOCOL_UNSUPPORTED_CONFIGS (Kafka 4.0)
_UNSUPPORTED = {
    "classic": (("group.remote.assignor", "group_remote_assignor"),),
    "consumer": (
        ("partition.assignment.strategy", "partition_assignment_strategy"),
        ("heartbeat.interval.ms", "heartbeat_interval_ms"),
        ("session.timeout.ms", "session_timeout_ms"),
    ),
}
_WHY = {
    "classic": "the server-side assignor is a KIP-848 setting; with the classic protocol the group leader runs the "
    "client's partition.assignment.strategy (or set group.protocol=consumer)",
    "consumer": "with KIP-848 the broker assigns partitions (its group.consumer.assignors; a member may pick one "
    "with group.remote.assignor) and the broker sets the session timeout and heartbeat interval "
    "(group.consumer.session.timeout.ms, default 45000, and group.consumer.heartbeat.interval.ms, "
    "default 5000); remove them from the consumer's config",
}


def _check_protocol_configs(cfg: ConsumerConfig) -> None:
    """ConsumerConfig.checkUnsupportedConfigsPostProcess: the Java client throws ConfigException for these."""
    bad = [name for name, field in _UNSUPPORTED[cfg.group_protocol] if field in cfg.model_fields_set]
    if bad:
        raise ValueError(
            f"{', '.join(bad)} cannot be set when group.protocol={cfg.group_protocol.upper()}: "
            f"{_WHY[cfg.group_protocol]}"
        )


RACK_AWARE_SELECTOR = "org.apache.kafka.common.replica.RackAwareReplicaSelector"
LEADER_SELECTOR = "org.apache.kafka.common.replica.LeaderSelector"
ReplicaSelector = Literal[
    "org.apache.kafka.common.replica.RackAwareReplicaSelector",
    "org.apache.kafka.common.replica.LeaderSelector",
]

CleanupPolicy = Literal["delete", "compact", "compact,delete", "delete,compact"]


class TopicConfig(KafkaConfig):
    """Topic-level configs; unset ones fall back to the broker's defaults (`log.*` / cluster settings)."""

    scope: ClassVar[str] = "topic"
    cleanup_policy: CleanupPolicy = Field("delete", alias="cleanup.policy")
    min_insync_replicas: int = Field(1, alias="min.insync.replicas", ge=1, description="At least 1.")
    unclean_leader_election_enable: bool = Field(False, alias="unclean.leader.election.enable")
    retention_ms: int = Field(604800000, alias="retention.ms", ge=-1, description="-1 means keep forever.")
    retention_bytes: int = Field(-1, alias="retention.bytes", ge=-1, description="-1 means no size limit.")
    # Kafka 4.0 refuses segment.bytes below 1 MB (KIP-1030); lessons use tiny segments to show rolling.
    segment_bytes: int = Field(1073741824, alias="segment.bytes", ge=14, description="Bytes per log segment.")
    segment_ms: int = Field(604800000, alias="segment.ms", ge=1)
    delete_retention_ms: int = Field(86400000, alias="delete.retention.ms", ge=0)
    min_compaction_lag_ms: int = Field(0, alias="min.compaction.lag.ms", ge=0)
    max_message_bytes: int = Field(1048588, alias="max.message.bytes", ge=0)
    compression_type: Literal["producer", "none", "gzip", "snappy", "lz4", "zstd"] = Field(
        "producer", alias="compression.type"
    )

    @property
    def compact(self) -> bool:
        return "compact" in self.cleanup_policy

    @property
    def delete(self) -> bool:
        return "delete" in self.cleanup_policy


class BrokerConfig(KafkaConfig):
    """Cluster-wide broker settings (KafkaConfig / `server.properties`), plus the simulator's own knobs."""

    scope: ClassVar[str] = "broker"
    replica_lag_time_max_ms: int = Field(30000, alias="replica.lag.time.max.ms", ge=1)
    replica_fetch_wait_max_ms: int = Field(500, alias="replica.fetch.wait.max.ms", ge=0)
    replica_fetch_min_bytes: int = Field(1, alias="replica.fetch.min.bytes", ge=1)
    # KIP-227 incremental fetch sessions between brokers; 0 turns them off (every fetch names every partition)
    max_incremental_fetch_session_cache_slots: int = Field(
        1000, alias="max.incremental.fetch.session.cache.slots", ge=0
    )
    min_insync_replicas: int = Field(1, alias="min.insync.replicas", ge=1)
    unclean_leader_election_enable: bool = Field(False, alias="unclean.leader.election.enable")
    default_replication_factor: int = Field(1, alias="default.replication.factor", ge=1)
    num_partitions: int = Field(1, alias="num.partitions", ge=1)
    offsets_topic_num_partitions: int = Field(50, alias="offsets.topic.num.partitions", ge=1)
    offsets_topic_replication_factor: int = Field(3, alias="offsets.topic.replication.factor", ge=1)
    group_initial_rebalance_delay_ms: int = Field(3000, alias="group.initial.rebalance.delay.ms", ge=0)
    group_min_session_timeout_ms: int = Field(6000, alias="group.min.session.timeout.ms", ge=0)
    group_max_session_timeout_ms: int = Field(1800000, alias="group.max.session.timeout.ms", ge=1)
    # KIP-848 consumer groups (GroupCoordinatorConfig): the broker, not the member, sets these
    group_consumer_session_timeout_ms: int = Field(45000, alias="group.consumer.session.timeout.ms", ge=1)
    group_consumer_min_session_timeout_ms: int = Field(
        45000, alias="group.consumer.min.session.timeout.ms", ge=1
    )
    group_consumer_max_session_timeout_ms: int = Field(
        60000, alias="group.consumer.max.session.timeout.ms", ge=1
    )
    group_consumer_heartbeat_interval_ms: int = Field(
        5000, alias="group.consumer.heartbeat.interval.ms", ge=1
    )
    group_consumer_min_heartbeat_interval_ms: int = Field(
        5000, alias="group.consumer.min.heartbeat.interval.ms", ge=1
    )
    group_consumer_max_heartbeat_interval_ms: int = Field(
        15000, alias="group.consumer.max.heartbeat.interval.ms", ge=1
    )
    group_consumer_assignors: tuple[Literal["uniform", "range"], ...] = Field(
        ("uniform", "range"),
        alias="group.consumer.assignors",
        description="A list of: uniform, range (or Kafka's class names); the first is the default.",
    )
    # ShareGroupConfig (KIP-932): how often a share group delivers a record before archiving it
    group_share_delivery_count_limit: int = Field(
        5, alias="group.share.delivery.count.limit", ge=2, le=10, description="Between 2 and 10."
    )
    auto_leader_rebalance_enable: bool = Field(True, alias="auto.leader.rebalance.enable")
    # a broker asked to stop first has the controller move its leaderships (engine.shutdown)
    controlled_shutdown_enable: bool = Field(True, alias="controlled.shutdown.enable")
    leader_imbalance_check_interval_seconds: int = Field(
        300, alias="leader.imbalance.check.interval.seconds", ge=1
    )
    leader_imbalance_per_broker_percentage: int = Field(
        10, alias="leader.imbalance.per.broker.percentage", ge=0
    )
    broker_heartbeat_interval_ms: int = Field(2000, alias="broker.heartbeat.interval.ms", ge=1)
    broker_session_timeout_ms: int = Field(9000, alias="broker.session.timeout.ms", ge=1)
    zookeeper_session_timeout_ms: int = Field(18000, alias="zookeeper.session.timeout.ms", ge=1)
    # KRaft quorum (QuorumConfig): a voter that hears nothing from the active controller for
    # controller.quorum.fetch.timeout.ms becomes a candidate; the vote takes up to controller.quorum.election.timeout.ms
    controller_quorum_fetch_timeout_ms: int = Field(2000, alias="controller.quorum.fetch.timeout.ms", ge=1)
    controller_quorum_election_timeout_ms: int = Field(
        1000, alias="controller.quorum.election.timeout.ms", ge=1
    )
    log_retention_check_interval_ms: int = Field(300000, alias="log.retention.check.interval.ms", ge=1)
    log_cleaner_backoff_ms: int = Field(15000, alias="log.cleaner.backoff.ms", ge=1)
    auto_create_topics_enable: bool = Field(True, alias="auto.create.topics.enable")
    message_max_bytes: int = Field(1048588, alias="message.max.bytes", ge=0)
    # KIP-392: which replica a consumer reads from; None (Kafka's default): always the leader
    replica_selector_class: ReplicaSelector | None = Field(None, alias="replica.selector.class")
    # the cluster's finalized `transaction.version` feature (KIP-890; `kafka-features.sh`, not server.properties):
    # 2, the Kafka 4.x default for new clusters, bumps the producer epoch at the end of every transaction
    transaction_version: Literal[1, 2] = Field(2, alias="transaction.version", description="1 or 2.")
    # Simulator-only: one-way network latency between any two actors, in simulated ms.
    network_latency_ms: int = Field(1, alias="simulator.network.latency.ms", ge=0, le=60000)

    @field_validator("group_consumer_assignors", mode="before")
    @classmethod
    def _assignors(cls, v: Any) -> tuple[str, ...]:
        items = [s.strip() for s in v.split(",")] if isinstance(v, str) else list(v)
        if not items:
            raise ValueError("give at least one server-side assignor")
        return tuple(str(s).rsplit(".", 1)[-1].removesuffix("Assignor").lower() for s in items)

    @model_validator(mode="after")
    def _rules(self) -> Self:
        """GroupCoordinatorConfig's checks of the KIP-848 session timeout and heartbeat interval."""
        for name, low, value, high in (
            (
                "group.consumer.session.timeout.ms",
                self.group_consumer_min_session_timeout_ms,
                self.group_consumer_session_timeout_ms,
                self.group_consumer_max_session_timeout_ms,
            ),
            (
                "group.consumer.heartbeat.interval.ms",
                self.group_consumer_min_heartbeat_interval_ms,
                self.group_consumer_heartbeat_interval_ms,
                self.group_consumer_max_heartbeat_interval_ms,
            ),
        ):
            if not low <= value <= high:
                raise ValueError(
                    f"{name} ({value}) must lie within its min and max ({low}..{high}); "
                    f"change {name.replace('group.consumer.', 'group.consumer.min.')} / .max too"
                )
        if self.group_consumer_heartbeat_interval_ms >= self.group_consumer_session_timeout_ms:
            raise ValueError(
                "group.consumer.heartbeat.interval.ms must be less than group.consumer.session.timeout.ms"
            )
        return self
