"""One broker's replica of one partition, and what it does when it leads (Kafka's Partition.scala).

A leader tracks each follower's log end offset from the offsets its fetches ask for, keeps the high
watermark at the smallest LEO over the ISR, and proposes ISR changes to the controller (AlterPartition).
Since Kafka 3.7 (KAFKA-15583) the high watermark does not advance while the ISR is smaller than the
effective `min.insync.replicas` = min(min.insync.replicas, replication factor); we model that. A follower
outside the ISR that is caught up (within `replica.lag.time.max.ms`) and eligible to join it also holds the
high watermark (Partition.maybeIncrementLeaderHW), so it can reach the HW and rejoin.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from .log import PartitionLog

if TYPE_CHECKING:
    from .broker import DelayedFetch, ProduceRequest
    from .fetch_session import FetchSession
    from .records import RecordBatch

# Kafka's lastCaughtUpTimeMs = 0 on a wall clock: "never", however early the simulated clock reads
NEVER_MS = -(1 << 62)


class FollowerState:
    """What the leader knows of one follower (Kafka's Replica state on the leader).

    While its partition is quiet in the follower's fetch session (engine.fetch_session, KIP-227), the
    session's last fetch time stands in for the fetch times: every skipped fetch would have set them to it."""

    __slots__ = ("leo", "_caught_up_ms", "_fetch_ms", "last_fetch_leader_leo", "session")

    def __init__(self, now_ms: int, in_sync: bool = True) -> None:
        self.leo = 0
        # Replica.resetReplicaState: an ISR member counts as caught up now, any other replica never (until it fetches)
        self._caught_up_ms = now_ms if in_sync else NEVER_MS
        self._fetch_ms = now_ms if in_sync else NEVER_MS
        self.last_fetch_leader_leo = 0
        self.session: FetchSession | None = None  # the FetchSession this partition is quiet in, if any

    @classmethod
    def reset(
        cls, now_ms: int, leader_leo: int, in_sync: bool, previous: FollowerState | None
    ) -> FollowerState:
        """Replica.resetReplicaState on a new leader epoch. A new leader knows nothing of the follower (LEO and
        last fetch unknown); a re-elected one keeps the LEO it saw. Either way an ISR member counts as caught up
        now, any other replica as never. A new object: a fetch session's quiet entry keeps the old one."""
        f = cls(now_ms, in_sync)
        if previous is None:
            f.leo = f.last_fetch_leader_leo = -1
            f._fetch_ms = NEVER_MS
        else:
            f.leo = previous.leo
            f.last_fetch_leader_leo = leader_leo
        return f

    @property
    def last_caught_up_ms(self) -> int:
        s = self.session
        return self._caught_up_ms if s is None else s.last_fetch_ms

    @property
    def last_fetch_ms(self) -> int:
        s = self.session
        return self._fetch_ms if s is None else s.last_fetch_ms

    def restore(self, fetch_ms: int, leader_leo: int) -> None:
        """Leaving quiet: the state the skipped fetches (caught up, the last at `fetch_ms`) would have left."""
        self._caught_up_ms = self._fetch_ms = fetch_ms
        self.last_fetch_leader_leo = leader_leo

    def on_fetch(self, fetch_offset: int, leader_leo: int, now_ms: int) -> None:
        """Replica.updateFetchState: caught up if the fetch reached the leader's LEO of now, or of the last fetch."""
        if fetch_offset >= leader_leo:
            self._caught_up_ms = now_ms
        elif fetch_offset >= self.last_fetch_leader_leo:
            if self._fetch_ms > self._caught_up_ms:  # max(), without the builtin call (every fetch)
                self._caught_up_ms = self._fetch_ms
        self.leo = fetch_offset
        self.last_fetch_leader_leo = leader_leo
        self._fetch_ms = now_ms

    def is_caught_up(self, leader_leo: int, now_ms: int, lag_max_ms: int) -> bool:
        """ReplicaState.isCaughtUp: at the leader's LEO, or caught up within replica.lag.time.max.ms."""
        return self.leo == leader_leo or now_ms - self.last_caught_up_ms <= lag_max_ms


class ProducerStateEntry:
    """Idempotence (KIP-98): the last 5 batches' sequence ranges per producer id, for de-duplication."""

    __slots__ = ("epoch", "batches")

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch
        self.batches: deque[tuple[int, int, int, int]] = deque(
            maxlen=5
        )  # first seq, last seq, base, last offset

    @staticmethod
    def add_batch(producers: dict[int, ProducerStateEntry], b: RecordBatch) -> None:
        """ProducerStateEntry.addBatch for a written batch `b` (a RecordBatch with its offsets): another epoch than
        the entry's starts it again (maybeUpdateProducerEpoch clears the cached batches). The leader's append, a
        follower's copy and a restart's rebuild from the log all keep the state this one way."""
        e = producers.get(b.producer_id)
        if e is None or e.epoch != b.producer_epoch:
            e = producers[b.producer_id] = ProducerStateEntry(b.producer_epoch)
        e.batches.append((b.base_sequence, b.base_sequence + b.count - 1, b.base_offset, b.last_offset))

    def find_duplicate(self, first_seq: int, last_seq: int) -> tuple[int, int] | None:
        for f, last, base, last_off in self.batches:
            if f == first_seq and last == last_seq:
                return base, last_off
        return None

    @property
    def last_seq(self) -> int:
        return self.batches[-1][1] if self.batches else -1


class Replica:
    """A partition replica on one broker: its own log, its view of the HW, and leader duties when leading."""

    __slots__ = (
        "topic",
        "partition",
        "broker_id",
        "tp",
        "log",
        "hw",
        "leader_epoch",
        "is_leader",
        "leader_id",
        "replicas",
        "isr",
        "partition_epoch",
        "followers",
        "pending_isr",
        "producers",
        "delayed_produce",
        "parked_fetches",
        "online",
        "ongoing_txns",
        "aborted_txns",
    )

    def __init__(self, topic: str, partition: int, broker_id: int, now_ms: int) -> None:
        self.topic = topic
        self.partition = partition
        self.tp = (topic, partition)  # a plain slot, not a property: read several times per batch
        self.broker_id = broker_id
        self.log = PartitionLog(now_ms)
        self.hw = 0
        self.leader_epoch = -1
        self.is_leader = False
        self.leader_id: int | None = None
        self.replicas: list[int] = []
        self.isr: list[int] = []
        self.partition_epoch = 0
        self.followers: dict[int, FollowerState] = {}
        self.pending_isr: list[int] | None = None  # an AlterPartition in flight
        self.producers: dict[int, ProducerStateEntry] = {}
        # DelayedProduce purgatory: (required offset, request, tp) waiting for the HW to reach it.
        self.delayed_produce: list[tuple[int, ProduceRequest]] = []
        self.parked_fetches: list[DelayedFetch] = []  # DelayedFetch requests waiting for data
        self.online = True
        self.ongoing_txns: dict[int, int] = {}  # producer id -> first offset of its open transaction here
        self.aborted_txns: list[tuple[int, int, int]] = []  # (producer id, first offset, abort marker offset)

    @property
    def leo(self) -> int:
        return self.log.log_end_offset

    # -- leader side ---------------------------------------------------------------------------------------
    def become_leader(
        self, epoch: int, replicas: list[int], isr: list[int], partition_epoch: int, now_ms: int
    ) -> None:
        """LeaderAndIsr with a new leader epoch (Partition.makeLeader): record where the epoch starts in the
        leader-epoch cache and reset the follower states (FollowerState.reset)."""
        previous = self.followers if self.is_leader else {}
        self.is_leader = True
        self.leader_id = self.broker_id
        self.leader_epoch = epoch
        self.replicas = list(replicas)
        self.isr = list(isr)
        self.partition_epoch = partition_epoch
        self.pending_isr = None
        leo = self.log.log_end_offset
        self.followers = {
            b: FollowerState.reset(now_ms, leo, b in isr, previous.get(b))
            for b in replicas
            if b != self.broker_id
        }
        self.log.assign_epoch_start(epoch, leo)

    def become_follower(
        self, leader: int | None, epoch: int, replicas: list[int], isr: list[int], partition_epoch: int
    ) -> None:
        self.is_leader = False
        self.leader_id = leader
        self.leader_epoch = epoch
        self.replicas = list(replicas)
        self.isr = list(isr)
        self.partition_epoch = partition_epoch
        self.followers = {}
        self.pending_isr = None

    def effective_min_isr(self, min_insync: int) -> int:
        """min(min.insync.replicas, replication factor) (KAFKA-15583, Kafka 3.7)."""
        rf = len(self.replicas) or 1  # min(min_insync, max(1, rf)), without two builtin calls (every append)
        return min_insync if min_insync <= rf else rf

    def isr_for_hw(self) -> list[int]:
        """The maximal ISR: the committed ISR plus any replicas a pending AlterPartition adds (Kafka: maximalIsr)."""
        if self.pending_isr is not None and len(self.pending_isr) > len(self.isr):
            return self.pending_isr
        return self.isr

    def compute_hw(
        self,
        min_insync: int,
        now_ms: int = 0,
        lag_max_ms: int = -1,
        eligible: Callable[[int], bool] | None = None,
    ) -> int:
        """Partition.maybeIncrementLeaderHW: the smallest LEO over the maximal ISR and over the followers outside
        it that are caught up (ReplicaState.isCaughtUp within `lag_max_ms`) and `eligible` to join the ISR (alive,
        not fenced or shutting down: isReplicaIsrEligible); never backwards; held still while the committed ISR
        is below the effective min ISR (isUnderMinIsr, KAFKA-15583)."""
        isr = self.isr
        hw = self.hw
        rf = len(self.replicas) or 1
        if len(isr) < (min_insync if min_insync <= rf else rf):  # effective_min_isr(), inlined (hot)
            return hw
        pending = self.pending_isr  # isr_for_hw(), inlined
        if pending is not None and len(pending) > len(isr):
            isr = pending
        leo = self.log.log_end_offset
        new_hw = leo
        for b, f in self.followers.items():
            if b in isr:
                fleo = f.leo
                fleo = fleo if fleo >= 0 else hw
                if fleo < new_hw:
                    new_hw = fleo
            elif (
                0 <= f.leo < new_hw
                and lag_max_ms >= 0
                and f.is_caught_up(leo, now_ms, lag_max_ms)
                and (eligible is None or eligible(b))
            ):
                new_hw = f.leo  # a caught-up follower outside the ISR: the HW waits for it to rejoin
        return hw if hw > new_hw else new_hw
