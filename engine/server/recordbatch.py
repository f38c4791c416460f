"""Record batches (magic v2) on the wire: decode what a producer sends, encode what a consumer fetches.

The format is Kafka's DefaultRecordBatch / DefaultRecord (https://kafka.apache.org/documentation/#recordbatch,
KIP-98): a 61-byte header (base offset, length, partition leader epoch, magic, CRC-32C over the rest,
attributes, last offset delta, first/max timestamp, producer id/epoch, base sequence, record count) then the
records, each with zig-zag varint lengths and deltas. Attribute bits 0-2 are the compression codec: none,
gzip, snappy, lz4 and zstd (engine/codecs.py, the codecs Kafka's Java client writes).

Sizes are bounded as a broker bounds them: a batch longer than the topic's max.message.bytes is refused
before it is decompressed (RECORD_TOO_LARGE, as Kafka's LogValidator), and a compressed batch is decoded
into at most `max_decompressed` bytes (MAX_DECOMPRESSED_BYTES, 16 MiB, or max.message.bytes if larger): a
batch that inflates further (a decompression bomb) is refused with RECORD_TOO_LARGE without holding more, as
is a batch declaring more than MAX_RECORDS_PER_BATCH (200,000) records.
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from dataclasses import dataclass

from ..codecs import CodecError, DecompressedTooLarge, compress, decompress
from ..errors import ErrorCodes

try:
    from crc32c import crc32c as _crc32c
except ImportError:  # pragma: no cover - kio depends on crc32c, so it is normally there
    _TABLE = []
    for _i in range(256):
        _c = _i
        for _ in range(8):
            _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
        _TABLE.append(_c)

    def _crc32c(data: bytes | memoryview) -> int:  # type: ignore[misc]  # the one argument of crc32c's we use
        crc = 0xFFFFFFFF
        for b in bytes(data):
            crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
        return crc ^ 0xFFFFFFFF


MAGIC = 2
HEADER = struct.Struct(">qiibIhiqqqhii")  # base offset ... record count: 61 bytes
BATCH_OVERHEAD = HEADER.size
CODECS = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}
CODEC_IDS = {v: k for k, v in CODECS.items()}
TRANSACTIONAL, CONTROL = 0x10, 0x20


class InvalidRecordError(ValueError):
    """The bytes are not a valid v2 batch: Kafka answers CORRUPT_MESSAGE / INVALID_RECORD."""

    code = ErrorCodes.CORRUPT_MESSAGE


class UnsupportedCompressionError(InvalidRecordError):
    code = ErrorCodes.UNSUPPORTED_COMPRESSION_TYPE


class RecordTooLargeError(InvalidRecordError):
    """A batch larger than max.message.bytes, or one that inflates past the decompression cap."""

    code = ErrorCodes.MESSAGE_TOO_LARGE  # RecordTooLargeException


# A compressed batch may inflate to this many bytes (or the topic's max.message.bytes if that is larger); more
# is refused as RECORD_TOO_LARGE. Kafka has no such cap (it streams records out of the codec); a bound keeps a
# decompression bomb from taking the server's memory.
MAX_DECOMPRESSED_BYTES = 16 << 20
# Records in one batch: each becomes a few Python objects (~100 bytes), so a batch of millions of empty records
# would cost far more memory than its bytes. Kafka has no such cap; clients stay far below it (librdkafka's
# batch.num.messages defaults to 10,000; the Java client's batch.size of 16 KiB holds at most ~2,300).
MAX_RECORDS_PER_BATCH = 200_000


@dataclass(slots=True)
class WireBatch:
    base_offset: int
    partition_leader_epoch: int
    attributes: int
    last_offset_delta: int
    base_timestamp: int
    max_timestamp: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    keys: tuple
    values: tuple
    timestamps: tuple
    headers: tuple | None
    offset_deltas: tuple
    size_bytes: int  # uncompressed size
    wire_bytes: int  # size as sent

    @property
    def codec(self) -> str:
        return CODECS.get(self.attributes & 7, "none")

    @property
    def count(self) -> int:
        return len(self.keys)


def _decompress(codec: int, data: memoryview, limit: int) -> bytes | bytearray:
    name = CODECS.get(codec)
    if name is None:
        raise UnsupportedCompressionError(
            f"compression codec {codec} is not one of Kafka's (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd)"
        )
    try:
        return decompress(name, data, limit)
    except DecompressedTooLarge:
        raise RecordTooLargeError(
            f"the {name} batch inflates past {limit} bytes, this server's cap on a decompressed batch"
        ) from None
    except CodecError as exc:
        raise InvalidRecordError(str(exc)) from None


def _varint(buf: bytes | bytearray | memoryview, pos: int) -> tuple[int, int]:
    """A zig-zag varint (ByteUtils.readVarint/readVarlong) -> (value, new position)."""
    shift = 0
    raw = 0
    while True:
        if pos >= len(buf):
            raise InvalidRecordError("record truncated inside a varint")
        b = buf[pos]
        pos += 1
        raw |= (b & 0x7F) << shift
        if not b & 0x80:
            break
        shift += 7
        if shift > 63:
            raise InvalidRecordError("varint is too long")
    return (raw >> 1) ^ -(raw & 1), pos


def _bytes_field(buf: bytes | bytearray | memoryview, pos: int) -> tuple[bytes | None, int]:
    n, pos = _varint(buf, pos)
    if n < 0:
        return None, pos
    end = pos + n
    if end > len(buf):
        raise InvalidRecordError("record field runs past the end of the batch")
    return bytes(buf[pos:end]), end


def decode_batches(
    data: bytes, max_batch_bytes: int | None = None, max_decompressed: int = MAX_DECOMPRESSED_BYTES
) -> list[WireBatch]:
    """Every v2 batch in `data` (a Produce partition's `records`). Raises InvalidRecordError, or its
    RecordTooLargeError for a batch longer than `max_batch_bytes` (max.message.bytes: checked from the header,
    before the CRC and the codec) or inflating past max(`max_decompressed`, `max_batch_bytes`)."""
    limit = max(max_decompressed, max_batch_bytes or 0)
    out: list[WireBatch] = []
    pos = 0
    mv = memoryview(data)
    while pos < len(data):
        if len(data) - pos < BATCH_OVERHEAD:
            raise InvalidRecordError("a record batch is shorter than its 61-byte header")
        (
            base_offset,
            length,
            ple,
            magic,
            crc,
            attrs,
            last_delta,
            base_ts,
            max_ts,
            pid,
            pepoch,
            base_seq,
            count,
        ) = HEADER.unpack_from(data, pos)
        if magic != MAGIC:
            raise InvalidRecordError(f"record batch magic is {magic}; only v2 batches (magic 2) are accepted")
        end = pos + 12 + length
        if max_batch_bytes is not None and 12 + length > max_batch_bytes:
            raise RecordTooLargeError(
                f"the batch is {12 + length} bytes, larger than max.message.bytes ({max_batch_bytes})"
            )
        if count > MAX_RECORDS_PER_BATCH:  # before the CRC and the codec: each record costs Python objects
            raise RecordTooLargeError(
                f"the batch holds {count} records, more than this server's cap of {MAX_RECORDS_PER_BATCH}"
            )
        if length < BATCH_OVERHEAD - 12 or end > len(data):
            raise InvalidRecordError(
                f"record batch length {length} does not fit the {len(data) - pos} bytes sent"
            )
        if _crc32c(mv[pos + 21 : end]) != crc:
            raise InvalidRecordError("record batch CRC-32C does not match its contents")
        if count < 0 or (attrs & 7 == 0 and count > length):  # compressed, many records fit in few bytes
            raise InvalidRecordError(f"record count {count} is impossible")
        body = mv[pos + BATCH_OVERHEAD : end]
        codec = attrs & 7
        raw = body if codec == 0 else _decompress(codec, body, limit)
        keys, values, stamps, deltas = [], [], [], []
        hdrs: list | None = None
        p = 0
        for i in range(count):
            rlen, p = _varint(raw, p)
            rend = p + rlen
            if rlen < 0 or rend > len(raw):
                raise InvalidRecordError("record length runs past the end of the batch")
            p += 1  # record attributes (unused)
            ts_delta, p = _varint(raw, p)
            off_delta, p = _varint(raw, p)
            k, p = _bytes_field(raw, p)
            v, p = _bytes_field(raw, p)
            nh, p = _varint(raw, p)
            if nh < 0 or nh > rlen:
                raise InvalidRecordError("impossible header count")
            rec_h = []
            for _ in range(nh):
                hk, p = _bytes_field(raw, p)
                hv, p = _bytes_field(raw, p)
                if hk is None:
                    raise InvalidRecordError("record header key is null")
                rec_h.append((hk.decode("utf-8", "replace"), hv))
            if p != rend:
                raise InvalidRecordError("record length does not match its fields")
            if rec_h:
                if hdrs is None:
                    hdrs = [()] * i
                hdrs.append(tuple(rec_h))
            elif hdrs is not None:
                hdrs.append(())
            keys.append(k)
            values.append(v)
            stamps.append(base_ts + ts_delta)
            deltas.append(off_delta)
        if p != len(raw):  # DefaultRecordBatch: "Incorrect declared batch size, records still remaining"
            raise InvalidRecordError(f"the batch holds more records than the {count} it declares")
        out.append(
            WireBatch(
                base_offset,
                ple,
                attrs,
                last_delta,
                base_ts,
                max_ts,
                pid,
                pepoch,
                base_seq,
                tuple(keys),
                tuple(values),
                tuple(stamps),
                tuple(hdrs) if hdrs is not None else None,
                tuple(deltas),
                BATCH_OVERHEAD + len(raw),
                end - pos,
            )
        )
        pos = end
    return out


# -- encoding ---------------------------------------------------------------------------------------------------
def _zz(n: int) -> bytes:
    v = (n << 1) ^ (n >> 63)
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


_NULL = _zz(-1)


def _field(b: bytes | None) -> bytes:
    return _NULL if b is None else _zz(len(b)) + b


def encode_records(keys, values, timestamps, headers, offset_deltas, base_ts: int) -> bytes:
    parts = []
    for i in range(len(keys)):
        hs = headers[i] if headers else ()
        body = b"".join(
            (
                b"\0",
                _zz(timestamps[i] - base_ts),
                _zz(offset_deltas[i]),
                _field(keys[i]),
                _field(values[i]),
                _zz(len(hs)),
                *(_field(hk.encode() if isinstance(hk, str) else hk) + _field(hv) for hk, hv in hs),
            )
        )
        parts.append(_zz(len(body)))
        parts.append(body)
    return b"".join(parts)


def encode_batch(
    base_offset: int,
    leader_epoch: int,
    keys,
    values,
    timestamps,
    headers=None,
    offsets=None,
    last_offset: int | None = None,
    producer_id: int = -1,
    producer_epoch: int = -1,
    base_sequence: int = -1,
    codec: str = "none",
    transactional: bool = False,
    control: str | None = None,
) -> bytes:
    """One v2 batch. `offsets` (absolute, for compacted batches with gaps) default to consecutive. A control
    batch (a transaction marker, KIP-98) holds one record: key = (version 0, type 0 ABORT / 1 COMMIT),
    value = (version 0, coordinator epoch)."""
    if control is not None:
        keys, values = (struct.pack(">hh", 0, 1 if control == "COMMIT" else 0),), (struct.pack(">hi", 0, 0),)
        timestamps, headers = timestamps[:1], None
        offsets = offsets[:1] if offsets is not None else None
    n = len(keys)
    deltas = [o - base_offset for o in offsets] if offsets is not None else list(range(n))
    last = (last_offset - base_offset) if last_offset is not None else (deltas[-1] if deltas else 0)
    base_ts = timestamps[0] if n else -1
    max_ts = max(timestamps) if n else -1
    raw = encode_records(keys, values, timestamps, headers, deltas, base_ts)
    attrs = (TRANSACTIONAL if transactional or control is not None else 0) | (
        CONTROL if control is not None else 0
    )
    if codec != "none" and control is None:  # a control batch is never compressed
        raw = compress(codec, raw)
        attrs |= CODEC_IDS[codec]
    tail = struct.pack(
        ">hiqqqhii", attrs, last, base_ts, max_ts, producer_id, producer_epoch, base_sequence, n
    )
    crc = _crc32c(tail + raw)
    head = struct.pack(">qiibI", base_offset, 49 + len(raw), leader_epoch, MAGIC, crc)
    return head + tail + raw


class BatchEncoder:
    """Encodes the engine's immutable RecordBatch objects for Fetch responses, with a bounded cache (the same
    batch is fetched by every consumer group and every retry)."""

    def __init__(self, capacity: int = 8192) -> None:
        self.capacity = capacity
        self._cache: OrderedDict[int, tuple[object, bytes]] = OrderedDict()

    def encode(self, b) -> bytes:
        key = id(b)
        hit = self._cache.get(key)
        if hit is not None and hit[0] is b:
            self._cache.move_to_end(key)
            return hit[1]
        data = encode_batch(
            b.base_offset,
            b.leader_epoch,
            b.keys,
            b.values,
            b.timestamps,
            b.headers,
            b.offsets,
            b.last_offset,
            b.producer_id,
            b.producer_epoch,
            b.base_sequence,
            b.compression if b.compression in CODEC_IDS else "none",
            getattr(b, "is_transactional", False),
            getattr(b, "control", None),
        )
        self._cache[key] = (b, data)  # holding `b` keeps its id from being reused while cached
        if len(self._cache) > self.capacity:
            self._cache.popitem(last=False)
        return data


__all__ = [
    "WireBatch",
    "decode_batches",
    "encode_batch",
    "BatchEncoder",
    "InvalidRecordError",
    "UnsupportedCompressionError",
    "RecordTooLargeError",
    "MAX_DECOMPRESSED_BYTES",
    "MAX_RECORDS_PER_BATCH",
    "CODECS",
    "BATCH_OVERHEAD",
]
