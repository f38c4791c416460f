"""A real consumer group survives its coordinator's crash; `python -m engine.server` serves from a shell."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import Worker, wait_until
from wire import connect, read_response, request_frame

kafka = pytest.importorskip("kafka")
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer  # noqa: E402

pytestmark = pytest.mark.timeout(90)
ROOT = Path(__file__).resolve().parents[2]


def test_group_follows_its_coordinator(serve):
    cluster, h = serve()
    h.call(cluster.create_topic, "events", 2, 3)
    prod = KafkaProducer(bootstrap_servers=h.bootstrap, acks="all", client_id="kp-events")
    for i in range(200):
        prod.send("events", key=str(i % 7).encode(), value=str(i).encode())
    prod.flush(30)
    seen: set[int] = set()
    stop = threading.Event()

    def consume() -> None:
        c = KafkaConsumer(
            "events",
            bootstrap_servers=h.bootstrap,
            group_id="g-co",
            client_id="kp-member",
            auto_offset_reset="earliest",
            auto_commit_interval_ms=300,
            session_timeout_ms=10000,
            heartbeat_interval_ms=1000,
            request_timeout_ms=8000,
        )
        deadline = time.monotonic() + 80
        try:
            while not stop.is_set() and time.monotonic() < deadline:
                for recs in c.poll(timeout_ms=200).values():
                    seen.update(int(r.value) for r in recs)
        finally:
            c.close()

    w = Worker(consume, "member")
    w.start()
    wait_until(lambda: len(seen) == 200, 30, what="the first 200 records")
    committed = lambda: sum((h.call(cluster.group_state, "g-co").offsets or {}).values())  # noqa: E731
    wait_until(lambda: committed() == 200, 20, what="offsets committed")
    # kafka-consumer-groups.sh's view: ListGroups and DescribeGroups
    admin = KafkaAdminClient(bootstrap_servers=h.bootstrap, request_timeout_ms=10000)
    assert [g["group_id"] for g in admin.list_groups()] == ["g-co"]
    desc = admin.describe_groups(["g-co"])["g-co"]
    admin.close()
    assert desc["group_state"] == "Stable" and desc["protocol_data"] == "range"
    (member,) = desc["members"]
    assert member["client_id"] == "kp-member"
    assert member["member_assignment"]["assigned_partitions"] == [{"topic": "events", "partitions": [0, 1]}]
    # a checkpoint (Timeline's Back) taken while a real client is connected: detached, and it still runs
    clone = h.call(cluster.clone)
    ghost = next(k for k in clone.consumers.values() if k.id.startswith("kp-member"))
    assert ghost._link is None and ghost.member_id
    clone.run_for(2000)
    old = h.call(cluster.coordinator_for, "g-co")
    h.call(cluster.crash_broker, old)
    for i in range(200, 400):
        prod.send("events", key=str(i % 7).encode(), value=str(i).encode())
    prod.flush(60)
    prod.close()
    wait_until(lambda: len(seen) == 400, 45, what="the records written after the coordinator crashed")
    new = h.call(cluster.coordinator_for, "g-co")
    assert new is not None and new != old
    wait_until(
        lambda: h.call(
            lambda: (
                (g := cluster.group_state("g-co")) is not None
                and g.state == "Stable"
                and any(m.client_id.startswith("kp-member") for m in g.members.values())
            )
        ),
        20,
        what="the member rejoined at the new coordinator",
    )
    stop.set()
    w.finish(30)


def test_cli_serves_a_cluster(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.server", "--port", "0", "--brokers", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        line = ""
        deadline = time.monotonic() + 20
        while "simulated broker" not in line and time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line or proc.poll() is None, "the server exited"
        m = re.search(r"at 127\.0\.0\.1:(\d+)", line)
        assert m, line
        with connect(int(m.group(1))) as s:
            s.sendall(
                request_frame(
                    3,
                    12,
                    {
                        "topics": [{"name": "cli-topic", "topic_id": None}],
                        "allow_auto_topic_creation": True,
                        "include_topic_authorized_operations": False,
                    },
                    3,
                )
            )
            corr, body = read_response(s, 3, 12)
            assert corr == 3 and body.topics[0].error_code == 5  # LEADER_NOT_AVAILABLE: just auto-created
        out = ""
        while "cli-topic" not in out and time.monotonic() < deadline:
            out += proc.stdout.readline()
        assert "Topic cli-topic auto-created" in out  # the event log, printed as it happens
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def test_real_consumer_reads_simulated_transactions():
    """Transaction markers go out as control batches, so a real read_committed consumer skips aborted records
    and a read_uncommitted one sees them, and neither sees the markers themselves (KIP-98)."""
    from kafka import TopicPartition

    from engine import Cluster
    from engine.server import start_in_background

    c = Cluster(brokers=3, seed=5)
    c.create_topic("tx", 1, 3)
    p = c.producer("tp", {"transactional.id": "t1"})
    p.init_transactions()
    for tag, commit in (("c", True), ("a", False), ("d", True)):
        p.begin_transaction()
        for i in range(3):
            p.send("tx", key=b"k", value=f"{tag}{i}")
        p.flush()  # written to the log first, so aborting leaves aborted records behind a marker
        p.commit_transaction() if commit else p.abort_transaction()
    c.run_for(2000)
    h = start_in_background(c, port=0)
    try:
        for isolation, want in (
            ("read_committed", ["c0", "c1", "c2", "d0", "d1", "d2"]),
            ("read_uncommitted", ["c0", "c1", "c2", "a0", "a1", "a2", "d0", "d1", "d2"]),
        ):
            k = KafkaConsumer(
                bootstrap_servers=h.bootstrap, isolation_level=isolation, enable_auto_commit=False
            )
            tp = TopicPartition("tx", 0)
            k.assign([tp])
            k.seek_to_beginning(tp)
            got: list[str] = []
            deadline = time.monotonic() + 15
            while len(got) < len(want) and time.monotonic() < deadline:
                for recs in k.poll(timeout_ms=200).values():
                    got.extend(r.value.decode() for r in recs)
            time.sleep(0.3)
            for recs in k.poll(timeout_ms=300).values():
                got.extend(r.value.decode() for r in recs)
            k.close()
            assert got == want, isolation
    finally:
        h.stop()
