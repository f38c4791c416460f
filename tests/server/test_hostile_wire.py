"""A hostile or buggy client cannot take `python -m engine.server` down (issue 18.1).

Each test starts the server as a subprocess (as a user would), sends one kind of hostile input, and checks
what a user of the machine and of the other clients would notice: the server's resident memory (VmRSS from
/proc) stays within BUDGET of its baseline during the burst and comes back near it afterwards, and a
well-behaved kafka-python client still produces and consumes. The budget is this test's figure; no timing is
asserted. SIGTERM stops the server cleanly.
"""

from __future__ import annotations

import os
import re
import resource
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import pytest
from wire import connect, read_response, request_frame

kafka = pytest.importorskip("kafka")
cramjam = pytest.importorskip("cramjam")
from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402

from engine.server.recordbatch import _crc32c  # noqa: E402

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads RSS from /proc"),
]
ROOT = Path(__file__).resolve().parents[2]
MiB = 1 << 20
BUDGET = 64 * MiB  # the server's RSS may grow this much over its baseline during a hostile burst
SETTLED = 24 * MiB  # ... and must come back within this much of it afterwards
FLOOD = 1000  # connections opened at once


def _rss(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} for process {pid}")


class Server:
    """`python -m engine.server` on free ports, with an RSS sampler."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "engine.server", "--port", "0", "--brokers", "1", "--quiet"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        line = self.proc.stdout.readline()
        m = re.search(r"at (\S+):(\d+)", line)
        assert m, f"the server did not start: {line!r} {self.proc.stderr.read() if self.proc.poll() else ''}"
        self.bootstrap = f"{m.group(1)}:{m.group(2)}"
        self.port = int(m.group(2))
        self.peak = 0
        self._sampling = False

    def rss(self) -> int:
        return _rss(self.proc.pid)

    def watch(self):
        """A context manager sampling the server's RSS until it exits; `self.peak` is the highest seen."""
        server = self

        class _Watch:
            def __enter__(self):
                server.peak = server.rss()
                server._sampling = True
                # the kernel's own high-water mark, reset now, catches peaks between two samples
                try:
                    Path(f"/proc/{server.proc.pid}/clear_refs").write_text("5")
                    self.hwm = True
                except OSError:
                    self.hwm = False
                self.thread = threading.Thread(target=self._sample, daemon=True)
                self.thread.start()
                return self

            def _sample(self):
                while server._sampling:
                    server.peak = max(server.peak, server.rss())
                    time.sleep(0.005)

            def __exit__(self, *exc):
                server._sampling = False
                self.thread.join()
                if self.hwm:
                    server.peak = max(server.peak, _rss(server.proc.pid, "VmHWM"))

        return _Watch()

    def stop(self) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            _out, err = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _out, err = self.proc.communicate()
        return self.proc.returncode, err


@pytest.fixture
def server():
    s = Server()
    yield s
    s.stop()


def _clients_work(bootstrap: str, topic: str, n: int = 20) -> None:
    """A valid kafka-python producer and consumer: every record sent is read back."""
    prod = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, request_timeout_ms=20000)
    try:
        for i in range(n):
            prod.send(topic, key=b"k", value=f"v{i}".encode())
        prod.flush(30)
    finally:
        prod.close()
    cons = KafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=15000)
    try:
        tps = [TopicPartition(topic, p) for p in sorted(cons.partitions_for_topic(topic) or {0})]
        cons.assign(tps)
        got = []
        for rec in cons:
            got.append(rec.value)
            if len(got) >= n:
                break
        assert sorted(got) == sorted(f"v{i}".encode() for i in range(n))
    finally:
        cons.close()


def _baseline(server: Server) -> int:
    """RSS once the server has served a real client (its imports and first requests are paid for)."""
    _clients_work(server.bootstrap, "warmup")
    return server.rss()


def _batch(codec: int, payload: bytes) -> bytes:
    """A v2 record batch header around `payload` (claimed: 1 record, compressed with `codec`)."""
    tail = struct.pack(">hiqqqhii", codec, 0, 0, 0, -1, -1, -1, 1)
    head = struct.pack(">qiibI", 0, 49 + len(payload), 0, 2, _crc32c(tail + payload))
    return head + tail + payload


def _bomb(codec: str) -> bytes:
    """Zeros compressed in a stream, so the test never holds the inflated size: each inflates past the
    server's 16 MiB cap while staying under max.message.bytes (1 MiB) compressed."""
    zero = bytes(MiB)
    if codec == "gzip":
        z = zlib.compressobj(9, zlib.DEFLATED, 31)
        data = b"".join(z.compress(zero) for _ in range(256)) + z.flush()  # 256 MiB
        return _batch(1, data)
    if codec == "snappy":  # snappy compresses at most ~21:1: 18 MiB of zeros in xerial blocks
        block = bytes(cramjam.snappy.compress_raw(bytes(32 * 1024)))
        head = b"\x82SNAPPY\x00" + struct.pack(">ii", 1, 1)
        return _batch(2, head + (struct.pack(">i", len(block)) + block) * (18 * 32))
    c = {"lz4": cramjam.lz4.Compressor, "zstd": cramjam.zstd.Compressor}[codec]()
    for _ in range(128 if codec == "lz4" else 256):
        c.compress(zero)
    return _batch(3 if codec == "lz4" else 4, bytes(c.finish()))


def _produce_frame(topic: str, records: bytes, correlation_id: int) -> bytes:
    body = {
        "transactional_id": None,
        "acks": -1,
        "timeout": 5000,
        "topic_data": [{"name": topic, "partition_data": [{"index": 0, "records": records}]}],
    }
    return request_frame(0, 9, body, correlation_id)


def _create(server: Server, topic: str) -> None:
    with connect(server.port) as s:
        s.sendall(request_frame(3, 9, {"topics": [{"name": topic}], "allow_auto_topic_creation": True}, 1))
        read_response(s, 3, 9)
    time.sleep(0.5)  # the new partition gets its leader


def test_decompression_bombs_are_refused_for_every_codec(server):
    """A Produce whose batch inflates to 18-256 MiB gets RECORD_TOO_LARGE (10) on the same connection, which
    keeps working; the server never holds the inflated bytes."""
    base = _baseline(server)
    _create(server, "bombs")
    bombs = {codec: _bomb(codec) for codec in ("gzip", "snappy", "lz4", "zstd")}
    codes = {}
    with server.watch(), connect(server.port, timeout=30) as s:
        for i, (codec, bomb) in enumerate(bombs.items()):
            assert len(bomb) < 1048588, codec  # under max.message.bytes: the decompressed cap must catch it
            s.sendall(_produce_frame("bombs", bomb, 10 + i))
            cid, resp = read_response(s, 0, 9)
            assert cid == 10 + i
            codes[codec] = int(resp.responses[0].partition_responses[0].error_code)
    assert server.peak - base < BUDGET, f"peak RSS +{(server.peak - base) / MiB:.0f} MiB"
    assert codes == {"gzip": 10, "snappy": 10, "lz4": 10, "zstd": 10}
    _clients_work(server.bootstrap, "after-bombs")
    assert server.rss() - base < SETTLED, f"RSS stayed +{(server.rss() - base) / MiB:.0f} MiB"


def test_pipelined_big_frames_wait_in_the_socket_not_in_memory(server):
    """Ten 16 MiB Produce frames pipelined behind a long-poll Fetch: the server reads one request at a time
    (Kafka mutes the connection), so at most one big frame is in its memory; each is then answered
    RECORD_TOO_LARGE (the batch is larger than max.message.bytes)."""
    base = _baseline(server)
    _create(server, "pipe")
    big = _produce_frame("pipe", _batch(0, bytes(16 * MiB)), 0)
    fetch = request_frame(
        1,
        11,
        {
            "replica_id": -1,
            "max_wait": 3000,
            "min_bytes": 1 << 20,  # nothing to read: the fetch waits out max_wait
            "max_bytes": 1 << 20,
            "isolation_level": 0,
            "session_id": 0,
            "session_epoch": -1,
            "topics": [
                {
                    "topic": "pipe",
                    "partitions": [
                        {
                            "partition": 0,
                            "current_leader_epoch": -1,
                            "fetch_offset": 0,
                            "log_start_offset": -1,
                            "partition_max_bytes": 1 << 20,
                        }
                    ],
                }
            ],
            "forgotten_topics_data": [],
            "rack_id": "",
        },
        1,
    )
    with server.watch(), connect(server.port, timeout=60) as s:
        sent = threading.Event()

        def send() -> None:
            s.sendall(fetch)
            for i in range(10):
                s.sendall(big[:4] + big[4:8] + struct.pack(">i", 100 + i) + big[12:])
            sent.set()

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        assert read_response(s, 1, 11)[0] == 1
        codes = []
        for i in range(10):
            cid, resp = read_response(s, 0, 9)
            assert cid == 100 + i
            codes.append(int(resp.responses[0].partition_responses[0].error_code))
        sender.join(30)
        assert sent.is_set()
    assert server.peak - base < BUDGET, f"peak RSS +{(server.peak - base) / MiB:.0f} MiB"
    assert codes == [10] * 10
    _clients_work(server.bootstrap, "after-pipeline")
    assert server.rss() - base < SETTLED, f"RSS stayed +{(server.rss() - base) / MiB:.0f} MiB"


@pytest.fixture
def many_files():
    """Room for FLOOD client sockets here and FLOOD server sockets in the subprocess (which inherits it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 2 * FLOOD + 200
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            pytest.skip(f"the open-files limit ({hard}) is below the {need} this test needs")
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_flood_of_connections(many_files, server):
    """1,000 connections at once, each sending half a request and then nothing: memory stays bounded, and a
    valid client is served meanwhile and after they go."""
    base = _baseline(server)
    socks: list[socket.socket] = []
    with server.watch():
        try:
            for _ in range(FLOOD):
                s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
                s.sendall(struct.pack(">i", 50 * MiB) + b"\x00\x00")  # claims a 50 MiB frame, sends 2 bytes
                socks.append(s)
            _clients_work(server.bootstrap, "during-flood")
        finally:
            for s in socks:
                s.close()
    assert len(socks) == FLOOD
    assert server.peak - base < BUDGET, f"peak RSS +{(server.peak - base) / MiB:.0f} MiB"
    _clients_work(server.bootstrap, "after-flood")
    assert server.rss() - base < SETTLED, f"RSS stayed +{(server.rss() - base) / MiB:.0f} MiB"


def test_sigterm_stops_the_server_cleanly(server):
    """SIGTERM while a consumer is long-polling: exit code 0, and no asyncio complaint (a task destroyed
    while pending) or traceback on stderr."""
    _clients_work(server.bootstrap, "before-stop")
    cons = KafkaConsumer(bootstrap_servers=server.bootstrap, fetch_max_wait_ms=2000)
    cons.assign([TopicPartition("before-stop", 0)])
    cons.poll(timeout_ms=500)  # connected, fetching
    code, err = server.stop()
    cons.close()
    assert code == 0, err
    assert "Task was destroyed" not in err and "Traceback" not in err, err
