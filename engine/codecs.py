"""Kafka's compression codecs (compression.type): gzip, snappy, lz4 and zstd, compressed as Kafka's Java
client does and decompressed with a bound on the output.

One implementation serves both the simulated producer (`records.compressed_size`, so the batching lesson's
ratios are the real codec's) and the wire server (`engine.server.recordbatch`, what real clients send and
fetch). gzip is the standard library's zlib, as Java's GZIPOutputStream; snappy, lz4 and zstd come from
`cramjam` (one wheel, Rust bindings to the reference libraries). What Kafka writes (KIP-390 default levels):

- gzip: a gzip member, deflate level 6 (Deflater.DEFAULT_COMPRESSION);
- snappy: snappy-java's SnappyOutputStream "xerial" framing (magic, version 1, then 32 KiB blocks each
  prefixed with its 4-byte length); raw snappy (what librdkafka may send) is also accepted when reading, as
  SnappyInputStream does;
- lz4: the LZ4 frame format with independent 64 KiB blocks and no checksums (KafkaLZ4BlockOutputStream,
  KIP-57), level 9;
- zstd: a zstd frame, level 3.

`decompress(codec, data, limit)` never holds more than `limit` + 1 output bytes: the decoder writes into a
buffer of that size (an anonymous mapping, so untouched pages cost nothing) and fails when it would need more;
snappy's block headers announce their length, so those are checked before decoding.
"""

from __future__ import annotations

import mmap
import struct
import zlib
from types import ModuleType

CODECS = ("none", "gzip", "snappy", "lz4", "zstd")
GZIP_LEVEL, LZ4_LEVEL, ZSTD_LEVEL = 6, 9, 3  # KIP-390 defaults (compression.<codec>.level)
XERIAL_MAGIC = b"\x82SNAPPY\x00"
XERIAL_HEADER = XERIAL_MAGIC + struct.pack(">ii", 1, 1)  # SnappyCodec: version 1, min compatible version 1
XERIAL_BLOCK = 32 * 1024  # SnappyOutputStream.DEFAULT_BLOCK_SIZE
# gzip's window: deflate's 32 KiB window (wbits 15) is what Java writes, but for an input that fits a smaller
# window with zlib's MIN_LOOKAHEAD (262 bytes) to spare, deflate makes the same bytes with it: no match can
# reach further back than the input, so the window never slides or limits a match, and the hash table
# (memLevel 8) and the block choices do not depend on the window. The smaller window is ~4x cheaper to set
# up for a batch of ~1 KB (deflateInit allocates and touches 2 x 64 KiB less). (input bytes at most, wbits)
_GZIP_WINDOWS = tuple(((1 << w) - 262, 16 + w) for w in range(9, 15))


def _cramjam() -> ModuleType:
    """cramjam, imported at the first snappy/lz4/zstd use: a plain engine run (no compression) never pays for
    its ~3 MB (issue 21's memory bar)."""
    import cramjam

    return cramjam


class CodecError(ValueError):
    """The compressed bytes are corrupt (Kafka: CORRUPT_MESSAGE)."""


class DecompressedTooLarge(CodecError):
    """The data inflates past the allowed size (a decompression bomb, or a batch too large to accept)."""


def compress(codec: str, data: bytes) -> bytes:
    """`data` compressed as Kafka's Java producer would with `compression.type=codec`."""
    if codec == "none":
        return bytes(data)
    if codec == "gzip":
        n = len(data)
        wbits = 16 + zlib.MAX_WBITS  # a gzip member (16 +), mtime 0
        for most, w in _GZIP_WINDOWS:
            if n <= most:
                wbits = w
                break
        return zlib.compress(data, GZIP_LEVEL, wbits)
    if codec == "snappy":
        cramjam = _cramjam()
        mv = memoryview(data)
        parts = [XERIAL_HEADER]
        for i in range(0, len(mv), XERIAL_BLOCK):
            block = bytes(cramjam.snappy.compress_raw(mv[i : i + XERIAL_BLOCK]))
            parts += (struct.pack(">i", len(block)), block)
        return b"".join(parts)
    if codec == "lz4":
        c = _cramjam().lz4.Compressor(level=LZ4_LEVEL, content_checksum=False, block_linked=False)
        c.compress(data)
        return bytes(c.finish())
    if codec == "zstd":
        return bytes(_cramjam().zstd.compress(data, level=ZSTD_LEVEL))
    raise ValueError(f"unknown compression codec {codec!r}; allowed: {', '.join(CODECS)}")


def decompress(codec: str, data: bytes | memoryview, limit: int) -> bytes | bytearray:
    """`data` decompressed; DecompressedTooLarge if the output would pass `limit` bytes, CodecError if the
    bytes are not valid `codec` data."""
    if codec == "none":
        if len(data) > limit:
            raise DecompressedTooLarge(f"{len(data)} bytes is more than {limit}")
        return bytes(data)
    if codec == "snappy":
        return _snappy(data, limit)
    if codec not in ("gzip", "lz4", "zstd"):
        raise ValueError(f"unknown compression codec {codec!r}; allowed: {', '.join(CODECS)}")
    cramjam = _cramjam()
    fn = {
        "gzip": cramjam.gzip.decompress_into,
        "lz4": cramjam.lz4.decompress_into,
        "zstd": cramjam.zstd.decompress_into,
    }[codec]
    out = mmap.mmap(-1, limit + 1)  # pages are only touched as the decoder writes them
    try:
        try:
            n = fn(data, out)
        except cramjam.DecompressionError as exc:
            if "write whole buffer" in str(exc):
                raise DecompressedTooLarge(f"{codec} data inflates past {limit} bytes") from None
            raise CodecError(f"{codec} data is corrupt: {exc}") from None
        if n > limit:
            raise DecompressedTooLarge(f"{codec} data inflates past {limit} bytes")
        return out[:n]
    finally:
        out.close()


def _snappy(data: bytes | memoryview, limit: int) -> bytes | bytearray:
    """xerial-framed snappy (SnappyInputStream) or, without the magic, one raw snappy block."""
    cramjam = _cramjam()
    mv = memoryview(data)
    blocks: list[memoryview] = []
    if bytes(mv[:8]) == XERIAL_MAGIC:
        pos = 16
        while pos < len(mv):
            if pos + 4 > len(mv):
                raise CodecError("snappy data is corrupt: a block length is cut short")
            (n,) = struct.unpack_from(">i", mv, pos)
            if n < 0 or pos + 4 + n > len(mv):
                raise CodecError("snappy data is corrupt: a block runs past the end")
            blocks.append(mv[pos + 4 : pos + 4 + n])
            pos += 4 + n
    else:
        blocks.append(mv)
    total = 0
    try:
        sizes = [cramjam.snappy.decompress_raw_len(b) for b in blocks]  # the block header says how long
    except cramjam.DecompressionError as exc:
        raise CodecError(f"snappy data is corrupt: {exc}") from None
    total = sum(sizes)
    if total > limit:
        raise DecompressedTooLarge(f"snappy data inflates to {total} bytes, past {limit}")
    out = bytearray(total)
    view = memoryview(out)
    pos = 0
    try:
        for b, n in zip(blocks, sizes, strict=True):
            cramjam.snappy.decompress_raw_into(b, view[pos : pos + n])
            pos += n
    except cramjam.DecompressionError as exc:
        raise CodecError(f"snappy data is corrupt: {exc}") from None
    finally:
        view.release()
    return bytes(out) if total < 1 << 16 else out  # a big one is not copied again


__all__ = ["CODECS", "CodecError", "DecompressedTooLarge", "compress", "decompress"]
