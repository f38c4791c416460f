"""Must-show 4: random, truncated and mutated frames on many connections never take the server down, and a
well-behaved kafka-python producer on its own connections keeps producing throughout."""

from __future__ import annotations

import logging
import random
import socket
import struct
import threading

import pytest
from conftest import Worker, wait_until
from wire import connect, read_response, request_frame

from engine.server.protocol import SUPPORTED, request_class
from engine.server.recordbatch import encode_batch

kafka = pytest.importorskip("kafka")
from kafka import KafkaProducer  # noqa: E402

pytestmark = pytest.mark.timeout(120)
ATTEMPTS = 600


def _valid_frames(rng: random.Random) -> list[bytes]:
    batch = encode_batch(0, 0, (b"k",), (b"v",), (1,))
    return [
        request_frame(18, 3, {"client_software_name": "fuzz", "client_software_version": "1"}),
        request_frame(
            3,
            12,
            {
                "topics": [{"name": "steady", "topic_id": None}],
                "allow_auto_topic_creation": False,
                "include_topic_authorized_operations": False,
            },
        ),
        request_frame(
            0,
            9,
            {
                "transactional_id": None,
                "acks": -1,
                "timeout": 500,
                "topic_data": [{"name": "steady", "partition_data": [{"index": 0, "records": batch}]}],
            },
        ),
        request_frame(
            1,
            12,
            {
                "replica_id": -1,
                "max_wait": 50,
                "min_bytes": 1,
                "max_bytes": 1 << 20,
                "isolation_level": 0,
                "session_id": 0,
                "session_epoch": -1,
                "topics": [
                    {
                        "topic": "steady",
                        "partitions": [{"partition": 0, "fetch_offset": 0, "partition_max_bytes": 1 << 20}],
                    }
                ],
                "forgotten_topics_data": [],
                "rack_id": "",
            },
        ),
        request_frame(10, 3, {"key": f"fuzz-{rng.randrange(5)}", "key_type": 0}),
        request_frame(
            11,
            7,
            {
                "group_id": "fuzz-group",
                "session_timeout": 6000,
                "rebalance_timeout": 1000,
                "member_id": "",
                "group_instance_id": None,
                "protocol_type": "consumer",
                "protocols": [{"name": "range", "metadata": b"\x00\x01garbage"}],
                "reason": None,
            },
        ),
        request_frame(
            12,
            4,
            {"group_id": "fuzz-group", "generation_id": 3, "member_id": "nobody", "group_instance_id": None},
        ),
        request_frame(9, 7, {"group_id": "fuzz-group", "topics": None, "require_stable": False}),
        request_frame(
            2,
            7,
            {
                "replica_id": -1,
                "isolation_level": 0,
                "topics": [
                    {
                        "name": "steady",
                        "partitions": [{"partition_index": 0, "current_leader_epoch": -1, "timestamp": -3}],
                    }
                ],
            },
        ),
        request_frame(
            32,
            4,
            {
                "resources": [{"resource_type": 2, "resource_name": "steady", "configuration_keys": None}],
                "include_synonyms": True,
                "include_documentation": False,
            },
        ),
    ]


def _one(rng: random.Random, port: int, frames: list[bytes]) -> None:
    kind = rng.randrange(7)
    if kind == 0:  # random garbage, any length prefix
        data = rng.randbytes(rng.randrange(1, 200))
    elif kind == 1:  # a plausible size, random body
        body = rng.randbytes(rng.randrange(0, 300))
        data = struct.pack(">i", len(body)) + body
    elif kind == 2:  # a supported API/version header, then random bytes (reaches the schema parsers)
        key = rng.choice(sorted(SUPPORTED))
        _n, lo, hi = SUPPORTED[key]
        v = rng.randint(lo, hi)
        body = (
            struct.pack(">hhih", key, v, rng.randrange(1 << 31), 4)
            + b"fuzz"
            + rng.randbytes(rng.randrange(60))
        )
        if request_class(key, v).__header_schema__.__version__ >= 2:
            body = body[:12] + b"\x00" + body[12:]  # tagged fields of header v2
        data = struct.pack(">i", len(body)) + body
    elif kind == 3:  # a valid request, truncated (the size prefix claims more than arrives)
        f = rng.choice(frames)
        data = f[: rng.randrange(1, len(f))]
    elif kind == 4:  # a valid request with its size prefix fixed to a truncated body
        f = rng.choice(frames)[4:]
        body = f[: rng.randrange(8, len(f))]
        data = struct.pack(">i", len(body)) + body
    elif kind == 5:  # a valid request with random bytes flipped
        f = bytearray(rng.choice(frames))
        for _ in range(rng.randint(1, 6)):
            i = rng.randrange(4, len(f))
            f[i] = rng.randrange(256)
        data = bytes(f)
    else:  # a huge or negative size
        data = struct.pack(">i", rng.choice([104857601, 2**31 - 1, -1, -(2**31), 0, 3]))
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.settimeout(0.05)
            s.sendall(data)
            try:
                s.recv(65536)
            except (TimeoutError, OSError):
                pass
    except OSError:
        pass


def test_fuzzed_frames_never_take_the_server_down(serve, caplog):
    caplog.set_level(logging.WARNING, logger="engine.server")
    cluster, h = serve(frame_timeout_s=0.5)
    h.call(cluster.create_topic, "steady", 3, 3, {"min.insync.replicas": "2"})
    acked = [0]
    failed: list = []
    stop = threading.Event()

    def produce() -> None:
        p = KafkaProducer(bootstrap_servers=h.bootstrap, acks="all", linger_ms=2, client_id="well-behaved")
        i = 0
        try:
            while not stop.is_set():
                f = p.send("steady", key=str(i % 17).encode(), value=str(i).encode())
                f.add_callback(lambda _md: acked.__setitem__(0, acked[0] + 1))
                f.add_errback(failed.append)
                i += 1
                if i % 50 == 0:
                    p.flush(30)
            p.flush(30)
        finally:
            p.close()

    w = Worker(produce, "well-behaved-producer")
    w.start()
    wait_until(lambda: acked[0] > 100, 30, what="the producer going")
    rng = random.Random(20240907)
    frames = _valid_frames(rng)
    ports = list(h.ports.values())
    during = []
    for n in range(ATTEMPTS):
        _one(rng, rng.choice(ports), frames)
        if n % 100 == 99:
            during.append(acked[0])
    before_end = acked[0]
    wait_until(lambda: acked[0] > before_end + 200, 30, what="the producer still going after the fuzzing")
    stop.set()
    w.finish(60)

    assert h.running
    assert not failed, failed[:3]
    assert during == sorted(during) and during[-1] > during[0], (
        "the producer made progress during the fuzzing"
    )
    # a fresh, well-behaved connection is served as usual
    with connect(h.ports[1]) as s:
        s.sendall(request_frame(18, 3, {"client_software_name": "t", "client_software_version": "1"}, 9))
        assert read_response(s, 18, 3)[0] == 9
    assert h.call(lambda: cluster.losses.lost_count) == 0
    bugs = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not bugs, f"handler errors: {[r.getMessage() for r in bugs[:3]]}"
    assert h.server.connections_closed_bad > ATTEMPTS // 4
