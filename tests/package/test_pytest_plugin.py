"""The pytest plugin (issue 22) as a user meets it: pytest runs a user's test file in a subprocess with the
plugin loaded (`-p kafka_classroom.pytest_plugin`, the name its pytest11 entry point has, so an installed
entry point and the flag never load it twice), and we read what pytest reports."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kafka_classroom.pytest_plugin import seed_for

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(300)


def run_pytest(
    tmp_path: Path, source: str, *args: str, env: dict | None = None
) -> subprocess.CompletedProcess:
    (tmp_path / "test_user.py").write_text(textwrap.dedent(source))
    (tmp_path / "pytest.ini").write_text("[pytest]\n")  # the user's own project, not this repository's
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "kafka_classroom.pytest_plugin",
            "-p",
            "no:cacheprovider",
            *args,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


def outcomes(proc: subprocess.CompletedProcess) -> dict[str, str]:
    """test name -> PASSED / FAILED / ERROR, from `-rA`'s short summary."""
    found = re.findall(r"^(PASSED|FAILED|ERROR) test_user\.py::(\w+)", proc.stdout, re.M)
    return {name: outcome for outcome, name in found}


def test_importing_the_engine_its_server_and_the_plugin_loads_no_ui_library():
    code = (
        "import sys\n"
        "import kafka_classroom.pytest_plugin, kafka_classroom.cli\n"
        "plugin_only = 'engine' in sys.modules\n"
        "import engine, engine.server\n"
        "print(plugin_only, sorted({'streamlit', 'plotly', 'networkx', 'ui'} & set(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    # the plugin itself imports nothing of the engine until a fixture is used; the engine no UI library
    assert out.stdout.split("\n")[0] == "False []", out.stdout + out.stderr


def test_bad_marker_options_and_broker_configs_fail_the_test_naming_them(tmp_path):
    proc = run_pytest(
        tmp_path,
        """
        import pytest

        @pytest.mark.kafka(brokerz=3)
        def test_misspelt_option(kafka_bootstrap):
            pass

        @pytest.mark.kafka(config={"min.insync.replica": 2})
        def test_misspelt_config(kafka_cluster):
            pass

        @pytest.mark.kafka(brokers=0)
        def test_no_brokers(kafka_bootstrap):
            pass

        @pytest.mark.kafka(controller="raft")
        def test_bad_controller(kafka_cluster):
            pass
        """,
        "-rA",
    )
    assert outcomes(proc) == {
        "test_misspelt_option": "ERROR",
        "test_misspelt_config": "ERROR",
        "test_no_brokers": "ERROR",
        "test_bad_controller": "ERROR",
    }, proc.stdout[-3000:]
    out = proc.stdout
    assert "@pytest.mark.kafka: unknown option(s) 'brokerz'; the options are brokers," in out
    assert "Unknown broker config 'min.insync.replica'" in out and "Did you mean min.insync.replicas?" in out
    assert "brokers must be a whole number from 1 to 12, got 0" in out
    assert "controller must be 'kraft' or 'zookeeper', got 'raft'" in out
    assert "Traceback" not in out


def test_bad_command_line_config_names_the_option(tmp_path):
    proc = run_pytest(tmp_path, "def test_x(kafka_cluster):\n    pass\n", "-rA", "--kafka-config", "acks")
    assert outcomes(proc) == {"test_x": "ERROR"}, proc.stdout[-2000:]
    assert "--kafka-config 'acks': expected KEY=VALUE" in proc.stdout


USER_SUITE = """
    import hashlib
    import json
    import os
    import socket

    import pytest
    from kafka import KafkaProducer

    OUT = os.environ["KC_OUT"]

    def record(name, value):
        with open(os.path.join(OUT, name), "w") as f:
            json.dump(value, f)

    def test_engine_cluster_is_seeded_from_the_node_id(kafka_cluster):
        kafka_cluster.create_topic("t", partitions=3, replication_factor=3)
        p = kafka_cluster.producer("p")
        for i in range(20):
            p.send("t", key=str(i), value="v")
        p.flush()
        kafka_cluster.crash_broker(1)
        kafka_cluster.run_for(20_000)
        log = "\\n".join(f"{e.time_ms} {e.summary}" for e in kafka_cluster.events.events)
        record("engine.json", [kafka_cluster.seed, hashlib.sha256(log.encode()).hexdigest()])

    @pytest.mark.kafka(seed=1234, brokers=2, config={"min.insync.replicas": 2})
    def test_marker_chooses_the_cluster(kafka_cluster):
        assert kafka_cluster.seed == 1234 and len(kafka_cluster.brokers) == 2
        assert kafka_cluster.broker_config.min_insync_replicas == 2

    BUSY = socket.socket()
    BUSY.bind(("127.0.0.1", 0))
    BUSY.listen()
    BUSY_PORT = BUSY.getsockname()[1]

    @pytest.mark.kafka(port=BUSY_PORT)
    def test_a_port_in_use_is_replaced_by_free_ones(kafka_bootstrap):
        assert f":{BUSY_PORT}," not in kafka_bootstrap.bootstrap + ","
        producer = KafkaProducer(bootstrap_servers=kafka_bootstrap.bootstrap)
        producer.send("t", b"v").get(timeout=20)
        producer.close()
        record("ports.json", list(kafka_bootstrap.ports.values()))

    def test_the_ports_were_freed_after_the_test():
        for port in json.load(open(os.path.join(OUT, "ports.json"))):
            with socket.socket() as s:
                s.bind(("127.0.0.1", port))  # OSError if the server still held it

    def test_module_server_is_shared_1(kafka_bootstrap_module):
        record("module.json", kafka_bootstrap_module.bootstrap)

    def test_module_server_is_shared_2(kafka_bootstrap_module):
        assert json.load(open(os.path.join(OUT, "module.json"))) == kafka_bootstrap_module.bootstrap

    def test_a_failure_shows_the_seed(kafka_cluster):
        assert kafka_cluster.seed < 0
"""


def test_fixtures_seeds_ports_and_module_scope(tmp_path):
    runs = []
    for hashseed in ("1", "2"):  # two processes with different str hashes: the same seed and event log
        out = tmp_path / f"out{hashseed}"
        out.mkdir()
        proc = run_pytest(tmp_path, USER_SUITE, "-rA", env={"KC_OUT": str(out), "PYTHONHASHSEED": hashseed})
        got = outcomes(proc)
        assert got == {
            "test_engine_cluster_is_seeded_from_the_node_id": "PASSED",
            "test_marker_chooses_the_cluster": "PASSED",
            "test_a_port_in_use_is_replaced_by_free_ones": "PASSED",
            "test_the_ports_were_freed_after_the_test": "PASSED",
            "test_module_server_is_shared_1": "PASSED",
            "test_module_server_is_shared_2": "PASSED",
            "test_a_failure_shows_the_seed": "FAILED",
        }, proc.stdout[-4000:]
        runs.append(json.loads((out / "engine.json").read_text()))
        assert "serving on free ports instead" in proc.stdout  # the warning names what happened
        failing = seed_for("test_user.py::test_a_failure_shows_the_seed")
        assert f"simulated cluster seed {failing} (from the test id; @pytest.mark.kafka(seed={failing})" in (
            proc.stdout
        )
    assert runs[0] == runs[1]
    assert runs[0][0] == seed_for("test_user.py::test_engine_cluster_is_seeded_from_the_node_id")


def test_the_examples_suite_passes(tmp_path):
    """examples/testing: ten tests of a small orders app with kafka-python and confluent-kafka against
    kafka_bootstrap (leader crash, restart, min ISR, isolation); its time is measured in bench/."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "kafka_classroom.pytest_plugin", "-q", "examples/testing"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert re.search(r"^10 passed", proc.stdout, re.M), proc.stdout[-1000:]
