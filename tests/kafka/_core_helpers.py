"""Drive one partition's leader the way Kafka's PartitionTest drives `kafka.cluster.Partition`.

PartitionTest builds a Partition with mocked collaborators and calls makeLeader / appendRecordsToLeader /
updateFollowerFetchState / maybeShrinkIsr with a MockTime. Here a real `engine.Cluster` is built and settled,
then the scheduler is never run again: the test calls the leader broker's own handlers (LeaderAndIsr, replica
Fetch, the ISR-expiry task, the AlterPartition response) and moves the simulated clock by hand, so nothing
else (other brokers' fetchers, the controller) acts behind the test's back. The mapping:

- makeLeader(state)                  -> Broker.on_leader_and_isr (a LeaderAndIsr / KRaft partition record)
- appendRecordsToLeader / seedLogData -> PartitionLog.append, then the leader's HW check (as Kafka's append)
- fetchFollower(replicaId, offset)   -> Broker.on_replica_fetch (fetch sessions off: one full fetch each)
- maybeShrinkIsr                     -> the broker's isr-expiration task (Broker._isr_expiration_check)
- alterPartitionManager.completeIsrUpdate / failIsrUpdate -> Broker.on_alter_partition_response
- metadataCache.isBrokerFenced       -> the controller's live set (the leader reads it as its metadata cache)
- lastCaughtUpTimeMs = 0 (never)     -> engine.replica.NEVER_MS (the simulated clock starts at 0)
Kafka's brokerId 0 is broker 1 here (engine broker ids start at 1); brokerId + k is broker 1 + k.
"""

from __future__ import annotations

from engine import Cluster
from engine.records import RecordBatch, plain_record_size

TOPIC = "t"
TP = (TOPIC, 0)
LAG_MAX_MS = 30_000  # ReplicationConfigs.REPLICA_LAG_TIME_MAX_MS_DEFAULT


def records(n: int, ts: int = 0, value: bytes = b"v") -> RecordBatch:
    """n records in one batch, not yet placed (base offset -1), like TestUtils.records / MemoryRecords."""
    size = plain_record_size(-1, len(value)) * n + 61
    return RecordBatch(-1, -1, (None,) * n, (value,) * n, (ts,) * n, None, -1, -1, -1, size, "none", size)


class PartitionHarness:
    """One partition on brokers 1..n, led by broker 1, driven call by call as PartitionTest does."""

    def __init__(
        self, brokers: int = 3, min_isr: int = 1, controller: str = "kraft", topic_config: dict | None = None
    ) -> None:
        self.c = Cluster(
            brokers=brokers,
            seed=0,
            controller=controller,
            config={"max.incremental.fetch.session.cache.slots": 0, "replica.lag.time.max.ms": LAG_MAX_MS},
        )
        self.c.create_topic(
            TOPIC,
            partitions=1,
            replication_factor=brokers,
            config={"min.insync.replicas": min_isr, **(topic_config or {})},
        )
        self.c.run_for(200)  # settle: every broker registered, the partition published
        self.broker = self.c.brokers[1]
        self._rid = 0
        self._fresh = (
            True  # PartitionTest starts from a new Partition: its first makeLeader is a new leadership
        )

    # -- state ----------------------------------------------------------------------------------------------
    @property
    def r(self):
        return self.broker.replicas[TP]

    @property
    def now(self) -> int:
        return self.c.now

    @property
    def hw(self) -> int:
        return self.r.hw

    @property
    def leo(self) -> int:
        return self.r.leo

    @property
    def isr(self) -> set[int]:
        return set(self.r.isr)

    @property
    def maximal_isr(self) -> set[int]:
        """PartitionState.maximalIsr: the committed ISR, or the one a pending expansion proposes."""
        r = self.r
        return set(r.isr) | set(r.pending_isr or ())

    @property
    def inflight(self) -> bool:
        return self.r.pending_isr is not None

    def follower(self, broker_id: int):
        return self.r.followers[broker_id]

    # -- actions ----------------------------------------------------------------------------------------------
    def sleep(self, ms: int) -> None:
        """MockTime.sleep: the clock moves, nothing scheduled runs."""
        self.c.scheduler.now_ms += ms

    def seed_log(self, n: int, leader_epoch: int) -> None:
        """PartitionTest.seedLogData: n single-record batches written with `leader_epoch`."""
        log = self.r.log
        for _ in range(n):
            log.append(
                records(1, ts=self.now).at(log.log_end_offset, leader_epoch), self.now, 1 << 30, 1 << 40
            )

    def make_leader(
        self, leader_epoch: int, isr: list[int], replicas: list[int], partition_epoch: int
    ) -> bool:
        """Partition.makeLeader; returns whether this replica newly became the leader (Kafka's result)."""
        was_leader = self.r.is_leader and not self._fresh
        self._fresh = False
        self.broker.on_leader_and_isr(TP, 1, leader_epoch, list(replicas), list(isr), partition_epoch)
        return self.r.is_leader and not was_leader

    def make_follower(
        self, leader: int, leader_epoch: int, isr: list[int], replicas: list[int], partition_epoch: int
    ) -> None:
        self._fresh = False
        self.broker.on_leader_and_isr(TP, leader, leader_epoch, list(replicas), list(isr), partition_epoch)

    def append_as_leader(self, n: int) -> int:
        """Partition.appendRecordsToLeader (acks=0): returns the batch's last offset."""
        r = self.r
        placed = records(n, ts=self.now).at(r.leo, r.leader_epoch)
        r.log.append(placed, self.now, 1 << 30, 1 << 40)
        self.broker._maybe_advance_hw(r)
        return placed.last_offset

    def fetch_follower(self, broker_id: int, fetch_offset: int) -> None:
        """Partition.fetchRecords from a follower (updateFollowerFetchState + ISR expansion + HW)."""
        self._rid += 1
        f = self.c.brokers[broker_id]
        self.broker.on_replica_fetch(broker_id, {TP: (fetch_offset, self.r.leader_epoch)}, f.epoch, self._rid)

    def maybe_shrink_isr(self) -> None:
        self.broker._isr_expiration_check(self.broker.epoch)

    def complete_isr_update(self, partition_epoch: int) -> None:
        r = self.r
        self.broker.on_alter_partition_response(
            TP, True, list(r.pending_isr), partition_epoch, r.leader_epoch
        )

    def fail_isr_update(self) -> None:
        r = self.r
        self.broker.on_alter_partition_response(TP, False, list(r.isr), r.partition_epoch, r.leader_epoch)

    def set_fenced(self, broker_id: int, fenced: bool) -> None:
        """metadataCache.isBrokerFenced (KRaft) / hasAliveBroker (ZooKeeper), as the leader reads it."""
        live = self.c.controller.live
        if fenced:
            live.discard(broker_id)
        else:
            live.add(broker_id)
