"""The Playground's "Accept real clients" toggle (ui/real_clients.py) through `streamlit.testing.v1.AppTest`.

A real kafka-python producer talks to the served cluster and its records show up in what the page draws; the
timeline controls are off while serving; crashing a broker with a click works while the client runs; switching
off frees the ports and returns to the step where serving began; a busy port is an error naming it; the
hosted demo (and any page not opened at localhost) cannot switch it on; a server nobody watches stops itself.
"""

from __future__ import annotations

import gc
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from ui_fixtures import chart_specs

from engine.scenario import Scenario
from ui import real_clients
from ui.real_clients import ENV_VAR, LiveRun, gate, is_local
from ui.session import SESSION_KEY, PlaygroundSession

kafka = pytest.importorskip("kafka")  # the dev extra
from kafka import KafkaProducer  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
pytestmark = pytest.mark.timeout(180)
# Three brokers, one topic, no simulated producer: every record in the picture comes from the real client.
QUIET = Scenario(
    name="Quiet",
    brokers=3,
    topics=[
        {"name": "orders", "partitions": 3, "replication_factor": 3, "config": {"min.insync.replicas": 2}}
    ],
)


# -- helpers -------------------------------------------------------------------------------------------------------
def port_free(port: int) -> bool:
    """Nobody listens there: a server may open it (with SO_REUSEADDR, as Kafka's and ours do, since closed
    connections linger in TIME_WAIT for a minute)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            s.listen()
        except OSError:
            return False
    return True


def free_ports(n: int = 3) -> int:
    """A first port with `n` free ports from it (never 9092: a student's own Kafka may be there)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + n <= real_clients.MAX_PORT and all(port_free(p) for p in range(base, base + n)):
            return base
    raise AssertionError("no run of free ports")


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def open_playground(session: PlaygroundSession | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    if session is not None:
        at.session_state[SESSION_KEY] = session
    run(at)
    at.switch_page("ui/playground.py")
    return run(at)


def session(at: AppTest) -> PlaygroundSession:
    return at.session_state[SESSION_KEY]


def set_toggle(at: AppTest, on: bool) -> AppTest:
    at.toggle(key="real_clients").set_value(on)
    return run(at)


def diagram(at: AppTest) -> dict:
    specs = chart_specs(at)
    return next(
        s
        for s in specs
        if any((sh.get("name") or "").startswith("broker-") for sh in s["layout"].get("shapes", []))
    )


def texts(at: AppTest) -> str:
    return "\n".join(
        [m.value for m in at.markdown] + [c.value for c in at.caption] + [e.value for e in at.error]
    )


@pytest.fixture
def allowed(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "on")


@pytest.fixture
def cleanup():
    """Whatever a failing test leaves serving is stopped, so ports never leak into the next test."""
    sessions: list[PlaygroundSession] = []
    yield sessions.append
    for s in sessions:
        if s.live is not None:
            s.live.stop()


# -- the gate ---------------------------------------------------------------------------------------------------------
def test_the_gate_allows_only_a_browser_on_this_computer_unless_told_otherwise():
    assert (
        is_local("http://localhost:8501/playground") and is_local("127.0.0.1:8501") and is_local("[::1]:8501")
    )
    assert not is_local("https://kafka-classroom.streamlit.app/playground") and not is_local("10.0.0.5:8501")
    assert not is_local(None) and not is_local("")
    assert gate(None, "http://localhost:8501/playground", {"Host": "localhost:8501"}).allowed
    assert gate("auto", "http://127.0.0.1:8501/", {}).allowed
    assert not gate(
        None, "https://kafka-classroom.streamlit.app/", {"Host": "localhost:8501"}
    ).allowed  # a proxy
    assert not gate(
        None, "http://localhost:8501/", {"Origin": "https://kafka-classroom.streamlit.app"}
    ).allowed
    assert not gate(None, None, {}).allowed  # nothing says where the browser is: off
    assert not gate("off", "http://localhost:8501/", {}).allowed
    assert gate("on", "https://kafka-classroom.streamlit.app/", {}).allowed
    bad = gate("sometimes", "http://localhost:8501/", {})
    assert not bad.allowed and ENV_VAR in bad.why


@pytest.mark.parametrize("setting", ["off", None])
def test_the_toggle_is_off_where_the_setting_or_the_address_says_so(monkeypatch, setting):
    """`off` (the hosted config), or auto without a localhost address (AppTest has none, like a stranger's
    browser on the hosted demo): the toggle is there, disabled, and the Real Kafka tab says why."""
    if setting is None:
        monkeypatch.delenv(ENV_VAR, raising=False)
    else:
        monkeypatch.setenv(ENV_VAR, setting)
    at = open_playground()
    t = at.toggle(key="real_clients")
    assert t.disabled and not t.value
    assert not session(at).serving
    real_clients.start(session(at))  # even a forged click cannot start it
    assert session(at).live is None and session(at).real_error


# -- serving a real client ------------------------------------------------------------------------------------------
def test_a_real_producer_shows_up_and_switching_off_returns_to_the_step(allowed, cleanup):
    s0 = PlaygroundSession.new(QUIET)
    cleanup(s0)
    at = open_playground(s0)
    for _ in range(30):  # the cluster up, leaders elected
        at.button(key="step").click()
        run(at)
    s = session(at)
    step, before = s.position, s.cluster.snapshot()
    leo_before = sum(p.log_end_offset for p in before.partitions if p.topic == "orders")
    base = free_ports()
    s.real_port = base

    set_toggle(at, True)
    assert s.serving, texts(at)
    assert s.live.ports == {1: base, 2: base + 1, 3: base + 2}
    assert f"127.0.0.1:{base}" in texts(at)
    # the timeline controls are off, and the session refuses them even if clicked some other way
    for key in ("step", "back", "play", "reset", "run_rebalance", "run_election", "skip_1s"):
        assert at.button(key=key).disabled, key
    with pytest.raises(ValueError, match="Accept real clients"):
        s.step()
    with pytest.raises(ValueError, match="Accept real clients"):
        s.goto(0)

    prod = KafkaProducer(bootstrap_servers=f"127.0.0.1:{base}", client_id="you", acks="all", linger_ms=5)
    try:
        futures = [prod.send("orders", key=b"me-%d" % (i % 6), value=b"hello %d" % i) for i in range(30)]
        prod.flush(30)
        assert all(f.get(timeout=10).offset >= 0 for f in futures)
        run(at)
        snap = s.cluster.snapshot()  # what the page drew: the copy of the served cluster
        assert sum(p.log_end_offset for p in snap.partitions if p.topic == "orders") == leo_before + 30
        fig = diagram(at)
        assert "producer:you" in {sh.get("name") for sh in fig["layout"]["shapes"]}
        assert any("30/30 acked" in (a.get("text") or "") for a in fig["layout"]["annotations"])
        assert "producer **you** — 30 record(s) sent, 30 acknowledged" in texts(at)

        # THE demo: crash the broker leading orders-0 with a click while the client runs
        leader = next(p.leader for p in snap.partitions if (p.topic, p.partition) == ("orders", 0))
        at.button(key=f"crash_b{leader}").click()
        run(at)
        assert not s.cluster.brokers[leader].alive
        assert s.timeline.cluster.brokers[leader].alive and s.timeline.commands == []  # not part of the run
        more = [prod.send("orders", key=b"me-%d" % (i % 6), value=b"again %d" % i) for i in range(20)]
        prod.flush(60)
        assert all(
            f.get(timeout=30).offset >= 0 for f in more
        )  # acks=all, RF 3, min ISR 2: one broker down is fine
    finally:
        prod.close(timeout=5)
    wait_until(
        lambda: s.live.refresh().producers["you"].acked == 50, 20, "50 acknowledged records in the view"
    )

    set_toggle(at, False)
    assert not s.serving and s.live is None
    assert all(port_free(p) for p in range(base, base + 3)), "the ports are still taken"
    assert s.position == step and s.cluster is s.timeline.cluster
    after = s.cluster.snapshot()
    assert sum(p.log_end_offset for p in after.partitions if p.topic == "orders") == leo_before
    assert all(b.alive for b in after.brokers)
    assert f"Back at step {step}" in texts(at)
    assert not at.button(key="step").disabled
    at.button(key="step").click()
    run(at)
    assert s.position == step + 1


def test_a_busy_port_is_an_error_naming_it_and_another_port_works(allowed, cleanup):
    at = open_playground()
    s = session(at)
    cleanup(s)
    base = free_ports()
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", base + 1))  # broker 2's port
    blocker.listen()
    try:
        s.real_port = base
        set_toggle(at, True)
        assert s.live is None and not s.serving
        errors = [e.value for e in at.error]
        assert any(f"Port {base + 1} is already in use" in e and "another first port" in e for e in errors), (
            errors
        )
        assert port_free(base), "broker 1's port stayed open after broker 2's failed"
        assert at.toggle(key="real_clients").value  # still on, showing the port field
        other = free_ports()
        at.number_input(key="real_clients_port").set_value(other)
        run(at)
        assert s.serving and s.live.ports[1] == other
        assert not at.error
    finally:
        blocker.close()
    set_toggle(at, False)
    assert all(port_free(p) for p in range(other, other + 3))


def test_loading_another_scenario_stops_serving(allowed, cleanup):
    at = open_playground()
    s = session(at)
    cleanup(s)
    base = free_ports()
    s.real_port = base
    set_toggle(at, True)
    assert s.serving
    at.button(key="load_preset").click()
    run(at)
    assert not s.serving and all(port_free(p) for p in range(base, base + 3))
    assert not at.toggle(key="real_clients").value


# -- nobody watching ------------------------------------------------------------------------------------------------
def test_a_server_nobody_watches_stops_and_the_session_goes_back_to_its_step():
    """The page touches the server on every redraw; a page switch or a closed tab stops the redraws."""
    s = PlaygroundSession.new(QUIET)
    for _ in range(5):
        s.step()  # an idle cluster still moves one step per call
    base = free_ports()
    s.live = LiveRun.start(s.timeline.cluster, s.position, base, idle_stop_s=1.0)
    assert s.serving and not port_free(base)
    wait_until(lambda: not s.live.running, 10, "the idle server to stop")
    assert not s.serving and s.live is None  # cleaned up on the next look
    assert all(port_free(p) for p in range(base, base + 3))
    assert any("Nobody had the Playground open" in msg for _, msg in s.flash)
    assert s.position == 5


def test_a_forgotten_session_stops_its_server():
    """A browser session that ends without switching off: when its run is garbage, so is its server."""
    base = free_ports()
    live = LiveRun.start(PlaygroundSession.new(QUIET).timeline.cluster, 0, base)
    handle = live.handle
    del live
    gc.collect()
    wait_until(lambda: not handle.running, 10, "the server of a forgotten session to stop")
    assert all(port_free(p) for p in range(base, base + 3))


def _real_tab_script() -> None:
    from engine.scenario import PRESETS
    from ui import real_clients
    from ui.session import PlaygroundSession

    real_clients.real_tab(PlaygroundSession.new(PRESETS["Default"]))


@pytest.mark.parametrize("setting", ["on", "off"])
def test_the_real_kafka_tab_gives_the_snippet_or_says_why_not(monkeypatch, setting):
    monkeypatch.setenv(ENV_VAR, setting)
    at = AppTest.from_function(_real_tab_script, default_timeout=60)
    run(at)
    code = at.code[0].value
    assert "bootstrap_servers='127.0.0.1:9092'" in code and "client_id='you'" in code and "'orders'" in code
    assert "kafka-console-consumer.sh --bootstrap-server 127.0.0.1:9092 --topic orders" in code
    said = " ".join(c.value for c in at.caption)
    assert ("Accept real clients" in said) == (setting == "on")
    assert ("Switched off on this server" in said) == (setting == "off")


def test_the_snippets_producer_line_works_as_pasted(cleanup):
    """The very line the panel shows, run in a shell: its records arrive as producer `you`."""
    s = PlaygroundSession.new(QUIET)
    cleanup(s)
    base = free_ports()
    s.live = LiveRun.start(s.timeline.cluster, s.position, base)
    line = next(
        ln for ln in real_clients.snippet(s.live.address, "orders").splitlines() if ln.startswith("python -c")
    )
    proc = subprocess.Popen(
        ["bash", "-c", sys.executable + line[len("python") :]],
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:

        def acked() -> int:
            p = s.live.refresh().producers.get("you")
            return p.acked if p is not None else 0

        wait_until(lambda: acked() >= 10, 40, "10 records from the pasted producer")
        assert proc.poll() is None, proc.stdout.read().decode()  # still sending, 5 a second
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
        s.live.stop()
