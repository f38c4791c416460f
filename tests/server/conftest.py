"""Fixtures for the wire-protocol server: a simulated cluster served on free localhost ports."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from engine import Cluster
from engine.server import ServerHandle, start_in_background

# Test clusters: a short initial rebalance delay and broker session so runs stay quick; everything else is
# Kafka's defaults.
FAST = {"group.initial.rebalance.delay.ms": 300, "broker.session.timeout.ms": 3000}


@pytest.fixture
def serve() -> Callable[..., tuple[Cluster, ServerHandle]]:
    handles: list[ServerHandle] = []

    def make(
        brokers: int = 3, seed: int = 11, config: dict | None = None, **server_kw
    ) -> tuple[Cluster, ServerHandle]:
        c = Cluster(brokers=brokers, seed=seed, config={**FAST, **(config or {})})
        h = start_in_background(c, port=0, host="127.0.0.1", **server_kw)
        handles.append(h)
        return c, h

    yield make
    for h in handles:
        h.stop()


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05, what: str = "") -> None:
    """Poll `predicate` until it holds; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")


class Worker(threading.Thread):
    """A daemon thread that records its exception for the test to re-raise."""

    def __init__(self, target: Callable[[], None], name: str) -> None:
        super().__init__(name=name, daemon=True)
        self._fn = target
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            self.error = exc

    def finish(self, timeout: float) -> None:
        self.join(timeout)
        assert not self.is_alive(), f"{self.name} did not finish within {timeout}s"
        if self.error is not None:
            raise self.error
