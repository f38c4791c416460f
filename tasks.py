#!/usr/bin/env python3
"""Set-up and run in one command, with only Python 3.11 on the machine.

    python3 tasks.py app     create .venv, install the app, run it (streamlit)
    python3 tasks.py test    create .venv, install app + dev tools (+ Debian chromium, redis-server), run every test

Re-running is cheap: packages are reinstalled only when pyproject.toml changes.
Extra arguments after `test` go to pytest (e.g. `python3 tasks.py test -k murmur2`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PY = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
CHROMIUM = "/usr/bin/chromium"
REDIS_SERVER = "/usr/bin/redis-server"


def _run(*cmd: str | os.PathLike) -> None:
    print("+", " ".join(map(str, cmd)), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT)


def ensure_venv(extra: str = "") -> None:
    """Create .venv and `pip install -e .[extra]` unless this exact pyproject is already installed."""
    if not PY.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = VENV / f".installed{('-' + extra) if extra else ''}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    _run(PY, "-m", "pip", "install", "-q", "--upgrade", "pip")
    _run(PY, "-m", "pip", "install", "-q", "-e", f".[{extra}]" if extra else ".")
    stamp.write_text(digest)


def _apt_install(package: str, path: str, skipped: str) -> None:
    """`apt-get install -y package` unless `path` exists; without root, say which tests will be skipped."""
    if Path(path).exists():
        return
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True, env=env)
    else:
        print(f"note: {path} is missing and apt-get needs root: {skipped} will be skipped", flush=True)


def ensure_chromium() -> None:
    """Real-browser tests use Debian's chromium (Playwright cannot download browsers here)."""
    _apt_install("chromium", CHROMIUM, "browser tests")


def ensure_redis() -> None:
    """The Redis room store's tests start their own Debian redis-server (tests/redis_server.py)."""
    _apt_install("redis-server", REDIS_SERVER, "the Redis room store tests")


def main(argv: list[str]) -> int:
    task = argv[0] if argv else "help"
    if task == "app":
        ensure_venv()
        os.chdir(ROOT)
        os.execv(str(PY), [str(PY), "-m", "streamlit", "run", "app.py", *argv[1:]])
    if task == "test":
        ensure_venv("dev")
        ensure_chromium()
        ensure_redis()
        return subprocess.run([str(PY), "-m", "pytest", *argv[1:]], cwd=ROOT).returncode
    print(__doc__)
    return 0 if task in ("help", "-h", "--help") else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
