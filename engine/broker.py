"""A broker: hosts partition replicas, answers Produce and Fetch, fetches as a follower, coordinates groups.

Request handling follows Kafka's ReplicaManager: a leader appends a produce batch and answers at once for
acks=0/1, or parks it in the DelayedProduce purgatory until the high watermark covers it (acks=all). Fetches
are long polls (DelayedFetch): consumers read only below the high watermark, followers up to the LEO.
"""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING

from .config import RACK_AWARE_SELECTOR
from .errors import (
    CorruptRecordError,
    FencedLeaderEpochError,
    InvalidProducerEpochError,
    InvalidTopicError,
    KafkaError,
    NotEnoughReplicasAfterAppendError,
    NotEnoughReplicasError,
    NotLeaderOrFollowerError,
    OffsetOutOfRangeError,
    OutOfOrderSequenceError,
    RecordTooLargeError,
    RequestTimedOutError,
)
from .fetch_session import FetchSession
from .group import GroupCoordinator
from .replica import FollowerState, ProducerStateEntry, Replica
from .replica_selector import ReplicaView, rack_aware_select
from .scheduler import Watchdog
from .transactions import aborted_in, last_stable_offset, rebuild_index, track_append

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .contracts import ProduceClient, World
    from .records import RecordBatch
    from .scheduler import Timer

TP = tuple[str, int]
_INTERNAL_TOPICS = frozenset({"__consumer_offsets", "__transaction_state"})  # Topic.isInternal
REPLICA_MAX_BYTES = 1048576  # replica.fetch.max.bytes
REPLICA_FETCH_BACKOFF_MS = 1000  # replica.fetch.backoff.ms
REPLICA_SOCKET_TIMEOUT_MS = 30000  # replica.socket.timeout.ms
_parked_order = attrgetter("parked_seq")  # a parked fetch's sort key (in C: no Python call per fetch sorted)


class ProduceRequest:
    """One Produce request from a producer to a leader: batches for several partitions, answered once."""

    __slots__ = ("id", "producer", "batches", "acks", "timeout_ms", "results", "pending", "timer", "done")

    def __init__(
        self, id: int, producer: ProduceClient, batches: dict[TP, RecordBatch], acks: int, timeout_ms: int
    ) -> None:
        self.id = id
        self.producer = producer  # the Producer; its on_produce_response gets the results
        self.batches = batches
        self.acks = acks
        self.timeout_ms = timeout_ms
        self.results: dict[TP, tuple[KafkaError | None, int]] = {}
        self.pending = 0
        self.timer: Watchdog | None = None
        self.done = False


class DelayedFetch:
    """A parked fetch (Kafka's DelayedFetch): answered when enough data arrives or max wait passes."""

    __slots__ = (
        "replica_fetch",
        "requester",
        "parts",
        "min_bytes",
        "max_bytes",
        "timer",
        "done",
        "reply",
        "isolation_committed",
        "session",
        "parked_seq",
        "follower_read",
    )

    def __init__(
        self, replica_fetch: bool, requester: str, parts: dict[TP, int], min_bytes: int, max_bytes: int, reply
    ) -> None:
        self.replica_fetch = replica_fetch
        self.requester = requester  # broker id for followers, consumer id for consumers
        self.parts = parts  # tp -> fetch offset
        self.min_bytes = min_bytes
        self.max_bytes = max_bytes
        self.timer: Timer | None = None
        self.done = False
        self.reply = reply
        self.isolation_committed = False  # isolation.level=read_committed: read below the LSO only
        self.session: FetchSession | None = (
            None  # a follower's fetch session: its quiet partitions wake it too
        )
        self.parked_seq = 0
        self.follower_read = (
            False  # KIP-392: a consumer reading from this broker as a follower (up to its HW)
        )


class Broker:
    def __init__(self, cluster: World, broker_id: int, rack: str | None = None) -> None:
        self.cluster = cluster
        self.id = broker_id
        self.rack = rack  # broker.rack (None: not set); replica placement spreads replicas over racks
        self.name = f"broker-{broker_id}"
        self.alive = True
        self.isolated = False
        self.replicas: dict[TP, Replica] = {}
        self.coordinator = GroupCoordinator(self)
        # follower side: leader id -> partitions fetched from it; plus a generation to retire stale loops
        self.fetch_from: dict[int, set[TP]] = {}
        self._fetch_order: dict[
            int, list[TP]
        ] = {}  # leader id -> sorted(fetch_from[leader]); dropped on change
        self.fetch_in_flight: dict[int, int] = {}  # leader id -> id of the fetch on the wire
        # replica.socket.timeout.ms of the fetch in flight to each leader (token: the leader id)
        self.fetch_watchdog = Watchdog(cluster.scheduler, self._replica_fetch_timeout)
        self.park_watchdog = Watchdog(cluster.scheduler, self._fetch_expired)  # parked follower fetches' wait
        self.produce_watchdogs: dict[int, Watchdog] = {}  # request.timeout.ms -> acks=all produces waiting
        self._fetch_seq = 0
        self.epoch = 0  # incremented on every restart: stale timers and responses check it
        self.isr_check_timer = None
        self.leader_epoch_waits: dict[TP, int] = {}
        # KIP-227 fetch sessions. Leader side: follower id -> its session; parked follower fetches (they also
        # wait on the session's quiet partitions). Follower side: per leader with an open session, the
        # partitions whose fetch offset moved since the last request (the next incremental request's parts).
        self.fetch_sessions: dict[int, FetchSession] = {}
        # per partition, how many fetch sessions here it is quiet in (at least; kept by FetchSession and emptied
        # with the sessions on a crash: a session replaced whole leaves it high, which only costs a look)
        self.quiet_counts: dict[TP, int] = {}
        self.parked_replica_fetches: list[DelayedFetch] = []
        self._park_seq = 0
        self.meta_version = (
            0  # bumped by every change of a replica's leadership, epochs or ISR (fetch sessions)
        )
        self.session_dirty: dict[
            int, set[TP]
        ] = {}  # leader id -> moved partitions; no entry: no open session

    # -- lifecycle --------------------------------------------------------------------------------------------
    @property
    def online(self) -> bool:
        return self.alive and not self.isolated

    def start(self) -> None:
        c = self.cluster
        interval = max(1, c.broker_config.replica_lag_time_max_ms // 2)
        c.scheduler.after(interval, self._isr_expiration_check, self.epoch)

    def crash(self) -> None:
        """The process dies: memory (purgatories, fetchers, group state) is gone; logs stay on disk."""
        self.meta_version += 1
        self.alive = False
        self.epoch += 1
        self.fetch_from.clear()
        self._fetch_order.clear()
        self.fetch_in_flight.clear()
        self.fetch_sessions.clear()
        self.quiet_counts.clear()
        self.parked_replica_fetches = []
        self.session_dirty.clear()
        self.leader_epoch_waits.clear()
        for r in self.replicas.values():
            r.delayed_produce.clear()
            r.parked_fetches.clear()
            r.is_leader = False
            r.followers = {}
            r.pending_isr = None
        self.coordinator = GroupCoordinator(self)

    def restart(self) -> None:
        self.alive = True
        self.epoch += 1
        for r in self.replicas.values():
            r.hw = min(r.hw, r.leo)  # the HW checkpoint file survives, bounded by the log
            r.producers = _rebuild_producer_state(r)
            r.leader_id = (
                None  # in memory only: relearnt from the controller, even if its epoch did not change
            )
        self.start()

    # -- metadata from the controller ------------------------------------------------------------------------
    def on_leader_and_isr(
        self,
        tp: TP,
        leader: int | None,
        epoch: int,
        replicas: list[int],
        isr: list[int],
        partition_epoch: int,
        deleting: bool = False,
        broker_epoch: int | None = None,
    ) -> None:
        """LeaderAndIsr (ZooKeeper mode) / a partition record from the metadata log (KRaft)."""
        if broker_epoch is not None and broker_epoch != self.epoch:
            return  # KIP-380: addressed to this broker's previous incarnation (it restarted since): stale
        self.meta_version += 1
        c = self.cluster
        r = self.replicas.get(tp)
        if deleting:
            # KIP-570: a StopReplica older than the state this replica already follows (the partition was given
            # back to this broker since, and the messages crossed) is stale and ignored
            if r is not None and partition_epoch >= r.partition_epoch:
                self._abandon_leadership(r, NotLeaderOrFollowerError)
                self._stop_following(tp)
                del self.replicas[tp]
            return
        if self.id not in replicas:
            return
        if r is None:
            r = self.replicas[tp] = Replica(tp[0], tp[1], self.id, c.now)
        if epoch < r.leader_epoch or (
            epoch == r.leader_epoch and partition_epoch <= r.partition_epoch and r.leader_id == leader
        ):
            if epoch == r.leader_epoch and partition_epoch > r.partition_epoch:
                r.isr, r.partition_epoch = list(isr), partition_epoch
            return
        if leader == self.id:
            was_leader = r.is_leader and r.leader_epoch == epoch
            if r.is_leader and epoch == r.leader_epoch:
                r.replicas, r.isr, r.partition_epoch = list(replicas), list(isr), partition_epoch
                for b in replicas:  # a reassignment added replicas: start tracking them as followers
                    if b != self.id and b not in r.followers:
                        r.followers[b] = FollowerState.reset(c.now, r.leo, False, None)  # a new Replica
                for b in [b for b in r.followers if b not in replicas]:
                    del r.followers[b]
                self._maybe_advance_hw(r)
                return
            self._stop_following(tp)
            r.become_leader(epoch, replicas, isr, partition_epoch, c.now)
            c.on_became_leader(r)
            if not was_leader:
                self._maybe_advance_hw(r)
        else:
            if r.is_leader:
                self._abandon_leadership(r, NotLeaderOrFollowerError)
            r.become_follower(leader, epoch, replicas, isr, partition_epoch)
            self._stop_following(tp)
            if leader is not None:
                self._start_following(r, leader)

    def _abandon_leadership(self, r: Replica, err: type[KafkaError]) -> None:
        self.meta_version += 1
        r.is_leader = False
        pending, r.delayed_produce = r.delayed_produce, []
        for _required, req in pending:
            self._complete_produce(
                req, r.tp, err(f"{self.name} is no longer the leader of {r.topic}-{r.partition}"), -1
            )
        parked, r.parked_fetches = r.parked_fetches, []
        for f in parked:
            self._answer_fetch(f, force=True)
        for f in self.parked_replica_fetches:  # parked follower fetches always carry their session
            if not f.done and r.tp in f.session.quiet:  # type: ignore[union-attr]
                f.session.wake(r.tp)  # type: ignore[union-attr]
                self._answer_fetch(f, force=True)

    def on_metadata(self, client, topics: list[str]) -> None:
        """Metadata: leaders per partition, as this broker's metadata cache knows them."""
        c = self.cluster
        c.network.send(
            self.name,
            client.id,
            "MetadataResponse",
            client.on_metadata_response,
            {t: c.leaders_of(t) for t in topics},
        )

    # -- produce ---------------------------------------------------------------------------------------------
    def on_produce(self, req: ProduceRequest) -> None:
        c = self.cluster
        now = c.scheduler.now_ms
        appended: list[Replica] = []
        limit = c.broker_hot.message_max_bytes  # max.message.bytes when the topic does not set it
        for tp, batch in req.batches.items():
            r = self.replicas.get(tp)
            if r is None or not r.is_leader:
                req.results[tp] = (
                    NotLeaderOrFollowerError(
                        f"{self.name} is not the leader of {tp[0]}-{tp[1]}; the producer refreshes its metadata"
                    ),
                    -1,
                )
                continue
            tcfg = c.topic_hot(tp[0])  # plain values (Topic.hot): read per batch
            if req.acks == -1 and len(r.isr) < (min_isr := r.effective_min_isr(tcfg.min_insync_replicas)):
                err = NotEnoughReplicasError(
                    f"{tp[0]}-{tp[1]} has {len(r.isr)} in-sync replica(s) {sorted(r.isr)} but min.insync.replicas="
                    f"{min_isr}: nothing was written (acks=all refuses to write with too few copies)"
                )
                req.results[tp] = (err, -1)
                c.emit(
                    "produce_rejected",
                    f"{self.name} refused a batch for {tp[0]}-{tp[1]}: NOT_ENOUGH_REPLICAS "
                    f"(ISR {sorted(r.isr)} < min.insync.replicas={min_isr})",
                    actors=(self.name, req.producer.id),
                    topic=tp[0],
                    partition=tp[1],
                    error="NOT_ENOUGH_REPLICAS",
                )
                continue
            refused = (
                self._refuse_append(tp, batch, tcfg)
                if tp[0] in _INTERNAL_TOPICS or tcfg.max_message_bytes_set or batch.wire_bytes > limit
                else None  # (the common case of _refuse_append's checks, without the call)
            )
            if refused is not None:
                req.results[tp] = (refused, -1)
                continue
            if tcfg.compact and any(k is None for k in batch.keys):
                req.results[tp] = (
                    CorruptRecordError(
                        "Compacted topic cannot accept message without key in topic "
                        f"partition {tp[0]}-{tp[1]}."
                    ),
                    -1,
                )
                continue
            if batch.producer_id >= 0:
                entry = r.producers.get(batch.producer_id)
                if entry is not None and batch.producer_epoch < entry.epoch:
                    req.results[tp] = (
                        InvalidProducerEpochError(
                            f"producer id {batch.producer_id} epoch {batch.producer_epoch} is older than epoch "
                            f"{entry.epoch} on {tp[0]}-{tp[1]}: a newer instance fenced this producer"
                        ),
                        -1,
                    )
                    continue
                if entry is not None and self._check_sequence(r, entry, batch, req) is not None:
                    continue
            log = r.log
            placed = batch.at(log.log_end_offset, r.leader_epoch)
            rolled = log.append(placed, now, tcfg.segment_bytes, tcfg.segment_ms)
            if batch.producer_id >= 0:
                ProducerStateEntry.add_batch(r.producers, placed)  # committed only now the append is done
            if placed.is_transactional:
                track_append(r, placed)
            c.on_appended(r, placed, req.producer.id, req.acks, req.id)
            if rolled:
                c.emit(
                    "segment_rolled",
                    f"{self.name} rolled a new segment of {tp[0]}-{tp[1]} at offset "
                    f"{placed.base_offset} (segment.bytes={tcfg.segment_bytes})",
                    actors=(self.name,),
                    topic=tp[0],
                    partition=tp[1],
                    base_offset=placed.base_offset,
                )
            appended.append(r)
            if len(r.isr_for_hw()) == 1 or not r.followers:
                self._maybe_advance_hw(r)
            req.results[tp] = (None, placed.base_offset)
            if req.acks == -1 and r.hw < placed.next_offset:
                r.delayed_produce.append((placed.next_offset, req))
                req.pending += 1
        # Parked follower fetches are completed once every partition of the request is appended, so a follower
        # gets all of them in one response (ReplicaManager.addCompletePurgatoryAction on the ActionQueue, run by
        # tryCompleteActions() after the request)
        if appended:
            self._complete_follower_fetches(appended)
        if req.acks == 0:
            return
        if req.pending:  # DelayedProduce: answered by the HW, or by its request.timeout.ms
            dog = self.produce_watchdogs.get(req.timeout_ms)
            if dog is None:  # one per timeout value: a Watchdog needs one fixed timeout
                dog = self.produce_watchdogs[req.timeout_ms] = Watchdog(c.scheduler, self._produce_timeout)
            dog.start(req, req.timeout_ms, req, self.epoch)
            req.timer = dog
        else:
            self._respond_produce(req)

    def _refuse_append(self, tp: tuple[str, int], batch: RecordBatch, tcfg) -> KafkaError | None:
        """Checks before a client's batch is appended: no writes to internal topics (ReplicaManager.appendToLocalLog:
        "Cannot append to internal topic"), and a batch no bigger than the topic's max.message.bytes, which
        defaults to the broker's message.max.bytes (UnifiedLog.analyzeAndValidateRecords)."""
        if tp[0] in _INTERNAL_TOPICS:
            return InvalidTopicError(f"Cannot append to internal topic {tp[0]}")
        limit = (
            tcfg.max_message_bytes
            if tcfg.max_message_bytes_set
            else self.cluster.broker_hot.message_max_bytes
        )
        if batch.wire_bytes > limit:
            return RecordTooLargeError(
                f"the batch for {tp[0]}-{tp[1]} is {batch.wire_bytes} bytes, larger than max.message.bytes={limit} "
                f"(topic config, default: the broker's message.max.bytes)"
            )
        return None

    def _check_sequence(
        self, r: Replica, entry: ProducerStateEntry, batch: RecordBatch, req: ProduceRequest
    ) -> bool | None:
        """Idempotent producer (KIP-98): a batch already in the log (`entry`: its producer's state on the leader)
        is acknowledged again, not re-appended."""
        tp = r.tp
        if batch.producer_epoch > entry.epoch:
            # a new epoch starts at sequence 0 (ProducerAppendInfo.checkSequence), checked against the current
            # entry; on_produce changes the entry only after the append (UnifiedLog.append: ProducerStateManager.update)
            if batch.base_sequence == 0:
                return None
            req.results[tp] = (
                OutOfOrderSequenceError(
                    f"{tp[0]}-{tp[1]} expected sequence 0 from producer id {batch.producer_id} "
                    f"but got {batch.base_sequence}"
                ),
                -1,
            )
            return True
        last = batch.base_sequence + batch.count - 1
        dup = entry.find_duplicate(batch.base_sequence, last)
        if dup is not None:
            req.results[tp] = (None, dup[0])
            self._maybe_advance_hw(r)  # Partition.appendRecordsToLeader checks the HW after a duplicate too
            self.cluster.emit(
                "duplicate_batch",
                f"{self.name} recognised a retried batch from {req.producer.id} "
                f"(producer id {batch.producer_id}, sequence {batch.base_sequence}-{last}) already at "
                f"offsets {dup[0]}-{dup[1]} of {tp[0]}-{tp[1]}: not written twice",
                actors=(self.name, req.producer.id),
                topic=tp[0],
                partition=tp[1],
                base_offset=dup[0],
                producer_id=batch.producer_id,
                sequence=batch.base_sequence,
            )
            if req.acks == -1 and r.hw <= dup[1]:
                r.delayed_produce.append((dup[1] + 1, req))
                req.pending += 1
            return True
        if batch.base_sequence != entry.last_seq + 1 and batch.producer_epoch == entry.epoch:
            req.results[tp] = (
                OutOfOrderSequenceError(
                    f"{tp[0]}-{tp[1]} expected sequence {entry.last_seq + 1} from producer id {batch.producer_id} "
                    f"but got {batch.base_sequence}"
                ),
                -1,
            )
            return True
        return None

    def _produce_timeout(self, req: ProduceRequest, epoch: int) -> None:
        if req.done or epoch != self.epoch:
            return
        for tp in req.batches:
            r = self.replicas.get(tp)
            if r is None:
                continue
            keep = [(o, q) for o, q in r.delayed_produce if q is not req]
            if len(keep) != len(r.delayed_produce):
                r.delayed_produce = keep
                req.results[tp] = (
                    RequestTimedOutError(
                        f"{tp[0]}-{tp[1]}: the high watermark did not reach the batch within request.timeout.ms="
                        f"{req.timeout_ms} (followers not in sync?)"
                    ),
                    -1,
                )
        req.pending = 0
        self._respond_produce(req)

    def _complete_produce(self, req: ProduceRequest, tp: TP, err: KafkaError | None, offset: int) -> None:
        if req.done:
            return
        if err is not None:
            req.results[tp] = (err, -1)
        req.pending -= 1
        if req.pending <= 0:
            if req.timer is not None:
                req.timer.stop(req)
            self._respond_produce(req)

    def _respond_produce(self, req: ProduceRequest) -> None:
        req.done = True
        c = self.cluster
        c.network.send(
            self.name,
            req.producer.id,
            "ProduceResponse",
            req.producer.on_produce_response,
            req,
            dict(req.results),
        )

    def append_as_leader(self, r: Replica, batch: RecordBatch, *, wake_consumers: bool = False) -> None:
        """Append a batch the broker writes itself, outside a Produce request (an offset commit into
        __consumer_offsets, a transaction marker): the log and its transaction index grow, parked follower
        fetches wake, the high watermark advances if it can; `wake_consumers` also answers consumer fetches
        waiting for the last stable offset to move (a marker completes a transaction)."""
        c = self.cluster
        tcfg = c.topic_config(r.topic)
        r.log.append(batch, c.now, tcfg.segment_bytes, tcfg.segment_ms)
        track_append(r, batch)
        self._complete_follower_fetches((r,))
        self._maybe_advance_hw(r)
        if wake_consumers:
            self._wake_fetches(r)

    # -- high watermark and ISR (leader side) ------------------------------------------------------------------
    def _maybe_advance_hw(self, r: Replica) -> None:
        c = self.cluster
        min_insync = c.topic_hot(r.topic).min_insync_replicas
        new_hw = r.compute_hw(
            min_insync, c.scheduler.now_ms, c.broker_hot.replica_lag_time_max_ms, c.controller.isr_eligible
        )
        if new_hw > r.hw:
            old = r.hw
            r.hw = new_hw
            c.on_high_watermark(r, old)
            self._complete_delayed_produce(r, min_insync)
            self._wake_fetches(r)

    def _complete_delayed_produce(self, r: Replica, min_insync: int) -> None:
        if not r.delayed_produce:
            return
        # (plain loops, not comprehensions, on the per-batch paths here: 3.11 makes a function object per
        # comprehension run, ~2,000 instructions before the first item)
        ready = []
        waiting = []
        hw = r.hw
        for entry in r.delayed_produce:
            if entry[0] <= hw:
                ready.append(entry)
            else:
                waiting.append(entry)
        if not ready:
            return
        r.delayed_produce = waiting
        min_isr = r.effective_min_isr(min_insync)
        for _o, req in ready:
            err = None
            if len(r.isr_for_hw()) < min_isr:  # Partition.checkEnoughReplicasReachOffset
                err = NotEnoughReplicasAfterAppendError(
                    f"{r.topic}-{r.partition}: written, but the ISR shrank to {sorted(r.isr)} below "
                    f"min.insync.replicas={min_isr} before it was replicated; the producer will retry"
                )
            self._complete_produce(req, r.tp, err, -1)

    def _isr_expiration_check(self, epoch: int) -> None:
        """Kafka's isr-expiration task: every replica.lag.time.max.ms / 2, drop followers that fell behind."""
        if epoch != self.epoch or not self.alive:
            return
        c = self.cluster
        lag_max = c.broker_config.replica_lag_time_max_ms
        now = c.now
        for r in self.replicas.values():
            if not r.is_leader or r.pending_isr is not None:
                continue
            leo = (
                r.leo
            )  # Partition.getOutOfSyncReplicas: not ReplicaState.isCaughtUp (at the LEO, or recently)
            out = [
                b
                for b in r.isr
                if b != self.id
                and (f := r.followers.get(b)) is not None
                and not f.is_caught_up(leo, now, lag_max)
            ]
            if out:
                new_isr = [b for b in r.isr if b not in out]
                self._alter_partition(
                    r, new_isr, f"not caught up for more than replica.lag.time.max.ms={lag_max}"
                )
        c.scheduler.after(max(1, lag_max // 2), self._isr_expiration_check, epoch)

    def _alter_partition(self, r: Replica, new_isr: list[int], reason: str) -> None:
        """AlterPartition (KIP-497): ISR changes go through the controller; an isolated leader cannot make them."""
        r.pending_isr = new_isr
        self.meta_version += 1
        c = self.cluster
        c.network.send(
            self.name,
            "controller",
            "AlterPartition",
            c.controller.on_alter_partition,
            self.id,
            r.tp,
            r.leader_epoch,
            r.partition_epoch,
            list(new_isr),
            reason,
            topic=r.topic,
            partition=r.partition,
        )

    def on_alter_partition_response(
        self, tp: TP, ok: bool, isr: list[int], partition_epoch: int, epoch: int
    ) -> None:
        r = self.replicas.get(tp)
        if r is None or not r.is_leader or r.leader_epoch != epoch:
            return
        r.pending_isr = None
        self.meta_version += 1
        if ok:
            r.isr, r.partition_epoch = list(isr), partition_epoch
            self._maybe_advance_hw(r)
            self._complete_delayed_produce(r, self.cluster.topic_config(r.topic).min_insync_replicas)

    # -- replica fetch: leader side ------------------------------------------------------------------------
    def on_replica_fetch(
        self,
        follower_id: int,
        parts: dict[TP, tuple[int, int]],
        fetcher_epoch: int,
        rid: int,
        full: bool = True,
    ) -> None:
        """A follower's fetch: `full` opens a new fetch session, otherwise `parts` holds only the partitions
        whose fetch offset changed and the rest come from the session (KIP-227, engine.fetch_session)."""
        c = self.cluster
        now = c.scheduler.now_ms
        sess = self.fetch_sessions.get(follower_id)
        bcfg = c.broker_hot  # plain values of c.broker_config: read on every fetch
        if not bcfg.max_incremental_fetch_session_cache_slots:
            sess = None  # sessions off: a full fetch each time, and the answer tells the follower so
        elif full:
            if sess is not None:
                sess.wake_all()
            sess = self.fetch_sessions[follower_id] = FetchSession(fetcher_epoch, now, self.quiet_counts)
            sess.offsets = dict(parts)
            work = parts
        elif sess is None or sess.follower_epoch != fetcher_epoch:
            # FETCH_SESSION_ID_NOT_FOUND (this broker restarted since): the follower starts a full session
            follower = c.brokers[follower_id]
            c.network.send(
                self.name,
                follower.name,
                "ReplicaFetchResponse",
                follower.on_replica_fetch_response,
                self.id,
                fetcher_epoch,
                rid,
                {},
                {},
                "not_found",
            )
            return
        else:
            work = sess.incremental(parts, self.meta_version)
        if sess is None:
            work = parts
        else:
            sess.last_fetch_ms = now
        offsets_out: dict[TP, int] = {}
        errors: dict[TP, KafkaError] = {}
        replicas = self.replicas
        behind = False  # does any partition have records past the follower's fetch offset?
        for tp, (fetch_offset, epoch) in work.items():
            r = replicas.get(tp)
            if r is None or not r.is_leader:
                errors[tp] = NotLeaderOrFollowerError(f"{self.name} does not lead {tp[0]}-{tp[1]}")
                continue
            if epoch != r.leader_epoch:
                errors[tp] = FencedLeaderEpochError(f"epoch {epoch} is not the current {r.leader_epoch}")
                continue
            f = r.followers.get(follower_id)
            if f is None:
                errors[tp] = NotLeaderOrFollowerError(
                    f"broker {follower_id} is not a replica of {tp[0]}-{tp[1]}"
                )
                continue
            moved = fetch_offset != f.leo
            leo = r.log.log_end_offset
            f.on_fetch(fetch_offset, leo, now)
            offsets_out[tp] = fetch_offset
            if fetch_offset < leo:
                behind = True
            if follower_id not in r.isr:
                self._maybe_expand_isr(r, follower_id, fetch_offset)
            if moved or fetch_offset > r.hw:
                # a follower that stands still at or below the HW cannot move it (its LEO caps the minimum)
                self._maybe_advance_hw(r)
            # caught up, in the ISR, nothing to move: a repeat of this fetch would change nothing but the time, so
            # the partition goes quiet in the session (engine.fetch_session)
            if (
                sess is not None
                and fetch_offset == leo == r.hw
                and r.pending_isr is None
                and follower_id in r.isr
            ):
                sess.make_quiet(tp, r, f, leo)
        fetch = DelayedFetch(
            True,
            str(follower_id),
            offsets_out,
            bcfg.replica_fetch_min_bytes,
            REPLICA_MAX_BYTES,
            (follower_id, fetcher_epoch, rid, errors),
        )
        fetch.session = sess
        # a caught-up follower has 0 bytes to read: no need to scan every partition's log to find that out
        if errors or (self._fetch_bytes(fetch) if behind else 0) >= fetch.min_bytes:
            self._answer_fetch(fetch, force=True)
        else:
            self._park(fetch, bcfg.replica_fetch_wait_max_ms)
            if sess is not None:
                parked = []
                for p in self.parked_replica_fetches:
                    if not p.done:
                        parked.append(p)
                parked.append(fetch)
                self.parked_replica_fetches = parked

    def _maybe_expand_isr(self, r: Replica, follower_id: int, fetch_offset: int) -> None:
        """A follower outside the ISR rejoins once it has caught up to the high watermark (and this epoch)."""
        if follower_id in r.isr or r.pending_isr is not None:
            return
        epoch_start = next((s for e, s in r.log.epochs if e == r.leader_epoch), r.leo)
        if (
            fetch_offset >= r.hw
            and fetch_offset >= epoch_start
            and self.cluster.controller.isr_eligible(follower_id)
        ):
            self._alter_partition(
                r,
                sorted(set(r.isr) | {follower_id}, key=r.replicas.index),
                f"broker {follower_id} caught up to the high watermark {r.hw}",
            )

    # -- consumer fetch: leader side ---------------------------------------------------------------------------
    def on_fetch(
        self,
        consumer,
        parts: dict[TP, int],
        min_bytes: int,
        max_wait_ms: int,
        max_bytes: int,
        req_id: int,
        read_committed: bool = False,
        client_rack: str = "",
        from_follower: set[TP] | None = None,
    ) -> None:
        """A consumer's Fetch. KIP-392: with replica.selector.class=RackAwareReplicaSelector the leader may answer a
        partition with a preferred read replica instead of records; a fetch sent to that follower (`from_follower`)
        is served from its log up to its high watermark. (Kafka serves any consumer fetch carrying the current
        leader epoch from a follower; our consumers carry no leader epoch, so only those sent there are.)"""
        errors: dict[TP, KafkaError] = {}
        ok: dict[TP, int] = {}
        preferred: dict[TP, int] = {}
        selector = (
            bool(client_rack) and self.cluster.broker_config.replica_selector_class == RACK_AWARE_SELECTOR
        )
        for tp, offset in parts.items():
            r = self.replicas.get(tp)
            if r is None or not (r.is_leader or (from_follower is not None and tp in from_follower)):
                errors[tp] = NotLeaderOrFollowerError(f"{self.name} is not the leader of {tp[0]}-{tp[1]}")
            elif offset < r.log.log_start_offset or offset > r.leo:
                errors[tp] = OffsetOutOfRangeError(
                    f"offset {offset} is outside {tp[0]}-{tp[1]}'s log [{r.log.log_start_offset}, {r.leo}]"
                )
            elif selector and r.is_leader and (node := self._preferred_read_replica(r, offset, client_rack)):
                preferred[tp] = node  # ReplicaManager.readFromLog: a preferred read replica skips the read
            else:
                ok[tp] = offset
        fetch = DelayedFetch(
            False, consumer.id, ok, min_bytes, max_bytes, (consumer, req_id, errors, preferred)
        )
        fetch.isolation_committed = read_committed
        fetch.follower_read = from_follower is not None
        if errors or preferred or not ok or self._fetch_bytes(fetch) >= max(1, min_bytes) or max_wait_ms == 0:
            self._answer_fetch(fetch, force=True)
        else:
            self._park(fetch, max_wait_ms)

    def _preferred_read_replica(self, r: Replica, offset: int, client_rack: str) -> int | None:
        """ReplicaManager.findPreferredReadReplica: offer the selector the leader and the live in-sync followers
        that have `offset`; None when it picks the leader. (Kafka also requires the follower's log start offset
        <= `offset`; followers here follow the leader's log start.)"""
        c = self.cluster
        now = c.now
        views = []
        for fid in r.isr:
            f = r.followers.get(fid)
            if fid != self.id and f is not None and f.leo >= offset and c.controller.is_live(fid):
                views.append(ReplicaView(fid, c.brokers[fid].rack, f.leo, now - f.last_caught_up_ms))
        leader = ReplicaView(self.id, c.brokers[self.id].rack, r.leo, 0)
        chosen = rack_aware_select(client_rack, views, leader)
        return None if chosen == leader else chosen.id

    def _wake_follower_reads(self, r: Replica) -> None:
        """A follower's high watermark moved: consumer fetches parked on it may have records now (KIP-392)."""
        still = []
        for f in r.parked_fetches:
            if f.done:
                continue
            if self._fetch_bytes(f) >= max(1, f.min_bytes):
                self._answer_fetch(f, force=True)
            else:
                still.append(f)
        r.parked_fetches = still

    # -- shared fetch plumbing --------------------------------------------------------------------------------
    def _fetch_bytes(self, f: DelayedFetch) -> int:
        total = 0
        replicas = self.replicas
        replica_fetch = f.replica_fetch
        for tp, offset in f.parts.items():
            r = replicas.get(tp)
            if r is None or not (r.is_leader or f.follower_read):
                return 1 << 30  # something changed: answer now
            upto = (
                r.log.log_end_offset
                if replica_fetch
                else (last_stable_offset(r) if f.isolation_committed else r.hw)
            )
            if upto > offset:
                for b in r.log.read(offset, upto, f.max_bytes):
                    total += b.wire_bytes
                    if total >= f.min_bytes:
                        return total
        return total

    def _park(self, f: DelayedFetch, wait_ms: int) -> None:
        self._park_seq += 1
        f.parked_seq = self._park_seq
        for tp in f.parts:
            parked = self.replicas[tp].parked_fetches
            if len(parked) >= 8:
                # a fetch answered through another partition stays listed here until this one gets data,
                # which on an idle partition is never: sweep those out (order of the live ones is kept)
                parked[:] = [p for p in parked if not p.done]
            parked.append(f)
        if f.replica_fetch:  # replica.fetch.wait.max.ms: the same wait for every follower fetch
            self.park_watchdog.start(f, wait_ms, f, self.epoch)
        else:
            f.timer = self.cluster.scheduler.after(wait_ms, self._fetch_expired, f, self.epoch, timer=True)

    def _fetch_expired(self, f: DelayedFetch, epoch: int) -> None:
        if epoch == self.epoch and not f.done:
            self._answer_fetch(f, force=True)

    def _wake_fetches(self, r: Replica) -> None:
        """`r` has new records to give or a new high watermark: parked fetches (followers' and consumers')
        that can now be answered are."""
        self._complete_parked((r,), replica_only=False)

    def _complete_follower_fetches(self, appended: Sequence[Replica]) -> None:
        """After a produce request's appends (or a batch the broker wrote itself): the parked follower fetches
        that now have data, answered once every partition is in (ReplicaManager.addCompletePurgatoryAction)."""
        self._complete_parked(appended, replica_only=True)

    def _complete_parked(self, replicas: Sequence[Replica], replica_only: bool) -> None:
        """Answer the parked fetches on `replicas` that can be answered (consumer fetches stay parked when
        `replica_only`), in the order they were parked, whichever partition they were parked on (so fetch
        sessions change nothing a student can see)."""
        if self.parked_replica_fetches:
            counts = self.quiet_counts
            for r in replicas:
                if counts.get(
                    r.tp
                ):  # quiet in no session (the count is never below the truth): nothing to wake
                    self._wake_sessions(r)
        ready: dict[DelayedFetch, None] = {}  # keyed by the fetch itself (identity: no __eq__)
        for r in replicas:
            if not r.parked_fetches:
                continue
            still = []
            tp = r.tp
            leo = r.log.log_end_offset
            for f in r.parked_fetches:
                if f.done:
                    continue
                if f.replica_fetch and f.min_bytes <= 1 and f.parts.get(tp, leo) < leo:
                    ready[f] = None  # this partition alone has a batch (>= 61 bytes) to send
                elif (replica_only and not f.replica_fetch) or self._fetch_bytes(f) < f.min_bytes:
                    still.append(f)
                else:
                    ready[f] = None
            r.parked_fetches = still
        # one replica's parked fetches are already in parked order
        answer = sorted(ready, key=_parked_order) if len(replicas) > 1 else ready
        for f in answer:
            self._answer_fetch(f, force=True)

    def _wake_sessions(self, r: Replica) -> None:
        """New records on a partition that is quiet in parked follower fetches' sessions: those fetches now
        watch it too, in the order they were parked (as if they had been parked on it all along)."""
        tp = r.tp
        leo = r.log.log_end_offset
        woken = False
        answered = False
        for f in self.parked_replica_fetches:
            if f.done:
                answered = True
                continue
            sess: FetchSession = f.session  # type: ignore[assignment]  # a parked follower fetch has its session
            q = sess.quiet.get(tp)
            if q is None or q[2] == leo:
                continue
            sess.wake(tp)
            parts = f.parts
            if not parts or tp > next(reversed(parts)):
                parts[tp] = sess.offsets[tp][0]  # after the last: the order stays a full fetch's order
            else:
                f.parts = dict(sorted({**parts, tp: sess.offsets[tp][0]}.items()))  # a full fetch's order
            r.parked_fetches.append(f)
            woken = True
        if woken:
            r.parked_fetches.sort(key=_parked_order)
        if answered:  # (wake() answers nothing: only the fetches seen done above need to go)
            self.parked_replica_fetches = [f for f in self.parked_replica_fetches if not f.done]

    def _answer_fetch(self, f: DelayedFetch, force: bool) -> None:
        if f.done:
            return
        f.done = True
        if f.timer is not None:
            f.timer.cancel()
        elif f.replica_fetch:
            self.park_watchdog.stop(f)
        c = self.cluster
        data: dict[TP, tuple[list, int, int]] = {}
        aborted: dict[TP, list[tuple[int, int, int]]] = {}
        budget = f.max_bytes
        replicas = self.replicas
        replica_fetch = f.replica_fetch
        for tp, offset in f.parts.items():
            r = replicas.get(tp)
            if r is None or not (r.is_leader or f.follower_read):
                continue
            log = r.log
            upto = (
                log.log_end_offset
                if replica_fetch
                else (last_stable_offset(r) if f.isolation_committed else r.hw)
            )
            if upto > offset:
                batches = log.read(
                    offset,
                    upto,
                    budget if not replica_fetch or budget <= REPLICA_MAX_BYTES else REPLICA_MAX_BYTES,
                )
                for b in batches:
                    budget -= b.wire_bytes
            else:
                batches = []  # nothing new (most partitions of most fetches): skip the log
            data[tp] = (batches, r.hw, log.log_start_offset)
            if f.isolation_committed and r.aborted_txns and batches:
                aborted[tp] = aborted_in(r, offset, batches[-1].next_offset)
        if f.replica_fetch:
            follower_id, fetcher_epoch, rid, errors = f.reply
            follower = c.brokers[follower_id]
            c.network.send(
                self.name,
                follower.name,
                "ReplicaFetchResponse",
                follower.on_replica_fetch_response,
                self.id,
                fetcher_epoch,
                rid,
                data,
                errors,
                "open" if f.session is not None else "none",
            )
        else:
            consumer, req_id, errors, preferred = f.reply
            # KIP-392: the partitions to read from a follower instead; KIP-98: the aborted transactions in range
            extra = (aborted or None, preferred) if preferred else (aborted,) if f.isolation_committed else ()
            c.network.send(
                self.name,
                consumer.id,
                "FetchResponse",
                consumer.on_fetch_response,
                self.id,
                req_id,
                data,
                errors,
                *extra,
            )

    # -- follower side ------------------------------------------------------------------------------------
    def _start_following(self, r: Replica, leader: int) -> None:
        """KIP-279: ask the leader where our latest epoch ends, truncate a divergent suffix, then fetch."""
        c = self.cluster
        tp = r.tp
        self.leader_epoch_waits[tp] = r.leader_epoch
        if r.log.latest_epoch < 0:
            self._add_to_fetcher(tp, leader)
            return
        c.network.send(
            self.name,
            f"broker-{leader}",
            "OffsetsForLeaderEpoch",
            c.brokers[leader].on_offsets_for_leader_epoch,
            self.id,
            tp,
            r.log.latest_epoch,
            r.leader_epoch,
            self.epoch,
            topic=tp[0],
            partition=tp[1],
        )
        # no answer (the leader died or is cut off): ask again after replica.socket.timeout.ms, as the fetcher
        # thread does, or this replica would never fetch again under the same leader epoch
        c.scheduler.after(
            REPLICA_SOCKET_TIMEOUT_MS, self._epoch_request_timeout, tp, r.leader_epoch, self.epoch
        )

    def _epoch_request_timeout(self, tp: TP, epoch: int, my_epoch: int) -> None:
        r = self.replicas.get(tp)
        if (
            my_epoch == self.epoch
            and r is not None
            and self.leader_epoch_waits.get(tp) == epoch
            and not any(tp in tps for tps in self.fetch_from.values())
        ):
            self._retry_follow(tp, epoch, my_epoch)

    def on_offsets_for_leader_epoch(
        self, follower_id: int, tp: TP, asked_epoch: int, current_epoch: int, follower_epoch: int
    ) -> None:
        r = self.replicas.get(tp)
        c = self.cluster
        follower = c.brokers[follower_id]
        if r is None or not r.is_leader or r.leader_epoch != current_epoch:
            answer = None
        else:
            answer = r.log.end_offset_for_epoch(asked_epoch)
        c.network.send(
            self.name,
            follower.name,
            "OffsetsForLeaderEpochResponse",
            follower.on_offsets_for_leader_epoch_response,
            self.id,
            tp,
            current_epoch,
            answer,
            follower_epoch,
            topic=tp[0],
            partition=tp[1],
        )

    def on_offsets_for_leader_epoch_response(
        self, leader_id: int, tp: TP, epoch: int, answer: tuple[int, int] | None, my_epoch: int
    ) -> None:
        r = self.replicas.get(tp)
        if (
            my_epoch != self.epoch
            or r is None
            or r.is_leader
            or r.leader_id != leader_id
            or r.leader_epoch != epoch
        ):
            return
        if answer is None:  # the leader changed again: the next LeaderAndIsr restarts this
            self.cluster.scheduler.after(REPLICA_FETCH_BACKOFF_MS, self._retry_follow, tp, epoch, self.epoch)
            return
        _, end = answer
        if end < r.leo:
            removed = r.log.truncate_to(end)
            r.hw = min(r.hw, r.leo)
            r.producers = _rebuild_producer_state(r)  # the truncated batches' sequences are gone too
            if r.ongoing_txns or r.aborted_txns:
                rebuild_index(r)
            self.cluster.on_truncated(r, removed, leader_id)
        self._add_to_fetcher(tp, leader_id)

    def _retry_follow(self, tp: TP, epoch: int, my_epoch: int) -> None:
        r = self.replicas.get(tp)
        if (
            my_epoch == self.epoch
            and r is not None
            and not r.is_leader
            and r.leader_epoch == epoch
            and r.leader_id is not None
        ):
            self._start_following(r, r.leader_id)

    def _add_to_fetcher(self, tp: TP, leader: int) -> None:
        self.fetch_from.setdefault(leader, set()).add(tp)
        self._fetch_order.pop(leader, None)
        if leader not in self.fetch_in_flight:
            self._send_replica_fetch(leader)

    def _stop_following(self, tp: TP) -> None:
        self.leader_epoch_waits.pop(tp, None)
        self._fetch_order.clear()
        for leader, tps in list(self.fetch_from.items()):
            tps.discard(tp)
            if not tps:
                del self.fetch_from[leader]
                self.fetch_in_flight.pop(leader, None)  # that fetcher thread stops; a late answer is ignored

    def _send_replica_fetch(self, leader: int, epoch: int | None = None) -> None:
        if (epoch is not None and epoch != self.epoch) or not self.alive or leader in self.fetch_in_flight:
            return
        tps = self.fetch_from.get(leader)
        if not tps:
            return
        c = self.cluster
        replicas = self.replicas
        order = self._fetch_order.get(leader)
        if order is None:
            order = self._fetch_order[leader] = sorted(tps)  # fixed until the set changes: sort once
            self.session_dirty.pop(leader, None)  # and the set changed: open a new fetch session
        full = leader not in self.session_dirty
        if full:  # KIP-227: a full request opens the session ...
            parts = {tp: (replicas[tp].log.log_end_offset, replicas[tp].leader_epoch) for tp in order}
            self.session_dirty[leader] = set()
        else:  # ... then only the partitions whose fetch offset moved
            dirty = self.session_dirty[leader]
            parts = {}
            for tp in sorted(dirty):
                r = replicas[tp]
                parts[tp] = (r.log.log_end_offset, r.leader_epoch)
            dirty.clear()
        rid = self._fetch_seq = self._fetch_seq + 1
        self.fetch_in_flight[leader] = rid
        to = c.brokers[leader]
        c.network.send(
            self.name, to.name, "ReplicaFetch", to.on_replica_fetch, self.id, parts, self.epoch, rid, full
        )
        self.fetch_watchdog.start(leader, REPLICA_SOCKET_TIMEOUT_MS, leader, self.epoch, rid)

    def _replica_fetch_timeout(self, leader: int, epoch: int, rid: int) -> None:
        """replica.socket.timeout.ms: a fetch to a dead or unreachable leader is given up and retried."""
        if epoch != self.epoch or self.fetch_in_flight.get(leader) != rid:
            return
        del self.fetch_in_flight[leader]
        self.session_dirty.pop(leader, None)  # the connection is given up, and its fetch session with it
        self.cluster.scheduler.after(REPLICA_FETCH_BACKOFF_MS, self._send_replica_fetch, leader, epoch)

    def on_replica_fetch_response(
        self, leader_id: int, fetcher_epoch: int, rid: int, data: dict, errors: dict, session: str = "none"
    ) -> None:
        if fetcher_epoch != self.epoch or not self.alive or self.fetch_in_flight.get(leader_id) != rid:
            return
        del self.fetch_in_flight[leader_id]
        self.fetch_watchdog.stop(leader_id)  # answered: the timeout would find nothing to do
        if session != "open":  # the leader keeps no session for us: the next request is a full one again
            self.session_dirty.pop(leader_id, None)
        if session == "not_found":  # FETCH_SESSION_ID_NOT_FOUND: the leader restarted since
            self._send_replica_fetch(leader_id)
            return
        dirty = self.session_dirty.get(leader_id)
        c = self.cluster
        now = c.scheduler.now_ms
        replicas = self.replicas
        following = self.fetch_from.get(leader_id, ())
        for tp, (batches, leader_hw, leader_lso) in data.items():
            r = replicas.get(tp)
            if r is None or r.is_leader or r.leader_id != leader_id or tp not in following:
                continue
            appended = 0
            log = r.log
            if batches:
                tcfg = c.topic_hot(tp[0])
                for b in batches:
                    end = log.log_end_offset  # (r.leo, without the property call)
                    base = b.base_offset
                    if base != end:  # (at the log end: the common case, nothing to check)
                        if base > end or end <= b.last_offset:
                            break  # not contiguous (a concurrent truncation): the next fetch sorts it out
                        continue  # already here (it ends below the log end: next_offset is last_offset + 1)
                    log.append(b, now, tcfg.segment_bytes, tcfg.segment_ms)
                    # a follower keeps idempotent-producer state too (UnifiedLog.appendAsFollower updates the
                    # ProducerStateManager): as a new leader it still recognises retried batches
                    if b.producer_id >= 0 and b.control is None:
                        ProducerStateEntry.add_batch(r.producers, b)
                    if b.is_transactional:
                        track_append(r, b)
                    appended += b.count
            if leader_lso > log.log_start_offset:
                c.retention.follow_log_start(r, leader_lso)
            leo = log.log_end_offset
            new_hw = leader_hw if leader_hw < leo else leo
            if new_hw > r.hw:
                r.hw = new_hw
                if r.parked_fetches:
                    self._wake_follower_reads(r)
            if appended:
                if dirty is not None:
                    dirty.add(tp)
                c.on_replicated(r, leader_id, appended, batches)
        if errors:
            # AbstractFetcherThread backs off and retries failed partitions (delayPartitions) rather than give
            # up: the leader may just not have processed its own LeaderAndIsr yet. New metadata moves them anyway.
            self.cluster.scheduler.after(
                REPLICA_FETCH_BACKOFF_MS, self._send_replica_fetch, leader_id, self.epoch
            )
        elif leader_id in self.fetch_from:
            self._send_replica_fetch(leader_id)


def _rebuild_producer_state(r: Replica) -> dict[int, ProducerStateEntry]:
    """On restart Kafka rebuilds producer state from the log's batch headers (snapshot + log scan)."""
    out: dict[int, ProducerStateEntry] = {}
    for b in r.log.batches():
        if b.producer_id >= 0 and b.control is None:  # transaction markers carry no sequence numbers
            ProducerStateEntry.add_batch(out, b)
    return out
