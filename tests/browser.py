"""Real-browser test plumbing shared by the e2e tests: one `streamlit run app.py` on a free localhost port,
stopped by its own pid, and Debian's Chromium driven by Playwright with the flags from shared/BROWSER.md."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = [
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


def streamlit_app(tmp_path_factory, env: dict[str, str] | None = None):
    """Generator for a module fixture: yields the app's URL once /_stcore/health answers ok. `env`: extra
    environment variables for the app process (e.g. KC_ROOM_STORE)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium): real-browser tests skipped")
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    port = free_port()
    log = open(tmp_path_factory.mktemp("streamlit") / "server.log", "w")  # noqa: SIM115 - closed below
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
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail(f"streamlit did not start on {url}; see {log.name}")
            time.sleep(0.2)
        yield url
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def chromium_browser():
    """Generator for a module fixture: a headless Debian Chromium (Playwright cannot download browsers here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def settled_chart(page, script: str, key: str, tries: int = 60, interval_ms: int = 100) -> dict:
    """A chart as `script` (a JS function of the chart's key returning JSON text, or null while it is not drawn)
    reads it from the page, once two reads `interval_ms` apart agree: plotly draws asynchronously after the
    rerun, so a chart read too early is half drawn."""
    last = None
    for _ in range(tries):
        now = page.evaluate(script, key)
        if now is not None and now == last:
            return json.loads(now)
        last = now
        page.wait_for_timeout(interval_ms)
    raise AssertionError(f"chart {key!r} never settled")
