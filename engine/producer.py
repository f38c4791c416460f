"""The producer: serialize, partition, batch in the RecordAccumulator, send with the Sender, retry.

Follows KafkaProducer / RecordAccumulator / Sender (Kafka 4.x defaults, see `ProducerConfig`): records wait
in a per-partition batch until it is full (`batch.size`) or `linger.ms` has passed; the sender drains ready
batches per leader broker into one Produce request, at most `max.in.flight.requests.per.connection` at a
time; retriable errors go back to the front of the queue after `retry.backoff.ms` until
`delivery.timeout.ms` runs out. With `enable.idempotence` (the default) batches carry a producer id and
sequence numbers so a retried batch is never written twice.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from . import args
from .args import send_args, send_headers
from .broker import ProduceRequest
from .config import PlainValues, ProducerConfig
from .errors import (
    BufferExhaustedError,
    IllegalStateError,
    InvalidArgumentError,
    KafkaError,
    KafkaTimeoutError,
    NetworkError,
    RecordTooLargeError,
    UnknownTopicOrPartitionError,
)
from .partitioner import BuiltInPartitioner, partition_for_key
from .records import (
    BATCH_OVERHEAD,
    RecordBatch,
    compressed_size,
    header_bytes,
    headers_record_size,
    plain_record_size,
    timestamp_column,
)
from .scheduler import Watchdog
from .transactions import TransactionManager

if TYPE_CHECKING:
    from .contracts import World

TP = tuple[str, int]
# KIP-360: an idempotent (non-transactional) producer retries these after bumping its epoch (TransactionManager.canRetry)
_EPOCH_BUMP_ON = frozenset({"OUT_OF_ORDER_SEQUENCE_NUMBER", "UNKNOWN_PRODUCER_ID"})
_REFRESH_METADATA_ON = frozenset(
    {
        "NOT_LEADER_OR_FOLLOWER",
        "NETWORK_EXCEPTION",
        "UNKNOWN_TOPIC_OR_PARTITION",
        "LEADER_NOT_AVAILABLE",
        "FENCED_LEADER_EPOCH",
    }
)


def _refcount_works() -> bool:
    """True when `sys.getrefcount(holder.attr)` is 2 for an object only `holder` holds and 3 once another name
    holds it too, as send()'s reuse of its last future expects (CPython's reference counting; any other count,
    or another Python, and send() never reuses a future)."""
    getrefcount = getattr(sys, "getrefcount", None)
    if getrefcount is None:
        return False

    class Holder:  # (an attribute in an instance's dict, as the producer's `_future`)
        attr: RecordMetadataFuture

    h = Holder()
    h.attr = RecordMetadataFuture()
    alone = getrefcount(h.attr)
    other = h.attr
    held = getrefcount(h.attr)
    return alone == 2 and held == 3 and other is h.attr


class RecordMetadataFuture:
    """What send() returns: `done`, `partition`, `offset`, `error` (Kafka's Future<RecordMetadata>).

    Its batch and its index in the batch, nothing else: topic, key and value are read from the batch. send() is
    the hot path of every bulk run, and most callers drop the future at once, so send() keeps the last one it
    returned and, when `sys.getrefcount` shows that nobody else holds it, points it at the new record instead
    of making another (~a tenth of a keyed send(); a caller that keeps every future pays ~2% more than a tuple
    would). Nobody can see the change: a future anyone still holds (a variable, a list, a chained `.partition`
    being read) has more references and is never reused, and with no `__weakref__` slot nothing can watch one
    weakly. This relies on CPython's reference counting (`_REUSE_FUTURES` is checked once at import; without it
    every send() makes a new future)."""

    __slots__ = ("_batch", "_index")  # (no __init__: send() sets both, and a class without one is made in C)
    _batch: ProducerBatch
    _index: int

    @property
    def topic(self) -> str:
        return self._batch.tp[0]

    @property
    def partition(self) -> int:
        return self._batch.tp[1]

    @property
    def key(self) -> bytes | None:
        return self._batch.keys[self._index]

    @property
    def value(self) -> bytes | None:
        return self._batch.values[self._index]

    @property
    def done(self) -> bool:
        return self._batch.done

    @property
    def error(self) -> KafkaError | None:
        return self._batch.error

    @property
    def offset(self) -> int | None:
        """The record's offset once acknowledged; -1 with acks=0 (the producer never learns it)."""
        b = self._batch
        if not b.done or b.error is not None:
            return None
        return -1 if b.base_offset < 0 else b.base_offset + self._index

    @property
    def succeeded(self) -> bool:
        b = self._batch
        return b.done and b.error is None

    def result(self):
        if not self.done:
            raise IllegalStateError("not acknowledged yet: call producer.flush() or run the cluster first")
        if self.error is not None:
            raise self.error
        return self

    def __repr__(self) -> str:
        state = (
            "pending"
            if not self.done
            else f"error={self.error.name}"
            if self.error
            else f"offset={self.offset}"
        )
        return f"<send {self.topic}-{self.partition} {state}>"


_REUSE_FUTURES = _refcount_works()
_refcount = sys.getrefcount if _REUSE_FUTURES else lambda _obj: 0  # (0: never reuse)


def _future(b: ProducerBatch, idx: int) -> RecordMetadataFuture:
    """A new future for record `idx` of batch `b` (send() reuses its last one instead when it can)."""
    f = RecordMetadataFuture()
    f._batch = b
    f._index = idx
    return f


class ProducerBatch:
    """An open or in-flight batch for one partition (Kafka's ProducerBatch)."""

    __slots__ = (
        "tp",
        "keys",
        "values",
        "timestamps",
        "headers",
        "size",
        "created_ms",
        "attempts",
        "done",
        "error",
        "base_offset",
        "sealed",
        "base_sequence",
        "last_attempt_ms",
        "state",
        "wire",
        "in_retry",
        "sent_at",
        "last_error",
    )

    def __init__(self, tp: TP, now_ms: int) -> None:
        self.tp = tp
        self.keys: list = []
        self.values: list = []
        self.timestamps: list[int] = []
        self.headers: list | None = None
        self.size = BATCH_OVERHEAD
        self.created_ms = now_ms
        self.attempts = 0
        self.done = False
        self.error: KafkaError | None = None
        self.base_offset = -1
        self.sealed: RecordBatch | None = None  # the immutable wire form once closed
        self.base_sequence = -1
        self.last_attempt_ms = 0
        self.state = "open"  # open | ready | in_flight | retrying
        self.wire = 0
        self.in_retry = False
        # send() times when a record carried its own timestamp (None: `timestamps` are the send times)
        self.sent_at: list[int] | None = None
        self.last_error: KafkaError | None = (
            None  # the retriable error of the last attempt, for the expiry message
        )

    @property
    def count(self) -> int:
        return len(self.keys)


def _serialize_record(key: Any, value: Any) -> tuple[bytes | None, bytes | None]:
    """The key and value serializers (ByteArray / String), with the common cases first."""
    kb = key if key is None or key.__class__ is bytes else _to_bytes(key, "key")
    vb = (
        value
        if value is None or value.__class__ is bytes
        else value.encode()
        if value.__class__ is str
        else _to_bytes(value, "value")
    )
    return kb, vb


def _close_columns(b: ProducerBatch) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """A batch closed for appends (full, followed by a new one, or sealed) keeps its keys and values as tuples:
    nothing appends to them any more, and a tuple of bytes is untracked by the first young garbage collection that
    sees it, while a list stays tracked and every middle and full collection walks its records again (the
    accumulator can hold buffer.memory's worth of full batches while send() runs)."""
    keys, values = tuple(b.keys), tuple(b.values)
    b.keys, b.values = keys, values  # type: ignore[assignment]
    return keys, values


def _new_batch(dq: deque[ProducerBatch], last: ProducerBatch | None, tp: TP, now: int) -> ProducerBatch:
    """The partition's open batch cannot take the record: close it (it goes out on the next drain), open one."""
    if last is not None and last.state == "open":
        last.state = "ready"
        _close_columns(last)
    b = ProducerBatch(tp, now)
    dq.append(b)
    return b


def _own_timestamp(b: ProducerBatch, idx: int, timestamp_ms: int | None, now: int) -> None:
    """The timestamp column when a record carries its own timestamp (or an earlier one in the batch did): the
    record's timestamp, and its send time in `sent_at`."""
    b.timestamps.append(now if timestamp_ms is None else timestamp_ms)
    if b.sent_at is None:
        b.sent_at = b.timestamps[:idx]  # the earlier records' timestamps were their send times
    b.sent_at.append(now)


def _to_bytes(v: Any, what: str) -> bytes | None:
    """StringSerializer / ByteArraySerializer: str is UTF-8 encoded, bytes pass through, None stays null."""
    if v is None or isinstance(v, bytes):
        return v
    if isinstance(v, str):
        return v.encode()
    if isinstance(v, bytearray | memoryview):
        return bytes(v)
    if isinstance(v, int):
        return str(v).encode()
    raise InvalidArgumentError(  # Kafka: SerializationException
        f"send(): {what} must be bytes, str, int or None (the serializers here are ByteArray/String), "
        f"not {type(v).__name__}"
    )


class Producer:
    def __init__(self, cluster: World, producer_id: str, config: dict[str, Any] | None = None) -> None:
        self.cluster = cluster
        self.id = producer_id
        self.config = ProducerConfig.parse(config, where=f"producer {producer_id!r}")
        cfg = self.config
        self.hot = PlainValues(cfg)  # the values as plain attributes, for _drain, _seal, _send_request
        self.acks = cfg.acks_int
        # send() reads these for every record: plain attributes are ~4x cheaper than pydantic fields
        self._scheduler = cluster.scheduler
        self._keyed = not cfg.partitioner_ignore_keys
        self._max_record = cfg.max_request_size - BATCH_OVERHEAD
        self._buffer_memory = cfg.buffer_memory
        self._batch_size = cfg.batch_size
        self.batches: dict[TP, deque[ProducerBatch]] = {}
        self.in_flight: dict[int, int] = {}  # broker id -> requests in flight
        self.requests: dict[
            int, tuple[ProduceRequest, list[ProducerBatch], int]
        ] = {}  # id -> (req, batches, leader)
        # request.timeout.ms of each request in flight (token: the request id), stopped by its answer
        self._timeouts = Watchdog(cluster.scheduler, self._request_timeout)
        self.partitioners: dict[str, BuiltInPartitioner] = {}  # keyless records: one per topic (KIP-794)
        self._node_ready_ms: dict[int, int] = {}  # NodeLatencyStats: last time a broker had data to send ...
        self._node_drain_ms: dict[int, int] = {}  # ... and last time it could take it
        self.buffer_used = 0
        # `sent` counts a partition's records in its newest batch (send() appends without counting) and adds them
        # to _sent once a newer batch takes its place; _sent also counts send()s that failed at once
        self._sent = 0
        self._newest: dict[TP, ProducerBatch] = {}
        self.acked = 0
        self.failed = 0
        self.alive = True
        self.pid = -1
        self.producer_epoch = 0
        self.sequences: dict[TP, int] = {}
        self._seq_epoch: dict[
            TP, tuple[int, int]
        ] = {}  # the (producer id, epoch) each partition's sequences count in
        # TxnPartitionEntry.lastAckedSequence: partition -> (producer id, epoch, last sequence acknowledged)
        self._acked_seq: dict[TP, tuple[int, int, int]] = {}
        # TransactionManager.partitionsWithUnresolvedSequences: the partitions where a batch expired after being sent
        # (the broker may or may not have written it). Kafka's map also keeps the next sequence, for its log only:
        # resolving compares the partition's own next sequence (isNextSequence). A dict, not a set: resolved in the
        # order they were marked, the same in every process (a set of str tuples iterates in hash order)
        self._unresolved: dict[TP, None] = {}
        self.metadata: dict[str, list[int | None]] = {}  # topic -> leader per partition (the client's view)
        # topic -> {key: (topic, partition)}: murmur2 once per distinct key, not per send (a topic's partition
        # count never changes here; the metadata code drops a topic's entry if it ever did)
        # topic -> key -> (partition, record sizes by value length for that key's length, that partition's
        # batches): send()'s one lookup; dropped when the topic's partition count changes
        self.key_cache: dict[str, dict[bytes, tuple[TP, dict[int, int], deque[ProducerBatch]]]] = {}
        self._sizes_by_key_len: dict[int, dict[int, int]] = {}
        self._keyless_sizes: dict[int, int] = {}  # value length -> size of a keyless record without headers
        # the last headers send() took, checked (see send): as a tuple or None, their keyless record sizes by value
        # length, and as a list for send() to compare the next record's with
        self._headers: tuple | None = None
        self._header_sizes: dict[int, int] = self._keyless_sizes
        self._headers_list: list | None = None
        # topic -> (its BuiltInPartitioner, its sticky partition's batches, twice stickyBatchSize) for keyless sends;
        # dropped whenever that partitioner switches (set again by _place)
        self._sticky: dict[str, tuple[BuiltInPartitioner, deque[ProducerBatch], int]] = {}
        self._future = RecordMetadataFuture()  # the last future send() returned (set before it is returned)
        self.linger_timer = None
        self.wake_at: int | None = None
        self.flushing = False
        self._req_seq = 0
        self.load = None
        self.metadata_refresh_pending = False
        self.crashed = False
        self.failed_batches: list[ProducerBatch] = []  # failures since the transaction began
        self.txn: TransactionManager | None = None
        if cfg.transactional_id:
            self.txn = TransactionManager(self)  # the producer id comes from init_transactions()
        elif cfg.enable_idempotence:
            self.pid = cluster.next_producer_id()  # InitProducerId (simplified: answered at once)
        self._fast = self._keyed and self.txn is None  # send()'s shortcut applies (cleared when it stops)

    # -- transactions (KIP-98): see engine.transactions ------------------------------------------------------
    def init_transactions(self) -> None:
        """Get a producer id and a new epoch for transactional.id, fencing older instances."""
        self._txn().init()

    def begin_transaction(self) -> None:
        self._txn().begin()
        self.failed_batches = []

    def send_offsets_to_transaction(self, offsets: dict[TP, int], group_id: str) -> None:
        """Commit a consumer group's offsets atomically with this transaction's records (KIP-447)."""
        self._txn().send_offsets({(t, p): o for (t, p), o in offsets.items()}, group_id)

    def commit_transaction(self) -> None:
        self._txn().commit()

    def abort_transaction(self) -> None:
        self._txn().abort()

    def _txn(self) -> TransactionManager:
        if self.txn is None:
            raise IllegalStateError(
                "this producer has no transactional.id: set it in the config to use transactions"
            )
        if not self.alive:
            raise IllegalStateError(f"producer {self.id} is {'crashed' if self.crashed else 'closed'}")
        return self.txn

    def crash(self) -> None:
        """The producer process dies: unsent batches are gone, nothing more is sent or retried."""
        if not self.alive:
            return
        self.alive = False
        self._fast = False
        self.crashed = True
        self.batches.clear()
        self.key_cache.clear()  # it holds the batch deques too
        self._sticky.clear()
        self.requests.clear()
        self.buffer_used = 0
        self.cluster.emit(
            "note",
            f"Producer {self.id} crashed: its unsent batches are lost"
            + (
                f"; its open transaction stays open until a new instance with transactional.id "
                f"{self.txn.txn_id!r} calls init_transactions() or transaction.timeout.ms passes"
                if self.txn and self.txn.state == "InTransaction"
                else ""
            ),
            actors=(self.id,),
        )

    def on_partitions_changed(self, topic: str) -> None:
        """A topic gained partitions: refresh the metadata if this producer writes to it."""
        if self.alive and topic in self.metadata:
            self._refresh_metadata()

    def resume_sending(self) -> None:
        """Batches held back (AddPartitionsToTxn in flight) may be sent now: the sender runs again."""
        self._wake(self.cluster.now)

    def fail_all(self, err: KafkaError, only_unsent: bool = False) -> None:
        for dq in list(self.batches.values()):
            for b in list(dq):
                if only_unsent and b.state in ("in_flight", "retrying"):
                    continue
                self._finish(b, err, -1)

    # -- the public API ---------------------------------------------------------------------------------------
    def send(
        self,
        topic: str,
        value: Any = None,
        key: Any = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: Sequence[tuple[str, bytes]] | None = None,
    ) -> RecordMetadataFuture:
        """Hand a record to the accumulator; returns at once with a future (KafkaProducer.send)."""
        # The shapes of every bulk run take this shortcut, RecordAccumulator.tryAppend in one block: a bytes value
        # with no partition or timestamp of its own joins its partition's open batch when that has room
        # (batch.size) and buffer.memory has too. Anything else (a key, value length or headers not seen yet, no
        # open batch or no room, a sticky switch due, another key or value type, ...) goes through _send.
        if (
            partition is not None
            or timestamp_ms is not None
            or value.__class__ is not bytes
            or not self._fast
        ):
            return self._send(topic, value, key, partition, timestamp_ms, headers)
        if headers is None and key.__class__ is bytes:
            # A bytes key (DefaultPartitioner: murmur2 of the key). Cached per topic and key: its partition, that
            # partition's batches and the record sizes by value length for its key length.
            try:
                _tp, sizes, dq = self.key_cache[topic][key]
                size = sizes[len(value)]
                b = dq[-1]
            except (KeyError, IndexError, TypeError):  # a new key or value length, no batch yet, a bad topic
                return self._send(topic, value, key, partition, timestamp_ms, headers)
            if not (
                b.state == "open"
                and b.sent_at is None  # (no record in the batch carries its own timestamp)
                and (filled := b.size + size) <= self._batch_size
                and (used := self.buffer_used + size) <= self._buffer_memory
            ):
                return self._send(topic, value, key, partition, timestamp_ms, headers)
        elif key is None and (headers is None or headers.__class__ is list and headers == self._headers_list):
            # No key (KIP-480/794): the topic's sticky partition while no switch is due. With its batch still
            # open, BuiltInPartitioner.updatePartitionInfo only counts the bytes (allBatchesFull is false, so
            # the switch waits for twice stickyBatchSize). Headers equal to the last record's (KafkaProducer.send
            # copies them, new RecordHeaders(headers)) were checked and sized then, and share that checked tuple.
            try:
                sticky, dq, switch_bytes = self._sticky[topic]
                size = (self._keyless_sizes if headers is None else self._header_sizes)[len(value)]
                b = dq[-1]
            except (KeyError, IndexError, TypeError):  # no sticky partition or batch yet, a new value length
                return self._send(topic, value, key, partition, timestamp_ms, headers)
            if not (
                b.state == "open"
                and b.sent_at is None
                and (filled := b.size + size) <= self._batch_size
                and (produced := sticky.produced_bytes + size) < switch_bytes
                and (used := self.buffer_used + size) <= self._buffer_memory
            ):
                return self._send(topic, value, key, partition, timestamp_ms, headers)
            sticky.produced_bytes = produced
            if headers is not None:
                headers = self._headers
        else:
            return self._send(topic, value, key, partition, timestamp_ms, headers)
        keys = b.keys
        idx = len(keys)
        keys.append(key)
        b.values.append(value)
        now = self._scheduler.now_ms
        b.timestamps.append(now)
        if b.headers is not None:  # an earlier record in the batch has headers
            b.headers.append(headers or ())
        elif headers is not None:  # the column starts with the batch's first record that has headers
            b.headers = [()] * idx + [headers]
        b.size = filled
        self.buffer_used = used
        if filled >= self._batch_size:
            b.state = "ready"
            _close_columns(b)
            self._wake(now)
        # the last future, unless anyone besides the producer still holds it (see RecordMetadataFuture)
        if _refcount(self._future) != 2:
            self._future = RecordMetadataFuture()
        f = self._future
        f._batch = b
        f._index = idx
        return f

    def _send(
        self,
        topic: Any,
        value: Any,
        key: Any,
        partition: Any,
        timestamp_ms: Any,
        headers: Any,
    ) -> RecordMetadataFuture:
        """send() for any record: the arguments (checked only when not of the common shape), then where the
        record goes and its size (the key cache, or _place), then RecordAccumulator.append."""
        dq: deque[ProducerBatch] | None  # (bare annotations: no code runs for them)
        b: ProducerBatch | None
        sticky: BuiltInPartitioner | None
        placed: tuple[TP, int, BuiltInPartitioner | None, deque[ProducerBatch]] | RecordMetadataFuture | None
        if (
            value.__class__ is not bytes
            or (key.__class__ is not bytes and key is not None)
            or topic.__class__ is not str  # any other argument shape goes through _serialize's check
            or partition is not None
            or timestamp_ms is not None
        ):
            key, value = self._serialize(key, value, topic, partition, timestamp_ms)
        if headers is not None:
            # KafkaProducer.send copies the headers (new RecordHeaders(headers)) into a tuple here, checked and
            # sized when they differ from the last record's (a producer usually sends the same few on every
            # record); headers equal to the last checked ones are stored as that one tuple
            hs = tuple(headers) if headers.__class__ is list or headers.__class__ is tuple else None
            if hs is None or hs != self._headers:
                self._headers, self._header_sizes, self._headers_list = self._check_headers(headers)
            headers = self._headers  # None when there are none
        if self._fast and partition is None and headers is None and key is not None:
            # The keyed hot path of every bulk run (a bytes key and value, nothing else): one lookup gives the
            # key's partition, that partition's batches and a record-size table for the key's length
            # (DefaultPartitioner: murmur2 of the key, cached per topic).
            cache = self.key_cache.get(topic)
            tp, sizes, dq = (None if cache is None else cache.get(key)) or self._cache_key(topic, key)
            vlen = -1 if value is None else len(value)
            size = sizes.get(vlen) or self._new_size(sizes, len(key), vlen)
            if self.buffer_used + size > self._buffer_memory and not self._wait_for_buffer(size):
                return self._buffer_exhausted(topic, tp[1], key, value)
            sticky = None
        else:
            placed = self._place(topic, key, value, partition, headers)
            if isinstance(placed, RecordMetadataFuture):
                return placed  # no room in buffer.memory within max.block.ms
            tp, size, sticky, dq = placed
        # 2. RecordAccumulator.append: the partition's open batch takes the record if it has room (an empty
        # batch takes any record), else it is closed and a new one opened.
        now = self._scheduler.now_ms
        batch_size = self._batch_size
        b = dq[-1] if dq else None
        if b is not None and b.state == "open" and (b.size + size <= batch_size or not b.keys):
            new_batch = False
        else:
            b = _new_batch(dq, b, tp, now)
            older = self._newest.get(tp)
            if older is not None:
                self._sent += len(older.keys)
            self._newest[tp] = b
            new_batch = True
        keys = b.keys
        idx = len(keys)
        keys.append(key)
        b.values.append(value)
        if timestamp_ms is None and b.sent_at is None:
            b.timestamps.append(now)
        else:
            _own_timestamp(b, idx, timestamp_ms, now)
        column = b.headers
        if column is not None:
            column.append(headers or ())  # the checked tuple: records with the same headers share it
        elif headers:  # the headers column starts with the batch's first record that has headers
            b.headers = [()] * idx + [headers]
        filled = b.size = b.size + size
        self.buffer_used += size
        if sticky is not None:
            self._sticky_appended(sticky, topic, size + BATCH_OVERHEAD if new_batch else size)
        if filled >= batch_size:
            b.state = "ready"
            _close_columns(b)
            self._wake(now)
        elif new_batch:
            self._wake(now if len(dq) > 1 else now + self.config.linger_ms)
        return _future(b, idx)

    def _sticky_appended(self, sticky: BuiltInPartitioner, topic: str, appended: int) -> None:
        """RecordAccumulator.append -> BuiltInPartitioner.updatePartitionInfo(enableSwitch=allBatchesFull) for a
        keyless record send()'s shortcut did not take: the batch that took it is still open, so allBatchesFull
        is false and the switch waits for twice stickyBatchSize (or for the batch to close: _sticky_partition)."""
        if sticky.update_partition_info(appended, self.metadata[topic], False):
            self._sticky.pop(topic, None)  # switched: send()'s shortcut waits for _place to set the new one

    def _place(
        self, topic: str, kb: bytes | None, vb: bytes | None, partition: int | None, headers: Any
    ) -> tuple[TP, int, BuiltInPartitioner | None, deque[ProducerBatch]] | RecordMetadataFuture:
        """send() off the keyed hot path: an explicit partition, headers, a key that is not bytes yet, a
        transactional producer, or no key (the BuiltInPartitioner, which needs the record's size first).
        Checks max.request.size and buffer.memory (blocking for room like BufferPool.allocate) and adds the
        partition to the transaction. Returns (partition, size, partitioner or None, the partition's batches)."""
        if not self.alive:
            raise IllegalStateError(f"producer {self.id} is {'crashed' if self.crashed else 'closed'}")
        leaders = self.metadata.get(topic)
        if leaders is None:
            leaders = self._fetch_metadata(topic)
        klen = -1 if kb is None else len(kb)
        vlen = -1 if vb is None else len(vb)
        if headers:
            size = headers_record_size(klen, vlen, header_bytes(headers))
        else:
            size = plain_record_size(klen, vlen)
        keyless = partition is None and (kb is None or not self._keyed)  # the sticky partition (KIP-480)
        if partition is not None:
            n = len(leaders)
            if not 0 <= partition < n:
                raise UnknownTopicOrPartitionError(
                    f"topic {topic!r} has partitions 0..{n - 1}, not {partition}"
                )
            tp = (topic, partition)
        elif not keyless:
            assert kb is not None  # a keyed record
            tp = (topic, partition_for_key(kb, len(leaders)))
        if size > self._max_record:
            self._too_large(size)
        if (
            kb is None and keyless and vb is not None
        ):  # send()'s keyless shortcut reads it from the table then
            (self._header_sizes if headers else self._keyless_sizes)[vlen] = size
        if self.buffer_used + size > self._buffer_memory and not self._wait_for_buffer(size):
            return self._buffer_exhausted(topic, -1 if keyless else tp[1], kb, vb)
        if keyless:  # chosen only now: the BuiltInPartitioner needs the record's size and a buffer
            sticky, tp, dq = self._sticky_partition(topic, leaders, size)
        else:
            sticky = None
            dq = self.batches.get(tp)
        if self.txn is not None:
            self.txn.on_send(tp)  # AddPartitionsToTxn before the first record of each partition
        if dq is None:
            dq = self.batches[tp] = deque()
        if sticky is not None:
            # send()'s keyless shortcut, while this stays sticky: twice stickyBatchSize is the forced switch
            self._sticky[topic] = (sticky, dq, 2 * sticky.sticky_batch_size)
        return tp, size, sticky, dq

    def _serialize(
        self, key: Any, value: Any, topic: Any, partition: Any, timestamp_ms: Any
    ) -> tuple[bytes | None, bytes | None]:
        """KafkaProducer.doSend's first steps: check the arguments, refuse if closed (IllegalStateException),
        then serialize. (Headers are checked by _check_headers.)"""
        if topic.__class__ is not str or partition is not None or timestamp_ms is not None:
            send_args(topic, partition, timestamp_ms)  # the edge check; common calls skip it
        if not self.alive:
            raise IllegalStateError(f"producer {self.id} is {'crashed' if self.crashed else 'closed'}")
        return _serialize_record(key, value)

    def _check_headers(
        self, headers: Any
    ) -> tuple[tuple[tuple[str, bytes | None], ...] | None, dict[int, int], list | None]:
        """Headers not seen on the record before: checked (send_args), then (the headers as a tuple, or None when
        there are none; an empty table of keyless record sizes by value length for them; the list that send()
        compares the next record's list of headers with)."""
        send_headers(headers)  # raises naming `headers` unless a list of (str, bytes or None) pairs
        if not headers:
            return None, self._keyless_sizes, None  # [], (), {}, "": no headers
        # copied as bytes (a bytearray could change after send); so headers equal to these later are these
        checked = tuple((k, v if v is None or v.__class__ is bytes else bytes(v)) for k, v in headers)
        # the caller's own pairs when they cannot change (tuples of a str and bytes or None): a caller that sends
        # the same pairs again is then seen to at once (the comparison finds the same objects)
        fixed = all(
            h.__class__ is tuple and h[0].__class__ is str and (h[1] is None or h[1].__class__ is bytes)
            for h in headers
        )
        return checked, {}, list(headers) if fixed else list(checked)

    def _new_size(self, sizes: dict[int, int], key_len: int, value_len: int) -> int:
        """A record size not in the key length's table yet: checked against max.request.size, then cached."""
        size = plain_record_size(key_len, value_len)
        if size > self._max_record:
            self._too_large(size)
        sizes[value_len] = size
        return size

    def _too_large(self, size: int) -> None:
        raise RecordTooLargeError(
            f"the record is {size + BATCH_OVERHEAD} bytes, more than max.request.size="
            f"{self.config.max_request_size}"
        )

    def _sticky_partition(
        self, topic: str, leaders: list[int | None], size: int
    ) -> tuple[BuiltInPartitioner, TP, deque[ProducerBatch] | None]:
        """A keyless record's partition (RecordAccumulator.append with the topic's BuiltInPartitioner): when
        the sticky partition's last batch is full or cannot take this record, Kafka closes it and completes a
        switch that was held back (`partitionChanged`), then appends to the (maybe new) sticky partition.
        Returns the partitioner, the partition and its batches (None if it has none yet)."""
        bp = self.partitioners.get(topic)
        if bp is None:
            bp = self.partitioners[topic] = BuiltInPartitioner(
                topic, max(1, self._batch_size), self.cluster.rng
            )
        while True:
            p = bp.current
            if p is None:
                p = bp.peek_current_partition(leaders)
            tp = (topic, p)
            dq = self.batches.get(tp)
            last = dq[-1] if dq else None
            if last is not None and last.state == "open":
                if last.size + size <= self._batch_size:
                    return bp, tp, dq  # room in the open batch: no switch before appending
                last.state = "ready"  # closed for appends (ProducerBatch.closeForRecordAppends)
                _close_columns(last)
                self._wake(self._scheduler.now_ms)
            if not bp.update_partition_info(0, leaders, True):
                return bp, tp, dq

    def _cache_key(self, topic: str, kb: bytes) -> tuple[TP, dict[int, int], deque[ProducerBatch]]:
        """First send of a key to a topic: its partition, the size table for its key length, its batches."""
        leaders = self.metadata.get(topic)
        if leaders is None:
            leaders = self._fetch_metadata(topic)
        tp = (topic, partition_for_key(kb, len(leaders)))
        sizes = self._sizes_by_key_len.get(len(kb))
        if sizes is None:
            sizes = self._sizes_by_key_len[len(kb)] = {}  # value length -> record size
        dq = self.batches.get(tp)
        if dq is None:
            dq = self.batches[tp] = deque()
        hit = self.key_cache.setdefault(topic, {})[kb] = (tp, sizes, dq)
        return hit

    def flush(self, timeout_ms: int | None = None) -> None:
        """Send everything now and run the cluster until every record sent so far is acknowledged or failed."""
        args.optional_whole("flush()", "timeout_ms", timeout_ms, unit="ms")
        self.flushing = True
        self._wake(self.cluster.now)
        limit = timeout_ms if timeout_ms is not None else self.config.delivery_timeout_ms + 60000
        try:
            self.cluster.run_until(lambda: self.buffer_used == 0 and not self.requests, limit)
        finally:
            self.flushing = False

    def close(self) -> None:
        self.flush()
        self.alive = False
        self._fast = False

    @property
    def sent(self) -> int:
        """Records handed to send() so far (the failed ones included)."""
        return self._sent + sum(len(b.keys) for b in self._newest.values())

    @property
    def requests_sent(self) -> int:
        """Produce requests sent so far (each carries one batch per partition for one broker)."""
        return self._req_seq

    @property
    def pending(self) -> int:
        return sum(len(d) for d in self.batches.values()) + len(self.requests)

    # -- metadata ------------------------------------------------------------------------------------------
    def _fetch_metadata(self, topic: str) -> list[int | None]:
        """First use of a topic: the client blocks on a Metadata request (max.block.ms). Answered from the
        controller's published state; a topic that does not exist is auto-created if the brokers allow it."""
        c = self.cluster
        if topic not in c.topics:
            if c.broker_config.auto_create_topics_enable and not topic.startswith("__"):
                c.create_topic(
                    topic,
                    partitions=c.broker_config.num_partitions,
                    replication_factor=min(c.broker_config.default_replication_factor, len(c.brokers)),
                    auto=True,
                )
            else:
                raise UnknownTopicOrPartitionError(
                    f"topic {topic!r} does not exist (auto.create.topics.enable=false): create it first "
                    f"(kafka-topics.sh --create --topic {topic})"
                )
        leaders = c.leaders_of(topic)
        self.metadata[topic] = leaders
        self.key_cache.pop(topic, None)
        self._sticky.pop(topic, None)
        return leaders

    def _refresh_metadata(self) -> None:
        """After NOT_LEADER_OR_FOLLOWER and the like: a Metadata request to a live broker, then retry."""
        if self.metadata_refresh_pending:
            return
        c = self.cluster
        broker = c.any_reachable_broker(self.id)
        if broker is None:
            c.scheduler.after(self.config.retry_backoff_ms, self._retry_refresh)
            self.metadata_refresh_pending = True
            return
        self.metadata_refresh_pending = True
        c.network.send(self.id, broker.name, "Metadata", broker.on_metadata, self, sorted(self.metadata))

    def _retry_refresh(self) -> None:
        self.metadata_refresh_pending = False
        self._refresh_metadata()

    def on_metadata_response(self, leaders: dict[str, list[int | None]]) -> None:
        self.metadata_refresh_pending = False
        for topic, ls in leaders.items():
            if len(ls) != len(self.metadata.get(topic, ls)):
                self.key_cache.pop(topic, None)  # the partition count changed: keys map elsewhere now
                self._sticky.pop(topic, None)
        self.metadata.update(leaders)
        self._wake(self.cluster.now)

    # -- the sender loop ------------------------------------------------------------------------------------
    def _wake(self, at_ms: int) -> None:
        """Schedule a drain at `at_ms` unless one is already due earlier."""
        if self.wake_at is not None and self.wake_at <= at_ms:
            return
        self.wake_at = at_ms
        sched = self._scheduler
        now = sched.now_ms
        # (Scheduler.at without its Timer and keyword handling: the same (time, sequence) key)
        sched.push(at_ms if at_ms >= now else now, self._drain, (at_ms,))

    def _drain(self, planned: int) -> None:
        if planned != self.wake_at:
            return
        self.wake_at = None
        if not self.alive and not self.batches:
            return
        if self._unresolved:
            self._resolve_sequences()  # Sender.runOnce: TransactionManager.maybeResolveSequences() first
        c = self.cluster
        now = c.scheduler.now_ms
        cfg = self.hot
        linger = cfg.linger_ms
        next_wake: int | None = None
        per_broker: dict[int, dict[TP, ProducerBatch]] = {}
        sizes: dict[int, int] = {}
        if self.partitioners:
            self.update_load_stats(now)
        for tp, dq in self.batches.items():
            if not dq:
                continue
            b = dq[0]
            if b.state == "in_flight":  # (the first batch not in flight, if it may go: _next_to_send)
                nxt = self._next_to_send(dq)
                if nxt is None:
                    continue
                b = nxt
            if b.state == "retrying":
                due = b.last_attempt_ms + cfg.retry_backoff_ms
                if now < due:
                    next_wake = due if next_wake is None else min(next_wake, due)
                    continue
            if now - b.created_ms >= cfg.delivery_timeout_ms:
                self._expire(tp, dq)
                continue
            ready = (
                b.state in ("ready", "retrying")
                or b is not dq[-1]
                or now - b.created_ms >= linger
                or self.flushing
                or self.buffer_used >= cfg.buffer_memory
            )
            if not ready:
                due = b.created_ms + linger
                next_wake = due if next_wake is None else min(next_wake, due)
                continue
            if self.txn is not None and tp in self.txn.pending_add:
                continue  # the coordinator has not confirmed this partition joined the transaction yet
            leaders = self.metadata.get(tp[0])
            leader = leaders[tp[1]] if leaders else None
            if leader is None:
                self._refresh_metadata()
                continue
            if self.in_flight.get(leader, 0) >= cfg.max_in_flight:
                self._node_ready_ms[leader] = now  # ready but cannot drain (updateNodeLatencyStats)
                continue
            self._node_ready_ms[leader] = self._node_drain_ms[leader] = now
            size = b.size if b.sealed is None else b.sealed.wire_bytes
            taken = sizes.get(leader, 0)
            if taken and taken + size > cfg.max_request_size:
                continue
            if taken or leader in per_broker:
                per_broker[leader][tp] = b
            else:
                per_broker[leader] = {tp: b}
            sizes[leader] = taken + size
        for leader, parts in per_broker.items():
            self._send_request(leader, parts)
        if next_wake is not None:
            self._wake(max(next_wake, now + 1) if next_wake <= now else next_wake)

    def update_load_stats(self, now: int) -> None:
        """RecordAccumulator.partitionReady's input to adaptive partitioning (KIP-794): per keyless topic, the
        queue of unsent batches of each partition with a leader, once every partition has had a batch; with
        partitioner.availability.timeout.ms > 0, partitions whose leader had data it could not drain for longer
        are left out (Kafka measures that per node the same way: ready time minus drain time)."""
        cfg = self.hot
        timeout = cfg.partitioner_availability_timeout_ms
        adaptive = cfg.partitioner_adaptive
        batches = self.batches
        for topic, bp in self.partitioners.items():
            leaders = self.metadata.get(topic) or []
            total = len(leaders)
            # (plain loops: this runs on every drain, and 3.11 makes a function object per comprehension or
            # generator run) no stats until every partition has had a batch
            ready = adaptive
            for p in range(total):
                if (topic, p) not in batches:
                    ready = False
                    break
            if ready:
                sizes: list[int] = []
                ids: list[int] = []
                for p in range(total):
                    leader = leaders[p]
                    if leader is None:
                        continue
                    if (
                        timeout > 0
                        and self._node_ready_ms.get(leader, 0) - self._node_drain_ms.get(leader, 0) > timeout
                    ):
                        continue
                    # batches not in flight (Kafka's deque.size(): drained batches leave its deque, ours stay).
                    # _drain only sends a partition's first batch not in flight (_next_to_send) and batches join
                    # at the end or leave, so those ever sent (attempts >= 1) are a prefix: stop after it
                    dq = batches[(topic, p)]
                    waiting = len(dq)
                    for b in dq:
                        if not b.attempts:
                            break
                        if b.state == "in_flight":
                            waiting -= 1
                    ids.append(p)
                    sizes.append(waiting)
                # Kafka's arrays span every partition; leaderless or excluded ones shorten the logical length
                n = len(sizes)
                if n < total:
                    bp.update_partition_load_stats(sizes + [0] * (total - n), ids + [0] * (total - n), n)
                else:
                    bp.update_partition_load_stats(sizes, ids, n)
            else:
                bp.update_partition_load_stats(None, [], 0)  # no stats: the uniform choice

    def _next_to_send(self, dq: deque[ProducerBatch]) -> ProducerBatch | None:
        """The partition's first batch not in flight, if it may go now (RecordAccumulator.drain): with
        max.in.flight=1 the partition is muted while a batch is in flight (guaranteeMessageOrder); an idempotent
        producer resends a batch that already has its sequence only once every earlier one is done
        (`shouldStopDrainBatchesForPartition`). Without idempotence later batches go while an earlier one is
        out, which is how a retried batch lands behind them."""
        ahead = 0
        for b in dq:
            if b.state != "in_flight":
                break
            ahead += 1
        else:
            return None
        if ahead and (
            self.hot.max_in_flight == 1
            or (self.pid >= 0 and (b.sealed is not None or b.tp in self._unresolved))
        ):
            # RecordAccumulator.shouldStopDrainBatchesForPartition: no new batch while a sequence is unresolved
            return None
        return b

    def _seal(self, b: ProducerBatch) -> RecordBatch:
        """Close a batch: freeze its columns, assign idempotent sequences, compress."""
        cfg = self.hot
        keys, values = _close_columns(b)  # (already tuples if the batch filled up or a later one was opened)
        if self.pid >= 0:
            # TransactionManager.maybeUpdateProducerIdAndEpoch: a partition's first batch under a new producer id
            # or epoch starts again at sequence 0 (its older batches are all done: one batch in flight each)
            tp, pid_epoch = b.tp, (self.pid, self.producer_epoch)
            seq = self.sequences.get(tp, 0) if self._seq_epoch.get(tp) == pid_epoch else 0
            self._seq_epoch[tp] = pid_epoch
            b.base_sequence = seq
            self.sequences[tp] = seq + len(keys)
        codec = cfg.compression_type
        wire = b.size if codec == "none" else compressed_size(keys, values, codec)
        b.wire = wire
        stamps: Any = b.timestamps  # (already the sealed column if sealed before an epoch bump)
        if b.sent_at is not None:
            stamps = timestamp_column(stamps)
        elif stamps.__class__ is list:
            # the send times as the sealed column, for Metrics.on_acked too (runs, not a Counter per record)
            stamps = timestamp_column(stamps, True)
            b.timestamps = stamps
        b.sealed = RecordBatch(
            -1,
            -1,
            keys,
            values,
            stamps,
            tuple(b.headers) if b.headers else None,
            self.pid,
            self.producer_epoch,
            b.base_sequence,
            b.size,
            codec,
            wire,
            is_transactional=self.txn is not None,
        )
        return b.sealed

    def _send_request(self, leader: int, parts: dict[TP, ProducerBatch]) -> None:
        c = self.cluster
        now = c.scheduler.now_ms
        rid = self._req_seq = self._req_seq + 1
        sealed: dict[TP, RecordBatch] = {}
        n = 0  # records in the request (one loop with the sealing, no comprehensions: one per batch)
        retry = ""
        for tp, b in parts.items():
            rb = sealed[tp] = self._seal(b) if b.sealed is None else b.sealed
            b.state = "in_flight"
            attempts = b.attempts = b.attempts + 1
            b.last_attempt_ms = now
            n += rb.count
            if attempts > 1:
                retry = " (retry)"
        cfg = self.hot
        req = ProduceRequest(rid, self, sealed, self.acks, cfg.request_timeout_ms)
        self.requests[rid] = (req, list(parts.values()), leader)
        self.in_flight[leader] = self.in_flight.get(leader, 0) + 1
        broker = c.brokers[leader]
        name = broker.name
        first = next(iter(parts))
        topic = first[0]
        c.on_batch_sent(now, topic, self.id, n, leader, retry, name, sealed, rid)
        c.network.send(
            self.id,
            name,
            "Produce",
            broker.on_produce,
            req,
            topic=topic,
            partition=first[1] if len(parts) == 1 else None,
        )
        if self.acks == 0:
            # acks=0: the request is "done" once on the wire; no response will come
            c.scheduler.after(0, self._complete_acks0, rid)
        else:
            self._timeouts.start(rid, cfg.request_timeout_ms, rid)
            deadline = now + cfg.request_timeout_ms
            for (
                b
            ) in parts.values():  # rare: only a batch whose delivery.timeout.ms ends before this request's
                due = b.created_ms + cfg.delivery_timeout_ms
                if due < deadline:
                    c.scheduler.at(due, self._expire_in_flight, b, b.attempts)

    def _complete_acks0(self, req_id: int) -> None:
        entry = self.requests.pop(req_id, None)
        if entry is None:
            return
        _req, batches, leader = entry
        self.in_flight[leader] -= 1
        for b in batches:
            self._finish(b, None, -1)
        self._wake(self.cluster.now)

    def _request_timeout(self, req_id: int) -> None:
        entry = self.requests.get(req_id)
        if entry is None:
            return
        req, _batches, leader = entry
        err = NetworkError(
            f"no response from broker {leader} within request.timeout.ms={self.config.request_timeout_ms}"
        )
        self.on_produce_response(req, {tp: (err, -1) for tp in req.batches})

    def on_disconnect(self, broker_id: int) -> None:
        """The connection to a broker broke: its in-flight requests fail with a retriable NetworkError."""
        if not self.alive:
            return
        if self.txn is not None:
            self.txn.on_disconnect(broker_id)
        for _req_id, (req, _batches, leader) in list(self.requests.items()):
            if leader == broker_id:
                err = NetworkError(f"connection to broker {broker_id} was refused or reset (it is down)")
                self.on_produce_response(req, {tp: (err, -1) for tp in req.batches})

    def on_produce_response(self, req: ProduceRequest, results: dict) -> None:
        entry = self.requests.pop(req.id, None)
        if entry is None:
            return  # this request already timed out and its batches were retried
        self._timeouts.stop(req.id)
        c = self.cluster
        _, batches, leader = entry
        self.in_flight[leader] -= 1
        for b in batches:
            if b.done:
                continue  # expired while in flight (delivery.timeout.ms): the late answer changes nothing
            err, base = results.get(b.tp, (None, -1))
            if err is None:
                self._finish(b, None, base)
            elif (
                err.name in _EPOCH_BUMP_ON
                and not self._out_of_turn(b, err)
                and self.txn is None
                and self.pid >= 0
                and b.attempts <= self.config.retries
                and c.now - b.created_ms < self.config.delivery_timeout_ms
            ):
                self._bump_epoch_and_retry(b, err)
            elif (
                (err.retriable or self._out_of_turn(b, err))
                and b.attempts <= self.config.retries
                and c.now - b.created_ms < self.config.delivery_timeout_ms
            ):
                b.state = "retrying"
                b.last_attempt_ms = c.now
                b.last_error = err
                c.emit(
                    "batch_retried",
                    f"{self.id}'s batch for {b.tp[0]}-{b.tp[1]} ({b.count} rec) failed with "
                    f"{err.name}; retrying after retry.backoff.ms={self.config.retry_backoff_ms}",
                    actors=(self.id,),
                    topic=b.tp[0],
                    partition=b.tp[1],
                    error=err.name,
                    attempt=b.attempts,
                )
                if err.name in _REFRESH_METADATA_ON:
                    self._refresh_metadata()
            else:  # fails for good: a retriable error past delivery.timeout.ms, or one that is not retriable
                failure = (
                    KafkaTimeoutError(
                        f"Expiring {b.count} record(s) for {b.tp[0]}-{b.tp[1]}: {c.now - b.created_ms} ms has passed since "
                        f"batch creation (delivery.timeout.ms={self.config.delivery_timeout_ms}); last error "
                        f"{err.name}: {err}"
                    )
                    if err.retriable
                    else err
                )
                self._finish(b, failure, -1)
                self._failed_with_gap(b, err)
        self._wake(c.scheduler.now_ms)

    def _bump_epoch_and_retry(self, b: ProducerBatch, err: KafkaError) -> None:
        """KIP-360 for an idempotent, non-transactional producer (TransactionManager.canRetry /
        bumpIdempotentEpochAndResetIdIfNeeded): the broker lost this producer's state or has a gap in its
        sequences (e.g. after an unclean leader election), so the producer bumps its epoch (a new producer id once
        the epoch reaches Short.MAX_VALUE), restarts this partition's sequences at 0 and retries the batch.
        Records the old leader had acknowledged may be gone; new ones are written once, in order."""
        c = self.cluster
        sealed = b.sealed
        if sealed is not None and (sealed.producer_id, sealed.producer_epoch) == (
            self.pid,
            self.producer_epoch,
        ):
            self._bump_epoch_and_tell(
                b.tp,
                err.name,
                f"{self.id} got {err.name} for {b.tp[0]}-{b.tp[1]} (the leader's record of its sequences has a gap, "
                "e.g. after an unclean election)",
                ", restarts the sequences at 0 and retries instead of failing",
            )
        b.sealed = (
            None  # startSequencesAtBeginning: stamped again with the new epoch and sequence 0 when resent
        )
        b.state = "retrying"
        b.last_attempt_ms = c.now  # then resent after retry.backoff.ms, as any retried batch

    def _bump_epoch(self, tp: TP) -> tuple[int, int]:
        """TransactionManager.bumpIdempotentProducerEpoch: the next epoch (a new producer id once the epoch reaches
        Short.MAX_VALUE); `tp`'s sequences restart at 0 with its next batch and it is no longer unresolved.
        Returns the old (producer id, epoch)."""
        old = (self.pid, self.producer_epoch)
        if self.producer_epoch >= 32767:
            self.pid, self.producer_epoch = self.cluster.next_producer_id(), 0
        else:
            self.producer_epoch += 1
        self._unresolved.pop(tp, None)
        return old

    def _bump_epoch_and_tell(self, tp: TP, error: str, why: str, then: str) -> None:
        """`_bump_epoch`, then the event a student reads: "`why`: as KIP-360 says it bumps ... `then`"."""
        old = self._bump_epoch(tp)
        self.cluster.emit(
            "producer_epoch_bumped",
            f"{why}: as KIP-360 says it bumps producer id {old[0]} epoch {old[1]} to id {self.pid} epoch "
            f"{self.producer_epoch}{then}",
            actors=(self.id,),
            topic=tp[0],
            partition=tp[1],
            error=error,
            producer_id=self.pid,
            producer_epoch=self.producer_epoch,
        )

    def _mark_unresolved(self, b: ProducerBatch) -> None:
        """Sender.sendProducerData: a batch that expires after it was sent and retried (ProducerBatch.inRetry) may or
        may not be in the log, so its partition's sequence is unresolved (TransactionManager.markSequenceUnresolved).
        Only the idempotent, non-transactional producer here (a transactional one fails its transaction instead)."""
        s = b.sealed
        if (
            self.txn is not None
            or s is None
            or s.producer_id < 0
            or (b.state != "retrying" and b.attempts < 2)
        ):
            return
        self._unresolved[b.tp] = None
        self._wake(self.cluster.now)

    def _failed_with_gap(self, b: ProducerBatch, err: KafkaError) -> None:
        """Sender.failBatch(adjustSequenceNumbers = attempts < retries) -> TransactionManager.handleFailedBatch, for the
        idempotent producer: a batch that fails for good on an answer leaves a gap after its partition's last
        sequence, so the producer bumps its epoch (requestEpochBumpForPartition) and that partition starts again at
        sequence 0, instead of learning of the gap from an OUT_OF_ORDER_SEQUENCE_NUMBER on its next batch."""
        s = b.sealed
        if (
            self.txn is not None
            or s is None
            or (s.producer_id, s.producer_epoch) != (self.pid, self.producer_epoch)
            or b.attempts - 1 >= self.config.retries  # ProducerBatch.attempts() counts the retries
        ):
            return
        self._bump_epoch_and_tell(
            b.tp,
            err.name,
            f"{self.id}'s batch for {b.tp[0]}-{b.tp[1]} failed for good ({err.name}) after it got sequence "
            f"{s.base_sequence}, so the partition's sequences would have a gap",
            " and restarts them at 0",
        )

    def _resolve_sequences(self) -> None:
        """TransactionManager.maybeResolveSequences, idempotent producer: once an unresolved partition has no batch
        with a sequence left, it is resolved if the last acknowledged sequence is just before the next one (a later
        batch was written, so the expired one was too); otherwise the producer bumps its epoch and the partition's
        sequences restart at 0, so its next batch is accepted whether or not the broker wrote the expired one."""
        for tp in list(self._unresolved):
            dq = self.batches.get(tp)
            if dq and any(b.sealed is not None for b in dq):
                continue  # TxnPartitionEntry.hasInflightBatches: wait for their answers
            self._unresolved.pop(tp, None)
            nxt = self.sequences.get(tp, 0)
            acked = self._acked_seq.get(tp)
            last = acked[2] if acked is not None and acked[:2] == self._seq_epoch.get(tp) else -1
            if nxt - last == 1:
                continue  # isNextSequence: the expired batch was written after all
            self._bump_epoch_and_tell(
                tp,
                "TIMEOUT",
                f"{self.id} gave up on a batch for {tp[0]}-{tp[1]} that it had sent (delivery.timeout.ms) and no later "
                f"batch was acknowledged (last acknowledged sequence {last}, next {nxt}), so it cannot know whether the "
                "broker wrote it",
                " and restarts the partition's sequences at 0",
            )

    def _out_of_turn(self, b: ProducerBatch, err: KafkaError) -> bool:
        """OUT_OF_ORDER_SEQUENCE_NUMBER for a batch that is not the next one (an earlier batch of its partition
        is still unfinished) is retried: the gap is that earlier batch, not lost data (TransactionManager.canRetry)."""
        if err.name != "OUT_OF_ORDER_SEQUENCE_NUMBER" or self.pid < 0:
            return False
        dq = self.batches.get(b.tp)
        return bool(dq and dq[0] is not b)

    def _finish(self, b: ProducerBatch, err: KafkaError | None, base_offset: int) -> None:
        c = self.cluster
        b.done = True
        b.error = err
        b.base_offset = base_offset
        dq = self.batches.get(b.tp)
        if dq:
            try:
                dq.remove(b)
            except ValueError:
                pass
        self.buffer_used -= b.size - BATCH_OVERHEAD
        if self.buffer_used < 0:
            self.buffer_used = 0
        if err is None:
            self.acked += len(b.keys)  # (b.count, without the property call)
            s = b.sealed
            if s is not None and s.producer_id >= 0:  # TransactionManager.handleCompletedBatch
                self._acked_seq[b.tp] = (s.producer_id, s.producer_epoch, s.base_sequence + s.count - 1)
            if self.acks != 0:
                c.on_acked(self, b)
        else:
            self.failed += b.count
            self.failed_batches.append(b)
            if self.txn is not None and err.name in ("INVALID_PRODUCER_EPOCH", "PRODUCER_FENCED"):
                self.txn.state = "Fenced"
            c.emit(
                "batch_failed",
                f"{self.id}'s batch of {b.count} record(s) for {b.tp[0]}-{b.tp[1]} failed: {err.name}: {err}",
                actors=(self.id,),
                topic=b.tp[0],
                partition=b.tp[1],
                error=err.name,
                records=b.count,
            )

    def _expire_in_flight(self, b: ProducerBatch, attempts: int) -> None:
        """Sender.getExpiredInflightBatches: a batch still waiting for its answer fails when delivery.timeout.ms
        has passed since it was created, not when the answer (or request.timeout.ms) comes."""
        if b.done or b.attempts != attempts or b.state != "in_flight" or not self.alive:
            return
        self._mark_unresolved(b)
        self._finish(
            b,
            KafkaTimeoutError(
                f"Expiring {b.count} record(s) for {b.tp[0]}-{b.tp[1]}: {self.cluster.now - b.created_ms} ms has passed "
                f"since batch creation (delivery.timeout.ms={self.config.delivery_timeout_ms}), while in flight"
                + (f"; last error {b.last_error.name}: {b.last_error}" if b.last_error is not None else "")
            ),
            -1,
        )
        self._wake(self.cluster.now)

    def _expire(self, tp: TP, dq: deque[ProducerBatch]) -> None:
        b = dq[0]
        self._mark_unresolved(b)
        self._finish(
            b,
            KafkaTimeoutError(
                f"Expiring {b.count} record(s) for {tp[0]}-{tp[1]}: {self.cluster.now - b.created_ms} ms has passed "
                f"since batch creation (delivery.timeout.ms={self.config.delivery_timeout_ms})"
            ),
            -1,
        )

    def _wait_for_buffer(self, size: int) -> bool:
        """buffer.memory is full: send() blocks (BufferPool.allocate) while simulated time runs, up to max.block.ms.
        True once there is room. Inside a scheduled action nothing can block: it raises BufferExhaustedError at
        once, and the caller (the load generator, see engine.load) models the blocked thread itself."""
        c = self.cluster
        cfg = self.config
        if c.in_simulation:
            raise BufferExhaustedError(
                f"{self.id}: buffer.memory={cfg.buffer_memory} is full: send() would block"
            )
        self._wake(c.now)
        return c.run_until(lambda: self.buffer_used + size <= cfg.buffer_memory, cfg.max_block_ms, quiet=True)

    def fail_blocked_send(self, topic: str, key: Any = None, value: Any = None) -> RecordMetadataFuture:
        """A send() that stayed blocked on a full buffer for max.block.ms: it fails (for the load generator)."""
        return self._buffer_exhausted(topic, -1, _to_bytes(key, "key"), _to_bytes(value, "value"))

    def _buffer_exhausted(
        self, topic: str, partition: int, kb: bytes | None, vb: bytes | None
    ) -> RecordMetadataFuture:
        """KafkaProducer.doSend: BufferPool.allocate gave up after max.block.ms with a BufferExhaustedException (a
        TimeoutException, an ApiException), so send() returns a failed future (FutureFailure) and counts an
        error: the record is never silently dropped. `.result()` raises it, as Java's `get()` would."""
        cfg = self.config
        err = BufferExhaustedError(
            f"Failed to allocate memory within the configured max blocking time {cfg.max_block_ms} ms: "
            f"buffer.memory={cfg.buffer_memory} is full of batches not acknowledged yet (is the leader reachable?)"
        )
        b = ProducerBatch((topic, partition), self.cluster.now)
        b.keys.append(kb)
        b.values.append(vb)
        b.timestamps.append(b.created_ms)
        b.state = "failed"
        b.done = True
        b.error = err
        self._sent += 1
        self.failed += 1
        self.cluster.emit(
            "send_failed",
            f"{self.id}'s send() to {topic} waited max.block.ms={cfg.max_block_ms} for "
            f"room in buffer.memory={cfg.buffer_memory} and failed: {err.name} (a TimeoutException)",
            actors=(self.id,),
            topic=topic,
            partition=None if partition < 0 else partition,
            error=err.name,
            records=1,
        )
        return _future(b, 0)
