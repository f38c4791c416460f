"""Transactions and exactly-once (KIP-98, KIP-447): the transaction coordinator, markers and the LSO.

A transactional producer (`transactional.id`) calls `init_transactions()`: the transaction coordinator (the
leader of `__transaction_state` partition abs(hash(transactional.id)) % 50) gives it a producer id and a
new epoch, fencing any older instance with the same id and aborting what it left open. Inside
`begin_transaction()` ... `commit_transaction()` the producer registers each partition it writes
(AddPartitionsToTxn) and the consumer offsets it wants committed with the output (AddOffsetsToTxn +
TxnOffsetCommit). On commit or abort the coordinator writes a marker (a control batch) into every partition
of the transaction. A partition's last stable offset (LSO) is the first offset of its oldest open
transaction: `read_committed` consumers read only below it and skip records of aborted transactions;
`read_uncommitted` consumers see everything (but never the markers).

Transaction version 2 (KIP-890, the default of new Kafka 4.x clusters; `transaction.version` 1 keeps the old
behaviour): EndTxn bumps the producer epoch (TransactionMetadata.prepareAbortOrCommit), the markers carry the
bumped epoch, and the EndTxn response hands the new epoch to the producer, which starts its sequences again.
A write still in flight from the old epoch is then fenced at the partition. Kafka 4.x TV2 clients also stop
sending AddPartitionsToTxn (the partition leader adds the partition); here the producer still sends it.

Simplified, and said so: the coordinator's state stands for the `__transaction_state` log (it survives a
coordinator move); marker writes complete on the leader's append.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from .errors import (
    ConcurrentTransactionsError,
    CoordinatorNotAvailableError,
    IllegalStateError,
    InvalidTxnStateError,
    KafkaError,
    KafkaTimeoutError,
    ProducerFencedError,
)
from .partitioner import coordinator_partition
from .records import BATCH_OVERHEAD, RecordBatch

if TYPE_CHECKING:
    from .contracts import World
    from .producer import Producer
    from .replica import Replica
    from .scheduler import Timer

TP = tuple[str, int]
TXN_TOPIC = "__transaction_state"
TXN_PARTITIONS = 50  # transaction.state.log.num.partitions
TXN_TIMEOUT_MS = 60000  # transaction.timeout.ms


# -- the partition side: which transactions are open or aborted in a replica's log ----------------------------
def track_append(r: Replica, b: RecordBatch) -> None:
    """Keep the replica's open/aborted transaction index current (Kafka's ProducerStateManager + txn index)."""
    if b.control is not None:
        first = r.ongoing_txns.pop(b.producer_id, None)
        if b.control == "ABORT" and first is not None:
            r.aborted_txns.append((b.producer_id, first, b.base_offset))
    elif b.is_transactional and b.producer_id not in r.ongoing_txns:
        r.ongoing_txns[b.producer_id] = b.base_offset


def rebuild_index(r: Replica) -> None:
    """After a truncation the index is rebuilt from the log itself."""
    r.ongoing_txns = {}
    r.aborted_txns = []
    for b in r.log.batches():
        track_append(r, b)


def last_stable_offset(r: Replica) -> int:
    """LSO: below the HW and below the first offset of every still-open transaction."""
    if not r.ongoing_txns:
        return r.hw
    return min(r.hw, min(r.ongoing_txns.values()))


def aborted_in(r: Replica, start: int, end: int) -> list[tuple[int, int, int]]:
    """Aborted transactions (producer id, first offset, marker offset) overlapping [start, end)."""
    return [a for a in r.aborted_txns if a[2] >= start and a[1] < end]


def marker_batch(pid: int, epoch: int, commit: bool, now: int) -> RecordBatch:
    kind = "COMMIT" if commit else "ABORT"
    size = BATCH_OVERHEAD + 8
    return RecordBatch(
        -1,
        -1,
        (kind.encode(),),
        (None,),
        (now,),
        None,
        pid,
        epoch,
        -1,
        size,
        "none",
        size,
        is_transactional=True,
        control=kind,
    )


# -- the coordinator ------------------------------------------------------------------------------------------
class TxnMetadata:
    __slots__ = (
        "txn_id",
        "pid",
        "epoch",
        "state",
        "partitions",
        "offsets",
        "started_ms",
        "timeout_ms",
        "pending_markers",
        "waiter",
        "timer",
        "bumped_by_end",
    )

    def __init__(self, txn_id: str, pid: int, timeout_ms: int) -> None:
        self.txn_id = txn_id
        self.pid = pid
        self.epoch = -1
        self.state = (
            "Empty"  # Empty | Ongoing | PrepareCommit | PrepareAbort | CompleteCommit | CompleteAbort
        )
        self.partitions: set[TP] = set()
        self.offsets: dict[str, dict[TP, int]] = {}  # group -> offsets committed with the transaction
        self.started_ms = 0
        self.timeout_ms = timeout_ms
        self.pending_markers: set[TP] = set()
        # (broker id, producer, request id, result) to answer when the markers are written
        self.waiter: tuple[int, Producer, int, tuple[int, int]] | None = None
        self.timer: Timer | None = None
        # the current epoch came from an EndTxn under transaction.version=2: a request with the epoch before it is
        # that EndTxn's retry (TransactionCoordinator.endTxnEpochBumped), not a zombie
        self.bumped_by_end = False


class TransactionCoordinator:
    """All transactional ids of the cluster (the state stands for the replicated __transaction_state log)."""

    def __init__(self, cluster: World) -> None:
        self.cluster = cluster
        self.txns: dict[str, TxnMetadata] = {}

    def broker_for(self, txn_id: str) -> int | None:
        c = self.cluster
        if TXN_TOPIC not in c.topics:
            if len(c.controller.live) < min(3, len(c.brokers)):
                return None
            c.create_topic(
                TXN_TOPIC,
                TXN_PARTITIONS,
                min(3, len(c.brokers)),
                {"min.insync.replicas": min(2, len(c.brokers)), "cleanup.policy": "compact"},
            )
        ps = c.controller.partitions.get((TXN_TOPIC, coordinator_partition(txn_id, TXN_PARTITIONS)))
        return ps.leader if ps is not None else None

    def on_find_coordinator(self, broker_id: int, client, txn_id: str) -> None:
        """FindCoordinator with key type TRANSACTION (a real client's; simulated producers call broker_for): the
        leader of the transactional.id's __transaction_state partition, or None while there is none."""
        c = self.cluster
        co = self.broker_for(txn_id)
        c.network.send(
            f"broker-{broker_id}",
            client.id,
            "FindCoordinatorResponse",
            client.on_find_coordinator_response,
            co if co is not None and co in c.controller.live else None,
        )

    def _emit(self, kind: str, summary: str, tm: TxnMetadata, **data) -> None:
        self.cluster.emit(
            kind, summary, actors=("txn-coordinator", tm.txn_id), transactional_id=tm.txn_id, **data
        )

    def _answer(
        self,
        broker_id: int,
        producer: Producer,
        req: int,
        err: KafkaError | None,
        result: tuple[int, int] | None = None,
    ) -> None:
        c = self.cluster
        txn = producer.txn
        assert txn is not None  # only transactional producers talk to the transaction coordinator
        c.network.send(f"broker-{broker_id}", producer.id, "TxnResponse", txn.on_response, req, err, result)

    def _check(self, broker_id: int, tm: TxnMetadata | None, pid: int, epoch: int) -> KafkaError | None:
        if self.broker_for(tm.txn_id if tm else "") != broker_id and tm is not None:
            return CoordinatorNotAvailableError("the transaction coordinator moved; find it again")
        if tm is None or tm.pid != pid:
            return InvalidTxnStateError("unknown transactional producer: call init_transactions() first")
        if epoch != tm.epoch:  # a client's epoch must match exactly (TransactionCoordinator: PRODUCER_FENCED)
            return self._fenced(tm, epoch)
        return None

    @staticmethod
    def _fenced(tm: TxnMetadata, epoch: int) -> ProducerFencedError:
        return ProducerFencedError(
            f"transactional.id {tm.txn_id!r} has epoch {tm.epoch} and this producer sent epoch {epoch}: it was taken "
            f"over by a newer producer instance and is a fenced zombie that must close"
        )

    @property
    def tv2(self) -> bool:
        return self.cluster.broker_config.transaction_version >= 2

    # InitProducerId (KIP-98): new epoch, fence and abort whatever an older instance left open
    def on_init(self, broker_id: int, producer: Producer, req: int, txn_id: str, timeout_ms: int) -> None:
        c = self.cluster
        if self.broker_for(txn_id) != broker_id:
            self._answer(broker_id, producer, req, CoordinatorNotAvailableError("not the coordinator"))
            return
        tm = self.txns.get(txn_id)
        if tm is None:
            tm = self.txns[txn_id] = TxnMetadata(txn_id, c.next_producer_id(), timeout_ms)
        if tm.state in ("PrepareCommit", "PrepareAbort"):
            self._answer(
                broker_id,
                producer,
                req,
                CoordinatorNotAvailableError("a previous transaction is still being completed; retry"),
            )
            return
        fenced_open = tm.state == "Ongoing"
        tm.epoch += 1
        tm.bumped_by_end = False
        tm.timeout_ms = timeout_ms
        self._emit(
            "txn_init",
            f"{producer.id} registered transactional.id {txn_id!r}: producer id {tm.pid}, epoch "
            f"{tm.epoch}" + (" — older instances with this id are now fenced" if tm.epoch > 0 else ""),
            tm,
            pid=tm.pid,
            epoch=tm.epoch,
        )
        if fenced_open:
            self._end(tm, commit=False, reason="a new instance called init_transactions")
            tm.waiter = (broker_id, producer, req, (tm.pid, tm.epoch))
        else:
            tm.state = "Empty"
            self._answer(broker_id, producer, req, None, (tm.pid, tm.epoch))

    def on_add_partitions(
        self, broker_id: int, producer: Producer, req: int, txn_id: str, pid: int, epoch: int, tps: list[TP]
    ) -> None:
        tm = self.txns.get(txn_id)
        err = self._check(broker_id, tm, pid, epoch)  # an error whenever tm is None
        if (
            tm is not None
            and err is None
            and tm.state not in ("Empty", "Ongoing", "CompleteCommit", "CompleteAbort")
        ):
            err = CoordinatorNotAvailableError("concurrent transaction completion; retry")
        if tm is not None and err is None:
            self._begin(tm)
            new = [tp for tp in tps if tp not in tm.partitions]
            tm.partitions.update(tps)
            if new:
                self._emit(
                    "txn_partitions",
                    f"Transaction {txn_id!r} now spans {_fmt(sorted(tm.partitions))}",
                    tm,
                    partitions=[list(tp) for tp in sorted(tm.partitions)],
                )
        self._answer(broker_id, producer, req, err)

    def on_add_offsets(
        self,
        broker_id: int,
        producer: Producer,
        req: int,
        txn_id: str,
        pid: int,
        epoch: int,
        group_id: str,
        offsets: dict[TP, int],
    ) -> None:
        """AddOffsetsToTxn + TxnOffsetCommit (folded into one request here)."""
        tm = self.txns.get(txn_id)
        err = self._check(broker_id, tm, pid, epoch)  # an error whenever tm is None
        if (
            tm is not None
            and err is None
            and tm.state not in ("Empty", "Ongoing", "CompleteCommit", "CompleteAbort")
        ):
            err = CoordinatorNotAvailableError("concurrent transaction completion; retry")
        if tm is not None and err is None:
            self._begin(
                tm
            )  # AddOffsetsToTxn adds the group's __consumer_offsets partition to the transaction
            tm.offsets.setdefault(group_id, {}).update(offsets)
            self._emit(
                "txn_offsets",
                f"Transaction {txn_id!r} will commit {group_id}'s offsets "
                f"{_fmt_offsets(offsets)} only if it commits"
                if offsets
                # a real client's AddOffsetsToTxn: its TxnOffsetCommit brings the offsets next
                else f"Transaction {txn_id!r} now includes group {group_id}'s offsets (AddOffsetsToTxn): "
                f"they count only if it commits",
                tm,
                group=group_id,
            )
        self._answer(broker_id, producer, req, err)

    def on_end(
        self,
        broker_id: int,
        producer: Producer,
        req: int,
        txn_id: str,
        pid: int,
        epoch: int,
        commit: bool,
        tv2: bool | None = None,
    ) -> None:
        """EndTxn (TransactionCoordinator.endTransaction); the answer carries (producer id, epoch). `tv2`: this
        transaction's version when the client chose it (a real client's EndTxn v5+ is transaction version 2,
        older versions are version 1, KIP-890); None follows the cluster's transaction.version."""
        tm = self.txns.get(txn_id)
        err = self._check(broker_id, tm, pid, tm.epoch if tm is not None else epoch)
        if err is not None or tm is None:  # _check answers an error whenever tm is None
            self._answer(broker_id, producer, req, err)
            return
        end_err = self._end_txn_error(tm, epoch, commit)
        if isinstance(end_err, str):  # "NONE": a retry of an EndTxn that already succeeded
            self._answer(broker_id, producer, req, None, (tm.pid, tm.epoch))
            return
        if end_err is not None:
            self._answer(broker_id, producer, req, end_err)
            return
        old = tm.epoch
        tm.bumped_by_end = self.tv2 if tv2 is None else tv2
        if tm.bumped_by_end:  # TransactionMetadata.prepareAbortOrCommit under transaction.version=2 (KIP-890)
            tm.epoch += 1
        tm.waiter = (broker_id, producer, req, (tm.pid, tm.epoch))
        self._end(tm, commit, reason="the producer asked", bumped_from=old if tm.epoch != old else None)

    def _end_txn_error(
        self, tm: TxnMetadata, epoch: int, commit: bool
    ) -> KafkaError | Literal["NONE"] | None:
        """The checks of TransactionCoordinator.endTransaction: None to end the transaction, "NONE" for a retry
        that already succeeded, else the error. Under TV2 a retry carries the epoch before the bump."""
        retry_on_bump = tm.bumped_by_end and tm.epoch == epoch + 1
        if tm.bumped_by_end:
            valid = epoch == tm.epoch if tm.state in ("Ongoing", "Empty") else retry_on_bump
        else:
            valid = epoch == tm.epoch
        if not valid:
            return self._fenced(tm, epoch)
        done, busy = ("CompleteCommit", "PrepareCommit") if commit else ("CompleteAbort", "PrepareAbort")
        if tm.state == "Ongoing":
            return None
        if tm.state == done:
            return "NONE"
        if tm.state == busy:
            return ConcurrentTransactionsError("the transaction is still being completed; retry")
        word = "commit" if commit else "abort"
        return InvalidTxnStateError(f"cannot {word} a transaction in state {tm.state}")

    def _begin(self, tm: TxnMetadata) -> None:
        """The first AddPartitionsToTxn / AddOffsetsToTxn of a transaction makes it Ongoing."""
        if tm.state != "Ongoing":
            tm.state = "Ongoing"
            tm.started_ms = self.cluster.now
            tm.partitions = set()
            tm.offsets = {}
            self._arm_timeout(tm)

    def _arm_timeout(self, tm: TxnMetadata) -> None:
        if tm.timer is not None:
            tm.timer.cancel()
        tm.timer = self.cluster.scheduler.after(
            tm.timeout_ms, self._timed_out, tm.txn_id, tm.epoch, tm.started_ms, timer=True
        )

    def _timed_out(self, txn_id: str, epoch: int, started: int) -> None:
        tm = self.txns.get(txn_id)
        if tm is None or tm.state != "Ongoing" or tm.epoch != epoch or tm.started_ms != started:
            return
        tm.epoch += 1  # Kafka bumps the epoch on a timeout abort: the slow producer is fenced
        tm.bumped_by_end = False
        self._end(tm, commit=False, reason=f"transaction.timeout.ms={tm.timeout_ms} passed")

    def _end(self, tm: TxnMetadata, commit: bool, reason: str, bumped_from: int | None = None) -> None:
        if tm.timer is not None:
            tm.timer.cancel()
        tm.state = "PrepareCommit" if commit else "PrepareAbort"
        tm.pending_markers = set(tm.partitions)
        word = "commit" if commit else "abort"
        bump = (
            ""
            if bumped_from is None
            else (
                f"; transaction.version=2 (KIP-890): the producer epoch is bumped {bumped_from} -> {tm.epoch} at the end "
                f"of the transaction, the markers carry epoch {tm.epoch} and a late write with epoch {bumped_from} is fenced"
            )
        )
        self._emit(
            "txn_ending",
            f"Transaction {tm.txn_id!r} is prepared to {word} ({reason}): markers go to "
            f"{_fmt(sorted(tm.partitions)) or 'no partitions'}{bump}",
            tm,
            commit=commit,
            epoch=tm.epoch,
            epoch_bumped=bumped_from is not None,
        )
        if not tm.pending_markers:
            self._complete(tm, commit)
            return
        for tp in sorted(tm.partitions):
            self._send_marker(tm.txn_id, tp, commit)

    def _send_marker(self, txn_id: str, tp: TP, commit: bool) -> None:
        c = self.cluster
        tm = self.txns[txn_id]
        if tp not in tm.pending_markers:
            return
        leader = c.controller.partitions[tp].leader if tp in c.controller.partitions else None
        if leader is None or not c.brokers[leader].alive:
            c.scheduler.after(500, self._send_marker, txn_id, tp, commit)  # retried until a leader appears
            return
        b = c.brokers[leader]
        c.network.send(
            "txn-coordinator",
            b.name,
            "WriteTxnMarkers",
            self.on_write_marker,
            leader,
            txn_id,
            tp,
            tm.pid,
            tm.epoch,
            commit,
            topic=tp[0],
            partition=tp[1],
        )
        c.scheduler.after(2000, self._send_marker, txn_id, tp, commit)  # resent if no confirmation came

    def on_write_marker(
        self, broker_id: int, txn_id: str, tp: TP, pid: int, epoch: int, commit: bool
    ) -> None:
        """WriteTxnMarkers at the partition leader: append the control batch, the LSO moves."""
        c = self.cluster
        tm = self.txns.get(txn_id)
        b = c.brokers[broker_id]
        r = b.replicas.get(tp)
        if tm is None or tp not in tm.pending_markers or r is None or not r.is_leader:
            return
        placed = marker_batch(pid, epoch, commit, c.now).at(r.leo, r.leader_epoch)
        entry = r.producers.get(pid)
        if (
            entry is not None and epoch > entry.epoch
        ):  # ProducerAppendInfo.appendEndTxnMarker: the epoch moves on
            entry.epoch = epoch
            entry.batches.clear()
        b.append_as_leader(r, placed, wake_consumers=True)  # the marker moves the LSO
        tm.pending_markers.discard(tp)
        if not tm.pending_markers:
            self._complete(tm, commit)

    def _complete(self, tm: TxnMetadata, commit: bool) -> None:
        c = self.cluster
        tm.state = "CompleteCommit" if commit else "CompleteAbort"
        if commit:
            for group, offs in tm.offsets.items():
                c.commit_offsets_directly(group, offs, via=f"transaction {tm.txn_id!r}")
        word = "committed" if commit else "aborted"
        self._emit(
            "txn_completed",
            f"Transaction {tm.txn_id!r} {word}: markers written to "
            f"{_fmt(sorted(tm.partitions)) or 'no partitions'}"
            + (
                "; read_committed consumers can now read its records"
                if commit
                else "; read_committed consumers will skip its records"
            ),
            tm,
            commit=commit,
            epoch=tm.epoch,
        )
        tm.partitions = set()
        tm.offsets = {}
        waiter, tm.waiter = tm.waiter, None
        if waiter is not None:
            broker_id, producer, req, result = waiter
            self._answer(broker_id, producer, req, None, result)


# -- the producer side ---------------------------------------------------------------------------------------
class TransactionManager:
    """The transactional producer's state machine (Kafka's TransactionManager)."""

    def __init__(self, producer: Producer) -> None:
        self.producer = producer
        txn_id = producer.config.transactional_id
        assert txn_id is not None  # only a producer with a transactional.id has a TransactionManager
        self.txn_id: str = txn_id
        self.state = "Uninitialized"  # Uninitialized | Ready | InTransaction | Committing | Aborting | Fenced
        self.partitions: set[TP] = set()
        self.pending_add: set[TP] = set()
        self._req = 0
        self.results: dict[int, tuple[KafkaError | None, tuple[int, int] | None]] = {}
        self.adding = False
        self.started = False  # a partition or the offsets were added: EndTxn is needed (transactionStarted)

    @property
    def cluster(self) -> World:
        return self.producer.cluster

    def _call(self, what: str, handler_name: str, *args: Any) -> tuple[int, int] | None:
        """Send a request to the transaction coordinator and run the simulation until it answers."""
        c = self.cluster
        p = self.producer
        deadline = c.now + p.config.max_block_ms
        while c.now <= deadline:
            broker = c.txn_coordinator.broker_for(self.txn_id)
            if broker is None or not c.brokers[broker].alive:
                c.run_until(lambda: False, p.config.retry_backoff_ms * 5, quiet=True)
                continue
            self._req += 1
            req = self._req
            c.network.send(
                p.id,
                f"broker-{broker}",
                what,
                getattr(c.txn_coordinator, handler_name),
                broker,
                p,
                req,
                *args,
            )

            def answered(req: int = req, b: int = broker) -> bool:
                return req in self.results or not p.alive or not c.brokers[b].alive

            c.run_until(answered, p.config.request_timeout_ms, quiet=True)
            if not p.alive:
                raise IllegalStateError(f"producer {p.id} crashed")
            err: KafkaError | None
            err, result = self.results.pop(req, (CoordinatorNotAvailableError("no answer"), None))
            if err is None:
                return result
            if isinstance(err, ProducerFencedError):
                self.state = "Fenced"
                raise err
            if not err.retriable:
                raise err
            c.run_until(lambda: False, p.config.retry_backoff_ms, quiet=True)
        raise KafkaTimeoutError(f"{what} for transactional.id {self.txn_id!r} timed out after max.block.ms")

    def on_response(self, req: int, err: KafkaError | None, result: tuple[int, int] | None) -> None:
        if not self.on_add_response(req, err):
            self.results[req] = (err, result)

    def init(self) -> None:
        result = self._call("InitProducerId", "on_init", self.txn_id, TXN_TIMEOUT_MS)
        assert result is not None  # InitProducerId answers (producer id, epoch)
        pid, epoch = result
        p = self.producer
        p.pid, p.producer_epoch = pid, epoch
        p.sequences = {}
        self.state = "Ready"

    def begin(self) -> None:
        self._require("Ready", "begin_transaction")
        self.state = "InTransaction"
        self.partitions = set()
        self.started = False

    def on_send(self, tp: TP) -> None:
        if self.state == "Fenced":
            raise ProducerFencedError(
                f"producer {self.producer.id} is fenced: a newer instance owns "
                f"transactional.id {self.txn_id!r}"
            )
        self._require("InTransaction", "send")
        self.started = True
        if tp not in self.partitions:
            self.partitions.add(tp)
            self.pending_add.add(tp)
            self._add_partitions_async()

    def _add_partitions_async(self) -> None:
        """AddPartitionsToTxn goes ahead of the data: batches for these partitions wait for the answer."""
        if self.adding or not self.pending_add:
            return
        c = self.cluster
        broker = c.txn_coordinator.broker_for(self.txn_id)
        if broker is None:
            c.scheduler.after(self.producer.config.retry_backoff_ms, self._retry_add)
            return
        self.adding = True
        self._req += 1
        tps = sorted(self.pending_add)
        p = self.producer
        c.network.send(
            p.id,
            f"broker-{broker}",
            "AddPartitionsToTxn",
            c.txn_coordinator.on_add_partitions,
            broker,
            p,
            self._req,
            self.txn_id,
            p.pid,
            p.producer_epoch,
            tps,
        )
        c.scheduler.after(p.config.request_timeout_ms, self._add_timeout, self._req)
        self._add_req = (self._req, tps, broker)

    def on_disconnect(self, broker_id: int) -> None:
        """The coordinator's broker went down: retry AddPartitionsToTxn (it will find the new coordinator)."""
        add = getattr(self, "_add_req", None)
        if self.adding and add is not None and add[2] == broker_id:
            self.adding = False
            self.cluster.scheduler.after(self.producer.config.retry_backoff_ms, self._retry_add)

    def _retry_add(self) -> None:
        self.adding = False
        self._add_partitions_async()

    def _add_timeout(self, req: int) -> None:
        if self.adding and getattr(self, "_add_req", (None,))[0] == req:
            self.adding = False
            self._add_partitions_async()

    def on_add_response(self, req: int, err: KafkaError | None) -> bool:
        """Called for every coordinator answer; True if it was the AddPartitionsToTxn in flight."""
        add = getattr(self, "_add_req", None)
        if add is None or add[0] != req:
            return False
        self.adding = False
        if err is None:
            self.pending_add -= set(add[1])
            self.producer.resume_sending()
        elif isinstance(err, ProducerFencedError):
            self.state = "Fenced"
            self.producer.fail_all(err)
        else:
            self.cluster.scheduler.after(self.producer.config.retry_backoff_ms, self._retry_add)
        self._add_partitions_async()
        return True

    def send_offsets(self, offsets: dict[TP, int], group_id: str) -> None:
        self._require("InTransaction", "send_offsets_to_transaction")
        p = self.producer
        self._call(
            "AddOffsetsToTxn", "on_add_offsets", self.txn_id, p.pid, p.producer_epoch, group_id, dict(offsets)
        )
        self.started = True

    def commit(self) -> None:
        self._require("InTransaction", "commit_transaction")
        p = self.producer
        self.state = "Committing"
        p.flush()
        failed = [b.error for b in p.failed_batches if b.error is not None]
        if failed:
            self.state = "InTransaction"
            raise failed[0]
        self._end_txn(True)

    def abort(self) -> None:
        if self.state not in ("InTransaction", "Committing"):
            self._require("InTransaction", "abort_transaction")
        p = self.producer
        self.state = "Aborting"
        p.fail_all(KafkaError("the transaction was aborted before this record was sent"), only_unsent=True)
        p.flush()
        self._end_txn(False)

    def _end_txn(self, commit: bool) -> None:
        """EndTxn, skipped when nothing was added (TransactionManager: no EndTxn unless transactionStarted).
        Under transaction.version=2 the answer carries the bumped epoch, and sequences start again at 0."""
        p = self.producer
        if self.started:
            result = self._call("EndTxn", "on_end", self.txn_id, p.pid, p.producer_epoch, commit)
            if result is not None and result != (p.pid, p.producer_epoch):
                p.pid, p.producer_epoch = result
                p.sequences = {}
        self.started = False
        self.state = "Ready"

    def _require(self, state: str, call: str) -> None:
        if self.state == "Fenced":
            raise ProducerFencedError(
                f"producer {self.producer.id} is fenced: a newer instance owns "
                f"transactional.id {self.txn_id!r}"
            )
        if self.state != state:
            hint = {
                "Uninitialized": "call init_transactions() first",
                "Ready": "call begin_transaction() first",
                "InTransaction": "a transaction is already open: commit or abort it",
            }.get(self.state, "")
            raise InvalidTxnStateError(f"{call}() is not allowed in state {self.state}: {hint}")


def _fmt(tps) -> str:
    return ", ".join(f"{t}-{p}" for t, p in tps)


def _fmt_offsets(offsets: dict[TP, int]) -> str:
    return ", ".join(f"{t}-{p}@{o}" for (t, p), o in sorted(offsets.items()))
