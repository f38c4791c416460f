"""User actions as data: what a Playground button, a lesson step or a URL applies to the cluster.

Each command is a small pydantic model with an `op` name; `apply_command` runs it and returns a sentence
saying what happened. Commands are recorded in the timeline, so a run can be replayed exactly.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from .cluster import Cluster
from .errors import ConfigError, KafkaError


class _Cmd(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CrashBroker(_Cmd):
    op: Literal["crash_broker"] = "crash_broker"
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


class CrashConsumer(_Cmd):
    op: Literal["crash_consumer"] = "crash_consumer"
    consumer: str


class CloseConsumer(_Cmd):
    op: Literal["close_consumer"] = "close_consumer"
    consumer: str


class AddConsumer(_Cmd):
    op: Literal["add_consumer"] = "add_consumer"
    group: str
    consumer: str | None = None  # a fresh id like c4 when omitted
    poll_interval_ms: int = Field(100, ge=1, le=60_000)


class Produce(_Cmd):
    op: Literal["produce"] = "produce"
    producer: str
    count: int = Field(1, ge=1, le=1_000_000)
    key: str | None = None
    value: str | None = None
    topic: str | None = None  # the producer's scenario topic when omitted


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


Command = Annotated[
    CrashBroker | RestartBroker | IsolateBroker | HealBroker | SlowBroker | AddBroker | CrashConsumer
    | CloseConsumer | AddConsumer | Produce | SetRate | RunFor | Reassign | PreferredElection,
    Field(discriminator="op"),
]
_ADAPTER: TypeAdapter[Command] = TypeAdapter(Command)
COMMAND_OPS = ("crash_broker", "restart_broker", "isolate_broker", "heal_broker", "slow_broker", "add_broker",
               "crash_consumer", "close_consumer", "add_consumer", "produce", "set_rate", "run_for", "reassign",
               "preferred_election")


def parse_command(data: dict) -> Command:
    """Validate one command (from a lesson file or URL); errors name the field and the allowed ops."""
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"]) or "op"
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            raise ConfigError(f"Unknown command {data.get('op') if isinstance(data, dict) else data!r}: allowed ops "
                              f"are {', '.join(COMMAND_OPS)}") from None
        raise ConfigError(f"Command {data.get('op')!r}: field '{loc}': {err['msg']}") from None


def _consumer(c: Cluster, cid: str):
    k = c.consumers.get(cid)
    if k is None:
        raise ConfigError(f"there is no consumer {cid!r}; consumers are {sorted(c.consumers)}")
    return k


def apply_command(c: Cluster, cmd: Command) -> str:
    """Run a command on the cluster; returns what happened, in a sentence (raises KafkaError on bad targets)."""
    match cmd:
        case CrashBroker(broker=b):
            c.crash_broker(b)
            return f"Crashed broker {b}"
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
        case AddBroker():
            return f"Added broker {c.add_broker()}"
        case CrashConsumer(consumer=cid):
            _consumer(c, cid).crash()
            return f"Crashed consumer {cid}"
        case CloseConsumer(consumer=cid):
            _consumer(c, cid).close()
            return f"Closed consumer {cid}"
        case AddConsumer(group=g, consumer=cid, poll_interval_ms=iv):
            return add_consumer(c, g, cid, iv)
        case Produce(producer=pid, count=n, key=key, value=value, topic=topic):
            p = c.producers.get(pid)
            if p is None:
                raise ConfigError(f"there is no producer {pid!r}; producers are {sorted(c.producers)}")
            gen = c.load_generators.get(pid)
            topic = topic or (gen.topic if gen else None)
            if topic is None:
                raise ConfigError(f"produce: give a topic for producer {pid!r}")
            for i in range(n):
                p.send(topic, value=value if value is not None else f"{pid}-manual-{i}", key=key)
            return f"{pid} sent {n} record(s) to {topic}"
        case SetRate(producer=pid, rate_per_s=rate):
            gen = c.load_generators.get(pid)
            if gen is None:
                raise ConfigError(f"producer {pid!r} has no steady load to change")
            gen.stop()
            gen.rate_per_s = rate
            gen.start()
            return f"{pid} now sends {rate:g} record(s)/s"
        case RunFor(ms=ms):
            c.run_for(ms)
            return f"Ran for {ms} ms"
        case Reassign(topic=t, partition=p, replicas=rs):
            c.reassign_partitions({(t, p): list(rs)})
            return f"Reassigning {t}-{p} to {rs}"
        case PreferredElection(topic=t):
            n = c.preferred_leader_election(t)
            return f"Preferred leader election moved {n} leader(s)"
    raise ConfigError(f"unknown command {cmd!r}")


def add_consumer(c: Cluster, group: str, cid: str | None = None, poll_interval_ms: int = 100) -> str:
    """Start one more member in an existing group, with the same subscription and config as its peers."""
    peers = [k for k in c.consumers.values() if k.group_id == group]
    if not peers:
        raise ConfigError(f"there is no group {group!r}; groups are {sorted({k.group_id for k in c.consumers.values() if k.group_id})}")
    peer = peers[0]
    if cid is None:
        n = len(c.consumers) + 1
        while f"c{n}" in c.consumers:
            n += 1
        cid = f"c{n}"
    k = c.consumer(cid, group_id=group, topics=list(peer.subscription or []), config=peer.config.explicit())
    k.start(poll_interval_ms)
    return f"Added consumer {cid} to group {group}"


__all__ = ["Command", "apply_command", "parse_command", "add_consumer", "KafkaError", "COMMAND_OPS"]
