"""A throw-away `redis-server` for the room store's tests: Debian's binary on a free loopback port, in a
temporary directory, persisting nothing (`--save '' --appendonly no`), stopped by its own pid. Tests skip
with the reason when the binary is absent (`python3 tasks.py test` installs it)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

REDIS_SERVER = "redis-server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """One redis-server process; `restart()` stops it and starts a fresh, empty one on the same port."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which(REDIS_SERVER) or (
            "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
        )
        if binary is None:
            pytest.skip(
                "redis-server is not installed (apt-get install redis-server): Redis room store tests skipped"
            )
        pytest.importorskip("redis", reason="the redis client package is not installed")
        self.binary, self.workdir, self.port = binary, workdir, free_port()
        self.proc: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.log = open(self.workdir / "redis.log", "a")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.workdir),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        import redis

        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 20
        while True:
            try:
                if client.ping():
                    break
            except redis.exceptions.RedisError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                pytest.fail(
                    f"redis-server did not start on port {self.port}; see {self.workdir / 'redis.log'}"
                )
            time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        if self.proc is None:
            return
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None
        self.log.close()

    def restart(self) -> None:
        self.stop()
        self.start()

    def flush(self) -> None:
        import redis

        redis.Redis.from_url(self.url).flushdb()


def redis_server(tmp_path_factory):
    """Generator for a fixture: a running RedisServer, stopped afterwards."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()
