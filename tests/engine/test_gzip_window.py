"""gzip batches are compressed with a window sized to the batch (cheaper to set up), and the bytes are exactly
those of Kafka's 32 KiB-window gzip: the batching lesson's wire sizes and compression ratios do not move."""

from __future__ import annotations

import random
import zlib

from engine.codecs import compress, decompress


def _java_like_gzip(data: bytes) -> bytes:
    """GZIPOutputStream's deflate: level 6, a 32 KiB window (wbits 15), memLevel 8."""
    z = zlib.compressobj(6, zlib.DEFLATED, 16 + 15)
    return z.compress(data) + z.flush()


def _inputs() -> list[bytes]:
    rng = random.Random(21)
    lengths = list(range(0, 300, 7))
    # every window boundary the codec chooses at (2**w - 262 bytes), either side of it
    lengths += [(1 << w) - 262 + d for w in range(9, 16) for d in (-2, -1, 0, 1, 2)]
    lengths += [rng.randrange(40_000) for _ in range(12)]
    out = []
    for n in lengths:
        out.append(rng.randbytes(n))  # incompressible
        out.append(b"." * n)  # one long run: the longest hash chains
        out.append(bytes(rng.choice(b"abc.....") for _ in range(n)))
        # what the lessons' load generator sends: "p1-<n>" padded with dots, back to back
        out.append(b"".join(f"p1-{i}".encode().ljust(40, b".") for i in range(n // 40 + 1))[:n])
    return out


def test_gzip_bytes_are_the_32k_window_bytes():
    for data in _inputs():
        out = compress("gzip", data)
        assert out == _java_like_gzip(data), f"{len(data)} bytes: {data[:40]!r}..."
        assert decompress("gzip", out, len(data)) == data
