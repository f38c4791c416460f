"""Records on the wire and on disk: immutable record batches (Kafka's RecordBatch v2), sized like Kafka's.

A batch holds its records as parallel tuples (keys, values, timestamps, headers): no per-record objects
on the hot path. The same batch object is shared by every replica that stores it and by every checkpoint.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from functools import lru_cache
from itertools import chain, repeat
from typing import Any, NamedTuple

from .codecs import compress

# DefaultRecordBatch.RECORD_BATCH_OVERHEAD: the v2 batch header is 61 bytes.
BATCH_OVERHEAD = 61


def _varint_len(n: int) -> int:
    """Bytes of a zigzag varint (ByteUtils.sizeOfVarint)."""
    v = (n << 1) ^ (n >> 63)
    size = 1
    while v >= 0x80:
        v >>= 7
        size += 1
    return size


def record_size(
    key: bytes | None,
    value: bytes | None,
    offset_delta: int = 0,
    timestamp_delta: int = 0,
    headers: tuple[tuple[str, bytes], ...] | None = None,
) -> int:
    """DefaultRecord.sizeInBytes: the record's exact size inside a v2 batch."""
    klen = -1 if key is None else len(key)
    vlen = -1 if value is None else len(value)
    body = (
        1
        + _varint_len(offset_delta)
        + _varint_len(timestamp_delta)
        + _varint_len(klen)
        + max(klen, 0)
        + _varint_len(vlen)
        + max(vlen, 0)
    )
    body += _header_bytes(headers) if headers else 1  # no headers: the count 0, one byte
    return _varint_len(body) + body


@lru_cache(maxsize=4096)
def plain_record_size(key_len: int, value_len: int) -> int:
    """record_size of a header-less record in a producer batch (-1 = null): a cached function of two lengths,
    because send() would otherwise redo the varint arithmetic for every record."""
    return headers_record_size(key_len, value_len, 1)  # the header part of no headers: the count 0


def _header_bytes(headers: tuple[tuple[str, bytes], ...]) -> int:
    """The headers' part of DefaultRecord.sizeInBytes: their count, then each key and value with its length."""
    body = _varint_len(len(headers))
    for hk, hv in headers:
        hkb = hk.encode()
        body += _varint_len(len(hkb)) + len(hkb)
        body += 1 if hv is None else _varint_len(len(hv)) + len(hv)  # a null value: the varint -1
    return body


_cached_header_bytes = lru_cache(maxsize=1024)(_header_bytes)


def header_bytes(headers: tuple[tuple[str, bytes], ...]) -> int:
    """The headers' part of DefaultRecord.sizeInBytes (count and each key and value), cached per distinct
    headers tuple: a producer usually sends the same few headers on every record."""
    try:
        return _cached_header_bytes(headers)
    except TypeError:  # an unhashable header value (a bytearray): computed every time
        return _header_bytes(headers)


@lru_cache(maxsize=4096)
def headers_record_size(key_len: int, value_len: int, header_part: int) -> int:
    """record_size(key, value, 1, 1, headers) from the lengths and header_bytes(headers): the producer's size
    of a record with headers (offset and timestamp deltas of one byte each, as plain_record_size)."""
    body = 1 + 1 + 1 + _varint_len(key_len) + max(key_len, 0) + _varint_len(value_len) + max(value_len, 0)
    body += header_part
    return _varint_len(body) + body


# Compressed sizes of recent batch contents, per codec. The engine is deterministic, so it compresses the same
# records again whenever it runs the same traffic again: a lesson's sweep whose settings batch alike (linger.ms
# 5, 10, 25 and 50 in the batching lesson), Back replaying from a checkpoint, Compare's two clusters. Looking
# the bytes up costs ~1 us, deflating ~1.7 KB ~20-40 us. Exact (the key is the bytes themselves); emptied
# whenever the inputs it holds pass _SIZE_CACHE_MAX bytes, so it never holds more than that.
_SIZE_CACHE_MAX = 16 << 20
_size_cache: dict[str, dict[bytes, int]] = {}
_size_cache_bytes = 0


def compressed_size(keys: tuple, values: tuple, codec: str) -> int:
    """Size of the batch after the codec, computed by really compressing the records' keys and values with
    Kafka's codec and level (engine/codecs.py, the same code the wire server uses), plus the batch header.
    The per-record varint framing is left out of what is compressed: it adds a few bytes per record before
    compression and less after it."""
    global _size_cache_bytes
    if keys.count(None) == len(keys):  # keyless records (the sticky partitioner's): the values alone
        try:
            raw = b"".join(values)
        except TypeError:  # a null value (a tombstone)
            raw = b"".join(filter(None, values))
    else:
        # key, value, key, value, ... joined in C; filter(None) drops the nulls (and empty values, which add
        # nothing)
        raw = b"".join(filter(None, chain.from_iterable(zip(keys, values, strict=True))))
    sizes = _size_cache.get(codec)
    if sizes is None:
        sizes = _size_cache[codec] = {}
    size = sizes.get(raw)
    if size is None:
        size = sizes[raw] = len(compress(codec, raw)) + BATCH_OVERHEAD
        _size_cache_bytes += len(raw)
        if _size_cache_bytes > _SIZE_CACHE_MAX:  # (threads may race on the count: the bound is approximate)
            _size_cache.clear()
            _size_cache_bytes = 0
    return size


def clear_size_caches() -> None:
    """Empty the compressed-size cache and the record-size tables: the state of a fresh process. A benchmark
    that repeats a run in one process calls it first, so that every run does the work a user's first run does."""
    global _size_cache_bytes
    _size_cache.clear()
    _size_cache_bytes = 0
    plain_record_size.cache_clear()
    headers_record_size.cache_clear()
    _cached_header_bytes.cache_clear()


class SameTimestamps:
    """A batch's timestamp column when every record carries the same timestamp (records sent together, the
    usual case): the value and the count instead of a tuple of `count` equal entries. RecordBatch v2 stores
    each record's timestamp as a delta from the batch's base timestamp, so these are all-zero deltas; here it
    saves 8 bytes per retained record. Reads like the tuple it stands for (index, slice, iterate, compare)."""

    __slots__ = ("value", "count")

    def __init__(self, value: int, count: int) -> None:
        self.value = value
        self.count = count

    def __len__(self) -> int:
        return self.count

    def __iter__(self):
        return repeat(self.value, self.count)

    def __getitem__(self, i):
        if i.__class__ is slice:
            return (self.value,) * len(range(*i.indices(self.count)))
        if -self.count <= i < self.count:
            return self.value
        raise IndexError("timestamp index out of range")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SameTimestamps):
            return self.value == other.value and self.count == other.count
        return isinstance(other, tuple | RunTimestamps) and tuple(self) == tuple(other)

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return repr(tuple(self))

    def __reduce__(self):
        return (SameTimestamps, (self.value, self.count))

    def __deepcopy__(self, memo: dict) -> SameTimestamps:  # immutable
        return self


class RunTimestamps:
    """A batch's timestamp column as runs of equal timestamps (records sent over a few milliseconds): the
    first index and the timestamp of each run instead of one tuple entry per record. Saves 8 bytes per retained
    record where the batch spans a few clock ticks (most batches of a bulk run). Reads like the tuple it
    stands for (index, slice, iterate, compare), as SameTimestamps does."""

    __slots__ = ("starts", "values", "count")

    def __init__(self, starts: tuple[int, ...], values: tuple[int, ...], count: int) -> None:
        self.starts = starts  # ascending, starts[0] == 0
        self.values = values
        self.count = count

    def __len__(self) -> int:
        return self.count

    def run_lengths(self):
        """How many records each run holds."""
        starts = self.starts
        return map(int.__sub__, (*starts[1:], self.count), starts)

    def __iter__(self):
        return chain.from_iterable(map(repeat, self.values, self.run_lengths()))

    def __getitem__(self, i):
        if i.__class__ is slice:
            return tuple(self)[i]
        if -self.count <= i < self.count:
            return self.values[bisect_right(self.starts, i % self.count) - 1]
        raise IndexError("timestamp index out of range")

    def _runs_between(self, i: int, j: int) -> tuple[tuple[int, ...], Any]:
        """The values of the runs that records i..j-1 (0 <= i < j <= count) fall in, and how many of those
        records each run holds."""
        starts = self.starts
        a = bisect_right(starts, i) - 1
        b = bisect_left(starts, j, a + 1)  # runs a..b-1 start before j
        bounds = (i, *starts[a + 1 : b], j)
        return self.values[a:b], map(int.__sub__, bounds[1:], bounds)

    def between(self, i: int, j: int):
        """The timestamps of records i..j-1 (0 <= i < j <= count) as an iterator: from the runs, without the
        tuple of every record's timestamp that a slice builds."""
        values, lengths = self._runs_between(i, j)
        return chain.from_iterable(map(repeat, values, lengths))

    def sum_between(self, i: int, j: int) -> int:
        """sum(self[i:j]) (0 <= i < j <= count) from the runs: one product per run, not one addition per record."""
        values, lengths = self._runs_between(i, j)
        return sum(map(int.__mul__, values, lengths))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, tuple | SameTimestamps | RunTimestamps) and tuple(self) == tuple(other)

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return repr(tuple(self))

    def __reduce__(self):
        return (RunTimestamps, (self.starts, self.values, self.count))

    def __deepcopy__(self, memo: dict) -> RunTimestamps:  # immutable
        return self


def timestamps_between(ts: tuple | SameTimestamps | RunTimestamps, i: int, j: int):
    """The timestamps of a batch's records i..j-1 (0 <= i < j <= count), as an iterable for zip: one value
    repeated, the runs' values repeated, or a slice of a plain column."""
    cls = ts.__class__
    if cls is SameTimestamps:
        return repeat(ts.value, j - i)  # type: ignore[union-attr]
    if cls is RunTimestamps:
        return ts.between(i, j)  # type: ignore[union-attr]
    return ts[i:j]


def timestamps_sum(ts: tuple | SameTimestamps | RunTimestamps, i: int, j: int) -> int:
    """sum(ts[i:j]) (0 <= i < j <= count) without building the slice of a compact column."""
    cls = ts.__class__
    if cls is SameTimestamps:
        return ts.value * (j - i)  # type: ignore[union-attr]
    if cls is RunTimestamps:
        return ts.sum_between(i, j)  # type: ignore[union-attr]
    return sum(ts[i:j])


def column_max(ts: tuple | list | SameTimestamps | RunTimestamps) -> int:
    """The largest timestamp of a column, -1 for none: from a compact column's few values, not per record (a
    max() over a SameTimestamps iterates all of its records)."""
    if isinstance(ts, SameTimestamps):
        return ts.value if ts.count else -1
    if isinstance(ts, RunTimestamps):
        return max(ts.values) if ts.count else -1
    return max(ts) if ts else -1


def timestamp_column(
    stamps: list[int], ascending: bool = False
) -> tuple[int, ...] | SameTimestamps | RunTimestamps:
    """The sealed form of a producer batch's timestamps: SameTimestamps when they are all equal, RunTimestamps
    when they ascend in a few runs (send times), else a tuple. `ascending`: the caller knows they never go
    down (send times on the simulated clock), so the runs need no check."""
    n = len(stamps)
    if not n:
        return ()
    first = stamps[0]
    if stamps[-1] == first and stamps.count(first) == n:
        return SameTimestamps(first, n)
    if stamps[-1] > first:
        # runs found by bisection, assuming the stamps ascend; checked below, in C, by rebuilding them
        starts: list[int] = []
        values: list[int] = []
        i, most = 0, n >> 3
        while i < n and len(starts) <= most:
            v = stamps[i]
            starts.append(i)
            values.append(v)
            i = bisect_right(stamps, v, i)
        if i == n and len(starts) <= most:
            runs = RunTimestamps(tuple(starts), tuple(values), n)
            if ascending or list(runs) == stamps:
                return runs
    return tuple(stamps)


class RecordBatch:
    """An immutable batch as a leader stored it: base offset, leader epoch and the records' columns."""

    __slots__ = (
        "base_offset",
        "last_offset",
        "next_offset",
        "count",
        "leader_epoch",
        "keys",
        "values",
        "timestamps",
        "headers",
        "offsets",
        "producer_id",
        "producer_epoch",
        "base_sequence",
        "size_bytes",
        "compression",
        "wire_bytes",
        "max_timestamp",
        "is_transactional",
        "control",
    )

    def __init__(
        self,
        base_offset: int,
        leader_epoch: int,
        keys: tuple,
        values: tuple,
        timestamps: tuple | SameTimestamps | RunTimestamps,
        headers: tuple | None,
        producer_id: int,
        producer_epoch: int,
        base_sequence: int,
        size_bytes: int,
        compression: str,
        wire_bytes: int,
        offsets: tuple[int, ...] | None = None,
        last_offset: int | None = None,
        is_transactional: bool = False,
        control: str | None = None,
        max_timestamp: int | None = None,
    ) -> None:
        self.base_offset = base_offset
        self.leader_epoch = leader_epoch
        self.keys = keys
        self.values = values
        self.timestamps = timestamps
        self.headers = headers
        self.offsets = offsets  # None: contiguous from base_offset; a tuple after compaction left gaps
        self.last_offset = last_offset if last_offset is not None else base_offset + len(keys) - 1
        self.next_offset = self.last_offset + 1  # read on every log append and read: a slot, not a property
        self.count = len(keys)  # (as is the record count: properties are the slow attribute lookup)
        self.producer_id = producer_id
        self.producer_epoch = producer_epoch
        self.base_sequence = base_sequence
        self.size_bytes = size_bytes  # uncompressed v2 size
        self.compression = compression
        self.wire_bytes = wire_bytes  # what travels and what is stored (compressed size when compressed)
        self.max_timestamp = max_timestamp if max_timestamp is not None else column_max(timestamps)
        self.is_transactional = is_transactional  # part of a transaction (KIP-98)
        self.control = control  # "COMMIT" / "ABORT" for a transaction marker (a control batch), else None

    def __deepcopy__(self, memo: dict) -> RecordBatch:  # immutable: shared by checkpoints
        return self

    def at(self, base_offset: int, leader_epoch: int) -> RecordBatch:
        """The same records placed at an offset by a leader (shares the record tuples and their max timestamp)."""
        return RecordBatch(
            base_offset,
            leader_epoch,
            self.keys,
            self.values,
            self.timestamps,
            self.headers,
            self.producer_id,
            self.producer_epoch,
            self.base_sequence,
            self.size_bytes,
            self.compression,
            self.wire_bytes,
            None,
            None,
            self.is_transactional,
            self.control,
            self.max_timestamp,
        )

    def record_offsets(self) -> range | tuple[int, ...]:
        return self.offsets if self.offsets is not None else range(self.base_offset, self.last_offset + 1)

    def keep(self, indexes: list[int]) -> RecordBatch:
        """A copy holding only some records, offsets preserved (compaction, truncation mid-batch)."""
        offs = list(self.record_offsets())
        pick = lambda col: tuple(col[i] for i in indexes)  # noqa: E731
        keys, values = pick(self.keys), pick(self.values)
        size = BATCH_OVERHEAD + sum(record_size(k, v) for k, v in zip(keys, values, strict=True))
        return RecordBatch(
            self.base_offset,
            self.leader_epoch,
            keys,
            values,
            pick(self.timestamps),
            pick(self.headers) if self.headers else None,
            self.producer_id,
            self.producer_epoch,
            self.base_sequence,
            size,
            self.compression,
            size if self.compression == "none" else min(size, self.wire_bytes),
            offsets=tuple(offs[i] for i in indexes),
            last_offset=self.last_offset,
            is_transactional=self.is_transactional,
            control=self.control,
        )


class ConsumerRecord(NamedTuple):
    """What poll() hands out. "Each message is referred to by its topic, partition and offset"."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: int
    headers: tuple[tuple[str, bytes], ...] = ()
    leader_epoch: int = 0

    def __repr__(self) -> str:
        return (
            f"ConsumerRecord({self.topic}-{self.partition}@{self.offset}, key={self.key!r}, "
            f"value={_short(self.value)})"
        )

    def __deepcopy__(self, memo: dict) -> ConsumerRecord:  # immutable: a checkpoint shares it
        return self


def _short(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 40 else r[:37] + "..."
