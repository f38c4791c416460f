"""Ports as a student's client sees them: a crashed broker's port refuses connections (as a dead Kafka process's
would) and reopens on restart; a taken port is a PortInUseError naming it, with the ports opened before it
closed again; a server started for a page nobody watches any more stops by itself."""

from __future__ import annotations

import socket
import struct
import time

import pytest
from conftest import FAST, wait_until

from engine import Cluster
from engine.server import PortInUseError, start_in_background

pytestmark = pytest.mark.timeout(60)


def accepts(port: int) -> bool:
    """Does something listen on 127.0.0.1:port?"""
    with socket.socket() as s:
        s.settimeout(2)
        try:
            s.connect(("127.0.0.1", port))
        except OSError:
            return False
    return True


def bindable(port: int) -> bool:
    """Could a server bind 127.0.0.1:port right now? (Stricter than `accepts`: an ephemeral port of some
    other process's outgoing connection refuses a bind without listening.)"""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_run(n: int) -> int:
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + n < 65000 and all(bindable(p) for p in range(base, base + n)):
            return base
    raise AssertionError("no run of free ports")


def test_a_crashed_brokers_port_refuses_connections_until_it_restarts(serve):
    cluster, h = serve()
    port = h.ports[2]
    assert accepts(port)
    h.call(cluster.crash_broker, 2)
    wait_until(lambda: not accepts(port), 5, what="broker 2's port to close")
    assert accepts(h.ports[1]) and accepts(h.ports[3])
    h.call(cluster.restart_broker, 2)
    wait_until(lambda: accepts(port), 5, what="broker 2's port to reopen")
    assert h.ports[2] == port  # the same port: clients' metadata stays right


def test_a_client_connecting_as_the_broker_crashes_is_never_left_waiting():
    """A connection that arrives just as the broker crashes is refused, reset or closed at once. (It used to be
    accepted and never answered: asyncio dropped it while the port closed, and the client waited for its
    request.timeout.ms.)"""
    api_versions = struct.pack(">hhih", 18, 0, 1, 1) + b"x"  # ApiVersions v0, correlation id 1, client "x"
    for seed in range(40):
        cluster = Cluster(brokers=3, seed=seed)
        h = start_in_background(cluster, port=0, host="127.0.0.1")
        try:
            port = h.ports[2]
            h.call(cluster.crash_broker, 2)
            with socket.socket() as s:
                s.settimeout(5)
                try:
                    s.connect(("127.0.0.1", port))
                    s.sendall(struct.pack(">i", len(api_versions)) + api_versions)
                    got = s.recv(64)
                except (ConnectionRefusedError, ConnectionResetError):
                    continue
                except TimeoutError:
                    raise AssertionError(
                        f"seed {seed}: connected to crashed broker 2, no answer in 5 s"
                    ) from None
            assert got == b"", f"seed {seed}: crashed broker 2 answered {got!r}"
        finally:
            h.stop()


def test_a_taken_port_is_named_and_the_others_are_closed_again():
    # Another process on the machine may grab base or base + 1 between free_run and the start (CI saw it
    # once); that names a different port and says nothing about this behaviour, so try a fresh run.
    for _attempt in range(5):
        base = free_run(3)
        blocker = socket.socket()
        blocker.bind(("127.0.0.1", base + 2))  # broker 3's port
        blocker.listen()
        try:
            with pytest.raises(PortInUseError) as info:
                start_in_background(Cluster(brokers=3, seed=1, config=FAST), port=base)
            if info.value.port != base + 2:
                continue
            assert info.value.in_use
            assert f"port {base + 2}" in str(info.value) and "already in use" in str(info.value)
            assert not accepts(base) and not accepts(base + 1)
            return
        finally:
            blocker.close()
    raise AssertionError("ports next to the blocked one were taken by others in 5 tries")


def test_a_server_nobody_touches_stops_by_itself(serve):
    _cluster, h = serve()
    ports = list(h.ports.values())
    h.stop_after_idle(0.6)
    for _ in range(4):  # touched: keeps running
        time.sleep(0.3)
        h.touch()
    assert h.running and h.stop_reason is None
    wait_until(lambda: not h.running, 10, what="the idle server to stop")
    assert h.stop_reason == "idle" and not any(accepts(p) for p in ports)
    with pytest.raises(RuntimeError):
        h.call(lambda: None)
