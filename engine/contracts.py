"""The engine's contracts as `typing.Protocol`s: what an actor may ask of its world, and who answers whom.

`World` is what brokers, the controller, the coordinators and the clients get instead of `Cluster` (SimPy
hands its processes an `Environment` the same way); `Cluster` implements it. Brokers and coordinators answer
clients by `network.send(src, client.id, ..., client.on_xxx_response, ...)`; the clients they answer are the
simulation's own (`Producer`, `Consumer`, `ShareConsumer`) or stand-ins for real clients connected over the
wire protocol (`engine.server.clients`), and the client protocols below name what a broker may rely on, so
mypy checks both kinds against one contract. Nothing here runs: this module imports the engine only for
type checking, so any module may import it without an import cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import random
    from collections.abc import Callable

    from .broker import Broker, ProduceRequest
    from .cluster import Topic
    from .config import BrokerConfig, PlainValues, TopicConfig
    from .controller import Controller
    from .errors import KafkaError
    from .events import Event
    from .group import Group
    from .losses import LossLedger
    from .network import Network
    from .records import RecordBatch
    from .replica import Replica
    from .retention import Retention
    from .scheduler import Scheduler
    from .share import ShareManager
    from .transactions import TransactionCoordinator

TP = tuple[str, int]


class Client(Protocol):
    """Anything a broker sends a response to: it has an actor id and hears of lost connections."""

    @property
    def id(self) -> str: ...

    @property
    def alive(self) -> bool: ...

    def on_disconnect(self, broker_id: int) -> None: ...


class ProduceClient(Client, Protocol):
    """A producer as the partition leader sees it (Kafka's ProduceResponse callback)."""

    def on_produce_response(
        self, req: ProduceRequest, results: dict[TP, tuple[KafkaError | None, int]]
    ) -> None: ...


class OffsetClient(Client, Protocol):
    """Whoever commits or fetches a group's offsets (a member, a standalone consumer, a real client's
    request). The group path answers with `KafkaError` instances (engine.errors), never error-name strings."""

    def on_commit_response(
        self, group_id: str, req_id: int, err: KafkaError | None, offsets: dict[TP, int]
    ) -> None: ...

    def on_offset_fetch_response(
        self, group_id: str, req_id: int, err: KafkaError | None, offsets: dict[TP, int]
    ) -> None: ...


class GroupMember(Client, Protocol):
    """A classic-protocol group member as the group coordinator sees it (JoinGroup / SyncGroup / Heartbeat
    responses); the coordinator stores it as the member and answers JoinGroup and SyncGroup to it."""

    def on_join_response(
        self, group_id: str, err: KafkaError | None, payload: dict[str, Any] | None
    ) -> None: ...

    def on_sync_response(
        self, group_id: str, err: KafkaError | None, generation: int, assignment: list[TP] | None
    ) -> None: ...

    def on_heartbeat_response(self, group_id: str, err: KafkaError | None) -> None: ...


class ConsumerGroupMember(Client, Protocol):
    """A KIP-848 member as the group coordinator sees it (ConsumerGroupHeartbeat responses)."""

    def on_cg_heartbeat_response(
        self,
        group_id: str,
        err: KafkaError | None,
        member_id: str,
        epoch: int,
        assignment: list[TP] | None,
        interval_ms: int,
    ) -> None: ...


# -- the world the actors live in ------------------------------------------------------------------------------
class World(Protocol):
    """What brokers, clients and coordinators may ask of the simulation they live in, the way SimPy hands
    its processes an `Environment`: the clock and scheduler, the network, the event log, config and metadata
    lookups, and the hooks that keep the loss ledger and metrics. `Cluster` implements it and stays the public
    face; the actors (broker, controller, coordinators, producer, consumer, share consumer, retention, load)
    type their `cluster` as a `World`, so mypy proves they use nothing else of `Cluster`. The data members are
    read-only properties: an actor never rebinds them."""

    # clock, scheduler, randomness
    @property
    def scheduler(self) -> Scheduler: ...
    @property
    def now(self) -> int: ...
    @property
    def rng(self) -> random.Random: ...
    @property
    def in_simulation(self) -> bool: ...
    def run_until(self, predicate: Callable[[], bool], limit_ms: int, quiet: bool = False) -> bool: ...

    # the network
    @property
    def network(self) -> Network: ...
    def reachable(self, src: str, dst: str) -> bool: ...  # can a message from src arrive at dst now?

    # the event log
    @property
    def narrate_batches(self) -> bool: ...  # False: no per-batch routine events (a bulk run nobody reads)
    def emit(
        self,
        kind: str,
        summary: str,
        *,
        actors: tuple[str, ...] = (),
        topic: str | None = None,
        partition: int | None = None,
        **data: Any,
    ) -> Event | None: ...

    # config and metadata lookups
    @property
    def broker_config(self) -> BrokerConfig: ...
    @property
    def broker_hot(self) -> PlainValues: ...  # broker_config's values as plain attributes (per batch)
    @property
    def topics(self) -> dict[str, Topic]: ...
    @property
    def brokers(self) -> dict[int, Broker]: ...
    @property
    def controller(self) -> Controller: ...
    @property
    def txn_coordinator(self) -> TransactionCoordinator: ...
    @property
    def shares(self) -> ShareManager: ...
    @property
    def retention(self) -> Retention: ...
    @property
    def losses(self) -> LossLedger: ...
    def topic_config(self, topic: str) -> TopicConfig: ...
    def topic_hot(self, topic: str) -> PlainValues: ...  # topic_config's values as plain attributes
    def leaders_of(self, topic: str) -> list[int | None]: ...
    def leader_replica(self, tp: TP) -> Replica | None: ...
    def coordinator_for(self, group_id: str) -> int | None: ...
    def offsets_partition(self, group_id: str) -> int: ...
    def group_state(self, group_id: str) -> Group | None: ...
    def any_reachable_broker(self, client: str) -> Broker | None: ...

    # hooks: what the loss ledger, the metrics and the event log learn from the actors
    def on_batch_sent(
        self,
        now: int,
        topic: str,
        pid: str,
        n: int,
        leader: int,
        retry: str,
        broker: str,
        sealed: dict[TP, RecordBatch],
        request: int,
    ) -> None: ...
    def on_appended(
        self, r: Replica, placed: RecordBatch, producer_id: str, acks: int, request: int | None = None
    ) -> None: ...
    def on_high_watermark(self, r: Replica, old: int) -> None: ...
    def on_replicated(self, r: Replica, leader_id: int, count: int, batches: list[RecordBatch]) -> None: ...
    def on_truncated(self, r: Replica, removed: list[RecordBatch], leader_id: int) -> None: ...
    def on_became_leader(self, r: Replica) -> None: ...
    def on_acked(self, producer: Producer | ExternalProducer, b: Any) -> None: ...
    def on_delivered(self, consumer: Consumer, count: int, latency_sum: int) -> None: ...

    # requests answered for the brokers (FindCoordinator, ListOffsets) and the cluster-wide steps they take
    def on_find_coordinator(self, broker_id: int, consumer: Consumer, group_id: str) -> None: ...
    def on_list_offsets(self, broker_id: int, consumer: Consumer, tp: TP, policy: str, why: str) -> None: ...
    def load_offsets(self, broker: Broker, group_id: str) -> dict[TP, int]: ...
    def commit_offsets_directly(self, group_id: str, offsets: dict[TP, int], via: str) -> None: ...
    def create_topic(
        self,
        name: str,
        partitions: int = 1,
        replication_factor: int = 1,
        config: dict[str, Any] | None = None,
        auto: bool = False,
    ) -> None: ...
    def next_producer_id(self) -> int: ...
    def finish_broker_shutdown(self, broker_id: int, approved: bool) -> None: ...


# mypy proves that Cluster is a World and that every client kind keeps its contracts (this never runs)
if TYPE_CHECKING:
    from .cluster import Cluster
    from .consumer import Consumer
    from .producer import Producer
    from .server.clients import ExternalConsumer, ExternalProducer, Reply
    from .share import ShareConsumer

    def _clients_keep_their_contracts(
        world: Cluster,
        p: Producer,
        k: Consumer,
        s: ShareConsumer,
        ep: ExternalProducer,
        ek: ExternalConsumer,
        r: Reply,
    ) -> None:
        produce: list[ProduceClient] = [p, r]
        members: list[GroupMember] = [k, ek, r]
        offsets: list[OffsetClient] = [k, r]
        kip848: list[ConsumerGroupMember] = [k]
        clients: list[Client] = [p, k, s, ep, ek, r]
        _world: World = world
        del produce, members, offsets, kip848, clients, _world


__all__ = ["World", "Client", "ProduceClient", "OffsetClient", "GroupMember", "ConsumerGroupMember"]
