"""Transactions over the wire (KIP-98, KIP-447): real clients' transaction requests mapped onto the engine's
`TransactionCoordinator` (engine/transactions.py), which also serves the simulated producers.

| request | engine |
|---|---|
| FindCoordinator, key type 1 (TRANSACTION) | `TransactionCoordinator.on_find_coordinator` |
| InitProducerId with a `transactional.id` | `on_init` (new epoch; an older instance is fenced, its open transaction aborted) |
| AddPartitionsToTxn v0-3 | `on_add_partitions` |
| AddOffsetsToTxn, then TxnOffsetCommit | `on_add_offsets` twice: the group (no offsets), then its offsets |
| EndTxn v0-4 | `on_end` as transaction version 1 |

Each request travels through the simulated network from the real producer (an `ExternalProducer` whose `txn`
is an `ExternalTxn`) to the broker it was sent to, and the coordinator answers `ExternalTxn.on_response` as it
answers a simulated producer's TransactionManager, so events, markers, the LSO and the snapshot are the same.

Transaction version: EndTxn v5 and the `transaction.version` feature (KIP-890 part 2: the epoch bumped at the
end of every transaction, no AddPartitionsToTxn from the client) are not offered, so clients run transaction
version 1 and EndTxn keeps the epoch, whatever the cluster's `transaction.version` says for simulated producers.
Transactional Produce batches are checked against the coordinator's state (KIP-890 part 1 verification, by
reading the coordinator directly rather than asking it), so a stray batch cannot hold the LSO back forever.
read_committed Fetch and ListOffsets live in adapter.py (the LSO and aborted transactions of engine/transactions.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import KafkaError, ProducerFencedError
from .clients import ExternalProducer, Reply
from .protocol import Request
from .recordbatch import CONTROL, TRANSACTIONAL

if TYPE_CHECKING:
    from .adapter import Connection, KafkaAdapter
    from .recordbatch import WireBatch

TP = tuple[str, int]

# org.apache.kafka.common.protocol.Errors
NONE, UNKNOWN_TOPIC_OR_PARTITION, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR = 0, 3, 15, 16
ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, INVALID_REQUEST = 22, 25, 42
INVALID_PRODUCER_EPOCH, INVALID_TXN_STATE, INVALID_TRANSACTION_TIMEOUT = 47, 48, 50
TRANSACTIONAL_ID_AUTHORIZATION_FAILED, OPERATION_NOT_ATTEMPTED, INVALID_RECORD, PRODUCER_FENCED = (
    53,
    55,
    87,
    90,
)
TRANSACTION_MAX_TIMEOUT_MS = 900000  # transaction.max.timeout.ms (broker default)
KEY_TYPE_GROUP, KEY_TYPE_TRANSACTION = 0, 1  # FindCoordinatorRequest.KeyType


class ExternalTxn:
    """A real transactional producer's TransactionManager as the engine sees it: the coordinator answers
    `on_response(req, err, result)`; `txn_id` and `state` are what the snapshot shows (client states as in
    engine/transactions.py: Uninitialized, Ready, InTransaction, Committing, Aborting, Fenced)."""

    def __init__(self, txn_id: str) -> None:
        self.txn_id = txn_id
        self.state = "Uninitialized"
        self.waiters: dict[int, Callable[..., None]] = {}

    def __deepcopy__(self, memo: dict) -> ExternalTxn:
        new = ExternalTxn(self.txn_id)  # a checkpoint holds no callbacks into the event loop
        new.state = self.state
        memo[id(self)] = new
        return new

    def on_response(self, req: int, err: KafkaError | None, result: Any) -> None:
        cb = self.waiters.pop(req, None)
        if cb is not None:
            cb(err, result)


def _ms(v: Any) -> int:
    ts = getattr(v, "total_seconds", None)
    return int(round(ts() * 1000)) if ts is not None else int(v)


class WireTransactions:
    """The transaction API handlers, installed into the adapter's handler table by `KafkaAdapter`."""

    def __init__(self, adapter: KafkaAdapter) -> None:
        self.a = adapter
        # (client.id, transactional.id) -> producer
        self.producers: dict[tuple[str, str], ExternalProducer] = {}

    @property
    def c(self):
        return self.a.c

    def handlers(self) -> dict[int, Callable[[Connection, Request], Any]]:
        return {
            24: self.add_partitions_to_txn,
            25: self.add_offsets_to_txn,
            26: self.end_txn,
            28: self.txn_offset_commit,
        }

    # -- plumbing ------------------------------------------------------------------------------------------------
    def producer(self, conn: Connection, txn_id: str) -> ExternalProducer:
        """The real producer of (client.id, transactional.id): one producer box per transactional.id."""
        key = (conn.client_id, txn_id)
        p = self.producers.get(key)
        if p is None or self.c.producers.get(p.id) is not p:
            plain = self.a.producers.get(conn.client_id)
            if plain is not None and plain.sent == 0 and self.c.producers.get(plain.id) is plain:
                # kafkajs asks for an idempotent producer id before the transactional one: that box never sent
                # anything, so the transactional producer takes its place (and its name)
                del self.c.producers[plain.id], self.a.producers[conn.client_id]
            p = ExternalProducer(self.a.unique_client_id(conn.client_id or txn_id), conn.client_id, self.a)
            p.txn = ExternalTxn(txn_id)
            self.producers[key] = p
            self.c.producers[p.id] = p
            self.c.emit(
                "note",
                f"Real transactional producer {p.id} (transactional.id {txn_id!r}) connected over the Kafka protocol",
                actors=(p.id,),
                external=True,
                transactional_id=txn_id,
            )
        return p

    async def _ask(
        self,
        conn: Connection,
        prod: ExternalProducer,
        kind: str,
        handler: Callable,
        broker_id: int,
        *args: Any,
    ) -> tuple[KafkaError | None, Any]:
        """Send one request to the engine's coordinator through the simulated network; await its answer."""
        req = self.a.next_request_id()
        fut, resolve = self.a.future(conn)
        prod.txn.waiters[req] = resolve
        try:
            self.a.send_request(prod.id, conn, kind, handler, broker_id, prod, req, *args)
            err, result = await fut
        finally:
            prod.txn.waiters.pop(req, None)
        if isinstance(err, ProducerFencedError):
            prod.txn.state = "Fenced"
        return err, result

    @staticmethod
    def _code(err: KafkaError | None, version: int, fenced_from: int) -> int:
        """PRODUCER_FENCED exists from a version on (KIP-588); older versions get INVALID_PRODUCER_EPOCH."""
        if err is None:
            return NONE
        if isinstance(err, ProducerFencedError) and version < fenced_from:
            return INVALID_PRODUCER_EPOCH
        code = getattr(err, "code", -1)
        return code if isinstance(code, int) and code > 0 else INVALID_REQUEST

    def _not_coordinator(self, conn: Connection, txn_id: str) -> int:
        """NOT_COORDINATOR unless this broker leads the transactional.id's __transaction_state partition."""
        co = self.c.txn_coordinator.broker_for(txn_id)
        if co is None:
            return COORDINATOR_NOT_AVAILABLE
        return NONE if co == conn.broker_id else NOT_COORDINATOR

    # -- FindCoordinator (key type TRANSACTION) -----------------------------------------------------------------
    async def find_coordinator(self, conn: Connection, key_type: int, key: str) -> dict:
        if key_type != KEY_TYPE_TRANSACTION:
            return {
                "error_code": INVALID_REQUEST,
                "error_message": f"FindCoordinator key type {key_type} is not supported by Kafka Classroom: "
                "0 (GROUP) and 1 (TRANSACTION) are",
            }
        if not key:
            return {"error_code": INVALID_REQUEST, "error_message": "the transactional.id is empty"}
        # nothing is created for a lookup (InitProducerId creates the producer), so a flood of made-up keys costs
        # nothing to keep; the messages carry the producer's name once it exists
        known = self.producers.get((conn.client_id, key))
        actor = known.id if known is not None else self.a.unique_client_id(conn.client_id or "client")
        fut, resolve = self.a.future(conn)
        self.a.send_request(
            actor,
            conn,
            "FindCoordinator",
            self.c.txn_coordinator.on_find_coordinator,
            conn.broker_id,
            Reply(actor, resolve),
            key,
        )
        (co,) = await fut
        ep = self.a.endpoint(co) if co is not None else None
        if ep is None:
            return {
                "error_code": COORDINATOR_NOT_AVAILABLE,
                "error_message": "the transactional.id's __transaction_state partition has no live leader",
            }
        return {"node_id": co, "host": ep[0], "port": ep[1], "error_code": NONE, "error_message": None}

    # -- InitProducerId with a transactional.id -----------------------------------------------------------------
    async def init_producer_id(self, conn: Connection, req: Request) -> dict:
        """TransactionCoordinator.handleInitProducerId: a new epoch for the transactional.id; v3+ may name the
        producer id and epoch it had (KIP-360), which must still be the current ones."""
        b, v = req.body, req.api_version
        txn_id = b.transactional_id
        timeout = _ms(b.transaction_timeout)

        def fail(code: int) -> dict:
            return {"throttle_time": 0, "error_code": code, "producer_id": -1, "producer_epoch": -1}

        if not txn_id:
            return fail(INVALID_REQUEST)
        if not 0 < timeout <= TRANSACTION_MAX_TIMEOUT_MS:  # at most transaction.max.timeout.ms
            return fail(INVALID_TRANSACTION_TIMEOUT)
        where = self._not_coordinator(conn, txn_id)
        if where != NONE:
            return fail(where)
        co = self.c.txn_coordinator
        prod = self.producer(conn, txn_id)
        old_pid, old_epoch = int(getattr(b, "producer_id", -1)), int(getattr(b, "producer_epoch", -1))
        tm = co.txns.get(txn_id)
        if old_pid >= 0 and (tm is None or (tm.pid, tm.epoch) != (old_pid, old_epoch)):
            prod.txn.state = "Fenced"  # a newer instance took the transactional.id over in between
            return fail(PRODUCER_FENCED if v >= 4 else INVALID_PRODUCER_EPOCH)
        err, result = await self._ask(
            conn, prod, "InitProducerId", co.on_init, conn.broker_id, txn_id, timeout
        )
        if err is not None:
            return fail(self._code(err, v, 4))
        prod.pid, prod.producer_epoch = result
        prod.txn.state = "Ready"
        return {"throttle_time": 0, "error_code": NONE, "producer_id": result[0], "producer_epoch": result[1]}

    # -- AddPartitionsToTxn ---------------------------------------------------------------------------------------
    async def add_partitions_to_txn(self, conn: Connection, req: Request) -> dict:
        """v0-3, the clients' form (v4+ batches transactions for brokers, KIP-890). One unknown partition fails
        the request: UNKNOWN_TOPIC_OR_PARTITION for it, OPERATION_NOT_ATTEMPTED for the others."""
        b, v = req.body, req.api_version
        txn_id = b.v3_and_below_transactional_id
        pid, epoch = int(b.v3_and_below_producer_id), int(b.v3_and_below_producer_epoch)
        tps = [(t.name, int(p)) for t in b.v3_and_below_topics for p in t.partitions]
        codes = {tp: OPERATION_NOT_ATTEMPTED for tp in tps}
        missing = [tp for tp in tps if not self.a.exists(tp) or tp[0].startswith("__")]
        if missing:
            codes.update(dict.fromkeys(missing, UNKNOWN_TOPIC_OR_PARTITION))
        elif (where := self._not_coordinator(conn, txn_id)) != NONE:
            codes = dict.fromkeys(tps, where)
        else:
            co = self.c.txn_coordinator
            prod = self.producer(conn, txn_id)
            err, _ = await self._ask(
                conn,
                prod,
                "AddPartitionsToTxn",
                co.on_add_partitions,
                conn.broker_id,
                txn_id,
                pid,
                epoch,
                tps,
            )
            codes = dict.fromkeys(tps, self._code(err, v, 2))
            if err is None:
                prod.txn.state = "InTransaction"
        topics: dict[str, list] = {}
        for (t, p), code in codes.items():
            topics.setdefault(t, []).append({"partition_index": p, "partition_error_code": code})
        return {
            "throttle_time": 0,
            "results_by_topic_v3_and_below": [
                {"name": t, "results_by_partition": ps} for t, ps in topics.items()
            ],
        }

    # -- AddOffsetsToTxn + TxnOffsetCommit (KIP-98, KIP-447) -------------------------------------------------------
    async def add_offsets_to_txn(self, conn: Connection, req: Request) -> dict:
        b, v = req.body, req.api_version
        txn_id = b.transactional_id
        where = self._not_coordinator(conn, txn_id)
        if where != NONE:
            return {"throttle_time": 0, "error_code": where}
        co = self.c.txn_coordinator
        prod = self.producer(conn, txn_id)
        err, _ = await self._ask(
            conn,
            prod,
            "AddOffsetsToTxn",
            co.on_add_offsets,
            conn.broker_id,
            txn_id,
            int(b.producer_id),
            int(b.producer_epoch),
            b.group_id,
            {},
        )
        if err is None:
            prod.txn.state = "InTransaction"
        return {"throttle_time": 0, "error_code": self._code(err, v, 2)}

    def _member_error(self, conn: Connection, group: str, member_id: str | None, generation: int) -> int:
        """KIP-447 (v3+): offsets from a member the group no longer knows, or of an older generation, are a
        zombie's and are refused (GroupMetadata.validateOffsetCommit)."""
        co = self.a.broker(conn).coordinator
        if not co.is_coordinator(group):
            return NOT_COORDINATOR
        g = co.groups.get(group)
        if not member_id or g is None or not g.members:
            return NONE
        if member_id not in g.members:
            return UNKNOWN_MEMBER_ID
        if generation >= 0 and generation != g.generation:
            return ILLEGAL_GENERATION
        return NONE

    async def txn_offset_commit(self, conn: Connection, req: Request) -> dict:
        """TxnOffsetCommit at the group's coordinator: the offsets join the transaction and become the group's
        committed offsets only when it commits (the engine does that as the markers complete)."""
        b = req.body
        txn_id, group = b.transactional_id, b.group_id
        offsets: dict[TP, int] = {}
        codes: dict[TP, int] = {}
        for t in b.topics:
            for p in t.partitions:
                tp = (t.name, int(p.partition_index))
                if self.a.exists(tp):
                    offsets[tp] = int(p.committed_offset)
                else:
                    codes[tp] = UNKNOWN_TOPIC_OR_PARTITION
        err_code = self._member_error(
            conn, group, getattr(b, "member_id", None), int(getattr(b, "generation_id", -1))
        )
        co = self.c.txn_coordinator
        txn_broker = co.broker_for(txn_id)
        if err_code == NONE and txn_broker is None:
            err_code = COORDINATOR_NOT_AVAILABLE
        if err_code == NONE and offsets:
            prod = self.producer(conn, txn_id)
            err, _ = await self._ask(
                conn,
                prod,
                "TxnOffsetCommit",
                co.on_add_offsets,
                txn_broker,
                txn_id,
                int(b.producer_id),
                int(b.producer_epoch),
                group,
                dict(offsets),
            )
            # the group coordinator answers a fenced producer with INVALID_PRODUCER_EPOCH (GroupCoordinator)
            err_code = self._code(err, req.api_version, 1 << 15)
        codes.update(dict.fromkeys(offsets, err_code))
        topics: dict[str, list] = {}
        for (t, p), code in codes.items():
            topics.setdefault(t, []).append({"partition_index": p, "error_code": code})
        return {"throttle_time": 0, "topics": [{"name": t, "partitions": ps} for t, ps in topics.items()]}

    # -- EndTxn --------------------------------------------------------------------------------------------------
    async def end_txn(self, conn: Connection, req: Request) -> dict:
        """EndTxn: markers to every partition of the transaction; answered once they are written."""
        b, v = req.body, req.api_version
        txn_id, commit = b.transactional_id, bool(b.committed)
        where = self._not_coordinator(conn, txn_id)
        if where != NONE:
            return {"throttle_time": 0, "error_code": where}
        co = self.c.txn_coordinator
        prod = self.producer(conn, txn_id)
        prod.txn.state = "Committing" if commit else "Aborting"
        err, _ = await self._ask(
            conn,
            prod,
            "EndTxn",
            co.on_end,
            conn.broker_id,
            txn_id,
            int(b.producer_id),
            int(b.producer_epoch),
            commit,
            False,  # transaction version 1: EndTxn v5 (KIP-890 part 2) is not offered
        )
        if err is None:
            prod.txn.state = "Ready"
        elif prod.txn.state != "Fenced":
            prod.txn.state = "InTransaction"
        return {"throttle_time": 0, "error_code": self._code(err, v, 2)}

    # -- Produce -------------------------------------------------------------------------------------------------
    def check_batch(self, tp: TP, txn_id: str | None, w: WireBatch) -> tuple[int, int, str] | None:
        """A Produce batch's transaction checks: no control batches from clients (LogValidator), transactional
        batches only with the request's transactional.id (KafkaApis.handleProduceRequest) and only into a
        partition of the producer's ongoing transaction (KIP-890 part 1 verification, ReplicaManager)."""
        if w.attributes & CONTROL:
            return INVALID_RECORD, -1, f"Clients are not allowed to write control records in {tp[0]}-{tp[1]}"
        if not w.attributes & TRANSACTIONAL:
            return None
        if txn_id is None:
            return TRANSACTIONAL_ID_AUTHORIZATION_FAILED, -1, "a transactional batch needs a transactional.id"
        tm = self.c.txn_coordinator.txns.get(txn_id)
        if tm is not None and tm.pid == w.producer_id and w.producer_epoch < tm.epoch:
            return (
                INVALID_PRODUCER_EPOCH,
                -1,
                f"producer epoch {w.producer_epoch} is fenced by epoch {tm.epoch}",
            )
        if tm is None or tm.pid != w.producer_id or tm.state != "Ongoing" or tp not in tm.partitions:
            return INVALID_TXN_STATE, -1, "Partition was not added to the transaction"
        return None

    def producer_for(self, conn: Connection, txn_id: str | None) -> ExternalProducer:
        """The producer a Produce request counts for: per transactional.id, else per client.id."""
        return self.a.producer(conn.client_id) if txn_id is None else self.producer(conn, txn_id)


__all__ = ["ExternalTxn", "WireTransactions", "KEY_TYPE_GROUP", "KEY_TYPE_TRANSACTION"]
