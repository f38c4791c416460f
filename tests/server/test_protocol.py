"""The codec and the server's edges: record batches, API versions, unsupported APIs, bad frames."""

from __future__ import annotations

import struct

import pytest
from conftest import wait_until
from wire import closed_by_server, connect, read_frame, read_response, request_frame

from engine.server.protocol import SUPPORTED, parse_request
from engine.server.recordbatch import (
    BatchEncoder,
    InvalidRecordError,
    RecordTooLargeError,
    UnsupportedCompressionError,
    decode_batches,
    encode_batch,
)

pytestmark = pytest.mark.timeout(60)


# -- record batches -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4", "zstd"])
def test_record_batch_roundtrip(codec):
    keys = (b"k1", None, b"", b"k4" * 100)
    values = (b"v1", b"v2", None, b"x" * 5000)
    stamps = (1_700_000_000_000, 1_700_000_000_005, 1_699_999_999_999, 1_700_000_000_010)
    headers = ((), (("trace", b"abc"), ("empty", None)), (), (("h", b""),))
    data = encode_batch(
        42, 3, keys, values, stamps, headers, producer_id=7, producer_epoch=1, base_sequence=10, codec=codec
    )
    (b,) = decode_batches(data)
    assert (b.keys, b.values, b.timestamps, b.headers) == (keys, values, stamps, headers)
    assert (b.base_offset, b.partition_leader_epoch, b.producer_id, b.producer_epoch, b.base_sequence) == (
        42,
        3,
        7,
        1,
        10,
    )
    assert b.codec == codec and b.last_offset_delta == 3 and b.max_timestamp == max(stamps)
    assert b.wire_bytes == len(data)
    assert (b.size_bytes > b.wire_bytes) == (codec != "none")


def test_compacted_batch_keeps_offsets():
    data = encode_batch(100, 0, (b"a", b"b"), (b"1", b"2"), (5, 6), offsets=(100, 107), last_offset=109)
    (b,) = decode_batches(data)
    assert b.offset_deltas == (0, 7) and b.last_offset_delta == 9


def test_bad_batches_are_refused():
    good = encode_batch(0, 0, (b"k",), (b"v",), (1,))
    corrupt = bytearray(good)
    corrupt[-1] ^= 0xFF
    with pytest.raises(InvalidRecordError, match="CRC"):
        decode_batches(bytes(corrupt))
    with pytest.raises(InvalidRecordError):
        decode_batches(good[:-3])
    old_magic = bytearray(good)
    old_magic[16] = 1
    with pytest.raises(InvalidRecordError, match="magic"):
        decode_batches(bytes(old_magic))
    from engine.server.recordbatch import _crc32c

    for codec in (2, 3, 4, 1):  # plain records labelled snappy, lz4, zstd, gzip: not valid compressed data
        labelled = bytearray(good)
        struct.pack_into(">h", labelled, 21, codec)
        struct.pack_into(">I", labelled, 17, _crc32c(bytes(labelled[21:])))
        with pytest.raises(InvalidRecordError) as exc:
            decode_batches(bytes(labelled))
        assert exc.value.code == 2, codec  # CORRUPT_MESSAGE
    unknown = bytearray(good)
    struct.pack_into(">h", unknown, 21, 5)  # codec 5 does not exist
    struct.pack_into(">I", unknown, 17, _crc32c(bytes(unknown[21:])))
    with pytest.raises(UnsupportedCompressionError) as exc:
        decode_batches(bytes(unknown))
    assert exc.value.code == 76


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
def test_size_limits_of_a_batch(codec):
    """max.message.bytes is checked on the batch as sent, before decompressing; a batch that inflates past the
    cap (a decompression bomb) is RECORD_TOO_LARGE, whatever the codec."""
    values = (b"\0" * (1 << 20),) * 20  # 20 MiB of zeros: a few KiB compressed
    bomb = encode_batch(0, 0, (None,) * 20, values, (1,) * 20, codec=codec)
    assert len(bomb) < 1 << 20
    with pytest.raises(RecordTooLargeError, match="inflates past") as exc:
        decode_batches(bomb, 1048588)
    assert exc.value.code == 10
    with pytest.raises(RecordTooLargeError, match="max.message.bytes") as exc:
        decode_batches(bomb, len(bomb) - 1)
    (b,) = decode_batches(bomb, 1048588, max_decompressed=32 << 20)
    assert b.values == values and b.codec == codec


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
def test_batches_agree_with_kafka_python(codec):
    """Our encoder and decoder against kafka-python's own v2 record code (an independent implementation), for
    every codec: xerial snappy, LZ4 frames, zstd frames."""
    kr = pytest.importorskip("kafka.record.default_records")
    builder = kr.DefaultRecordBatchBuilder(
        magic=2,
        compression_type={"gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}[codec],
        is_transactional=False,
        producer_id=5,
        producer_epoch=0,
        base_sequence=3,
        batch_size=1 << 20,
    )
    for i in range(20):
        builder.append(
            i,
            timestamp=1000 + i,
            key=f"k{i}".encode(),
            value=f"v{i}:{'x' * 100}".encode(),  # compressible, or kafka-python sends it plain
            headers=[("h", b"x")] if i % 2 else [],
        )
    (b,) = decode_batches(bytes(builder.build()))
    assert b.keys == tuple(f"k{i}".encode() for i in range(20)) and b.codec == codec
    assert b.headers[1] == (("h", b"x"),) and b.timestamps[-1] == 1019 and b.base_sequence == 3
    ours = encode_batch(
        9,
        2,
        b.keys,
        b.values,
        b.timestamps,
        b.headers,
        producer_id=5,
        producer_epoch=0,
        base_sequence=3,
        codec=codec,
    )
    theirs = kr.DefaultRecordBatch(ours)
    assert theirs.compression_type == {"gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}[codec]
    assert theirs.validate_crc()
    recs = list(theirs)
    assert [r.offset for r in recs] == list(range(9, 29))
    assert [r.key for r in recs] == list(b.keys) and recs[1].headers == [("h", b"x")]


def test_encoder_cache_reuses_bytes():
    from engine.records import RecordBatch

    rb = RecordBatch(5, 0, (b"k",), (b"v",), (1,), None, -1, -1, -1, 70, "none", 70)
    enc = BatchEncoder(capacity=2)
    first = enc.encode(rb)
    assert enc.encode(rb) is first
    (b,) = decode_batches(first)
    assert b.base_offset == 5 and b.keys == (b"k",)


# -- framing and versions ----------------------------------------------------------------------------------
def test_parse_request_header_and_unknown_api():
    frame = request_frame(18, 3, {"client_software_name": "t", "client_software_version": "1"}, 77)[4:]
    req = parse_request(frame)
    assert (req.api_key, req.api_version, req.correlation_id, req.client_id) == (18, 3, 77, "wire-test")
    assert req.supported
    odd = struct.pack(">hhih", 999, 0, 5, 1) + b"x"
    req = parse_request(odd)
    assert req.body is None and not req.supported and req.correlation_id == 5 and req.client_id == "x"


def test_api_versions_and_unsupported(serve):
    _cluster, h = serve()
    port = h.ports[1]
    with connect(port) as s:
        s.sendall(request_frame(18, 3, {"client_software_name": "t", "client_software_version": "1"}, 1))
        corr, body = read_response(s, 18, 3)
        assert corr == 1 and body.error_code == 0
        advertised = {k.api_key: (k.min_version, k.max_version) for k in body.api_keys}
        assert advertised == {k: (lo, hi) for k, (_n, lo, hi) in SUPPORTED.items()}
        # a newer ApiVersions than we know: a v0 answer with UNSUPPORTED_VERSION and our list (KIP-511)
        s.sendall(struct.pack(">ihhih", 10, 18, 99, 2, 0))
        corr, body = read_response(s, 18, 0)
        assert corr == 2 and body.error_code == 35 and len(body.api_keys) == len(SUPPORTED)
        # an API we do not speak (DescribeAcls v1): answered with error 35, the connection stays open
        s.sendall(
            request_frame(
                29,
                1,
                {"resource_type_filter": 1, "pattern_type_filter": 3, "operation": 1, "permission_type": 1},
                3,
            )
        )
        corr, body = read_response(s, 29, 1)
        assert corr == 3 and body.error_code == 35
        # a Produce version below Kafka 4's minimum, and an API key nobody knows: still answered
        s.sendall(struct.pack(">ihhih", 10, 0, 2, 4, 0))
        frame = read_frame(s)
        assert struct.unpack(">ih", frame[:6]) == (4, 35)
        s.sendall(struct.pack(">ihhih", 10, 999, 0, 5, 0))
        assert struct.unpack(">ih", read_frame(s)[:6]) == (5, 35)
        # and the connection still works
        s.sendall(
            request_frame(
                3,
                12,
                {
                    "topics": None,
                    "allow_auto_topic_creation": False,
                    "include_topic_authorized_operations": False,
                },
                6,
            )
        )
        corr, body = read_response(s, 3, 12)
        assert corr == 6 and sorted(b.node_id for b in body.brokers) == [1, 2, 3]
        assert {b.port for b in body.brokers} == set(h.ports.values())


def test_pipelined_requests_answered_in_order(serve):
    _c, h = serve()
    with connect(h.ports[2]) as s:
        s.sendall(b"".join(request_frame(18, 2, {}, i) for i in range(20)))
        assert [read_response(s, 18, 2)[0] for _ in range(20)] == list(range(20))


def test_acks0_produce_gets_no_response(serve):
    cluster, h = serve()
    h.call(cluster.create_topic, "fire", 1, 1)
    leader = h.call(lambda: cluster.controller.partitions[("fire", 0)].leader)
    # acks=0 to a broker that does not lead yet would be dropped silently, as in Kafka: wait for LeaderAndIsr
    wait_until(lambda: h.call(cluster.leader_replica, ("fire", 0)) is not None, 10, what="the leader")
    batch = encode_batch(0, 0, (b"k",), (b"v",), (1,))
    with connect(h.ports[leader]) as s:
        s.sendall(
            request_frame(
                0,
                9,
                {
                    "transactional_id": None,
                    "acks": 0,
                    "timeout": 1000,
                    "topic_data": [{"name": "fire", "partition_data": [{"index": 0, "records": batch}]}],
                },
                1,
            )
        )
        s.sendall(request_frame(18, 2, {}, 2))
        assert read_response(s, 18, 2)[0] == 2  # the next answer is the next request's
    wait_until(lambda: h.call(lambda: cluster.leader_replica(("fire", 0)).leo) == 1, 10, what="acks=0 append")
    assert h.call(lambda: cluster.producers["wire-test"].acked) == 1


def test_bad_frames_close_only_their_connection(serve):
    _c, h = serve(frame_timeout_s=1.0)
    port = h.ports[1]
    good = connect(port)
    try:
        with connect(port) as s:  # larger than socket.request.max.bytes
            s.sendall(struct.pack(">i", 104857600 + 1))
            assert closed_by_server(s, 5)
        with connect(port) as s:  # negative size
            s.sendall(struct.pack(">i", -5))
            assert closed_by_server(s, 5)
        with connect(port) as s:  # a Metadata request whose body does not parse
            s.sendall(struct.pack(">ihhih", 12, 3, 12, 9, 0) + b"\xff\xff")
            assert closed_by_server(s, 5)
        with connect(port) as s:  # stalls in the middle of a frame
            s.sendall(struct.pack(">i", 100) + b"\x00\x12\x00\x02")
            assert closed_by_server(s, 5)
        good.sendall(request_frame(18, 2, {}, 42))
        assert read_response(good, 18, 2)[0] == 42
    finally:
        good.close()


def test_record_counts_are_checked():
    """A compressed batch may hold more records than it has bytes; one declaring more than the server's cap is
    refused from its header; one holding more records than it declares is corrupt (as Kafka's
    DefaultRecordBatch says)."""
    from engine.server.recordbatch import MAX_RECORDS_PER_BATCH, _crc32c

    many = encode_batch(0, 0, (None,) * 5000, (b"",) * 5000, (1,) * 5000, codec="zstd")
    assert len(many) < 5000
    assert decode_batches(many)[0].count == 5000
    over = bytearray(encode_batch(0, 0, (b"k",), (b"v",), (1,)))
    struct.pack_into(">i", over, 57, MAX_RECORDS_PER_BATCH + 1)  # the record count field
    with pytest.raises(RecordTooLargeError, match="records"):
        decode_batches(bytes(over))
    two = bytearray(encode_batch(0, 0, (b"a", b"b"), (b"1", b"2"), (1, 2)))
    struct.pack_into(">i", two, 57, 1)  # declares one record, holds two
    struct.pack_into(">I", two, 17, _crc32c(bytes(two[21:])))
    with pytest.raises(InvalidRecordError, match="more records"):
        decode_batches(bytes(two))
