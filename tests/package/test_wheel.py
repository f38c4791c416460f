"""`pip install kafka-classroom` from a built wheel (issue 22's "done when"): build the wheel from a copy of the
checkout, install it with its dependencies in a fresh virtual environment, and there, away from the checkout,
run a user's test file that uses `kafka_bootstrap` with kafka-python (tests/package/external_suite.py:
produce, consume in a group, crash the leader, keep consuming) and `kafka-classroom --help`.

It takes about a minute (mostly pip installing Streamlit and the rest into the new environment; pip's cache
and the local package index make it quicker the second time)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "engine", "ui", "lessons", "kafka_classroom")
pytestmark = pytest.mark.timeout(900)


def sh(*cmd, cwd: Path, timeout: float = 600, env: dict | None = None) -> str:
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env
    )
    assert proc.returncode == 0, (
        f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> tuple[Path, str]:
    """The wheel built from a copy of the checkout (the build leaves build/ and *.egg-info in its source);
    also pip's build log."""
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, src / name)
    out = tmp_path_factory.mktemp("dist")
    log = sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", out, ".", cwd=src)
    (whl,) = out.glob("kafka_classroom-*.whl")
    return whl, log


def test_the_wheel_builds_without_setuptools_warnings_and_carries_its_data(wheel):
    whl, log = wheel
    # distutils' "byte-compiling is disabled" notes follow PYTHONDONTWRITEBYTECODE, not the project
    warnings = [
        ln.strip()
        for ln in log.splitlines()
        if re.search(r"warn|deprecat|is absent", ln, re.I) and "byte-compiling is disabled" not in ln
    ]
    assert not warnings, warnings
    names = set(zipfile.ZipFile(whl).namelist())
    yaml = {n for n in names if n.startswith("lessons/course/") and n.endswith(".yaml")}
    assert len(yaml) == len(list((ROOT / "lessons" / "course").glob("*.yaml")))
    assert {
        "lessons/README.md",
        "kafka_classroom/app.py",
        "ui/navigation.py",
        "ui/streamlit_plotly_theme.json",  # ui/live_chart.py draws the Playground's charts with it
        "ui/static/plotly-basic.min.js",  # ... with plotly.js's basic build
        "engine/server/__main__.py",
    } <= names
    meta = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    entry_points = zipfile.ZipFile(whl).read(meta).decode()
    assert "kafka-classroom = kafka_classroom.cli:main" in entry_points
    assert (
        "[pytest11]" in entry_points
        and "kafka_classroom.pytest_plugin = kafka_classroom.pytest_plugin" in (entry_points)
    )


def test_installed_in_a_fresh_venv_the_plugin_and_command_work(wheel, tmp_path):
    whl, _ = wheel
    started = time.monotonic()
    venv = tmp_path / "venv"
    sh(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    py, bindir = venv / "bin" / "python", venv / "bin"
    sh(py, "-m", "pip", "install", "-q", whl, "pytest", "kafka-python", cwd=tmp_path, timeout=800)
    installed = time.monotonic()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"

    # away from the checkout: everything comes from the installed package
    where = sh(py, "-c", "import engine, lessons; print(engine.__file__)", cwd=tmp_path, env=env)
    assert Path(where.strip()).is_relative_to(venv), where

    assert "usage: kafka-classroom [-h] COMMAND ..." in sh(
        bindir / "kafka-classroom", "--help", cwd=tmp_path, env=env
    )
    assert "--brokers" in sh(bindir / "kafka-classroom", "serve", "--help", cwd=tmp_path, env=env)
    listed = sh(
        bindir / "kafka-classroom", "lessons", "list", cwd=tmp_path, env=env
    )  # the YAML is package data
    assert "brokers-producers-consumers" in listed

    shutil.copy(ROOT / "tests" / "package" / "external_suite.py", tmp_path / "test_external.py")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    out = sh(py, "-m", "pytest", "-p", "no:cacheprovider", "-q", "test_external.py", cwd=tmp_path, env=env)
    assert re.search(r"^2 passed", out, re.M), out[-3000:]

    # the installed app's entry script finds its pages inside the installed package
    app = sh(
        py,
        "-c",
        "import kafka_classroom.cli as c\n"
        "from streamlit.testing.v1 import AppTest\n"
        "at = AppTest.from_file(str(c.APP_SCRIPT), default_timeout=60); at.run()\n"
        "assert not at.exception, at.exception\n"
        "from ui.navigation import page\n"
        "at.switch_page(page('playground')).run(); assert not at.exception, at.exception\n"
        "print('app ok', c.APP_SCRIPT)",
        cwd=tmp_path,
        env=env,
    )
    assert "app ok" in app and str(venv) in app, app
    print(f"fresh venv + install {installed - started:.0f} s, checks {time.monotonic() - installed:.0f} s")
