"""Stand-ins for real clients inside the simulation, so the engine treats them like its own.

The engine's brokers and group coordinator answer a client by `network.send(broker, client.id, ...,
client.on_xxx_response, ...)`. A real client speaks TCP instead, so each wire request gets a `Reply` whose
`on_*_response` methods resolve it, and each real group member gets an `ExternalConsumer` the coordinator
stores as the member (it replies to the stored member for JoinGroup/SyncGroup). Real producers and members are
registered with `Cluster.register_client()` so snapshots, the Playground and "Crash consumer" see them; the
contracts they keep are the protocols in engine/contracts.py. Everything here is deep-copy safe: a checkpoint (`Cluster.clone`) gets detached copies that hold no
callbacks or sockets, so time travel keeps working while real clients are connected.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from ..config import ConsumerConfig, ProducerConfig
from ..errors import IllegalStateError, KafkaError

TP = tuple[str, int]


class Reply:
    """A one-shot reply target for one wire request (any engine response kind)."""

    __slots__ = ("id", "callback")
    alive = True

    def __init__(self, actor_id: str, callback: Callable[..., Any] | None) -> None:
        self.id = actor_id
        self.callback = callback

    def __deepcopy__(self, memo: dict) -> Reply:
        return Reply(self.id, None)

    def _answer(self, *args: Any) -> None:
        cb, self.callback = self.callback, None
        if cb is not None:
            cb(*args)

    on_produce_response = on_fetch_response = on_find_coordinator_response = on_heartbeat_response = _answer
    on_commit_response = on_offset_fetch_response = on_list_offsets_response = on_metadata_response = _answer
    on_join_response = on_sync_response = _answer

    def on_disconnect(self, broker_id: int) -> None:
        """The TCP connection itself tells a real client; nothing to simulate."""


def _detached(obj: Any, memo: dict, drop: tuple[str, ...]) -> Any:
    """A deep copy without callbacks and the server link (checkpoints must not hold sockets)."""
    new = object.__new__(type(obj))
    memo[id(obj)] = new
    for k, v in obj.__dict__.items():
        new.__dict__[k] = None if k in drop else copy.deepcopy(v, memo)
    return new


class ExternalProducer:
    """A real producer (keyed by its client.id) as the engine and snapshots see it. Its accumulator lives in
    the real client, so `batches` is empty; `sent`/`acked`/`failed` count records in Produce requests."""

    def __init__(self, actor_id: str, client_id: str, link: Any) -> None:
        self.id = actor_id
        self.client_id = client_id
        self.external = True
        self.alive = True
        self.acks = -1
        self.pid = -1
        self.producer_epoch = 0
        self.compression = "none"
        self.batches: dict = {}
        self.sent = self.acked = self.failed = 0
        self.buffer_used = 0
        self.in_flight_requests = 0
        self.config = ProducerConfig.parse({"acks": "all"})
        self.txn: Any = None  # a transactional producer's ExternalTxn (engine/server/transactions.py)
        self._link = link

    def __deepcopy__(self, memo: dict) -> ExternalProducer:
        return _detached(self, memo, ("_link",))

    def observe(self, acks: int, pid: int, compression: str) -> None:
        """Keep the shown config in step with what the real client sends (acks, idempotence, codec). A codec,
        once seen, sticks: clients send a batch uncompressed when compressing would not make it smaller."""
        if compression == "none":
            compression = self.compression
        if (acks, pid >= 0, compression) == (self.acks, self.pid >= 0, self.compression):
            return
        self.acks, self.pid, self.compression = acks, pid, compression
        cfg: dict[str, Any] = {
            "acks": "all" if acks == -1 else str(acks),
            "compression.type": compression
            if compression in ("none", "gzip", "snappy", "lz4", "zstd")
            else "none",
        }
        if pid >= 0 and acks == -1:
            cfg["enable.idempotence"] = True
        else:
            cfg["enable.idempotence"] = False
        self.config = ProducerConfig.parse(cfg)

    @property
    def pending(self) -> int:
        return self.in_flight_requests

    def on_disconnect(self, broker_id: int) -> None:
        """Real clients see their own TCP resets."""

    def send(self, *args: Any, **kwargs: Any) -> Any:
        raise IllegalStateError(
            f"{self.id} is a real client connected over the Kafka protocol: produce from that "
            f"client, not from the simulator"
        )

    def flush(self, timeout_ms: int | None = None) -> None:
        """Nothing is buffered on this side."""

    def _own_process(self, *args: Any, **kwargs: Any) -> Any:
        raise IllegalStateError(
            f"{self.id} is a real client connected over the Kafka protocol: it runs its transactions in its "
            f"own process, not from the simulator"
        )

    init_transactions = begin_transaction = commit_transaction = abort_transaction = _own_process
    send_offsets_to_transaction = _own_process

    def close(self) -> None:
        if self._link is not None:
            self._link.disconnect(self)


class ExternalConsumer:
    """A real consumer-group member as the coordinator, snapshots and the Playground see it.

    The coordinator stores it as the group member and answers JoinGroup/SyncGroup to it; the adapter parks each
    wire JoinGroup/SyncGroup as a waiter here until that answer arrives (Kafka's awaitingJoin/SyncCallback)."""

    def __init__(self, actor_id: str, client_id: str, group_id: str | None, link: Any) -> None:
        self.id = actor_id
        self.client_id = client_id
        self.external = True
        self.group_id = group_id
        self.member_id = ""
        self.generation = -1
        self.protocol: str | None = None
        self.is_leader = False
        self.subscription: list[str] | None = []
        self.assignment: list[TP] = []
        self.positions: dict[TP, int] = {}
        self.pending_positions: set[TP] = set()
        self.auto_interval = None
        self.state = "joining"
        self.alive = True
        self.received = 0
        self.duplicates = 0  # a real client's redeliveries are not counted here
        self.registered = False
        self.last_seen_ms = 0
        self.config = ConsumerConfig.parse({})
        self.join_waiters: list[Callable[..., Any]] = []
        self.sync_waiters: list[Callable[..., Any]] = []
        self._link = link

    def __repr__(self) -> str:
        return (
            f"<ExternalConsumer {self.id} group={self.group_id} member={self.member_id} state={self.state}>"
        )

    def __deepcopy__(self, memo: dict) -> ExternalConsumer:
        new = _detached(self, memo, ("_link",))
        new.join_waiters, new.sync_waiters = [], []
        return new

    def set_timeouts(self, session_timeout_ms: int, rebalance_timeout_ms: int) -> None:
        """Mirror the real client's timeouts so `Add consumer` in the Playground copies sensible ones."""
        hb = max(1, min(3000, session_timeout_ms // 3))
        try:
            self.config = ConsumerConfig.parse(
                {
                    "session.timeout.ms": max(2, session_timeout_ms),
                    "heartbeat.interval.ms": hb,
                    "max.poll.interval.ms": max(1, rebalance_timeout_ms),
                    "auto.offset.reset": "earliest",
                }
            )
        except Exception:  # an odd value from the wire never breaks the view
            pass

    # -- the coordinator's answers (engine.group.GroupCoordinator) -----------------------------------------
    def on_join_response(self, group_id: str, err: KafkaError | None, payload: dict | None) -> None:
        waiters, self.join_waiters = self.join_waiters, []
        if err is None and payload is not None:
            self.generation = payload["generation"]
            self.protocol = payload["protocol"]
            self.is_leader = payload["leader"] == self.member_id
            self.state = "syncing"
        for w in waiters:
            w(err, payload)

    def on_sync_response(
        self, group_id: str, err: KafkaError | None, generation: int, assignment: list[TP] | None
    ) -> None:
        waiters, self.sync_waiters = self.sync_waiters, []
        if err is None:
            self.state = "stable"
            self.assignment = [(t, p) for t, p in assignment or []]
            for tp in list(self.positions):
                if tp not in self.assignment:
                    del self.positions[tp]
        for w in waiters:
            w(err, generation, assignment)

    def on_heartbeat_response(self, group_id: str, err: KafkaError | None) -> None:
        """Heartbeats are answered through their own Reply; this is never the target."""

    def on_disconnect(self, broker_id: int) -> None:
        """Real clients see their own TCP resets."""

    # -- Playground commands -------------------------------------------------------------------------------
    def crash(self) -> None:
        """ "Crash consumer" on a real client: the simulator cuts its connections (the process itself lives on
        and reconnects, as after a network blip); its session at the coordinator expires as usual."""
        if self._link is not None:
            self._link.disconnect(self)

    def close(self) -> None:
        self.crash()

    def poll(self, *args: Any, **kwargs: Any) -> list:
        raise IllegalStateError(f"{self.id} is a real client: it polls in its own process")

    def commit(self, *args: Any, **kwargs: Any) -> None:
        raise IllegalStateError(f"{self.id} is a real client: it commits in its own process")


__all__ = ["Reply", "ExternalProducer", "ExternalConsumer"]
