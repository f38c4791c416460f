"""`kafka-classroom`: one command for the installed package (issue 22).

    kafka-classroom app [--port 8501] [STREAMLIT OPTIONS...]   the Streamlit app
    kafka-classroom serve [--brokers 3] [--port 9092] ...      the Kafka wire server (python -m engine.server)
    kafka-classroom lessons check|list|export ...              the lessons tool (python -m lessons)

`serve` and `lessons` are the module commands under one name, with the same options; `--help` on each.
Nothing heavy is imported before a subcommand needs it.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

PROG = "kafka-classroom"
APP_SCRIPT = Path(__file__).resolve().parent / "app.py"
# The checkout's .streamlit/config.toml, as command-line options: an installed app is started from any folder,
# where Streamlit would not find that file. tests/package/test_cli.py keeps the two the same.
STREAMLIT_CONFIG = {
    "server.headless": "true",
    "browser.gatherUsageStats": "false",
    "theme.base": "light",
    "theme.primaryColor": "#0072B2",
    "theme.backgroundColor": "#FFFFFF",
    "theme.secondaryBackgroundColor": "#F2F4F7",
    "theme.textColor": "#1F2430",
    "theme.font": "sans serif",
    "client.toolbarMode": "minimal",
    "runner.postScriptGC": "false",
}


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog=PROG,
        description="Kafka Classroom: a deterministic simulation of an Apache Kafka cluster, its teaching app, "
        "a Kafka wire server for real clients, and the lessons tool.",
        epilog="Run `kafka-classroom COMMAND --help` for a command's options. In your own tests, the pytest "
        "fixtures kafka_cluster and kafka_bootstrap are there once the package is installed (docs/testing.md).",
    )
    sub = ap.add_subparsers(dest="cmd", metavar="COMMAND", required=True)
    app = sub.add_parser(
        "app",
        help="run the Streamlit app (http://localhost:8501)",
        description="Run the Kafka Classroom app with Streamlit. Options not listed here go to `streamlit run` "
        "(e.g. --server.address 127.0.0.1).",
    )
    app.add_argument("--port", type=int, default=None, help="the app's port (Streamlit's default: 8501)")
    sub.add_parser(
        "serve",
        help="serve a simulated cluster to real Kafka clients (kafka-python, confluent-kafka, the Kafka CLI)",
        add_help=False,
    )
    sub.add_parser("lessons", help="check, list or export the lessons", add_help=False)
    return ap


def run_app(port: int | None, extra: list[str]) -> int:
    if importlib.util.find_spec("streamlit") is None:
        print(
            "error: the app needs Streamlit, which is not installed here: `pip install kafka-classroom` "
            "installs it (or `pip install streamlit`)",
            file=sys.stderr,
        )
        return 2
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP_SCRIPT)]
    cmd += [f"--{k}={v}" for k, v in STREAMLIT_CONFIG.items()]
    if port is not None:
        cmd.append(f"--server.port={port}")
    if (
        os.name == "posix"
    ):  # become Streamlit, so a SIGTERM or Ctrl-C stops it (a child would be left running)
        sys.stdout.flush()
        os.execv(sys.executable, cmd + extra)
    try:
        return subprocess.call(cmd + extra)
    except KeyboardInterrupt:
        return 130


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # serve and lessons parse their own options (and --help), under this command's name
    if argv and argv[0] == "serve":
        from engine.server.__main__ import cli

        return cli(argv[1:], prog=f"{PROG} serve")
    if argv and argv[0] == "lessons":
        from lessons.__main__ import main as lessons_main

        return lessons_main(argv[1:], prog=f"{PROG} lessons")
    args, extra = _parser().parse_known_args(argv)
    if args.cmd == "app":
        return run_app(args.port, extra)
    _parser().error(f"unrecognized arguments: {' '.join(extra)}")  # pragma: no cover - argparse exits first
    return 2


if __name__ == "__main__":
    sys.exit(main())
