"""A pytest plugin (issue 22): a deterministic simulated Kafka cluster for your own tests, in one fixture.

Installed with the package and registered through the `pytest11` entry point, so any test can ask for:

- `kafka_cluster`: an engine `Cluster` for pure-Python tests (simulated time, no sockets), seeded from the test's
  node id (sha256, the same in every process), so a failure replays exactly;
- `kafka_bootstrap`: the Kafka wire server (engine/server) on free loopback ports for one test, a
  `KafkaTestServer` whose `.bootstrap` is what a real client (kafka-python, confluent-kafka, the Kafka CLI)
  connects to, with the engine's fault injection (`crash_broker`, `restart_broker`, `isolate_broker`,
  `slow_broker`, `wait_for_leader`, ...); stopped and its ports freed after the test.
  `kafka_bootstrap_module` is the same, shared by a test module.

Choose the cluster with `@pytest.mark.kafka(brokers=3, controller="kraft", config={...}, seed=..., port=...,
racks={...})` or the command-line options `--kafka-brokers`, `--kafka-controller`, `--kafka-config KEY=VALUE`
(the marker wins). An unknown marker option or broker config fails the test with a message naming it.

Importing this module costs nothing: the engine is imported only when a fixture is used.
See docs/testing.md.
"""

from __future__ import annotations

import hashlib
import random
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

MARKER_OPTIONS = ("brokers", "controller", "config", "seed", "port", "racks")
# The wire server runs simulated time at wall-clock speed, so the waits a test would sit through are shortened
# as Kafka's own test harness shortens them (anything given in the marker or --kafka-config replaces these):
# - group.initial.rebalance.delay.ms=0: a group forms at once (TestUtils.createBrokerConfig);
# - a crashed broker is fenced and its partitions get new leaders after broker.session.timeout.ms=500 instead of
#   9 s (QuorumControllerTest.testUncleanShutdownBroker: 500 ms), heartbeats every 100 ms (KRaftClusterTest: 10);
# - followers long-poll the leader for replica.fetch.wait.max.ms=100 (IsrExpirationTest: 100), so a partition
#   added to a follower's fetcher while its previous fetch waits there is fetched 100 ms later, not 500;
# - Kafka's harness runs the KRaft controller on a node of its own (QuorumTestHarness), so no broker crash costs
#   a controller election there; here the brokers are the controllers (combined mode), so the election after
#   the active controller's broker dies is shortened: voters give up on it after
#   controller.quorum.fetch.timeout.ms=600 (just above KafkaRaftClient.MAX_FETCH_WAIT_MS=500, the quorum's own
#   long poll: any lower and a live controller would be voted out) and vote within
#   controller.quorum.election.timeout.ms=200.
SERVER_TEST_CONFIG = {
    "group.initial.rebalance.delay.ms": 0,
    "broker.heartbeat.interval.ms": 100,
    "broker.session.timeout.ms": 500,
    "replica.fetch.wait.max.ms": 100,
    "controller.quorum.fetch.timeout.ms": 600,
    "controller.quorum.election.timeout.ms": 200,
}
PORT_ATTEMPTS = 20
# Broker ports are picked at random below every OS's ephemeral range (Linux 32768-60999, macOS and Windows
# 49152-65535), not with bind(0) (only as a last resort): a crashed broker's port stays closed until it
# restarts, and a closed port inside the ephemeral range can be handed meanwhile to another server's bind(0)
# or, worse, be chosen as the local port of a client reconnecting to it (a loopback TCP self-connect, which
# answers the client with its own request). Taken ports are retried on another random run.
PORT_RANGE = (20000, 32000)
_ports_rng = random.Random()  # its own generator: tests that seed `random` must not make servers collide
_SEED = pytest.StashKey[int]()


def seed_for(nodeid: str) -> int:
    """The cluster seed of a test: the first 4 bytes of sha256(node id), the same in every process and run."""
    return int.from_bytes(hashlib.sha256(nodeid.encode("utf-8")).digest()[:4], "big")


# -- options and marker ----------------------------------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup(
        "kafka-classroom", "simulated Kafka cluster (kafka_cluster, kafka_bootstrap fixtures)"
    )
    group.addoption(
        "--kafka-brokers", type=int, default=None, help="brokers in each test cluster (default 3)"
    )
    group.addoption(
        "--kafka-controller",
        choices=("kraft", "zookeeper"),
        default=None,
        help="controller mode of each test cluster (default kraft)",
    )
    group.addoption(
        "--kafka-config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a broker config for every test cluster, e.g. --kafka-config min.insync.replicas=2 (repeatable)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "kafka(brokers=3, controller='kraft', config={...}, seed=None, port=0, racks=None): the simulated "
        "Kafka cluster behind the kafka_cluster / kafka_bootstrap fixtures",
    )


@pytest.hookimpl(hookwrapper=True)  # the old-style wrapper: works with every pytest the plugin may meet
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    seed = item.stash.get(_SEED, None)
    if seed is not None and report.failed:
        report.sections.append(
            (
                "kafka-classroom",
                f"simulated cluster seed {seed} (from the test id; @pytest.mark.kafka(seed={seed}) pins it)",
            )
        )


class Settings:
    __slots__ = ("brokers", "controller", "config", "seed", "port", "racks")

    def __init__(self, **kw: Any) -> None:
        for k in self.__slots__:
            setattr(self, k, kw.get(k))


def _fail(msg: str) -> None:
    pytest.fail(msg, pytrace=False)


def _settings(request: pytest.FixtureRequest, node: Any) -> Settings:
    opt = request.config.getoption
    config: dict[str, Any] = {}
    for item in opt("--kafka-config") or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            _fail(f"--kafka-config {item!r}: expected KEY=VALUE, e.g. --kafka-config min.insync.replicas=2")
        config[key.strip()] = value.strip()
    s = Settings(brokers=opt("--kafka-brokers") or 3, controller=opt("--kafka-controller") or "kraft")
    for mark in reversed(list(node.iter_markers("kafka"))):  # the closest marker (the test's own) wins
        if mark.args:
            _fail(
                f"@pytest.mark.kafka takes keyword options only ({', '.join(MARKER_OPTIONS)}); "
                f"got positional {mark.args!r}"
            )
        unknown = sorted(set(mark.kwargs) - set(MARKER_OPTIONS))
        if unknown:
            _fail(
                f"@pytest.mark.kafka: unknown option(s) {', '.join(map(repr, unknown))}; "
                f"the options are {', '.join(MARKER_OPTIONS)}"
            )
        for k, v in mark.kwargs.items():
            if k == "config":
                if not isinstance(v, Mapping):
                    _fail(
                        "@pytest.mark.kafka(config=...) must be a mapping of broker config names to values, "
                        f"like {{'min.insync.replicas': 2}}; got {type(v).__name__}"
                    )
                config.update(v)
            else:
                setattr(s, k, v)
    s.config = config
    if s.port is None:
        s.port = 0
    if not isinstance(s.port, int) or isinstance(s.port, bool) or not 0 <= s.port <= 65535:
        _fail(f"@pytest.mark.kafka(port=...) must be 0 (free ports) or a port number 1-65535; got {s.port!r}")
    if s.seed is not None and (not isinstance(s.seed, int) or isinstance(s.seed, bool)):
        _fail(f"@pytest.mark.kafka(seed=...) must be a whole number; got {s.seed!r}")
    return s


def _cluster(s: Settings, seed: int, base_config: Mapping[str, Any]) -> Any:
    from engine import Cluster
    from engine.errors import KafkaError

    config = {**base_config, **s.config}
    if isinstance(s.brokers, int) and 0 < s.brokers < 3 and "offsets.topic.replication.factor" not in config:
        # as `python -m engine.server` and a one-broker Docker set-up do, or groups cannot start
        config["offsets.topic.replication.factor"] = s.brokers
    try:
        return Cluster(brokers=s.brokers, seed=seed, controller=s.controller, config=config, racks=s.racks)
    except KafkaError as exc:
        problem = str(exc)
    _fail(f"@pytest.mark.kafka / --kafka-*: {problem}")  # outside `except`: the message alone, no chain


def _seed(node: Any, s: Settings) -> int:
    return s.seed if s.seed is not None else seed_for(node.nodeid)


def _remember_seed(node: Any, seed: int) -> None:
    """Shown with the test's failure report, so the failure can be replayed with the same seed."""
    if isinstance(node, pytest.Item):
        node.stash[_SEED] = seed


# -- kafka_cluster ---------------------------------------------------------------------------------------------
@pytest.fixture
def kafka_cluster(request: pytest.FixtureRequest) -> Any:
    """An engine `Cluster` (simulated time: `run_for`, `producer`, `consumer`, `crash_broker`, ...) with Kafka's
    own defaults, seeded from the test's node id."""
    s = _settings(request, request.node)
    seed = _seed(request.node, s)
    cluster = _cluster(s, seed, {})
    _remember_seed(request.node, seed)
    return cluster


# -- kafka_bootstrap -------------------------------------------------------------------------------------------
class KafkaTestServer:
    """The simulated cluster served over the Kafka protocol on loopback ports, for one test (or module).

    `bootstrap` ("127.0.0.1:PORT,...") goes to any client's bootstrap servers. The fault methods act at once
    on the running cluster; its clock follows the wall clock. Read the engine only through `call()`
    (it runs on the server's thread): `kafka_bootstrap.call(lambda c: c.topics.keys())`."""

    def __init__(self, handle: Any, seed: int, asked_port: int) -> None:
        self._handle = handle
        self.cluster = handle.cluster
        self.seed = seed
        self.asked_port = asked_port

    @property
    def bootstrap(self) -> str:
        return self._handle.bootstrap

    @property
    def ports(self) -> dict[int, int]:
        """Broker id -> its port."""
        return self._handle.ports

    @property
    def brokers(self) -> list[int]:
        return sorted(self._handle.ports)

    def __str__(self) -> str:
        return self.bootstrap

    def __repr__(self) -> str:
        return f"KafkaTestServer({self.bootstrap!r}, seed={self.seed})"

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float = 30.0) -> Any:
        """`fn(cluster, *args)` on the server's thread; its result."""
        return self._handle.call(fn, self.cluster, *args, timeout=timeout)

    # the engine's fault injection (engine/cluster.py), by the same names
    def crash_broker(self, broker_id: int) -> None:
        """The broker process dies: its connections are reset and its port refuses connections; the controller
        fences it after broker.session.timeout.ms and elects new leaders."""
        self.call(lambda c: c.crash_broker(broker_id))

    def restart_broker(self, broker_id: int) -> None:
        """A crashed broker starts again on the same port, recovers its log and catches up as a follower."""
        self.call(lambda c: c.restart_broker(broker_id))

    def shutdown_broker(self, broker_id: int) -> None:
        """A clean stop (controlled.shutdown.enable): its leaderships move first."""
        self.call(lambda c: c.shutdown_broker(broker_id))

    def isolate_broker(self, broker_id: int, clients_can_reach: bool = True) -> None:
        """A network partition: the broker loses the other brokers and the controller. By default clients can
        still reach it (a stale "zombie" leader); `clients_can_reach=False` cuts them off too (their requests
        get no answer until request.timeout.ms)."""
        self.call(lambda c: c.isolate_broker(broker_id, clients_can_reach))

    def heal_broker(self, broker_id: int) -> None:
        """Ends `isolate_broker`."""
        self.call(lambda c: c.heal_broker(broker_id))

    def slow_broker(self, broker_id: int, extra_latency_ms: int) -> None:
        """Adds `extra_latency_ms` each way to the broker's simulated network (between brokers and to the
        simulated controller; 0 undoes it)."""
        self.call(lambda c: c.slow_broker(broker_id, extra_latency_ms))

    def create_topic(
        self,
        name: str,
        partitions: int = 1,
        replication_factor: int | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> None:
        """Create a topic without an admin client (replication factor: every broker up to 3)."""
        rf = replication_factor if replication_factor is not None else min(3, len(self.brokers))
        self.call(lambda c: c.create_topic(name, partitions=partitions, replication_factor=rf, config=config))
        self.wait_for_leader(name, *range(partitions))

    def leader(self, topic: str, partition: int = 0) -> int | None:
        """The partition's leader as Metadata reports it now (None: offline or no such topic)."""
        return self.call(lambda c: _serving_leader(c, topic, partition, None))

    def isr(self, topic: str, partition: int = 0) -> list[int]:
        """The partition's in-sync replicas as the controller knows them (what Metadata reports)."""
        return self.call(
            lambda c: sorted(getattr(c.controller.partitions.get((topic, partition)), "isr", []))
        )

    def wait_for_leader(
        self, topic: str, *partitions: int, timeout: float = 30.0, other_than: int | None = None
    ) -> int:
        """Wait until the partition (default 0; several: each) has a leader that is up, reachable and serving,
        optionally not broker `other_than`; return it (of the last partition given)."""
        parts = partitions or (0,)
        deadline = time.monotonic() + timeout
        while True:
            got = self.call(lambda c: [_serving_leader(c, topic, p, other_than) for p in parts])
            if all(g is not None for g in got):
                return got[-1]
            if time.monotonic() > deadline:
                tail = self.call(lambda c: [e.summary for e in c.events.events[-8:]])
                known = self.call(lambda c: topic in c.topics)
                raise AssertionError(
                    f"no serving leader for {topic} partition(s) {list(parts)} after {timeout} s"
                    + ("" if known else f" (there is no topic {topic!r})")
                    + "; last events:\n  "
                    + "\n  ".join(tail)
                )
            time.sleep(0.02)

    def events(self, kind: str | None = None) -> list[str]:
        """The cluster's event sentences so far (of one `kind`, e.g. "leader_elected")."""
        return self.call(lambda c: [e.summary for e in c.events.events if kind is None or e.kind == kind])

    def stop(self) -> None:
        self._handle.stop()


def _serving_leader(c: Any, topic: str, partition: int, other_than: int | None) -> int | None:
    ps = c.controller.partitions.get((topic, partition))
    if ps is None or ps.leader is None or ps.leader == other_than:
        return None
    b = c.brokers.get(ps.leader)
    if b is None or not b.alive or b.isolated or c.leader_replica((topic, partition)) is None:
        return None
    return ps.leader


def start_server(
    brokers: int = 3,
    controller: str = "kraft",
    config: Mapping[str, Any] | None = None,
    seed: int = 0,
    port: int = 0,
    racks: Mapping[int, str] | None = None,
) -> KafkaTestServer:
    """What `kafka_bootstrap` starts, for use outside a fixture (a benchmark, a script): the simulated cluster
    with SERVER_TEST_CONFIG under `config`, served on loopback from `port` (0: free ports; a port in use
    is replaced by free ones). Stop it with `.stop()`."""
    s = Settings(
        brokers=brokers, controller=controller, config=dict(config or {}), seed=seed, port=port, racks=racks
    )
    return _start(s, seed)


def _start(s: Settings, seed: int) -> KafkaTestServer:
    from engine.server import PortInUseError, start_in_background

    n, handle = s.brokers if isinstance(s.brokers, int) else 1, None

    def a_free_run() -> int:  # broker N listens on base + N - 1
        return _ports_rng.randrange(PORT_RANGE[0], PORT_RANGE[1] - n)

    port = s.port or a_free_run()
    for attempt in range(PORT_ATTEMPTS):
        cluster = _cluster(s, seed, SERVER_TEST_CONFIG)
        try:
            handle = start_in_background(cluster, port=port, host="127.0.0.1")
            break
        except PortInUseError as exc:  # taken (by another program, or a parallel test): other free ports
            if s.port and port == s.port:
                warnings.warn(f"kafka_bootstrap: {exc}; serving on free ports instead", stacklevel=1)
            # the last attempt lets the OS choose (bind(0)), whatever the range
            port = (
                0 if attempt == PORT_ATTEMPTS - 2 else _ports_rng.randrange(PORT_RANGE[0], PORT_RANGE[1] - n)
            )
    if handle is None:
        _fail(f"kafka_bootstrap: no free loopback ports could be bound in {PORT_ATTEMPTS} attempts")
    return KafkaTestServer(handle, seed, s.port)


def _serve(request: pytest.FixtureRequest, node: Any) -> Iterator[KafkaTestServer]:
    s = _settings(request, node)
    seed = _seed(node, s)
    server = _start(s, seed)
    _remember_seed(node, seed)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def kafka_bootstrap(request: pytest.FixtureRequest) -> Iterator[KafkaTestServer]:
    """The simulated cluster served to real Kafka clients on free loopback ports for this test."""
    yield from _serve(request, request.node)


@pytest.fixture(scope="module")
def kafka_bootstrap_module(request: pytest.FixtureRequest) -> Iterator[KafkaTestServer]:
    """Like kafka_bootstrap, one server for the whole test module (marker: `pytestmark = pytest.mark.kafka(...)`)."""
    yield from _serve(request, request.node)
