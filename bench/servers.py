"""The servers the browser benchmarks start on free loopback ports and stop by their own pids: `streamlit run
app.py` (step_browser, lecture_hall, and the browser tests' fixture in tests/browser.py, which adds pytest's
skip/fail around it) and a throw-away `redis-server` (lecture_hall --processes 2). No pytest here: bench runs
without it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = [  # Debian's Chromium under Playwright, with the flags from shared/BROWSER.md
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_streamlit(
    log: Path, env: dict[str, str] | None = None, timeout: float = 60.0
) -> tuple[subprocess.Popen, str]:
    """The app's process and URL once /_stcore/health answers ok; its output goes to `log`. `env`: extra
    environment variables (e.g. KC_ROOM_STORE). RuntimeError naming the log if it is not up within `timeout`
    seconds or exits first."""
    port = free_port()
    with open(log, "w") as out:  # the child keeps its own copy of the file
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.headless=true",
                f"--server.port={port}",
                "--server.address=127.0.0.1",
                "--browser.gatherUsageStats=false",
                "--server.fileWatcherType=none",
            ],
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        return urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok"

    wait_up(proc, healthy, timeout, 0.2, f"streamlit did not start on {url}; see {log}")
    return proc, url


def start_redis(workdir: Path) -> tuple[subprocess.Popen, str]:
    """A redis-server persisting nothing (`--save '' --appendonly no`) and its URL once it answers PING."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).exists():
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    args = [
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(workdir),
        "--save",
        "",
        "--appendonly",
        "no",
    ]
    proc = subprocess.Popen([binary, *args], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

    def pong() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")

    wait_up(proc, pong, 20, 0.05, f"redis-server did not start on port {port}")
    return proc, f"redis://127.0.0.1:{port}/0"


def wait_up(
    proc: subprocess.Popen, ready: Callable[[], bool], timeout: float, every: float, failure: str
) -> None:
    """Poll `ready` (an OSError counts as not yet) every `every` seconds; RuntimeError(`failure`), the process
    stopped, if it is not ready within `timeout` seconds or exits first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if ready():
                return
        except OSError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            stop(proc)
            raise RuntimeError(failure)
        time.sleep(every)


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL after 15 s; nothing if it has already exited."""
    if proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
