"""`Cluster`: the simulated Kafka cluster and the engine's public face.

It owns the clock and scheduler, the network, the event log, the seeded RNG, the brokers, the controller,
the clients and the loss ledger, and it offers the commands the UI, lessons, notebooks and tests use.
Same seed + same commands => identical event log.
"""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from . import args
from .broker import Broker
from .config import BrokerConfig, PlainValues, TopicConfig
from .consumer import Consumer
from .contracts import Client
from .controller import Controller
from .errors import (
    ConfigError,
    InvalidArgumentError,
    InvalidPartitionsError,
    InvalidReplicationFactorError,
    InvalidTopicError,
    SimulationLimitError,
    TopicAlreadyExistsError,
    UnknownTopicOrPartitionError,
)
from .events import Event, EventLog
from .losses import LossLedger
from .metrics import Metrics
from .network import Message, Network
from .partitioner import coordinator_partition
from .producer import Producer
from .records import ConsumerRecord
from .retention import Retention
from .scheduler import Scheduler, rarer_young_gc
from .share import ShareConsumer, ShareManager
from .snapshot import AckedBatchView, ClusterSnapshot, GroupView, LostRecordView
from .snapshot_builder import build_group_views, build_snapshot
from .transactions import TransactionCoordinator

if TYPE_CHECKING:
    from .server.clients import ExternalConsumer, ExternalProducer

TP = tuple[str, int]
OFFSETS_TOPIC = "__consumer_offsets"
INTERNAL_TOPICS = (OFFSETS_TOPIC, "__transaction_state")
_LEGAL = re.compile(r"^[a-zA-Z0-9._-]+$")
MAX_TOPIC_NAME = 249
MAX_BROKERS = 12
MAX_PARTITIONS = 128
MAX_RACK_NAME = 64


class Topic:
    __slots__ = ("name", "partitions", "replication_factor", "_config", "hot", "internal")

    def __init__(self, name: str, partitions: int, rf: int, config: TopicConfig, internal: bool) -> None:
        self.name, self.partitions, self.replication_factor = name, partitions, rf
        self.config, self.internal = config, internal

    @property
    def config(self) -> TopicConfig:
        return self._config

    @config.setter
    def config(self, cfg: TopicConfig) -> None:
        self._config = cfg
        self.hot = topic_hot(cfg)


def topic_hot(cfg: TopicConfig) -> PlainValues:
    """The topic's configs as plain attributes (config.PlainValues) for the produce and replication paths,
    plus `compact` (cleanup.policy has compact) and `max_message_bytes_set` (max.message.bytes set on the
    topic, else the broker's message.max.bytes applies)."""
    return PlainValues(
        cfg, compact=cfg.compact, max_message_bytes_set="max_message_bytes" in cfg.model_fields_set
    )


def validate_topic_name(name: Any) -> str:
    """Kafka's Topic.validate: 1-249 chars of [a-zA-Z0-9._-], not "." or ".."."""
    if not isinstance(name, str) or not name:
        raise InvalidTopicError("Topic name must be a non-empty string, e.g. 'orders'.")
    if name in (".", ".."):
        raise InvalidTopicError(f"Topic name cannot be {name!r}: '.' and '..' are reserved.")
    if len(name) > MAX_TOPIC_NAME:
        raise InvalidTopicError(
            f"Topic name is {len(name)} characters long; the maximum is {MAX_TOPIC_NAME}."
        )
    if not _LEGAL.match(name):
        bad = sorted({ch for ch in name if not re.match(r"[a-zA-Z0-9._-]", ch)})
        raise InvalidTopicError(
            f"Topic name {name!r} contains illegal character(s) {bad}: only ASCII letters, "
            f"digits, '.', '_' and '-' are allowed."
        )
    return name


def validate_racks(racks: Any, brokers: int) -> dict[int, str]:
    """`broker.rack` per broker: a mapping of broker ids (1..brokers) to non-empty rack names."""
    if racks is None:
        return {}
    if not isinstance(racks, dict):
        raise ConfigError(
            f"racks must map broker ids to broker.rack names, e.g. {{1: 'a', 2: 'b'}}; got {racks!r}"
        )
    out: dict[int, str] = {}
    for b, rack in racks.items():
        if not isinstance(b, int) or isinstance(b, bool) or not 1 <= b <= brokers:
            raise ConfigError(f"racks: {b!r} is not a broker id; the brokers are 1 to {brokers}")
        if not isinstance(rack, str) or not rack.strip() or len(rack) > MAX_RACK_NAME:
            raise ConfigError(
                f"racks: broker.rack of broker {b} must be a non-empty name of at most "
                f"{MAX_RACK_NAME} characters, like 'us-east-1a'; got {rack!r}"
            )
        out[b] = rack
    return dict(sorted(out.items()))


def _describe_racks(racks: dict[int, str]) -> str:
    by_rack: dict[str, list[int]] = {}
    for b, r in racks.items():
        by_rack.setdefault(r, []).append(b)
    return ", ".join(f"{r}: brokers {bs}" for r, bs in sorted(by_rack.items()))


@lru_cache(maxsize=4096)
def _broker_id(actor: str) -> int | None:
    """The broker id in an actor name ("broker-2" -> 2), else None: parsed once per name (every message
    delivery asks twice)."""
    return int(actor[7:]) if actor.startswith("broker-") else None


# The builders of the per-batch routine events (EventLog.add_built): called when an event is first read, they
# return its (summary, actors, topic, partition, data).
def _sent_event(pid: str, n: int, leader: int, retry: str, broker: str, sealed: dict, request: int) -> tuple:
    """The batch_sent event's (summary, actors, topic, partition, data), built when the event is first read
    (EventLog.add_built); `sealed` is the request's immutable {tp: RecordBatch}."""
    topic, partition = next(iter(sealed))
    detail = ", ".join(f"{t}-{p} ({rb.count} rec, {rb.wire_bytes} B)" for (t, p), rb in sealed.items())
    return (
        f"{pid} sent {n} record(s) to broker {leader}{retry}: {detail}",
        (pid, broker),
        topic,
        partition if len(sealed) == 1 else None,
        {"records": n, "broker": leader, "partitions": [list(tp) for tp in sealed], "request": request},
    )


def _appended(bid, count, producer_id, topic, partition, base, last, leo, acks, request):
    return (
        f"Leader broker {bid} appended {count} record(s) from {producer_id} to {topic}-{partition} at offsets "
        f"{base}-{last} (log end offset now {leo})",
        (f"broker-{bid}", producer_id),
        topic,
        partition,
        {
            "base_offset": base,
            "last_offset": last,
            "leo": leo,
            "records": count,
            "acks": acks,
            "request": request,
            "producer": producer_id,
        },
    )


def _high_watermark(bid, topic, partition, old, hw, isr):
    return (
        f"High watermark of {topic}-{partition} moved {old} -> {hw}: offsets below {hw} are on every "
        f"in-sync replica {isr} and consumers may read them",
        (f"broker-{bid}",),
        topic,
        partition,
        {"old": old, "hw": hw},
    )


def _replicated(bid, count, topic, partition, leader_id, leo):
    return (
        f"Follower broker {bid} copied {count} record(s) of {topic}-{partition} from leader broker {leader_id} "
        f"(its log end offset is now {leo})",
        (f"broker-{bid}", f"broker-{leader_id}"),
        topic,
        partition,
        {"leo": leo, "records": count, "leader": leader_id},
    )


def _acked(pid, count, topic, partition, base, acks):
    return (
        f"{pid} got the acknowledgement for {count} record(s) on {topic}-{partition} offsets "
        f"{base}-{base + count - 1} (acks={acks})",
        (pid,),
        topic,
        partition,
        {"base_offset": base, "records": count, "acks": acks},
    )


class Cluster:
    """A simulated Kafka cluster. `Cluster(brokers=3, seed=7)`; controller="kraft" (default) or "zookeeper";
    `racks={1: "a", 2: "b", 3: "c"}` sets each broker's `broker.rack` (brokers left out have none)."""

    def __init__(
        self,
        brokers: int = 3,
        seed: int = 0,
        controller: str = "kraft",
        config: dict[str, Any] | None = None,
        racks: dict[int, str] | None = None,
    ) -> None:
        if not isinstance(brokers, int) or isinstance(brokers, bool) or not 1 <= brokers <= MAX_BROKERS:
            raise ConfigError(f"brokers must be a whole number from 1 to {MAX_BROKERS}, got {brokers!r}")
        racks = validate_racks(racks, brokers)
        if controller not in ("kraft", "zookeeper"):
            raise ConfigError(f"controller must be 'kraft' or 'zookeeper', got {controller!r}")
        args.whole("Cluster()", "seed", seed)  # the same seed and commands give the same event log
        self.seed = seed
        self.rng = random.Random(seed)
        self.broker_config = BrokerConfig.parse(config, where="cluster")
        self.scheduler = Scheduler()
        self.events = EventLog()
        # False: the per-batch routine events (batch_sent, batch_appended, records_replicated, high_watermark,
        # batch_acked) are not recorded; everything else (counts, metrics, the loss ledger, every other event)
        # is. For bulk runs whose event log nobody reads (a lesson's sweep): ~5 events per produce request.
        self.narrate_batches = True
        self.network = Network(
            self.scheduler, self.broker_config.network_latency_ms, self.reachable, self._dropped
        )
        self.brokers: dict[int, Broker] = {}
        self.topics: dict[str, Topic] = {}
        self.producers: dict[str, Producer | ExternalProducer] = {}
        self.consumers: dict[str, Consumer | ExternalConsumer] = {}
        self.share_consumers: dict[str, ShareConsumer] = {}
        self.shares = ShareManager(self)
        self.txn_coordinator = TransactionCoordinator(self)
        self.load_generators: dict[str, Any] = {}  # producer id -> LoadGenerator (scenario-driven producers)
        self.losses = LossLedger()
        self.metrics = Metrics()
        self.retention = Retention(self)
        self.controller = Controller(self, controller)
        self.in_simulation = False
        self._next_pid = 1000
        self.isolated_clients_ok: dict[int, bool] = {}
        for i in range(1, brokers + 1):
            self.brokers[i] = Broker(self, i, racks.get(i))
        where = f" in racks {_describe_racks(racks)}" if racks else ""
        shown_racks: dict[str, Any] = {"racks": {str(b): r for b, r in racks.items()}} if racks else {}
        self.emit(
            "cluster_created",
            f"A {brokers}-broker Kafka cluster started in {'KRaft' if controller == 'kraft' else 'ZooKeeper'} "
            f"mode (seed {seed}){where}",
            actors=tuple(b.name for b in self.brokers.values()),
            brokers=brokers,
            mode=controller,
            **shown_racks,
        )
        self.controller.bootstrap(sorted(self.brokers))
        for b in self.brokers.values():
            b.start()
        self.retention.start()
        self.controller.start_leader_rebalance()
        if controller == "kraft":
            self.scheduler.after(self._quorum_check_ms(), self._quorum_check)

    # -- broker configs ------------------------------------------------------------------------------------
    @property
    def broker_config(self) -> BrokerConfig:
        return self._broker_config

    @broker_config.setter
    def broker_config(self, cfg: BrokerConfig) -> None:
        self._broker_config = cfg
        self.broker_hot = PlainValues(cfg)  # the same values as plain attributes, for the per-batch paths

    # -- time ----------------------------------------------------------------------------------------------
    @property
    def now(self) -> int:
        return self.scheduler.now_ms

    def step(self) -> bool:
        """Run the next scheduled action (one heap entry). False if nothing is scheduled."""
        self.in_simulation = True
        try:
            return self.scheduler.step()
        finally:
            self.in_simulation = False

    def step_event(self, max_actions: int = 200_000, max_ms: int | None = None) -> list[Event]:
        """Run until at least one new event is emitted (the UI's `Step`); returns the new events.
        With `max_ms`, an idle cluster stops after that much simulated time (returning no events)."""
        start = self.events.seq
        end = self.now + max_ms if max_ms is not None else None
        self.in_simulation = True
        try:
            sched = self.scheduler
            for _ in range(max_actions):
                if end is not None:
                    t = sched.next_time()
                    if t is None or t > end:
                        sched.now_ms = max(sched.now_ms, end)
                        break
                if not sched.step():
                    break
                if self.events.seq != start:
                    break
        finally:
            self.in_simulation = False
        return self.events.since(start)

    def run_for(self, ms: int) -> list[Event]:
        """Advance simulated time by `ms`, running everything due until then."""
        args.whole("run_for()", "ms", ms, unit="ms")
        start = self.events.seq
        end = self.now + ms
        self.in_simulation = True
        try:
            sched = self.scheduler
            with rarer_young_gc:
                sched.run_to(end)
            sched.now_ms = max(sched.now_ms, end)
        finally:
            self.in_simulation = False
        return self.events.since(start)

    def run_until(self, predicate: Callable[[], bool], limit_ms: int, quiet: bool = False) -> bool:
        """Run until `predicate()` holds or `limit_ms` of simulated time passed. Returns whether it held."""
        args.callable_("run_until()", "predicate", predicate)
        args.whole("run_until()", "limit_ms", limit_ms, unit="ms")
        end = self.now + limit_ms
        sched = self.scheduler
        self.in_simulation = True
        try:
            step_until = sched.step_until
            with rarer_young_gc:
                while not predicate():
                    if not step_until(end):
                        sched.now_ms = max(sched.now_ms, end)
                        return predicate()
            return True
        finally:
            self.in_simulation = False

    def run_until_idle(self, max_ms: int = 600_000, max_actions: int = 2_000_000) -> list[Event]:
        """Run until nothing is in progress (no unsent or unacknowledged batches, no rebalance, no replica or
        auto-polling consumer behind). Background chatter (heartbeats, idle fetches) does not count.
        Raises SimulationLimitError rather than spin forever."""
        start = self.events.seq
        end = self.now + max_ms
        sched = self.scheduler
        self.in_simulation = True
        try:
            with rarer_young_gc:
                actions = 0
                while self.busy():
                    t = sched.next_time()
                    if t is None:
                        break
                    if t > end or actions >= max_actions:
                        raise SimulationLimitError(
                            f"run_until_idle stopped after {self.now} ms / {actions} actions and the cluster is still busy: "
                            f"{'; '.join(self.busy()[:3])}. Use run_for(ms) to advance a fixed time."
                        )
                    sched.step()
                    actions += 1
        finally:
            self.in_simulation = False
        return self.events.since(start)

    def busy(self) -> list[str]:
        """Why the cluster is not idle (empty list when idle)."""
        why = []
        for p in self.producers.values():
            if p.pending:
                why.append(f"producer {p.id} has {p.pending} unacknowledged batch(es)")
        for c in self.consumers.values():
            if c.alive and c.subscription is not None and c.state in ("joining", "syncing"):
                why.append(f"consumer {c.id} is {c.state} group {c.group_id}")
            elif c.alive and (c.pending_positions or (c.auto_interval and self._behind(c))):
                why.append(f"consumer {c.id} has not caught up")
        for b in self.brokers.values():
            if not b.alive:
                continue
            for g in b.coordinator.groups.values():
                if (
                    g.state in ("PreparingRebalance", "CompletingRebalance")
                    and self.coordinator_for(g.group_id) == b.id
                ):
                    why.append(f"group {g.group_id} is rebalancing")
            for r in b.replicas.values():
                if r.is_leader and not r.topic.startswith("__"):
                    for fid, f in r.followers.items():
                        if self.brokers[fid].online and f.leo < r.leo and fid in r.replicas:
                            why.append(f"broker {fid} is copying {r.topic}-{r.partition}")
                            break
        for tp, ps in self.controller.partitions.items():
            if ps.adding or ps.removing:
                why.append(f"{tp[0]}-{tp[1]} is being reassigned")
        return why

    def _behind(self, c: Consumer) -> bool:
        for tp in c.assignment:
            pos = c.positions.get(tp)
            r = self.leader_replica(tp)
            if r is not None and pos is not None and pos < r.hw and self.brokers[r.broker_id].online:
                return True
        return False

    # -- events --------------------------------------------------------------------------------------------
    def emit(
        self,
        kind: str,
        summary: str,
        *,
        actors: tuple[str, ...] = (),
        topic: str | None = None,
        partition: int | None = None,
        **data: Any,
    ) -> Event | None:
        if topic is not None and topic.startswith("__") and kind != "topic_created":
            return self._internal_event(kind, topic, partition, data)
        return self.events.add(self.scheduler.now_ms, kind, summary, actors, topic, partition, data)

    def _internal_event(self, kind: str, topic: str, partition: int | None, data: dict) -> Event | None:
        """Internal partitions (50 of __consumer_offsets) stay quiet, except a group coordinator moving."""
        if kind != "leader_elected" or topic != OFFSETS_TOPIC:
            return None
        groups = sorted(
            {
                k.group_id
                for k in self.consumers.values()
                if k.group_id and self.offsets_partition(k.group_id) == partition
            }
        )
        if not groups:
            return None
        new = data.get("leader")
        return self.events.emit(
            self.now,
            "leader_elected",
            f"Group coordinator for {', '.join(groups)} moved to broker "
            f"{new}, the new leader of {topic}-{partition}; members find it again "
            f"(FindCoordinator) and keep their committed offsets",
            actors=("controller",),
            topic=topic,
            partition=partition,
            groups=groups,
            **data,
        )

    def _dropped(self, msg: Message, why: str) -> None:
        db = self._broker_of(msg.dst)
        if msg.kind in ("MetadataUpdate", "LeaderAndIsr") and db is not None and db.alive:
            self.controller.on_metadata_dropped(msg)  # the broker still gets it later: resent after a backoff
        if db is not None and not db.alive:
            # a crashed broker refuses connections: the client notices at once (NetworkClient disconnect),
            # unlike an isolated one, where only request.timeout.ms tells
            client = (
                self.producers.get(msg.src)
                or self.consumers.get(msg.src)
                or self.share_consumers.get(msg.src)
            )
            if client is not None:
                self.scheduler.after(self.network.latency(msg.dst, msg.src), client.on_disconnect, db.id)
        if msg.topic is not None and msg.topic.startswith("__"):
            return
        if (
            msg.kind
            in (
                "Produce",
                "ProduceResponse",
                "Fetch",
                "FetchResponse",
                "JoinGroup",
                "SyncGroup",
                "OffsetCommit",
                "AlterPartition",
            )
            or why != "unreachable"
        ):
            where = (
                f" for {msg.topic}-{msg.partition}"
                if msg.topic is not None and msg.partition is not None
                else ""
            )
            self.emit(
                "message_dropped",
                f"{msg.kind} from {msg.src} to {msg.dst}{where} was lost: {why}",
                actors=(msg.src, msg.dst),
                topic=msg.topic,
                partition=msg.partition,
                message=msg.kind,
            )

    # -- the network's view of who is up ------------------------------------------------------------------------
    def _broker_of(self, actor: str) -> Broker | None:
        bid = _broker_id(actor)
        if bid is not None:
            return self.brokers.get(bid)
        if actor == "controller":
            a = self.controller.active
            return self.brokers.get(a) if a is not None else None
        return None

    def reachable(self, src: str, dst: str) -> bool:
        """Can a message from `src` arrive at `dst` now? (dead destination, isolation, crashed clients)"""
        if dst == "zookeeper":
            b = self._broker_of(src)
            return b is None or not b.isolated
        # _broker_of(dst) and _broker_of(src) inline: this runs for every message delivered
        brokers = self.brokers
        bid = _broker_id(dst)
        if bid is not None:
            db = brokers.get(bid)
        elif dst == "controller":
            active = self.controller.active
            if active is None:
                return False
            db = brokers.get(active)
        else:
            db = None
        bid = _broker_id(src)
        if bid is not None:
            sb = brokers.get(bid)
        elif src == "controller":
            active = self.controller.active
            sb = brokers.get(active) if active is not None else None
        else:
            sb = None  # a client, or "zookeeper"
        if db is not None:
            if not db.alive:
                return False
            if db.isolated and (
                sb is not None
                or src in ("controller", "zookeeper")
                or not self.isolated_clients_ok.get(db.id)
            ):
                return sb is db
        elif dst in self.consumers:
            if not self.consumers[dst].alive:
                return False
        elif dst in self.producers:
            if not self.producers[dst].alive:
                return False
        elif dst in self.share_consumers:
            if not self.share_consumers[dst].alive:
                return False
        if sb is not None and sb.isolated and sb is not db:
            return (
                db is None
                and dst not in ("controller", "zookeeper")
                and bool(self.isolated_clients_ok.get(sb.id))
            )
        return True

    def any_reachable_broker(self, client: str) -> Broker | None:
        """A broker the client can talk to (clients pick the least loaded node; we pick deterministically)."""
        live = [
            b
            for b in self.brokers.values()
            if b.alive and (not b.isolated or self.isolated_clients_ok.get(b.id))
        ]
        if not live:
            return None
        return live[self.rng.randrange(len(live))]

    # -- topics ---------------------------------------------------------------------------------------------
    def create_topic(
        self,
        name: str,
        partitions: int = 1,
        replication_factor: int = 1,
        config: dict[str, Any] | None = None,
        auto: bool = False,
    ) -> None:
        """kafka-topics.sh --create: validate, place replicas (engine.placement: rack-aware when brokers have a
        broker.rack), elect the preferred leaders."""
        validate_topic_name(name)
        internal = name in INTERNAL_TOPICS
        if name in self.topics:
            raise TopicAlreadyExistsError(f"Topic '{name}' already exists.")
        if name.startswith("__") and not internal:
            raise InvalidTopicError(
                f"Topic names starting with '__' are reserved for Kafka's internal topics ({name!r})."
            )
        if not isinstance(partitions, int) or isinstance(partitions, bool) or partitions < 1:
            raise InvalidPartitionsError(f"partitions must be at least 1, got {partitions!r}")
        if partitions > MAX_PARTITIONS and not internal:
            raise InvalidPartitionsError(
                f"partitions is {partitions}; this simulator allows at most {MAX_PARTITIONS} per topic"
            )
        if (
            not isinstance(replication_factor, int)
            or isinstance(replication_factor, bool)
            or replication_factor < 1
        ):
            raise InvalidReplicationFactorError(
                f"replication_factor must be at least 1, got {replication_factor!r}"
            )
        tcfg = TopicConfig.parse(config, where=f"topic {name!r}")
        explicit = tcfg.model_fields_set
        bc = self.broker_config
        inherited = {}
        if "min_insync_replicas" not in explicit:
            inherited["min.insync.replicas"] = bc.min_insync_replicas
        if "unclean_leader_election_enable" not in explicit:
            inherited["unclean.leader.election.enable"] = bc.unclean_leader_election_enable
        if inherited:
            tcfg = TopicConfig.parse({**tcfg.explicit(), **inherited}, where=f"topic {name!r}")
        self.controller.create_partitions(name, partitions, replication_factor)
        self.topics[name] = Topic(name, partitions, replication_factor, tcfg, internal)
        collide = "." in name and "_" in name
        note = (
            " (note: '.' and '_' collide in metric names, Kafka warns about mixing them)" if collide else ""
        )
        how = "auto-created on first use (auto.create.topics.enable=true)" if auto else "created"
        placement = "; ".join(
            f"p{p}: {self.controller.partitions[(name, p)].replicas}" for p in range(min(partitions, 6))
        )
        more = " ..." if partitions > 6 else ""
        self.emit(
            "topic_created",
            f"Topic {name} {how} with {partitions} partition(s), replication factor "
            f"{replication_factor}; replicas {placement}{more}{note}",
            actors=("controller",),
            topic=name,
            partitions=partitions,
            replication_factor=replication_factor,
            config=tcfg.explicit(),
        )

    def create_partitions(self, name: str, partitions: int) -> None:
        """Admin.createPartitions / kafka-topics.sh --alter --partitions: grow a topic to `partitions` in total.
        Kafka never removes partitions (ReplicationControlManager.createPartitions refuses a decrease). Clients
        learn the new count from their next metadata refresh (within metadata.max.age.ms, 5 min, in Kafka;
        here at once): producers map keys over the new count, and the groups reading the topic rebalance."""
        args.name("create_partitions()", "name", name, "orders")
        t = self.topics.get(name)
        if t is None or t.internal:
            raise UnknownTopicOrPartitionError(f"Topic '{name}' does not exist.")
        if not args.is_int(partitions):
            raise InvalidPartitionsError(
                f"partitions must be a whole number of partitions, got {partitions!r}"
            )
        if partitions == t.partitions:
            raise InvalidPartitionsError(f"Topic already has {t.partitions} partition(s).")
        if partitions < t.partitions:
            raise InvalidPartitionsError(
                f"The topic {name} currently has {t.partitions} partition(s); {partitions} "
                f"would not be an increase."
            )
        if partitions > MAX_PARTITIONS:
            raise InvalidPartitionsError(
                f"partitions is {partitions}; this simulator allows at most {MAX_PARTITIONS} per topic"
            )
        old = t.partitions
        self.controller.create_partitions(name, partitions - old, t.replication_factor, first_partition=old)
        t.partitions = partitions
        placement = "; ".join(
            f"p{p}: {self.controller.partitions[(name, p)].replicas}"
            for p in range(old, min(partitions, old + 6))
        )
        self.emit(
            "partitions_added",
            f"Topic {name} grew from {old} to {partitions} partitions; new replicas "
            f"{placement}. Keys now hash over {partitions} partitions",
            actors=("controller",),
            topic=name,
            old=old,
            partitions=partitions,
        )
        self._tell_clients_partitions_changed(name)

    def _tell_clients_partitions_changed(self, topic: str) -> None:
        """Metadata refresh: producers re-map keys; a classic group's leader sees the new partition count and
        rejoins (ConsumerCoordinator: metadata snapshot changed); a KIP-848 coordinator bumps the group epoch."""
        for p in self.producers.values():
            # (a real client connected over the wire protocol refreshes its own metadata)
            if isinstance(p, Producer):
                p.on_partitions_changed(topic)
        bumped: set[str] = set()
        for k in self.consumers.values():
            if isinstance(k, Consumer) and k.on_partitions_changed(topic) and k.group_id:
                co = self.coordinator_for(k.group_id)
                kip848 = self.brokers[co].coordinator.kip848 if co is not None else None
                g = kip848.groups.get(k.group_id) if kip848 is not None else None
                if g is not None and kip848 is not None and k.group_id not in bumped:
                    bumped.add(k.group_id)
                    kip848.bump_epoch(g, f"topic {topic} has more partitions")

    def delete_topic(self, name: str) -> None:
        args.name("delete_topic()", "name", name, "orders")
        if name not in self.topics:
            raise UnknownTopicOrPartitionError(f"Topic '{name}' does not exist.")
        self.controller.delete_topic(name)
        del self.topics[name]
        self.emit("note", f"Topic {name} deleted", actors=("controller",), topic=name)

    def topic_config(self, topic: str) -> TopicConfig:
        t = self.topics.get(topic)
        return t.config if t is not None else _DEFAULT_TOPIC_CONFIG

    def topic_hot(self, topic: str) -> PlainValues:
        """topic_config(topic) as plain attributes (Topic.hot): what the per-batch paths read."""
        t = self.topics.get(topic)
        return t.hot if t is not None else _DEFAULT_TOPIC_HOT

    def leaders_of(self, topic: str) -> list[int | None]:
        """What a Metadata response says about a topic's leaders (the controller's published state)."""
        t = self.topics.get(topic)
        if t is None:
            return []
        parts = self.controller.partitions
        return [parts[(topic, p)].leader if (topic, p) in parts else None for p in range(t.partitions)]

    def leader_replica(self, tp: TP):
        ps = self.controller.partitions.get(tp)
        if ps is None or ps.leader is None:
            return None
        r = self.brokers[ps.leader].replicas.get(tp)
        return r if r is not None and r.is_leader else None

    # -- clients ----------------------------------------------------------------------------------------------
    def register_client(self, client: Producer | Consumer | ExternalProducer | ExternalConsumer) -> None:
        """List a client in `producers` / `consumers` under its id, so snapshots, the Playground and "Crash
        consumer" see it: the simulation's own clients, and the stand-ins for real clients that the wire
        protocol's adapter (engine.server) creates."""
        if isinstance(client, Producer):
            self.producers[client.id] = client
        elif isinstance(client, Consumer):
            self.consumers[client.id] = client
        else:
            from .server.clients import ExternalConsumer, ExternalProducer  # only once a server runs

            if isinstance(client, ExternalProducer):
                self.producers[client.id] = client
            elif isinstance(client, ExternalConsumer):
                self.consumers[client.id] = client
            else:
                raise TypeError(f"not a client: {client!r}")

    def unregister_client(self, client: Producer | Consumer | ExternalProducer | ExternalConsumer) -> bool:
        """Take a client out of `producers` / `consumers` if it is the one listed under its id."""
        for registry in (self.producers, self.consumers):
            if registry.get(client.id) is client:
                del registry[client.id]
                return True
        return False

    def producer(self, producer_id: str, config: dict[str, Any] | None = None) -> Producer:
        self._check_client_id(producer_id, "producer()", "producer_id")
        p = Producer(self, producer_id, config)
        self.register_client(p)
        return p

    def consumer(
        self,
        consumer_id: str,
        group_id: str | None = None,
        topics: list[str] | None = None,
        config: dict[str, Any] | None = None,
    ) -> Consumer:
        self._check_client_id(consumer_id, "consumer()", "consumer_id")
        args.optional_name("consumer()", "group_id", group_id, "g1")
        if topics is not None:
            topics = args.topics("consumer()", "topics", topics)
        c = Consumer(self, consumer_id, group_id, None, config)
        self.consumers[consumer_id] = c
        if topics:
            c.subscribe(topics)
        return c

    def restart_consumer(self, consumer_id: str) -> Consumer:
        """The consumer's process starts again with the same id, subscription and config (so a static member
        keeps its group.instance.id). A running one is closed first, as in a rolling restart."""
        old = self.consumers.get(consumer_id)
        if old is None:
            raise ConfigError(f"there is no consumer {consumer_id!r}; consumers are {sorted(self.consumers)}")
        if not isinstance(old, Consumer):
            raise ConfigError(f"{consumer_id!r} is a real client: restart it in its own process")
        if old.alive:
            old.close()
        new = Consumer(self, consumer_id, old.group_id, None, old.config.explicit())
        # the simulator's delivery bookkeeping carries over, so redeliveries after the restart show as duplicates
        new.carry_delivery_over(old)
        self.consumers[consumer_id] = new
        static = old.config.group_instance_id
        how = (
            f" with group.instance.id={static!r}: it rejoins as the same static member"
            if static
            else f" without a group.instance.id: it joins group {old.group_id} as a new member"
            if old.group_id
            else ""
        )
        self.emit(
            "consumer_restarted",
            f"{consumer_id} started again{how}",
            actors=(consumer_id,),
            group=old.group_id,
        )
        if old.subscription is not None:
            new.subscribe(list(old.subscription))
        elif old.manual is not None:
            new.assign(list(old.manual))
        if old.auto_interval is not None:
            new.start(old.auto_interval)
        return new

    def share_consumer(
        self, consumer_id: str, group_id: str, topics: list[str], config: dict[str, Any] | None = None
    ) -> ShareConsumer:
        """A member of a share group (KIP-932): records, not partitions, are shared out."""
        self._check_client_id(consumer_id, "share_consumer()", "consumer_id")
        args.name("share_consumer()", "group_id", group_id, "share-1")
        topics = args.topics("share_consumer()", "topics", topics)
        sc = ShareConsumer(self, consumer_id, group_id, topics, config)
        self.share_consumers[consumer_id] = sc
        self.shares.join(sc)
        self.shares.start_ticking()
        return sc

    def _check_client_id(self, cid: str, call: str = "", arg: str = "client id") -> None:
        args.name(call or "client", arg, cid, "c3")
        if (
            not isinstance(cid, str)
            or not cid
            or cid in self.producers
            or cid in self.consumers
            or cid in self.share_consumers
            or cid.startswith("broker-")
            or cid in ("controller", "zookeeper")
        ):
            raise ConfigError(
                f"client id {cid!r} is empty, reserved or already used; pick a new name like 'c3'"
            )

    def next_producer_id(self) -> int:
        self._next_pid += 1
        return self._next_pid

    # -- group coordination glue ------------------------------------------------------------------------------
    def offsets_partition(self, group_id: str) -> int:
        return coordinator_partition(group_id, self.broker_config.offsets_topic_num_partitions)

    def coordinator_for(self, group_id: str) -> int | None:
        """The leader of __consumer_offsets partition abs(hash(group.id)) % offsets.topic.num.partitions."""
        ps = self.controller.partitions.get((OFFSETS_TOPIC, self.offsets_partition(group_id)))
        return ps.leader if ps is not None else None

    def group_state(self, group_id: str):
        co = self.coordinator_for(group_id)
        if co is None:
            return None
        return self.brokers[co].coordinator.groups.get(group_id)

    def ensure_offsets_topic(self) -> str | None:
        """Kafka creates __consumer_offsets on the first FindCoordinator; it needs enough live brokers."""
        if OFFSETS_TOPIC in self.topics:
            return None
        bc = self.broker_config
        live = len(self.controller.live)
        if live < bc.offsets_topic_replication_factor:
            return (
                f"__consumer_offsets needs offsets.topic.replication.factor={bc.offsets_topic_replication_factor} "
                f"live brokers but only {live} are up: groups cannot start (COORDINATOR_NOT_AVAILABLE). On a "
                f"one-broker cluster set offsets.topic.replication.factor=1, as the classic Docker setup does."
            )
        self.create_topic(
            OFFSETS_TOPIC,
            bc.offsets_topic_num_partitions,
            bc.offsets_topic_replication_factor,
            {"cleanup.policy": "compact"},
        )
        return None

    def on_find_coordinator(self, broker_id: int, consumer: Consumer, group_id: str) -> None:
        b = self.brokers[broker_id]
        problem = self.ensure_offsets_topic()
        if problem and not any(
            e.kind == "note" and e.data.get("coordinator_problem") for e in self.events.events[-50:]
        ):
            self.emit("note", problem, actors=(b.name, consumer.id), coordinator_problem=True)
        co = None if problem else self.coordinator_for(group_id)
        self.network.send(
            b.name, consumer.id, "FindCoordinatorResponse", consumer.on_find_coordinator_response, co
        )

    def load_offsets(self, broker: Broker, group_id: str) -> dict[TP, int]:
        """A coordinator taking over a group reads its committed offsets back from __consumer_offsets."""
        tp = (OFFSETS_TOPIC, self.offsets_partition(group_id))
        r = broker.replicas.get(tp)
        out: dict[TP, int] = {}
        if r is None:
            return out
        prefix = f"{group_id}/".encode()
        for b in r.log.batches():
            if b.base_offset >= r.hw and r.is_leader:
                break
            for k, v in zip(b.keys, b.values, strict=True):
                if k and k.startswith(prefix):
                    _, topic, part = k.decode().rsplit("/", 2)
                    out[(topic, int(part))] = int(v)
        return out

    def commit_offsets_directly(self, group_id: str, offsets: dict[TP, int], via: str) -> None:
        """A transaction's committed offsets become the group's committed offsets (TxnOffsetCommit + marker)."""
        co = self.coordinator_for(group_id)
        if co is None:
            return
        coord = self.brokers[co].coordinator
        g = coord.group(group_id)
        g.offsets.update(offsets)
        coord.append_offsets(g, dict(offsets))
        self.emit(
            "offsets_committed",
            f"Offsets {', '.join(f'{t}-{p}@{o}' for (t, p), o in sorted(offsets.items()))} "
            f"of group {group_id} committed by {via}",
            actors=(group_id,),
            group=group_id,
            offsets=dict(offsets),
            member=None,
        )

    def on_list_offsets(self, broker_id: int, consumer: Consumer, tp: TP, policy: str, why: str) -> None:
        b = self.brokers[broker_id]
        r = b.replicas.get(tp)
        off = None
        if r is not None and r.is_leader:
            off = r.log.log_start_offset if policy == "earliest" else r.hw
        self.network.send(
            b.name,
            consumer.id,
            "ListOffsetsResponse",
            consumer.on_list_offsets_response,
            tp,
            off,
            policy,
            why,
        )

    # -- hooks from brokers and clients (events, ledger, metrics) --------------------------------------------
    # The four hot events below (one per batch per hop) keep only their raw values in the log
    # (EventLog.add_built); the sentence, actors and data are built by the module-level `_appended`, ... when the
    # event is first read. Internal topics get none of these kinds (what emit() would drop); `topic[0] == "_"` is
    # tested first because str.startswith parses its arguments (~450 instructions a call).
    def on_batch_sent(
        self,
        now: int,
        topic: str,
        pid: str,
        n: int,
        leader: int,
        retry: str,
        broker: str,
        sealed: dict,
        request: int,
    ) -> None:
        """A produce request went out (`topic`: its first partition's); the batch_sent event."""
        if not self.narrate_batches or (topic[0] == "_" and topic.startswith("__")):
            return
        self.events.add_built(
            (now, "batch_sent", _sent_event, pid, n, leader, retry, broker, sealed, request)
        )

    def on_appended(self, r, placed, producer_id: str, acks: int, request: int | None = None) -> None:
        now = self.scheduler.now_ms
        count = placed.count
        self.metrics.on_appended(now, count)
        topic = r.topic
        if not self.narrate_batches or (topic[0] == "_" and topic.startswith("__")):
            return
        self.events.add_built(
            (
                now,
                "batch_appended",
                _appended,
                r.broker_id,
                count,
                producer_id,
                topic,
                r.partition,
                placed.base_offset,
                placed.last_offset,
                r.log.log_end_offset,
                acks,
                request,
            )
        )

    def on_high_watermark(self, r, old: int) -> None:
        topic = r.topic
        if not self.narrate_batches or (topic[0] == "_" and topic.startswith("__")):
            return
        self.events.add_built(
            (
                self.scheduler.now_ms,
                "high_watermark",
                _high_watermark,
                r.broker_id,
                topic,
                r.partition,
                old,
                r.hw,
                sorted(r.isr),
            )
        )

    def on_replicated(self, r, leader_id: int, count: int, batches) -> None:
        topic = r.topic
        if not self.narrate_batches or (topic[0] == "_" and topic.startswith("__")):
            return
        self.events.add_built(
            (
                self.scheduler.now_ms,
                "records_replicated",
                _replicated,
                r.broker_id,
                count,
                topic,
                r.partition,
                leader_id,
                r.log.log_end_offset,
            )
        )

    def on_truncated(self, r, removed, leader_id: int) -> None:
        n = sum(b.count for b in removed)
        if not n:
            return
        first = removed[0].base_offset
        self.emit(
            "truncated",
            f"Broker {r.broker_id} truncated {n} record(s) of {r.topic}-{r.partition} from offset "
            f"{first}: the new leader (broker {leader_id}) never had them (KIP-101 leader epochs)",
            actors=(f"broker-{r.broker_id}",),
            topic=r.topic,
            partition=r.partition,
            from_offset=first,
            records=n,
            leader=leader_id,
        )

    def on_became_leader(self, r) -> None:
        lost = self.losses.check(r, self.now)
        if lost:
            n = sum(e.last - e.base + 1 for e in lost)
            offs = ", ".join(f"{e.base}-{e.last}" if e.last > e.base else str(e.base) for e in lost[:5])
            self.emit(
                "records_lost",
                f"{n} acknowledged record(s) of {r.topic}-{r.partition} (offsets {offs}) are "
                f"gone: {lost[0].lost_reason}",
                actors=(f"broker-{r.broker_id}",),
                topic=r.topic,
                partition=r.partition,
                records=n,
                offsets=[[e.base, e.last] for e in lost],
                reason=lost[0].lost_reason,
            )

    def on_acked(self, producer: Producer | ExternalProducer, b) -> None:
        now = self.scheduler.now_ms
        tp, base, pid = b.tp, b.base_offset, producer.id
        sealed = b.sealed
        self.losses.record_ack(tp, base, sealed.keys, sealed.values, producer.acks, now, pid)
        self.metrics.on_acked(now, b.timestamps if b.sent_at is None else b.sent_at)
        topic = tp[0]
        if not self.narrate_batches or (topic[0] == "_" and topic.startswith("__")):
            return
        self.events.add_built(
            (now, "batch_acked", _acked, pid, sealed.count, topic, tp[1], base, producer.config.acks)
        )

    def on_delivered(self, consumer: Consumer, count: int, latency_sum: int) -> None:
        """poll() returned `count` records whose send -> poll latencies add up to `latency_sum` ms."""
        self.metrics.on_consumed(self.now, count, latency_sum)

    # -- failures and operations (replication issue) ---------------------------------------------------------
    def crash_broker(self, broker_id: int) -> None:
        """The broker process dies: memory is lost, its log stays on disk; the controller notices later."""
        b = self._broker(broker_id)
        if not b.alive:
            return
        self._stop_process(broker_id)
        self.emit(
            "broker_crashed",
            f"Broker {broker_id} crashed: it stops answering; its log files survive on "
            f"disk. The controller notices when its {'heartbeats' if self.controller.mode == 'kraft' else 'ZooKeeper session'} "
            f"time out",
            actors=(b.name,),
            broker=broker_id,
        )

    def _stop_process(self, broker_id: int) -> None:
        b = self.brokers[broker_id]
        b.crash()
        self.controller.shutdown.stopped(broker_id)
        self.network.drop_from(b.name)
        # its TCP connections are reset: every connected client sees the disconnect (NetworkClient)
        clients: list[Client] = [
            *self.producers.values(),
            *self.consumers.values(),
            *self.share_consumers.values(),
        ]
        for client in clients:
            if client.alive:
                self.scheduler.after(self.network.latency(b.name, client.id), client.on_disconnect, broker_id)

    def shutdown_broker(self, broker_id: int) -> None:
        """A clean stop (SIGTERM, a rolling restart): with controlled.shutdown.enable (default true) the broker
        first has the controller move its leaderships and take it out of the ISRs, then stops (engine.shutdown);
        without it, it just stops and the controller notices when its heartbeats time out."""
        b = self._broker(broker_id)
        if not b.alive or self.controller.shutdown.is_shutting_down(broker_id):
            return
        if self.broker_config.controlled_shutdown_enable:
            self.controller.shutdown.begin(broker_id)
        else:
            self.finish_broker_shutdown(broker_id, approved=False)

    def finish_broker_shutdown(self, broker_id: int, approved: bool) -> None:
        """The broker process exits. Approved (SHUTDOWN_NOW): the controller fences it at once; otherwise it
        learns of it as of a crash, when the session times out."""
        b = self.brokers[broker_id]
        if not b.alive:
            return
        ctl = self.controller
        self._stop_process(broker_id)
        if approved:
            self.emit(
                "broker_stopped",
                f"Broker {broker_id} leads no partition any more: the controller lets it go "
                f"and it shuts down cleanly; its log files stay on disk",
                actors=(b.name, ctl.actor),
                broker=broker_id,
                controlled=True,
            )
            ctl.fence_stopped(broker_id)
        else:
            why = (
                "controlled.shutdown.enable=false"
                if not self.broker_config.controlled_shutdown_enable
                else "the controller did not answer in time"
            )
            self.emit(
                "broker_stopped",
                f"Broker {broker_id} shut down without a controlled shutdown ({why}): its "
                f"leaderships move only when the controller notices it is gone",
                actors=(b.name,),
                broker=broker_id,
                controlled=False,
            )

    def restart_broker(self, broker_id: int) -> None:
        b = self._broker(broker_id)
        if b.alive:
            return
        b.restart()
        self.emit(
            "broker_restarted",
            f"Broker {broker_id} restarted: it recovers its log from disk, registers with "
            f"the {'controller' if self.controller.mode == 'kraft' else 'ZooKeeper'} and catches up as a follower",
            actors=(b.name,),
            broker=broker_id,
        )
        self.controller.register(broker_id)  # back before its session expired: the old incarnation fails
        self.scheduler.after(
            self.controller.heartbeat_interval(), self.controller.send_heartbeat, broker_id, b.epoch
        )

    def isolate_broker(self, broker_id: int, clients_can_reach: bool = True) -> None:
        """Network partition: the broker loses the other brokers and the controller/ZooKeeper. By default clients
        on its side can still reach it, so a stale leader ("zombie") can still be sent writes."""
        b = self._broker(broker_id)
        b.isolated = True
        self.isolated_clients_ok[broker_id] = clients_can_reach
        side = " (clients can still reach it)" if clients_can_reach else " (clients cannot reach it either)"
        self.emit(
            "broker_isolated",
            f"Broker {broker_id} is cut off from the other brokers and the controller{side}: "
            f"it may still believe it leads its partitions",
            actors=(b.name,),
            broker=broker_id,
        )

    def heal_broker(self, broker_id: int) -> None:
        b = self._broker(broker_id)
        if not b.isolated:
            return
        b.isolated = False
        self.emit(
            "broker_healed", f"Broker {broker_id}'s network is back", actors=(b.name,), broker=broker_id
        )

    def slow_broker(self, broker_id: int, extra_latency_ms: int) -> None:
        b = self._broker(broker_id)
        if not args.is_int(extra_latency_ms) or extra_latency_ms < 0:
            raise ConfigError(
                f"extra_latency_ms must be a whole number of ms, 0 or more, got {extra_latency_ms!r}"
            )
        self.network.extra_ms[b.name] = extra_latency_ms
        self.emit(
            "broker_slowed",
            f"Broker {broker_id}'s network is {extra_latency_ms} ms slower each way",
            actors=(b.name,),
            broker=broker_id,
            extra_latency_ms=extra_latency_ms,
        )

    def add_broker(self, rack: str | None = None) -> int:
        """Start a new broker (online expansion), with `broker.rack=rack` if given. It holds no partitions until a
        reassignment moves some."""
        if len(self.brokers) >= MAX_BROKERS:
            raise ConfigError(f"this simulator runs at most {MAX_BROKERS} brokers")
        new_id = max(self.brokers) + 1
        if rack is not None:
            validate_racks({new_id: rack}, new_id)
        b = self.brokers[new_id] = Broker(self, new_id, rack)
        b.start()
        in_rack = f" in rack {rack}" if rack is not None else ""
        self.emit(
            "broker_added",
            f"Broker {new_id} joined the cluster{in_rack}; it holds no partitions until they "
            f"are reassigned to it (kafka-reassign-partitions.sh)",
            actors=(b.name,),
            broker=new_id,
            rack=rack,
        )
        self.controller.register(new_id)
        self.scheduler.after(
            self.controller.heartbeat_interval(), self.controller.send_heartbeat, new_id, b.epoch
        )
        return new_id

    def reassign_partitions(self, assignment: dict[TP, list[int]]) -> None:
        """kafka-reassign-partitions.sh --execute: move replicas while the cluster keeps serving."""
        if not isinstance(assignment, Mapping):
            raise args.bad(
                "reassign_partitions()", "assignment", "a mapping like {('orders', 0): [2, 3, 1]}", assignment
            )
        for tp, target in assignment.items():
            tp = args.tp("reassign_partitions()", "assignment", tp)
            if (
                isinstance(target, str)
                or not isinstance(target, list | tuple)
                or not all(map(args.is_int, target))
            ):
                raise args.bad(
                    "reassign_partitions()", "assignment", f"broker ids for {tp}, like [2, 3, 1]", target
                )
            if tp not in self.controller.partitions:
                raise UnknownTopicOrPartitionError(f"no partition {tp[0]}-{tp[1]}")
            if not target or len(set(target)) != len(target):
                raise InvalidReplicationFactorError(
                    f"target replicas {target} for {tp[0]}-{tp[1]} must be distinct"
                )
            self.controller.reassign(tp, list(target))

    def preferred_leader_election(self, topic: str | None = None) -> int:
        """kafka-leader-election.sh --election-type PREFERRED: returns how many leaders moved."""
        args.optional_name("preferred_leader_election()", "topic", topic, "orders")
        return sum(
            self.controller.preferred_election(tp)
            for tp in sorted(self.controller.partitions)
            if topic is None or tp[0] == topic
        )

    def drop_messages(self, kind: str, count: int = 1) -> None:
        """Fault injection: the next `count` messages of `kind` (e.g. "ProduceResponse") are lost."""
        args.name("drop_messages()", "kind", kind, "ProduceResponse")
        args.whole("drop_messages()", "count", count, minimum=1)
        self.network.drop_next(kind, count)

    def _broker(self, broker_id: int) -> Broker:
        if not args.is_int(broker_id):
            raise args.bad(
                "broker commands", "broker_id", f"one of the broker ids {sorted(self.brokers)}", broker_id
            )
        b = self.brokers.get(broker_id)
        if b is None:
            raise ConfigError(f"there is no broker {broker_id}; brokers are {sorted(self.brokers)}")
        return b

    def _quorum_check_ms(self) -> int:
        """How often the voters' fetch timers are looked at: a quarter of controller.quorum.fetch.timeout.ms
        (500 ms at its 2000 ms default), so a dead controller is noticed within 1.25 timeouts at any setting
        (and no more often than every 10 ms, however small the timeout)."""
        return max(10, self.broker_config.controller_quorum_fetch_timeout_ms // 4)

    def _quorum_check(self) -> None:
        """KRaft voters notice a dead active controller after controller.quorum.fetch.timeout.ms."""
        ctl = self.controller
        if ctl.active is not None and not self.brokers[ctl.active].online and not ctl.election_pending:
            ctl.controller_lost()
        elif ctl.active is None and not ctl.election_pending:
            ctl.controller_lost()
        self.scheduler.after(self._quorum_check_ms(), self._quorum_check)

    def trace(
        self,
        topic: str,
        partition: int | None = None,
        offset: int | None = None,
        *,
        key=None,
        lost: bool = False,
    ):
        """Follow a record end to end: `trace(topic, partition, offset)`, or `trace(topic, key=...)` for every
        record with that key; `lost=True`: the acknowledged record that was lost at that offset (the new
        leader may have reused the offset for another record). See engine.trace."""
        from .trace import trace, trace_key, trace_lost

        args.name("trace()", "topic", topic, "orders")
        if key is not None:
            return trace_key(self, topic, key)
        if partition is None or offset is None:
            raise ConfigError("trace needs (topic, partition, offset) or (topic, key=...)")
        count = self.partition_count(topic)
        if not count:
            raise InvalidArgumentError(f"topic: {topic!r} does not exist")
        if not args.is_int(partition) or not 0 <= partition < count:
            raise InvalidArgumentError(f"partition: {topic}-{partition!r} does not exist")
        args.whole("trace()", "offset", offset)
        return (trace_lost if lost else trace)(self, topic, partition, offset)

    # -- read-only queries (plain data; the UI reads these and snapshots, never the live objects) ----------------
    def partition_count(self, topic: str) -> int:
        """How many partitions the topic has now (0: no such topic)."""
        t = self.topics.get(topic)
        return t.partitions if t is not None else 0

    def lost_records(self, tp: TP | None = None) -> list[LostRecordView]:
        """Acknowledged records that no longer exist (the loss ledger), of one partition or all."""
        return self.losses.lost_records(tp)

    def consumed_records(self, consumer_id: str, n: int = 20) -> tuple[ConsumerRecord, ...]:
        """The newest `n` records poll() handed this consumer, oldest first (empty: no such consumer)."""
        k = self.consumers.get(consumer_id)
        if not isinstance(k, Consumer) or n <= 0:  # a real client's records are in its own process
            return ()
        return tuple(k.recent_records(n))

    def acked_batches(self, producer_id: str, n: int = 10, scan: int = 500) -> list[AckedBatchView]:
        """The producer's newest `n` acknowledged batches, newest first, from the loss ledger, which keeps every
        acknowledged batch (the accumulator forgets a batch once acknowledged; acks=0 batches never learn an
        offset, so they are not there). `scan`: batches looked at per partition, newest first."""
        return self.losses.acked_by(producer_id, n, scan)

    # -- views ----------------------------------------------------------------------------------------------
    def snapshot(self, tail: int = 24, include_internal: bool = False) -> ClusterSnapshot:
        """Plain immutable data for rendering (see engine.snapshot)."""
        args.whole("snapshot()", "tail", tail, unit="records")
        return build_snapshot(self, tail, include_internal)

    def group_views(self) -> tuple[GroupView, ...]:
        """`snapshot().groups` alone (state, committed offsets, lag), at a fraction of a whole snapshot's cost:
        the Playground samples every group's lag after each step, also the 1,000 steps a shared link replays."""
        return build_group_views(self)

    def clone(self) -> Cluster:
        """An exact, independent copy (records and events are shared, being immutable): a checkpoint."""
        return copy.deepcopy(self)


_DEFAULT_TOPIC_CONFIG = TopicConfig.parse({})
_DEFAULT_TOPIC_HOT = topic_hot(_DEFAULT_TOPIC_CONFIG)
