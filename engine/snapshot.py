"""Plain, immutable views of the cluster for rendering (`Cluster.snapshot()`).

Everything here is data: tuples, ints, strings and frozen dataclasses. The UI, notebooks and tests read
snapshots; they never reach into engine internals. Fields that a later feature fills (replication,
controller failover, loss ledger) are present from the start with neutral values, so views can be built
against the final shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TopicPartition = tuple[str, int]


@dataclass(frozen=True, slots=True)
class BrokerView:
    id: int
    alive: bool  # False after crash_broker()
    isolated: bool  # network-partitioned (isolate_broker)
    controller: bool  # hosts the active controller (ZooKeeper mode) / is the KRaft active controller's host
    fenced: bool = False  # KRaft: missed broker.session.timeout.ms heartbeats
    extra_latency_ms: int = 0  # slow_broker()
    leaders: int = 0  # partitions this broker currently leads
    replicas: int = 0  # partition replicas hosted
    rack: str | None = None  # broker.rack (None: not set)


@dataclass(frozen=True, slots=True)
class RecordView:
    """One record as a student sees it: topic, partition and offset identify it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int
    leader_epoch: int = 0
    control: str | None = None  # "COMMIT" / "ABORT": a transaction marker (control batch), not data
    txn: str | None = None  # records of a transaction: "open" | "committed" | "aborted"; None otherwise


@dataclass(frozen=True, slots=True)
class LostRecordView:
    """An acknowledged record that no longer exists in any live replica's log."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    reason: str  # e.g. "acks=1 leader crashed before followers fetched", "unclean leader election"
    time_ms: int


@dataclass(frozen=True, slots=True)
class AckedBatchView:
    """A batch the cluster acknowledged to a producer (from the loss ledger), and whether it was lost since."""

    topic: str
    partition: int
    base_offset: int
    last_offset: int
    first_key: bytes | None
    acked_ms: int
    producer: str
    lost_reason: str | None = None  # None: still in the partition's log (or deleted by retention)


@dataclass(frozen=True, slots=True)
class ReplicaView:
    broker: int
    log_end_offset: int  # LEO: offset of the next record this replica will write
    log_start_offset: int
    high_watermark: int  # this replica's own view of the HW (followers learn it from fetch responses)
    is_leader: bool
    in_isr: bool
    online: bool  # broker alive and not isolated
    segments: int = 1


@dataclass(frozen=True, slots=True)
class PartitionView:
    topic: str
    partition: int
    leader: int | None  # broker id; None when offline
    leader_epoch: int
    replicas: tuple[int, ...]  # assignment order; replicas[0] is the preferred leader
    isr: tuple[int, ...]
    high_watermark: int
    log_start_offset: int
    log_end_offset: int  # the leader's LEO
    replica_states: tuple[ReplicaView, ...]
    tail: tuple[RecordView, ...]  # the last records in the leader's log (or the best replica's when offline)
    lost: tuple[LostRecordView, ...] = ()
    offline: bool = False
    adding_replicas: tuple[int, ...] = ()  # reassignment in progress
    removing_replicas: tuple[int, ...] = ()
    last_stable_offset: int | None = (
        None  # LSO: read_committed reads below it (= HW with no open transaction)
    )

    @property
    def key(self) -> TopicPartition:
        return (self.topic, self.partition)


@dataclass(frozen=True, slots=True)
class TopicView:
    name: str
    partitions: int
    replication_factor: int
    config: dict[str, object]  # only the explicitly set topic configs
    internal: bool = False


@dataclass(frozen=True, slots=True)
class BatchView:
    """A producer batch: open in the accumulator, or in flight to the leader."""

    topic: str
    partition: int
    record_count: int
    size_bytes: int  # estimated uncompressed size (what batch.size is compared with)
    batch_size: int  # the producer's batch.size
    age_ms: int  # time since the batch was opened
    linger_ms: int
    state: str  # "open" | "ready" | "in_flight" | "retrying"
    compressed_bytes: int | None = None  # known once the batch is closed (compression.type != none)
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class ProducerView:
    id: str
    config: dict[str, object]  # acks, linger.ms, batch.size, compression.type, enable.idempotence, ...
    batches: tuple[BatchView, ...]
    sent: int  # records handed to send()
    acked: int  # records acknowledged
    failed: int  # records whose future holds an error
    buffer_used: int  # bytes held in buffer.memory
    producer_id: int | None = None  # idempotent producer id (InitProducerId)
    alive: bool = True
    transactional_id: str | None = None
    txn_state: str | None = (
        None  # the client's TransactionManager: Uninitialized | Ready | InTransaction | Fenced ...
    )
    producer_epoch: int | None = None  # transactional producers: bumped by init_transactions() and, with
    # transaction.version=2 (KIP-890), by the end of every transaction
    external: bool = False  # a real client connected over the Kafka protocol (engine.server)


@dataclass(frozen=True, slots=True)
class MemberView:
    member_id: str
    client_id: str  # the consumer's id, e.g. "c1"
    assignment: tuple[TopicPartition, ...]
    alive: bool
    is_leader: bool = False
    member_epoch: int | None = None  # KIP-848 members only
    group_instance_id: str | None = None  # static members (KIP-345): the id that survives restarts
    rack: str | None = None  # the member's client.rack (KIP-881: sent in its subscription; None: not set)


@dataclass(frozen=True, slots=True)
class GroupView:
    group_id: str
    state: str  # "Empty" | "PreparingRebalance" | "CompletingRebalance" | "Stable" | "Dead"
    generation: int
    protocol: str | None  # the chosen assignor, e.g. "range"
    leader: str | None  # member id of the group leader member
    coordinator: int | None  # broker id hosting the group coordinator
    members: tuple[MemberView, ...]
    committed: dict[TopicPartition, int]  # committed offsets
    lag: dict[TopicPartition, int]  # high watermark - committed offset (or - log start when none committed)
    rebalance: str = "eager"  # "eager" | "cooperative" | "consumer (KIP-848)"


@dataclass(frozen=True, slots=True)
class ConsumerView:
    id: str
    group_id: str | None
    member_id: str | None
    assignment: tuple[TopicPartition, ...]
    positions: dict[TopicPartition, int]  # next offset this consumer will read
    state: str  # "unjoined" | "joining" | "stable" | "crashed" | "closed"
    records_received: int
    alive: bool = True
    external: bool = False  # a real client connected over the Kafka protocol (engine.server)


@dataclass(frozen=True, slots=True)
class InFlightView:
    """A request or response travelling on the simulated network."""

    id: int
    kind: str  # "Produce", "ProduceResponse", "Fetch", "ReplicaFetch", "JoinGroup", "Heartbeat", ...
    src: str  # actor names: "broker-1", "p1", "c1", "controller"
    dst: str
    sent_ms: int
    arrive_ms: int
    topic: str | None = None
    partition: int | None = None


@dataclass(frozen=True, slots=True)
class ControllerView:
    mode: str  # "kraft" | "zookeeper"
    active: int | None  # broker id (ZooKeeper mode) or controller node id (KRaft) of the active controller
    epoch: int  # controller epoch (ZooKeeper) / leader epoch of the metadata quorum (KRaft)
    nodes: tuple[int, ...] = ()  # KRaft quorum voters (ids) / ZooKeeper ensemble
    metadata_offset: int = 0  # KRaft: records in the metadata log
    registered_brokers: tuple[int, ...] = ()  # ZooKeeper /brokers/ids or KRaft unfenced brokers


@dataclass(frozen=True, slots=True)
class TransactionView:
    """The transaction coordinator's state of one transactional.id (what `kafka-transactions.sh` describes)."""

    transactional_id: str
    producer_id: int
    producer_epoch: int
    state: str  # Empty | Ongoing | PrepareCommit | PrepareAbort | CompleteCommit | CompleteAbort
    partitions: tuple[TopicPartition, ...]  # partitions of the ongoing transaction
    coordinator: int | None  # broker leading the transactional.id's __transaction_state partition


@dataclass(frozen=True, slots=True)
class ShareRecordView:
    offset: int
    state: str  # "Available" | "Acquired" | "Acknowledged" | "Archived"
    delivery_count: int
    owner: str | None


@dataclass(frozen=True, slots=True)
class SharePartitionView:
    """A share group's view of one partition (KIP-932): start/end offsets and in-flight records."""

    group_id: str
    topic: str
    partition: int
    start_offset: int  # SPSO
    end_offset: int  # SPEO
    records: tuple[ShareRecordView, ...]
    archived: tuple[int, ...] = ()  # offsets archived lately that are behind the SPSO now (the last 20)


@dataclass(frozen=True, slots=True)
class ShareGroupView:
    group_id: str
    epoch: int
    members: tuple[str, ...]
    assignment: dict[str, tuple[TopicPartition, ...]]
    partitions: tuple[SharePartitionView, ...]


@dataclass(frozen=True, slots=True)
class ClusterSnapshot:
    time_ms: int
    brokers: tuple[BrokerView, ...]
    topics: tuple[TopicView, ...]
    partitions: tuple[PartitionView, ...]
    producers: tuple[ProducerView, ...]
    consumers: tuple[ConsumerView, ...]
    groups: tuple[GroupView, ...]
    in_flight: tuple[InFlightView, ...]
    controller: ControllerView
    last_event_seq: int
    lost: tuple[LostRecordView, ...] = field(default=())
    share_groups: tuple[ShareGroupView, ...] = field(default=())
    transactions: tuple[TransactionView, ...] = field(default=())

    def partition(self, topic: str, partition: int) -> PartitionView:
        for p in self.partitions:
            if p.topic == topic and p.partition == partition:
                return p
        raise KeyError(f"no partition {topic}-{partition} in this snapshot")

    def group(self, group_id: str) -> GroupView:
        for g in self.groups:
            if g.group_id == group_id:
                return g
        raise KeyError(f"no group {group_id!r} in this snapshot")
