"""User actions as data: what a Playground button, a lesson step or a URL applies to the cluster.

Each command is a small pydantic model with an `op` name; `apply_command` runs it and returns a sentence
saying what happened. Commands are recorded in the timeline, so a run can be replayed exactly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from .cluster import Cluster
from .errors import (
    ConfigError,
    GroupNotEmptyError,
    IllegalStateError,
    InvalidPartitionsError,
    KafkaError,
    ProducerFencedError,
)
from .producer import Producer

if TYPE_CHECKING:
    from .records import ConsumerRecord


class _Cmd(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CrashBroker(_Cmd):
    op: Literal["crash_broker"] = "crash_broker"
    broker: int = Field(ge=1, le=12)


class ShutdownBroker(_Cmd):
    """A clean stop (SIGTERM, a rolling restart): a controlled shutdown moves its leaderships first."""

    op: Literal["shutdown_broker"] = "shutdown_broker"
    broker: int = Field(ge=1, le=12)


class RestartBroker(_Cmd):
    op: Literal["restart_broker"] = "restart_broker"
    broker: int = Field(ge=1, le=12)


class IsolateBroker(_Cmd):
    op: Literal["isolate_broker"] = "isolate_broker"
    broker: int = Field(ge=1, le=12)
    clients_can_reach: bool = True


class HealBroker(_Cmd):
    op: Literal["heal_broker"] = "heal_broker"
    broker: int = Field(ge=1, le=12)


class SlowBroker(_Cmd):
    op: Literal["slow_broker"] = "slow_broker"
    broker: int = Field(ge=1, le=12)
    extra_latency_ms: int = Field(ge=0, le=60_000)


class AddBroker(_Cmd):
    op: Literal["add_broker"] = "add_broker"
    rack: str | None = Field(None, min_length=1, max_length=64, description="the new broker's broker.rack")


class CrashConsumer(_Cmd):
    op: Literal["crash_consumer"] = "crash_consumer"
    consumer: str


class CloseConsumer(_Cmd):
    op: Literal["close_consumer"] = "close_consumer"
    consumer: str


class RestartConsumer(_Cmd):
    """Start a crashed or closed consumer again with the same config (a static member keeps its instance id)."""

    op: Literal["restart_consumer"] = "restart_consumer"
    consumer: str


class AddConsumer(_Cmd):
    op: Literal["add_consumer"] = "add_consumer"
    group: str
    consumer: str | None = None  # a fresh id like c4 when omitted
    poll_interval_ms: int = Field(100, ge=1, le=60_000)
    # KIP-345: start the newcomer with this group.instance.id; a running member's id makes it a second process
    # of the same static member, which takes its place and fences it (FENCED_INSTANCE_ID)
    group_instance_id: str | None = None


class Produce(_Cmd):
    op: Literal["produce"] = "produce"
    producer: str
    count: int = Field(1, ge=1, le=10_000)  # per click/URL command: a million sends froze a session ~90 s
    key: str | None = None
    value: str | None = None
    topic: str | None = None  # the producer's scenario topic when omitted
    tombstone: bool = (
        False  # a null value (delete marker on a compacted topic); `value: null` means "default"
    )


class SetRate(_Cmd):
    op: Literal["set_rate"] = "set_rate"
    producer: str
    rate_per_s: float = Field(ge=0, le=10_000)


class RunFor(_Cmd):
    op: Literal["run_for"] = "run_for"
    ms: int = Field(ge=0, le=3_600_000)


class Reassign(_Cmd):
    op: Literal["reassign"] = "reassign"
    topic: str
    partition: int = Field(ge=0)
    replicas: list[int] = Field(min_length=1, max_length=12)


class PreferredElection(_Cmd):
    op: Literal["preferred_election"] = "preferred_election"
    topic: str | None = None


class AlterPartitions(_Cmd):
    """kafka-topics.sh --alter --topic T --partitions N: grow a topic to N partitions (never fewer)."""

    op: Literal["alter_partitions"] = "alter_partitions"
    topic: str = Field(min_length=1)
    partitions: int = Field(ge=1, le=1000)


class ResetOffsets(_Cmd):
    """kafka-consumer-groups.sh --reset-offsets --group G --topic T --to-earliest|--to-latest|--to-offset N
    --execute: rewrite an inactive group's committed offsets."""

    op: Literal["reset_offsets"] = "reset_offsets"
    group: str = Field(min_length=1)
    topic: str = Field(min_length=1)
    to: Literal["earliest", "latest", "offset"] = "earliest"
    offset: int | None = Field(None, ge=0)  # with to: offset


# -- modern Kafka (issue 11): share groups, transactions ---------------------------------------------------------
class AddShareConsumer(_Cmd):
    """Start `count` members of a share group (KIP-932); scenarios cannot describe share groups."""

    op: Literal["add_share_consumer"] = "add_share_consumer"
    group: str = Field(min_length=1, max_length=40)
    topics: list[str] | None = None  # default: the topics the group's members read
    consumer: str | None = None  # a fresh id like s1 when omitted
    count: int = Field(1, ge=1, le=12)
    config: dict[str, str | int | float | bool] = Field(default_factory=dict)
    poll_interval_ms: int = Field(100, ge=1, le=60_000)
    release_keys: list[str] = Field(
        default_factory=list, max_length=20
    )  # RELEASEd, never processed: "poison"


class InitTransactions(_Cmd):
    op: Literal["init_transactions"] = "init_transactions"
    producer: str


class BeginTransaction(_Cmd):
    op: Literal["begin_transaction"] = "begin_transaction"
    producer: str


class CommitTransaction(_Cmd):
    op: Literal["commit_transaction"] = "commit_transaction"
    producer: str


class AbortTransaction(_Cmd):
    op: Literal["abort_transaction"] = "abort_transaction"
    producer: str


class ConsumeTransformProduce(_Cmd):
    """One round of the exactly-once loop: poll, begin, send results, send the offsets, then end."""

    op: Literal["consume_transform_produce"] = "consume_transform_produce"
    producer: str  # transactional (transactional.id set)
    consumer: str  # created on first use in `group`, reading `from_topic` with isolation.level=read_committed
    group: str
    from_topic: str
    to_topic: str
    max_records: int = Field(10, ge=1, le=500)
    end: Literal["commit", "abort", "open"] = "commit"  # open: the app stops before committing


Command = Annotated[
    CrashBroker
    | ShutdownBroker
    | RestartBroker
    | IsolateBroker
    | HealBroker
    | SlowBroker
    | AddBroker
    | CrashConsumer
    | CloseConsumer
    | RestartConsumer
    | AddConsumer
    | Produce
    | SetRate
    | RunFor
    | Reassign
    | PreferredElection
    | AddShareConsumer
    | InitTransactions
    | BeginTransaction
    | CommitTransaction
    | AbortTransaction
    | ConsumeTransformProduce
    | AlterPartitions
    | ResetOffsets,
    Field(discriminator="op"),
]
_ADAPTER: TypeAdapter[Command] = TypeAdapter(Command)
COMMAND_OPS = (
    "crash_broker",
    "shutdown_broker",
    "restart_broker",
    "isolate_broker",
    "heal_broker",
    "slow_broker",
    "add_broker",
    "crash_consumer",
    "close_consumer",
    "restart_consumer",
    "add_consumer",
    "produce",
    "set_rate",
    "run_for",
    "reassign",
    "preferred_election",
    "add_share_consumer",
    "init_transactions",
    "begin_transaction",
    "commit_transaction",
    "abort_transaction",
    "consume_transform_produce",
    "alter_partitions",
    "reset_offsets",
)


def parse_command(data: dict) -> Command:
    """Validate one command (from a lesson file or URL); errors name the field and the allowed ops."""
    if not isinstance(data, dict):
        raise ConfigError(
            f"A command must be a mapping like {{'op': 'crash_broker', 'broker': 1}}, got "
            f"{type(data).__name__}"
        )
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"]) or "op"
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            raise ConfigError(
                f"Unknown command {data.get('op') if isinstance(data, dict) else data!r}: allowed ops "
                f"are {', '.join(COMMAND_OPS)}"
            ) from None
        raise ConfigError(f"Command {data.get('op')!r}: field '{loc}': {err['msg']}") from None


def _consumer(c: Cluster, cid: str):
    k = c.consumers.get(cid) or c.share_consumers.get(cid)
    if k is None:
        raise ConfigError(
            f"there is no consumer {cid!r}; consumers are {sorted([*c.consumers, *c.share_consumers])}"
        )
    return k


def _consumer_lifecycle(c: Cluster, cmd: CrashConsumer | CloseConsumer | RestartConsumer) -> str:
    """A consumer process crashes, closes, or starts again (a static member keeps its group.instance.id)."""
    if isinstance(cmd, RestartConsumer):
        c.restart_consumer(cmd.consumer)
        return f"Restarted consumer {cmd.consumer}"
    k = _consumer(c, cmd.consumer)
    if isinstance(cmd, CrashConsumer):
        k.crash()
        return f"Crashed consumer {cmd.consumer}"
    k.close()
    return f"Closed consumer {cmd.consumer}"


def _txn_producer(c: Cluster, pid: str):
    p = c.producers.get(pid)
    if p is None:
        raise ConfigError(f"there is no producer {pid!r}; producers are {sorted(c.producers)}")
    if getattr(p, "external", False):  # a real client over the Kafka protocol (engine/server)
        raise IllegalStateError(
            f"{pid} is a real client connected over the Kafka protocol: it runs its transactions in its own "
            f"process, not from the simulator"
        )
    if not isinstance(p, Producer) or p.txn is None:
        raise ConfigError(f"producer {pid!r} has no transactional.id: set it in the producer's config")
    return p


def apply_command(c: Cluster, cmd: Command) -> str:
    """Run a command on the cluster; returns what happened, in a sentence (raises KafkaError on bad targets)."""
    match cmd:
        case (
            CrashBroker()
            | ShutdownBroker()
            | RestartBroker()
            | IsolateBroker()
            | HealBroker()
            | SlowBroker()
            | AddBroker()
        ):
            return _broker_command(c, cmd)
        case CrashConsumer() | CloseConsumer() | RestartConsumer():
            return _consumer_lifecycle(c, cmd)
        case AddConsumer(group=g, consumer=cid, poll_interval_ms=iv, group_instance_id=iid):
            return add_consumer(c, g, cid, iv, iid)
        case AddShareConsumer():
            return add_share_consumers(c, cmd)
        case Produce() | SetRate():
            return _load_command(c, cmd)
        case RunFor(ms=ms):
            c.run_for(ms)
            return f"Ran for {ms} ms"
        case Reassign() | PreferredElection() | AlterPartitions() | ResetOffsets():
            return _admin_command(c, cmd)
        case (
            InitTransactions()
            | BeginTransaction()
            | CommitTransaction()
            | AbortTransaction()
            | ConsumeTransformProduce()
        ):
            return _transaction_command(c, cmd)
    raise ConfigError(f"unknown command {cmd!r}")


def _broker_command(c: Cluster, cmd: Command) -> str:
    """Faults and operations on one broker."""
    match cmd:
        case CrashBroker(broker=b):
            c.crash_broker(b)
            return f"Crashed broker {b}"
        case ShutdownBroker(broker=b):
            c.shutdown_broker(b)
            return f"Asked broker {b} to shut down (controlled shutdown)"
        case RestartBroker(broker=b):
            c.restart_broker(b)
            return f"Restarted broker {b}"
        case IsolateBroker(broker=b, clients_can_reach=ok):
            c.isolate_broker(b, ok)
            return f"Isolated broker {b}"
        case HealBroker(broker=b):
            c.heal_broker(b)
            return f"Healed broker {b}'s network"
        case SlowBroker(broker=b, extra_latency_ms=ms):
            c.slow_broker(b, ms)
            return f"Broker {b} is {ms} ms slower"
        case AddBroker(rack=rack):
            return f"Added broker {c.add_broker(rack)}" + (f" in rack {rack}" if rack is not None else "")
    raise ConfigError(f"unknown command {cmd!r}")


def _load_command(c: Cluster, cmd: Command) -> str:
    """Records sent by hand, or a change to a producer's steady load."""
    match cmd:
        case Produce(producer=pid, count=n, key=key, value=value, topic=topic, tombstone=tombstone):
            p = c.producers.get(pid)
            if p is None:
                raise ConfigError(f"there is no producer {pid!r}; producers are {sorted(c.producers)}")
            gen = c.load_generators.get(pid)
            topic = topic or (gen.topic if gen else None)
            if topic is None:
                raise ConfigError(f"produce: give a topic for producer {pid!r}")
            for i in range(n):
                p.send(
                    topic,
                    value=None if tombstone else value if value is not None else f"{pid}-manual-{i}",
                    key=key,
                )
            return f"{pid} sent {n} {'tombstone' if tombstone else 'record'}(s) to {topic}"
        case SetRate(producer=pid, rate_per_s=rate):
            gen = c.load_generators.get(pid)
            if gen is None:
                raise ConfigError(f"producer {pid!r} has no steady load to change")
            gen.stop()
            gen.rate_per_s = rate
            gen.start()
            return f"{pid} now sends {rate:g} record(s)/s"
    raise ConfigError(f"unknown command {cmd!r}")


def _admin_command(c: Cluster, cmd: Command) -> str:
    """What the admin tools do: reassign, elect preferred leaders, add partitions, reset a group's offsets."""
    match cmd:
        case Reassign(topic=t, partition=p, replicas=rs):
            c.reassign_partitions({(t, p): list(rs)})
            return f"Reassigning {t}-{p} to {rs}"
        case PreferredElection(topic=t):
            n = c.preferred_leader_election(t)
            return f"Preferred leader election moved {n} leader(s)"
        case AlterPartitions(topic=t, partitions=n):
            return _refused_note(
                c,
                lambda: c.create_partitions(t, n),
                f"Topic {t} now has {n} partitions",
                topic=t,
                tool="kafka-topics.sh --alter",
            )
        case ResetOffsets():
            return reset_offsets(c, cmd)
    raise ConfigError(f"unknown command {cmd!r}")


def _transaction_command(c: Cluster, cmd: Command) -> str:
    """A transactional producer's calls (KIP-98), and the consume-transform-produce loop."""
    match cmd:
        case InitTransactions(producer=pid):
            p = _txn_producer(c, pid)
            p.init_transactions()
            return (
                f"{pid} called init_transactions(): transactional.id {p.txn.txn_id!r} has producer id {p.pid}, "
                f"epoch {p.producer_epoch}"
            )
        case BeginTransaction(producer=pid):
            _txn_producer(c, pid).begin_transaction()
            return f"{pid} began a transaction"
        case CommitTransaction(producer=pid) | AbortTransaction(producer=pid):
            p = _txn_producer(c, pid)
            commit = isinstance(cmd, CommitTransaction)
            return _fenced_note(
                c,
                p,
                lambda: p.commit_transaction() if commit else p.abort_transaction(),
                f"{pid} {'committed' if commit else 'aborted'} its transaction",
            )
        case ConsumeTransformProduce():
            return consume_transform_produce(c, cmd)
    raise ConfigError(f"unknown command {cmd!r}")


def _fenced_note(c: Cluster, p, action, done: str) -> str:
    """A fenced zombie is an outcome to show, not a broken command: say it in the event log."""
    try:
        action()
    except ProducerFencedError as exc:
        msg = f"{p.id} got ProducerFencedError: {exc}"
        c.emit("note", msg, actors=(p.id,), fenced=True, transactional_id=p.txn.txn_id)
        return msg
    return done


def _refused_note(c: Cluster, action, done: str, topic: str | None, tool: str) -> str:
    """An admin tool that Kafka answers with an error changes nothing and prints the error: an outcome to show
    in the event log (as a `note` with `refused: true`), not a broken command."""
    try:
        action()
    except (InvalidPartitionsError, GroupNotEmptyError) as exc:
        java = type(exc).__name__.removesuffix("Error") + "Exception"
        msg = f"{tool}: Error: {exc} ({java}); nothing changed"
        c.emit("note", msg, actors=("admin",), topic=topic, refused=True, error=exc.name)
        return msg
    return done


def reset_offsets(c: Cluster, cmd: ResetOffsets) -> str:
    """ConsumerGroupCommand.resetOffsets: only for a group with no active members (Empty or Dead); --to-offset
    is clamped into [log start offset, log end offset] as the tool does (checkOffsetsRange)."""
    topic = c.topics.get(cmd.topic)
    if topic is None:
        raise ConfigError(f"reset_offsets: no topic {cmd.topic!r}; topics are {sorted(c.topics)}")
    if (cmd.to == "offset") != (cmd.offset is not None):
        raise ConfigError("reset_offsets: give offset exactly when to is 'offset' (--to-offset N)")
    problem = (
        c.ensure_offsets_topic()
    )  # the tool's FindCoordinator creates __consumer_offsets, as a client's does
    co = None if problem else c.coordinator_for(cmd.group)
    if co is None:
        raise ConfigError(
            problem or f"reset_offsets: the coordinator of group {cmd.group!r} is not available"
        )
    coordinator = c.brokers[co].coordinator
    g = coordinator.group(cmd.group)
    g848 = coordinator.kip848.groups.get(cmd.group)
    state = g848.state if g848 is not None and g848.members else g.state
    offsets: dict[tuple[str, int], int] = {}
    for p in range(topic.partitions):
        r = c.leader_replica((cmd.topic, p))
        if r is None:
            raise ConfigError(f"reset_offsets: {cmd.topic}-{p} has no leader; try again when it has one")
        lo, hi = r.log.log_start_offset, r.hw
        want = {"earliest": lo, "latest": hi}.get(cmd.to, cmd.offset)
        offsets[(cmd.topic, p)] = min(max(want, lo), hi)

    def run() -> None:
        if state not in ("Empty", "Dead"):
            raise GroupNotEmptyError(
                f"Assignments can only be reset if the group '{cmd.group}' is inactive, but "
                f"the current state is {state}."
            )
        g.offsets.update(offsets)
        coordinator.append_offsets(g, offsets)
        shown = ", ".join(f"{t}-{p}: {o}" for (t, p), o in offsets.items())
        c.emit(
            "offsets_committed",
            f"kafka-consumer-groups.sh --reset-offsets --to-{cmd.to} --execute set group "
            f"{cmd.group}'s committed offsets to {shown}",
            actors=("admin", c.brokers[co].name, cmd.group),
            group=cmd.group,
            offsets=dict(offsets),
            reset=cmd.to,
        )

    return _refused_note(
        c,
        run,
        f"Reset group {cmd.group}'s offsets of {cmd.topic} to {cmd.to}",
        cmd.topic,
        "kafka-consumer-groups.sh --reset-offsets",
    )


def add_share_consumers(c: Cluster, cmd: AddShareConsumer) -> str:
    """Start share consumers that poll on their own (implicitly accepting, except `release_keys`)."""
    members = [k for k in c.share_consumers.values() if k.group_id == cmd.group and k.alive]
    topics = list(cmd.topics or (members[0].topics if members else []))
    if not topics:
        raise ConfigError(
            f"add_share_consumer: share group {cmd.group!r} has no members yet: give its topics"
        )
    missing = [t for t in topics if t not in c.topics]
    if missing:
        raise ConfigError(f"add_share_consumer: no topic {missing[0]!r}; topics are {sorted(c.topics)}")
    if cmd.consumer is not None and cmd.count > 1:
        raise ConfigError("add_share_consumer: give either one consumer id or a count, not both")
    config = dict(cmd.config) if cmd.config or not members else members[0].config.explicit()
    release = [k.encode() for k in cmd.release_keys] or (sorted(members[0].auto_release) if members else [])
    ids = []
    for _ in range(cmd.count):
        cid = cmd.consumer
        if cid is None:
            n = len(c.share_consumers) + 1
            while f"s{n}" in c.share_consumers or f"s{n}" in c.consumers or f"s{n}" in c.producers:
                n += 1
            cid = f"s{n}"
        c.share_consumer(cid, cmd.group, topics, config).start(cmd.poll_interval_ms, release)
        ids.append(cid)
    return f"Added share consumer(s) {', '.join(ids)} to share group {cmd.group} reading {', '.join(topics)}"


def consume_transform_produce(c: Cluster, cmd: ConsumeTransformProduce) -> str:
    """Kafka's exactly-once loop (KIP-447) for one poll; `end: open` leaves the transaction hanging."""
    p = _txn_producer(c, cmd.producer)
    if cmd.from_topic not in c.topics or cmd.to_topic not in c.topics:
        raise ConfigError(f"consume_transform_produce: topics are {sorted(c.topics)}")
    k = c.consumers.get(cmd.consumer)
    if k is None:
        k = c.consumer(
            cmd.consumer,
            group_id=cmd.group,
            topics=[cmd.from_topic],
            config={
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
                "max.poll.records": cmd.max_records,
                "session.timeout.ms": 10000,
                "heartbeat.interval.ms": 3000,
            },
        )
    if p.txn.state == "Uninitialized":
        p.init_transactions()
    recs: list[ConsumerRecord] = []
    for _ in range(15):  # joining the group takes a few simulated seconds the first time
        recs = k.poll(1000)
        if recs:
            break
    if not recs:
        return f"{cmd.consumer} found nothing new in {cmd.from_topic}: no transaction started"

    def run() -> None:
        p.begin_transaction()
        for r in recs:
            value = b"processed " + (r.value or b"")
            p.send(cmd.to_topic, key=r.key, value=value)
        offsets: dict[tuple[str, int], int] = {}
        for r in recs:
            offsets[(r.topic, r.partition)] = max(offsets.get((r.topic, r.partition), 0), r.offset + 1)
        p.send_offsets_to_transaction(offsets, cmd.group)
        if cmd.end == "commit":
            p.commit_transaction()
        elif cmd.end == "abort":
            p.abort_transaction()
        else:
            p.flush()  # written to the log, but neither committed nor aborted

    what = {
        "commit": "committed",
        "abort": "aborted",
        "open": "left open (the app stopped before committing)",
    }
    return _fenced_note(
        c,
        p,
        run,
        f"{cmd.producer} read {len(recs)} record(s) of {cmd.from_topic}, wrote their "
        f"results to {cmd.to_topic} and {what[cmd.end]} the transaction",
    )


def add_consumer(
    c: Cluster,
    group: str,
    cid: str | None = None,
    poll_interval_ms: int = 100,
    group_instance_id: str | None = None,
) -> str:
    """Start one more member in an existing group, with the same subscription and config as its peers (and
    `group_instance_id` as its group.instance.id when given)."""
    peers = [k for k in c.consumers.values() if k.group_id == group]
    if not peers:
        raise ConfigError(
            f"there is no group {group!r}; groups are {sorted({k.group_id for k in c.consumers.values() if k.group_id})}"
        )
    peer = peers[0]
    if cid is None:
        n = len(c.consumers) + 1
        while f"c{n}" in c.consumers:
            n += 1
        cid = f"c{n}"
    cfg = peer.config.explicit()
    if group_instance_id is not None:
        cfg["group.instance.id"] = group_instance_id
    elif (
        "group.instance.id" in cfg
    ):  # a static group: the newcomer gets its own instance id (a copy would fence)
        cfg["group.instance.id"] = cid
    k = c.consumer(cid, group_id=group, topics=list(peer.subscription or []), config=cfg)
    k.start(poll_interval_ms)
    return f"Added consumer {cid} to group {group}"


__all__ = [
    "Command",
    "apply_command",
    "parse_command",
    "add_consumer",
    "add_share_consumers",
    "consume_transform_produce",
    "KafkaError",
    "COMMAND_OPS",
]
