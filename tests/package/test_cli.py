"""`kafka-classroom` (issue 22): `app`, `serve` and `lessons` with --help on each, what each prints, and the
installed app's entry script."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

from kafka_classroom.cli import APP_SCRIPT, STREAMLIT_CONFIG, main

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(180)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # --help and usage errors exit through argparse
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_help_lists_the_three_commands(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert out.startswith("usage: kafka-classroom [-h] COMMAND ...")
    for cmd in ("app", "serve", "lessons"):
        assert f"\n    {cmd} " in out, out


@pytest.mark.parametrize(
    "cmd, must",
    [
        ("app", ["usage: kafka-classroom app", "--port"]),
        ("serve", ["usage: kafka-classroom serve", "--brokers", "--port", "--scenario", "--controller"]),
        ("lessons", ["usage: kafka-classroom lessons", "check", "list", "export"]),
    ],
)
def test_help_of_each_command_under_its_own_name(capsys, cmd, must):
    code, out, _ = run(capsys, cmd, "--help")
    assert code == 0
    for m in must:
        assert m in out, (m, out)


def test_an_unknown_command_names_the_choices(capsys):
    code, _, err = run(capsys, "server")
    assert code == 2
    assert "invalid choice: 'server'" in err and "'serve'" in err


def test_lessons_list_shows_the_course(capsys):
    code, out, _ = run(capsys, "lessons", "list")
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == len(list((ROOT / "lessons" / "course").glob("*.yaml")))
    assert lines[0].split()[:2] == ["1.", "brokers-producers-consumers"]


def test_serve_bad_input_names_the_field(capsys):
    code, _, err = run(capsys, "serve", "--brokers", "0", "--port", "0")
    assert code == 2
    assert "brokers must be a whole number from 1 to 12, got 0" in err
    code, _, err = run(capsys, "serve", "--controller", "raft")
    assert code == 2 and "invalid choice: 'raft'" in err


def test_serve_runs_the_wire_server_until_stopped(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "kafka_classroom", "serve", "--brokers", "2", "--port", "0", "--quiet"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline()
        assert first.startswith("Kafka Classroom: 2 simulated broker(s) at 127.0.0.1:"), first
        ports = [int(hp.rsplit(":", 1)[1]) for hp in first.split(" at ", 1)[1].strip().split(",")]
        for port in ports:  # each broker listens
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
    finally:
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=30)
    assert rc == 0, proc.stderr.read()


def _flatten(d: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out |= _flatten(v, f"{prefix}{k}.")
        else:
            out[f"{prefix}{k}"] = str(v).lower() if isinstance(v, bool) else str(v)
    return out


def test_the_installed_app_gets_the_checkouts_streamlit_config():
    """`kafka-classroom app` starts from any folder, where .streamlit/config.toml is not found: it passes the
    same settings as options."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert STREAMLIT_CONFIG == _flatten(config)


def test_the_app_entry_script_renders_every_page():
    from streamlit.testing.v1 import AppTest

    from ui.navigation import page

    at = AppTest.from_file(str(APP_SCRIPT), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    for name in ("playground", "lessons_page", "compare_page", "room_page"):
        at.switch_page(page(name)).run()
        assert not at.exception, (name, at.exception)


def test_app_starts_streamlit_from_any_folder(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "kafka_classroom", "app", "--port", str(port), "--server.address=127.0.0.1"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        deadline, health = time.monotonic() + 60, b""
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read()
                break
            except OSError:
                time.sleep(0.3)
        assert health == b"ok", proc.stderr.read() if proc.poll() is not None else "no answer in 60 s"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    # SIGTERM to `kafka-classroom app` stopped Streamlit itself: nothing is left answering on the port
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
