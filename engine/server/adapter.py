"""Turns decoded Kafka requests into engine calls, and engine answers into Kafka responses.

Requests that Kafka handles in the data plane travel through the simulated network to the simulated broker
(Produce -> `Broker.on_produce`, Fetch -> `Broker.on_fetch`, the group APIs -> the broker's
`GroupCoordinator`, FindCoordinator -> `Cluster.on_find_coordinator`), so they show up in flight, obey
crashed/isolated brokers and dropped-message faults, and emit the same events as simulated clients.
Read-only answers (Metadata, ListOffsets, OffsetForLeaderEpoch, DescribeConfigs, ApiVersions) and admin
commands (CreateTopics, DeleteTopics, idempotent InitProducerId) are computed from the broker's and controller's
state directly. The transaction APIs are in transactions.py (onto the engine's TransactionCoordinator).
Everything here runs on the server's event-loop thread, the only thread that touches the engine.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import re
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..broker import ProduceRequest
from ..cluster import validate_topic_name
from ..config import TopicConfig
from ..errors import ErrorCodes as E
from ..errors import KafkaError, MemberIdRequiredError, UnknownMemberIdError
from ..records import RecordBatch
from .clients import ExternalConsumer, ExternalProducer, Reply
from .groups import (
    decode_assignment,
    decode_subscription,
    decode_subscription_extras,
    encode_assignment,
    encode_subscription,
)
from .protocol import Request, api_versions_body
from .recordbatch import TRANSACTIONAL, BatchEncoder, InvalidRecordError, decode_batches
from .transactions import WireTransactions

if TYPE_CHECKING:
    from ..broker import Broker
    from ..cluster import Cluster

TP = tuple[str, int]

# Kafka error codes used here, from the one table (engine.errors.ErrorCodes, Kafka's Errors).
NONE, OFFSET_OUT_OF_RANGE, CORRUPT_MESSAGE = E.NONE, E.OFFSET_OUT_OF_RANGE, E.CORRUPT_MESSAGE
UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE = E.UNKNOWN_TOPIC_OR_PARTITION, E.LEADER_NOT_AVAILABLE
NOT_LEADER_OR_FOLLOWER, MESSAGE_TOO_LARGE = E.NOT_LEADER_OR_FOLLOWER, E.MESSAGE_TOO_LARGE
INVALID_REQUIRED_ACKS, COORDINATOR_NOT_AVAILABLE = E.INVALID_REQUIRED_ACKS, E.COORDINATOR_NOT_AVAILABLE
NOT_COORDINATOR, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID = (
    E.NOT_COORDINATOR,
    E.ILLEGAL_GENERATION,
    E.UNKNOWN_MEMBER_ID,
)
INVALID_REQUEST, TRANSACTIONAL_ID_AUTHORIZATION_FAILED = (
    E.INVALID_REQUEST,
    E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
)
FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH = E.FENCED_LEADER_EPOCH, E.UNKNOWN_LEADER_EPOCH
MEMBER_ID_REQUIRED, INVALID_RECORD, UNKNOWN_TOPIC_ID = (
    E.MEMBER_ID_REQUIRED,
    E.INVALID_RECORD,
    E.UNKNOWN_TOPIC_ID,
)
TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS = E.TOPIC_ALREADY_EXISTS, E.INVALID_PARTITIONS
INVALID_REPLICATION_FACTOR = E.INVALID_REPLICATION_FACTOR

# DescribeConfigs config_source / config_type (DescribeConfigsResponse.json)
SRC_DYNAMIC_TOPIC, SRC_STATIC_BROKER, SRC_DEFAULT = 1, 4, 5
TYPE_BOOLEAN, TYPE_STRING, TYPE_LONG = 1, 2, 5


def _ms(v: Any, default: int = 0) -> int:
    """kio gives timeout fields as timedelta; a few are plain ints."""
    if v is None:
        return default
    ts = getattr(v, "total_seconds", None)
    return int(round(ts() * 1000)) if ts is not None else int(v)


def _code(err: KafkaError | InvalidRecordError | None) -> int:
    """The wire error code of an engine answer (None: no error)."""
    return NONE if err is None else err.code


def _last_stable(r) -> int:
    """The last stable offset: below the first open transaction, else the high watermark (KIP-98)."""
    try:
        from ..transactions import last_stable_offset
    except ImportError:  # an engine without transactions: nothing is ever open
        return r.hw
    return last_stable_offset(r)


def _cfg_value(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _cfg_type(v: Any) -> int:
    return TYPE_BOOLEAN if isinstance(v, bool) else TYPE_LONG if isinstance(v, int) else TYPE_STRING


class Connection:
    """One TCP connection to one simulated broker's port."""

    _ids = itertools.count(1)

    def __init__(self, broker_id: int, peer: str) -> None:
        self.id = next(self._ids)
        self.broker_id = broker_id
        self.peer = peer
        self.client_id = ""
        self.futures: set[asyncio.Future] = set()
        self.closed = False
        self.close_cb: Callable[[], None] | None = None


class KafkaAdapter:
    """Kafka API handlers over one `Cluster`. `endpoint(broker_id)` -> (host, port) of that broker's listener."""

    def __init__(
        self,
        cluster: Cluster,
        endpoint: Callable[[int], tuple[str, int] | None],
        kick: Callable[[], None],
        cluster_id: str = "kafka-classroom",
    ) -> None:
        self.c = cluster
        self.endpoint = endpoint
        self.kick = kick  # wake the clock: something was just put on the simulated network
        self.cluster_id = cluster_id
        self.encoder = BatchEncoder()
        self.producers: dict[str, ExternalProducer] = {}  # client.id -> producer
        self.standalone: dict[str, ExternalConsumer] = {}  # client.id -> consumer outside any group
        self.members: dict[tuple[str, str], ExternalConsumer] = {}  # (group, member id) -> member
        self.proxies: list[ExternalConsumer] = []  # every member proxy, joined or not yet
        self.metadata_bytes: dict[tuple[str, str], dict[str, bytes]] = {}  # member's raw protocol metadata
        self.assignment_bytes: dict[str, tuple[int, dict[str, bytes]]] = {}  # group -> (generation, raw)
        self.topic_ids: dict[str, uuid.UUID] = {}
        self.connections: dict[int, Connection] = {}
        self._seq = itertools.count(1)
        self._topic_gen = itertools.count(1)
        self.handlers: dict[int, Callable[[Connection, Request], Any]] = {
            0: self.produce,
            1: self.fetch,
            2: self.list_offsets,
            3: self.metadata,
            8: self.offset_commit,
            9: self.offset_fetch,
            10: self.find_coordinator,
            11: self.join_group,
            12: self.heartbeat,
            13: self.leave_group,
            14: self.sync_group,
            15: self.describe_groups,
            16: self.list_groups,
            18: self.api_versions,
            19: self.create_topics,
            20: self.delete_topics,
            22: self.init_producer_id,
            23: self.offset_for_leader_epoch,
            32: self.describe_configs,
        }
        self.txn = WireTransactions(self)  # the transaction APIs (transactions.py)
        self.handlers.update(self.txn.handlers())

    # -- plumbing ------------------------------------------------------------------------------------------------
    def broker(self, conn: Connection) -> Broker:
        return self.c.brokers[conn.broker_id]

    def reachable(self, conn: Connection, actor: str) -> bool:
        b = self.c.brokers.get(conn.broker_id)
        return b is not None and b.alive and self.c.reachable(actor, b.name)

    def next_request_id(self) -> int:
        """A fresh id for a request the adapter sends into the simulation (events name it)."""
        return next(self._seq)

    def future(self, conn: Connection) -> tuple[asyncio.Future, Callable[..., None]]:
        fut = asyncio.get_running_loop().create_future()
        conn.futures.add(fut)
        fut.add_done_callback(conn.futures.discard)

        def resolve(*args: Any) -> None:
            if not fut.done():
                fut.set_result(args)

        return fut, resolve

    def send_request(
        self,
        src: str,
        conn: Connection,
        kind: str,
        handler: Callable,
        *args: Any,
        topic: str | None = None,
        partition: int | None = None,
    ) -> None:
        self.c.network.send(
            src, self.broker(conn).name, kind, handler, *args, topic=topic, partition=partition
        )
        self.kick()

    def unique_client_id(self, base: str) -> str:
        base = re.sub(r"[^A-Za-z0-9._#@:-]", "_", base or "client")[:60] or "client"

        def taken(n: str) -> bool:
            return (
                n in self.c.producers
                or n in self.c.consumers
                or n.startswith("broker-")
                or n in ("controller", "zookeeper")
                or any(p.id == n for p in self.proxies)
            )

        if not taken(base):
            return base
        for i in itertools.count(2):
            if not taken(f"{base}#{i}"):
                return f"{base}#{i}"
        raise AssertionError("unreachable")

    def producer(self, client_id: str) -> ExternalProducer:
        p = self.producers.get(client_id)
        if p is None or self.c.producers.get(p.id) is not p:
            p = ExternalProducer(self.unique_client_id(client_id or "producer"), client_id, self)
            self.producers[client_id] = p
            self.c.register_client(p)
            self.c.emit(
                "note",
                f"Real producer {p.id} connected over the Kafka protocol",
                actors=(p.id,),
                external=True,
            )
        return p

    def _register(self, k: ExternalConsumer) -> None:
        if not k.registered:
            k.registered = True
            self.c.register_client(k)

    def _unregister(self, k: ExternalConsumer) -> None:
        if k.registered:
            self.c.unregister_client(k)
        k.registered = False
        k.alive = False
        k.state = "closed"
        if k in self.proxies:
            self.proxies.remove(k)
        if k.group_id is not None and self.members.get((k.group_id, k.member_id)) is k:
            del self.members[(k.group_id, k.member_id)]
            self.metadata_bytes.pop((k.group_id, k.member_id), None)

    def disconnect(self, client: Any) -> None:
        """Playground "crash"/"close" on a real client: cut every connection it made."""
        cid = getattr(client, "client_id", None)
        for conn in list(self.connections.values()):
            if conn.client_id == cid and conn.close_cb is not None:
                conn.close_cb()

    def sweep(self) -> None:
        """Forget member stand-ins the coordinator no longer knows (left, expired, fenced by a new id)."""
        now = self.c.now
        for k in list(self.proxies):
            if k.join_waiters or k.sync_waiters or k.group_id is None:  # (a member proxy always has a group)
                continue
            g = self.c.group_state(k.group_id)
            if k.member_id:
                if g is not None and k.member_id not in g.members and k.member_id not in g.pending_members:
                    self._unregister(k)
            elif now - k.last_seen_ms > 60_000:
                self._unregister(k)
        for name in [n for n in self.topic_ids if n not in self.c.topics]:
            del self.topic_ids[name]

    def _retire_stale(self, group: str, client_id: str) -> None:
        """Forget this client's stand-ins in `group` that the coordinator no longer knows (as `sweep` would a
        moment later), so a member rejoining with a fresh member id, e.g. after its coordinator's broker crashed,
        keeps its name (`reader`, not `reader#2`). Another live member with the same client.id is kept."""
        g = self.c.group_state(group)
        for k in list(self.proxies):
            if (
                k.group_id != group
                or k.client_id != client_id
                or not k.member_id
                or k.join_waiters
                or k.sync_waiters
            ):
                continue
            if g is None or (k.member_id not in g.members and k.member_id not in g.pending_members):
                self._unregister(k)

    def topic_id(self, name: str) -> uuid.UUID:
        tid = self.topic_ids.get(name)
        if tid is None:
            digest = hashlib.sha256(f"{self.c.seed}/{name}/{next(self._topic_gen)}".encode()).digest()
            tid = self.topic_ids[name] = uuid.UUID(bytes=digest[:16], version=4)
        return tid

    def topic_by_id(self, tid: uuid.UUID) -> str | None:
        return next((n for n, t in self.topic_ids.items() if t == tid and n in self.c.topics), None)

    def exists(self, tp: TP) -> bool:
        t = self.c.topics.get(tp[0])
        return t is not None and 0 <= tp[1] < t.partitions

    def _leader_replica(self, conn: Connection, tp: TP):
        r = self.broker(conn).replicas.get(tp)
        return r if r is not None and r.is_leader else None

    @staticmethod
    def _epoch_error(r, current_leader_epoch: int) -> int:
        """KIP-320: a client with a newer epoch than ours is ahead of us; an older one has stale metadata."""
        if current_leader_epoch is None or current_leader_epoch < 0 or current_leader_epoch == r.leader_epoch:
            return NONE
        return FENCED_LEADER_EPOCH if current_leader_epoch < r.leader_epoch else UNKNOWN_LEADER_EPOCH

    # -- ApiVersions (KIP-35, KIP-511) ------------------------------------------------------------------------
    async def api_versions(self, conn: Connection, req: Request) -> dict:
        return api_versions_body()

    # -- Metadata ------------------------------------------------------------------------------------------------
    def _brokers(self) -> list[dict]:
        ctl = self.c.controller
        out = []
        for bid in sorted(self.c.brokers):
            ep = self.endpoint(bid)
            if ep is not None and bid in ctl.live:
                out.append({"node_id": bid, "host": ep[0], "port": ep[1], "rack": None})
        return out

    def _topic_metadata(self, name: str) -> dict:
        c = self.c
        t = c.topics[name]
        ctl = c.controller
        parts = []
        for p in range(t.partitions):
            ps = ctl.partitions.get((name, p))
            if ps is None:
                parts.append(
                    {
                        "error_code": LEADER_NOT_AVAILABLE,
                        "partition_index": p,
                        "leader_id": -1,
                        "leader_epoch": -1,
                        "replica_nodes": [],
                        "isr_nodes": [],
                        "offline_replicas": [],
                    }
                )
                continue
            leader = ps.leader if ps.leader is not None else -1
            offline = [b for b in ps.replicas if b not in ctl.live]
            parts.append(
                {
                    "error_code": NONE if leader >= 0 else LEADER_NOT_AVAILABLE,
                    "partition_index": p,
                    "leader_id": leader,
                    "leader_epoch": ps.leader_epoch,
                    "replica_nodes": list(ps.replicas),
                    "isr_nodes": list(ps.isr),
                    "offline_replicas": offline,
                }
            )
        return {
            "error_code": NONE,
            "name": name,
            "topic_id": self.topic_id(name),
            "is_internal": t.internal,
            "partitions": parts,
            "topic_authorized_operations": -2147483648,
        }

    async def metadata(self, conn: Connection, req: Request) -> dict:
        """Metadata: the brokers' published view (controller state) of brokers, leaders and ISRs. A missing
        topic is auto-created when the client allows it and auto.create.topics.enable is on (answering
        LEADER_NOT_AVAILABLE first, as Kafka does while the new partitions get leaders)."""
        c, b, v = self.c, req.body, req.api_version
        requested = b.topics
        topics = []
        if requested is None or (v == 0 and not requested):
            names = sorted(c.topics)
            topics = [self._topic_metadata(n) for n in names]
        else:
            allow = getattr(b, "allow_auto_topic_creation", True)
            for t in requested:
                name = t.name
                tid = getattr(t, "topic_id", None)
                if name is None and tid is not None:
                    name = self.topic_by_id(tid)
                    if name is None:
                        topics.append(
                            {"error_code": UNKNOWN_TOPIC_ID, "name": None, "topic_id": tid, "partitions": []}
                        )
                        continue
                if name in c.topics:
                    topics.append(self._topic_metadata(name))
                    continue
                err = UNKNOWN_TOPIC_OR_PARTITION
                if allow and c.broker_config.auto_create_topics_enable and not name.startswith("__"):
                    try:
                        c.create_topic(
                            name,
                            partitions=c.broker_config.num_partitions,
                            replication_factor=min(
                                c.broker_config.default_replication_factor, len(c.brokers)
                            ),
                            auto=True,
                        )
                        err = LEADER_NOT_AVAILABLE
                    except KafkaError as exc:
                        err = _code(exc) if _code(exc) > 0 else UNKNOWN_TOPIC_OR_PARTITION
                topics.append(
                    {"error_code": err, "name": name, "topic_id": uuid.UUID(int=0), "partitions": []}
                )
        active = c.controller.active
        return {
            "throttle_time": 0,
            "brokers": self._brokers(),
            "cluster_id": self.cluster_id,
            "controller_id": active if active is not None else -1,
            "topics": topics,
            "cluster_authorized_operations": -2147483648,
        }

    # -- Produce -------------------------------------------------------------------------------------------------
    async def produce(self, conn: Connection, req: Request) -> dict | None:
        """Produce: decode each partition's v2 batch into the engine's RecordBatch and hand the request to the
        leader (acks, min.insync.replicas and idempotent sequence checks are the broker's). acks=0 gets no
        response, as in Kafka."""
        b = req.body
        acks = int(b.acks)
        if acks not in (
            -1,
            0,
            1,
        ):  # Kafka answers INVALID_REQUIRED_ACKS for the whole request, whatever acks says
            return self._produce_response(
                conn, [(td.name, int(pd.index)) for td in b.topic_data for pd in td.partition_data], {}
            )
        prod = self.txn.producer_for(conn, b.transactional_id)
        order, results, batches, pid, codec = self._decode_produce(b)
        prod.observe(acks, pid if pid >= 0 else prod.pid, codec)
        if batches:
            if not await self._send_produce(conn, prod, batches, acks, _ms(b.timeout, 30000), results):
                return None  # acks=0
        elif acks == 0:
            return None
        return self._produce_response(conn, order, results)

    def _decode_produce(
        self, b
    ) -> tuple[list[TP], dict[TP, tuple[int, int, str | None]], dict[TP, RecordBatch], int, str]:
        """Each partition's records -> a RecordBatch, or the error Kafka's broker answers for it."""
        results: dict[TP, tuple[int, int, str | None]] = {}
        batches: dict[TP, RecordBatch] = {}
        order: list[TP] = []
        pid, codec = -1, "none"
        for td in b.topic_data:
            for pd in td.partition_data:
                tp = (td.name, int(pd.index))
                order.append(tp)
                if not self.exists(tp):
                    results[tp] = (UNKNOWN_TOPIC_OR_PARTITION, -1, None)
                    continue
                try:  # max.message.bytes is checked from the batch header, before decompressing (LogValidator)
                    wire = decode_batches(pd.records or b"", self.c.topic_config(tp[0]).max_message_bytes)
                except InvalidRecordError as exc:
                    results[tp] = (exc.code, -1, str(exc))
                    continue
                if len(wire) != 1:
                    results[tp] = (
                        INVALID_RECORD,
                        -1,
                        "a Produce request carries exactly one batch per partition",
                    )
                    continue
                w = wire[0]
                refused = self.txn.check_batch(tp, b.transactional_id, w)  # transactions.py
                if refused is not None:
                    results[tp] = refused
                    continue
                pid, codec = w.producer_id, w.codec
                batches[tp] = RecordBatch(
                    -1,
                    -1,
                    w.keys,
                    w.values,
                    w.timestamps,
                    w.headers,
                    w.producer_id,
                    w.producer_epoch,
                    w.base_sequence,
                    w.size_bytes,
                    w.codec,
                    w.wire_bytes,
                    is_transactional=bool(w.attributes & TRANSACTIONAL),
                )
        return order, results, batches, pid, codec

    async def _send_produce(
        self,
        conn: Connection,
        prod: ExternalProducer,
        batches: dict[TP, RecordBatch],
        acks: int,
        timeout: int,
        results: dict[TP, tuple[int, int, str | None]],
    ) -> bool:
        """Send the batches to the simulated leader and put its answers in `results`; False for acks=0 (no
        answer is awaited)."""
        c = self.c
        n = sum(x.count for x in batches.values())
        prod.sent += n
        broker = self.broker(conn)
        detail = ", ".join(f"{t}-{p} ({x.count} rec, {x.wire_bytes} B)" for (t, p), x in batches.items())
        first = next(iter(batches))
        rid = self.next_request_id()
        c.emit(
            "batch_sent",
            f"{prod.id} sent {n} record(s) to broker {broker.id}: {detail}",
            actors=(prod.id, broker.name),
            topic=first[0],
            partition=first[1] if len(batches) == 1 else None,
            records=n,
            broker=broker.id,
            partitions=[list(tp) for tp in batches],
            request=rid,
            external=True,
        )
        fut, resolve = self.future(conn)
        pr = ProduceRequest(rid, Reply(prod.id, resolve), batches, acks, timeout)
        prod.in_flight_requests += 1
        self.send_request(
            prod.id,
            conn,
            "Produce",
            broker.on_produce,
            pr,
            topic=first[0],
            partition=first[1] if len(batches) == 1 else None,
        )
        if acks == 0:
            prod.in_flight_requests -= 1
            prod.acked += n
            return False
        try:
            _req, engine_results = await fut
        finally:
            prod.in_flight_requests -= 1
        for tp, x in batches.items():
            err, base = engine_results.get(tp, (None, -1))
            results[tp] = (_code(err), base if err is None else -1, None if err is None else str(err))
            if err is None:
                prod.acked += x.count
                c.on_acked(prod, _Acked(tp, base, x, c.now))
            elif not getattr(err, "retriable", False):
                prod.failed += x.count
        return True

    def _produce_response(
        self, conn: Connection, order: list[TP], results: dict[TP, tuple[int, int, str | None]]
    ) -> dict:
        """The ProduceResponse; a partition without a result is answered INVALID_REQUIRED_ACKS."""
        c = self.c
        responses: dict[str, list] = {}
        for tp in order:
            code, base, msg = results.get(tp, (INVALID_REQUIRED_ACKS, -1, None))
            r = self._leader_replica(conn, tp) if code == NONE else None
            part: dict[str, Any] = {
                "index": tp[1],
                "error_code": code,
                "base_offset": base,
                "log_append_time": None,
                "log_start_offset": r.log.log_start_offset if r is not None else -1,
                "record_errors": [],
                "error_message": msg,
            }
            if code == NOT_LEADER_OR_FOLLOWER:  # KIP-951: tell the client the new leader right away
                ps = c.controller.partitions.get(tp)
                if ps is not None and ps.leader is not None:
                    part["current_leader"] = {"leader_id": ps.leader, "leader_epoch": ps.leader_epoch}
            responses.setdefault(tp[0], []).append(part)
        return {
            "responses": [{"name": t, "partition_responses": ps} for t, ps in responses.items()],
            "throttle_time": 0,
        }

    # -- Fetch ---------------------------------------------------------------------------------------------------
    def _fetch_actor(self, conn: Connection, parts: dict[TP, int]) -> ExternalConsumer:
        for proxy in self.proxies:
            if (
                proxy.client_id == conn.client_id
                and proxy.registered
                and any(tp in proxy.assignment for tp in parts)
            ):
                return proxy
        k = self.standalone.get(conn.client_id)
        if k is None or not k.registered:
            k = ExternalConsumer(
                self.unique_client_id(conn.client_id or "consumer"), conn.client_id, None, self
            )
            k.subscription = None
            k.state = "stable"
            self.standalone[conn.client_id] = k
            self._register(k)
        return k

    async def fetch(self, conn: Connection, req: Request) -> dict:
        """Fetch: a long poll at the leader (`Broker.on_fetch`, DelayedFetch) that answers below the high
        watermark. Fetch sessions (KIP-227) are declined by answering session id 0, so clients send full
        fetches; the records are re-encoded v2 batches."""
        b = req.body
        max_bytes = int(getattr(b, "max_bytes", 52428800) or 52428800)
        parts, part_max, order, errors = self._fetch_request(conn, b)
        data: dict = {}
        eng_errors: dict = {}
        aborted: dict = {}
        actor = self._fetch_actor(conn, parts) if parts else None
        if actor is not None:
            data, eng_errors, aborted = await self._long_poll(conn, actor, b, parts, max_bytes)
        out_topics = []
        got, ranges = 0, []
        for topic, plist in order:
            out_parts = []
            for p in plist:
                tp = (topic, p)
                entry, n, rng = self._fetch_entry(
                    conn, tp, parts, part_max.get(tp, max_bytes), errors, eng_errors, data, aborted
                )
                got += n
                if rng:
                    ranges.append(rng)
                if actor is not None and tp in data and tp not in eng_errors:
                    actor.positions[tp] = parts[tp]
                out_parts.append(entry)
            out_topics.append({"topic": topic, "partitions": out_parts})
        if got and actor is not None:
            actor.received += got
            broker = self.broker(conn)
            self.c.emit(
                "records_fetched",
                f"{actor.id} fetched {got} record(s) from broker {broker.id}: {', '.join(ranges)}",
                actors=(actor.id, broker.name),
                records=got,
                broker=broker.id,
                external=True,
            )
        return {"throttle_time": 0, "error_code": NONE, "session_id": 0, "responses": out_topics}

    def _fetch_request(
        self, conn: Connection, b
    ) -> tuple[dict[TP, int], dict[TP, int], list[tuple[str, list[int]]], dict[TP, int]]:
        """The partitions asked for: fetch offsets and byte limits of the valid ones, errors for the others."""
        parts: dict[TP, int] = {}
        part_max: dict[TP, int] = {}
        order: list[tuple[str, list[int]]] = []
        errors: dict[TP, int] = {}
        broker = self.broker(conn)
        for t in b.topics:
            plist = []
            for p in t.partitions:
                tp = (t.topic, int(p.partition))
                plist.append(tp[1])
                if not self.exists(tp):
                    errors[tp] = UNKNOWN_TOPIC_OR_PARTITION
                    continue
                r = broker.replicas.get(tp)
                cle = getattr(p, "current_leader_epoch", -1)
                if r is not None and r.is_leader and self._epoch_error(r, cle):
                    errors[tp] = self._epoch_error(r, cle)
                    continue
                parts[tp] = int(p.fetch_offset)
                part_max[tp] = int(p.partition_max_bytes)
            order.append((t.topic, plist))
        return parts, part_max, order, errors

    async def _long_poll(
        self, conn: Connection, actor: ExternalConsumer, b, parts: dict[TP, int], max_bytes: int
    ) -> tuple[dict, dict, dict]:
        """Send the fetch to the simulated leader and wait for its answer: (data, errors, aborted txns)."""
        actor.last_seen_ms = self.c.now
        fut, resolve = self.future(conn)
        # read_committed (isolation level 1) reads up to the last stable offset (KIP-98)
        extra = (True,) if int(getattr(b, "isolation_level", 0)) == 1 else ()
        self.send_request(
            actor.id,
            conn,
            "Fetch",
            self.broker(conn).on_fetch,
            Reply(actor.id, resolve),
            dict(parts),
            int(b.min_bytes),
            _ms(b.max_wait, 500),
            max_bytes,
            self.next_request_id(),
            *extra,
        )
        answer = await fut
        aborted = answer[4] if len(answer) > 4 and answer[4] else {}
        return answer[2], answer[3], aborted

    def _fetch_entry(
        self,
        conn: Connection,
        tp: TP,
        parts: dict[TP, int],
        limit: int,
        errors: dict,
        eng_errors: dict,
        data: dict,
        aborted: dict,
    ) -> tuple[dict[str, Any], int, str]:
        """One partition's FetchResponse entry, the number of records in it, and its offset range (for the
        event)."""
        entry: dict[str, Any] = {
            "partition_index": tp[1],
            "high_watermark": -1,
            "last_stable_offset": -1,
            "log_start_offset": -1,
            "aborted_transactions": None,
            "records": b"",
        }
        got, rng = 0, ""
        if tp in errors:
            entry["error_code"] = errors[tp]
        elif tp in eng_errors:
            entry["error_code"] = _code(eng_errors[tp])
        elif tp in data:
            batches, hw, lso = data[tp]
            off = parts[tp]
            chunks: list[bytes] = []
            size, last = 0, off
            for x in batches:
                if x.last_offset < off:
                    continue
                enc = self.encoder.encode(x)
                if chunks and size + len(enc) > limit:
                    break
                chunks.append(enc)
                size += len(enc)
                last = x.last_offset
                got += sum(1 for o in x.record_offsets() if o >= off)
            if chunks:
                rng = f"{tp[0]}-{tp[1]}@{off}..{last}"
            r = self.broker(conn).replicas.get(tp)
            entry.update(
                {
                    "error_code": NONE,
                    "high_watermark": hw,
                    "last_stable_offset": _last_stable(r) if r is not None else hw,
                    "log_start_offset": lso,
                    "records": b"".join(chunks),
                }
            )
            if tp in aborted:  # read_committed: the aborted transactions in range (KIP-98)
                entry["aborted_transactions"] = [
                    {"producer_id": a[0], "first_offset": a[1]} for a in aborted[tp]
                ]
        else:
            entry["error_code"] = NOT_LEADER_OR_FOLLOWER
        if entry["error_code"] == NOT_LEADER_OR_FOLLOWER:
            ps = self.c.controller.partitions.get(tp)
            if ps is not None and ps.leader is not None:
                entry["current_leader"] = {"leader_id": ps.leader, "leader_epoch": ps.leader_epoch}
        return entry, got, rng

    # -- ListOffsets / OffsetForLeaderEpoch ------------------------------------------------------------------
    async def list_offsets(self, conn: Connection, req: Request) -> dict:
        """ListOffsets at the leader: -1 latest (the high watermark; the LSO at read_committed), -2 earliest,
        -3 max timestamp (KIP-734), -4 earliest local (KIP-405, no tiering: the log start), -5 latest tiered
        (nothing tiered: -1), t >= 0 the first offset whose timestamp is >= t (offsetsForTimes)."""
        out = []
        for t in req.body.topics:
            parts = []
            for p in t.partitions:
                tp = (t.name, int(p.partition_index))
                entry = {
                    "partition_index": tp[1],
                    "error_code": NONE,
                    "timestamp": -1,
                    "offset": -1,
                    "leader_epoch": -1,
                    "old_style_offsets": [],
                }
                r = self._leader_replica(conn, tp)
                if not self.exists(tp):
                    entry["error_code"] = UNKNOWN_TOPIC_OR_PARTITION
                elif r is None:
                    entry["error_code"] = NOT_LEADER_OR_FOLLOWER
                elif self._epoch_error(r, getattr(p, "current_leader_epoch", -1)):
                    entry["error_code"] = self._epoch_error(r, p.current_leader_epoch)
                else:
                    ts = int(p.timestamp)
                    entry["leader_epoch"] = r.leader_epoch
                    if ts == -1:  # read_committed sees up to the last stable offset (KIP-98)
                        entry["offset"] = (
                            _last_stable(r) if getattr(req.body, "isolation_level", 0) == 1 else r.hw
                        )
                    elif ts in (-2, -4):
                        entry["offset"] = r.log.log_start_offset
                    elif ts == -3:
                        best = (-1, -1)
                        for x in r.log.batches():
                            if x.base_offset >= r.hw:
                                break
                            for o, s in zip(x.record_offsets(), x.timestamps, strict=False):
                                if s > best[1] and o < r.hw:
                                    best = (o, s)
                        entry["offset"], entry["timestamp"] = best
                    elif ts >= 0:
                        entry.update(self._offset_for_time(r, ts))
                parts.append(entry)
            out.append({"name": t.name, "partitions": parts})
        return {"throttle_time": 0, "topics": out}

    @staticmethod
    def _offset_for_time(r, ts: int) -> dict:
        for x in r.log.batches():
            if x.max_timestamp < ts:
                continue
            for o, s in zip(x.record_offsets(), x.timestamps, strict=False):
                if s >= ts and o < r.hw:
                    return {"offset": o, "timestamp": s, "leader_epoch": x.leader_epoch}
        return {"offset": -1, "timestamp": -1}

    async def offset_for_leader_epoch(self, conn: Connection, req: Request) -> dict:
        """KIP-101/320: where a leader epoch ends in the leader's log, so a consumer can detect truncation."""
        out = []
        for t in req.body.topics:
            parts = []
            for p in t.partitions:
                tp = (t.topic, int(p.partition))
                entry = {"partition": tp[1], "error_code": NONE, "leader_epoch": -1, "end_offset": -1}
                r = self._leader_replica(conn, tp)
                if not self.exists(tp):
                    entry["error_code"] = UNKNOWN_TOPIC_OR_PARTITION
                elif r is None:
                    entry["error_code"] = NOT_LEADER_OR_FOLLOWER
                elif self._epoch_error(r, p.current_leader_epoch):
                    entry["error_code"] = self._epoch_error(r, p.current_leader_epoch)
                else:
                    epoch, end = r.log.end_offset_for_epoch(int(p.leader_epoch))
                    entry["leader_epoch"], entry["end_offset"] = epoch, end
                parts.append(entry)
            out.append({"topic": t.topic, "partitions": parts})
        return {"throttle_time": 0, "topics": out}

    # -- FindCoordinator -------------------------------------------------------------------------------------
    async def find_coordinator(self, conn: Connection, req: Request) -> dict:
        """FindCoordinator: the leader of the group's __consumer_offsets partition (created on first use),
        through `Cluster.on_find_coordinator`; key type TRANSACTION goes to transactions.py."""
        b, v = req.body, req.api_version
        key_type = int(getattr(b, "key_type", 0))
        keys = list(b.coordinator_keys) if v >= 4 else [b.key]
        answers = []
        for key in keys:
            ans = {
                "key": key,
                "node_id": -1,
                "host": "",
                "port": -1,
                "error_code": COORDINATOR_NOT_AVAILABLE,
                "error_message": None,
            }
            if key_type != 0:
                ans.update(await self.txn.find_coordinator(conn, key_type, key))  # transactions.py
            else:
                fut, resolve = self.future(conn)
                actor = self._group_actor(conn, key)
                self.send_request(
                    actor,
                    conn,
                    "FindCoordinator",
                    self.c.on_find_coordinator,
                    conn.broker_id,
                    Reply(actor, resolve),
                    key,
                )
                (co,) = await fut
                ep = self.endpoint(co) if co is not None else None
                if ep is not None:
                    ans.update({"node_id": co, "host": ep[0], "port": ep[1], "error_code": NONE})
                else:
                    ans["error_message"] = "the group's __consumer_offsets partition has no live leader"
            answers.append(ans)
        if v >= 4:
            return {"throttle_time": 0, "coordinators": answers}
        a = answers[0]
        return {
            "throttle_time": 0,
            "error_code": a["error_code"],
            "error_message": a["error_message"],
            "node_id": a["node_id"],
            "host": a["host"],
            "port": a["port"],
        }

    def _group_actor(self, conn: Connection, group_id: str) -> str:
        """Name the messages of a group request after the client's member in that group, if we know it."""
        for k in self.proxies:
            if k.client_id == conn.client_id and k.group_id == group_id and k.registered:
                return k.id
        return (
            self.unique_client_id(conn.client_id or "client")
            if conn.client_id not in self.c.consumers
            else conn.client_id
        )

    # -- JoinGroup / SyncGroup / Heartbeat / LeaveGroup --------------------------------------------------------
    async def join_group(self, conn: Connection, req: Request) -> dict:
        """JoinGroup into the simulated GroupCoordinator with an ExternalConsumer standing in for the member.
        The member's protocol metadata is decoded for the coordinator (topics, owned partitions) and kept raw
        for the leader's response. v0-3 clients predate MEMBER_ID_REQUIRED (KIP-394): we rejoin for them."""
        c, b, v = self.c, req.body, req.api_version
        group = b.group_id
        session = _ms(b.session_timeout)
        rebalance = _ms(getattr(b, "rebalance_timeout", None), session)
        protocols = [(p.name, bytes(p.metadata)) for p in b.protocols]
        topics, owned = (
            decode_subscription(protocols[0][1]) if protocols and b.protocol_type == "consumer" else ([], [])
        )
        # a real client's generation and client.rack, for a simulated leader's assignor (KIP-881)
        generation_id, rack_id = (
            decode_subscription_extras(protocols[0][1])
            if protocols and b.protocol_type == "consumer"
            else (-1, None)
        )
        member_id = b.member_id or ""
        k = self.members.get((group, member_id)) if member_id else None
        if k is None:
            self._retire_stale(group, conn.client_id)  # rejoining after its coordinator moved: keep its name
            k = ExternalConsumer(
                self.unique_client_id(conn.client_id or "consumer"), conn.client_id, group, self
            )
            k.member_id = member_id
            self.proxies.append(k)
            if member_id:
                self.members[(group, member_id)] = k
        k.subscription = topics
        k.set_timeouts(session, rebalance)
        k.last_seen_ms = c.now
        k.state = "joining"
        names = [n for n, _ in protocols]
        broker = self.broker(conn)
        while True:
            if member_id:
                self.metadata_bytes[(group, member_id)] = dict(protocols)
            fut, resolve = self.future(conn)
            k.join_waiters.append(resolve)
            self.send_request(
                k.id,
                conn,
                "JoinGroup",
                broker.coordinator.on_join,
                k,
                group,
                member_id,
                topics,
                names,
                owned,
                session,
                rebalance,
                None,
                generation_id,
                rack_id,
            )
            try:
                err, payload = await fut
            finally:
                if resolve in k.join_waiters:
                    k.join_waiters.remove(resolve)
            if isinstance(err, MemberIdRequiredError):
                member_id = payload["member_id"]
                k.member_id = member_id
                self.members[(group, member_id)] = k
                self.metadata_bytes[(group, member_id)] = dict(protocols)
                if v >= 4:
                    return {
                        "throttle_time": 0,
                        "error_code": MEMBER_ID_REQUIRED,
                        "generation_id": -1,
                        "member_id": member_id,
                        "members": [],
                    }
                continue
            break
        if err is not None:
            if isinstance(err, UnknownMemberIdError):
                k.state = "unjoined"
            return {
                "throttle_time": 0,
                "error_code": _code(err),
                "generation_id": -1,
                "member_id": member_id,
                "members": [],
            }
        self._register(k)
        members = []
        if payload["members"] is not None:
            proto = payload["protocol"]
            for mid, sub in payload["members"].items():
                raw = self.metadata_bytes.get((group, mid), {}).get(proto)
                members.append(
                    {
                        "member_id": mid,
                        "group_instance_id": None,
                        "metadata": raw if raw is not None else encode_subscription(sub.topics, sub.owned),
                    }
                )
        return {
            "throttle_time": 0,
            "error_code": NONE,
            "generation_id": payload["generation"],
            "protocol_type": b.protocol_type,
            "protocol_name": payload["protocol"],
            "leader": payload["leader"],
            "skip_assignment": False,
            "member_id": payload["member_id"],
            "members": members,
        }

    def _coordinator_group(self, conn: Connection, group: str):
        co = self.broker(conn).coordinator
        return co.groups.get(group) if co.is_coordinator(group) else None

    async def sync_group(self, conn: Connection, req: Request) -> dict:
        """SyncGroup: the leader's assignment is decoded for the coordinator (and for simulated members) and kept
        raw for external members, who get exactly the bytes their leader sent."""
        b = req.body
        group, member_id, generation = b.group_id, b.member_id, int(b.generation_id)
        k = self.members.get((group, member_id))
        fail = {"throttle_time": 0, "error_code": UNKNOWN_MEMBER_ID, "assignment": b""}
        if k is None:
            return fail
        k.last_seen_ms = self.c.now
        g = self._coordinator_group(conn, group)
        assignments = None
        if g is not None and g.leader == member_id:
            raw = {a.member_id: bytes(a.assignment) for a in b.assignments}
            assignments = {mid: decode_assignment(x) or [] for mid, x in raw.items()}
            self.assignment_bytes[group] = (generation, raw)
        fut, resolve = self.future(conn)
        k.sync_waiters.append(resolve)
        broker = self.broker(conn)
        self.send_request(
            k.id, conn, "SyncGroup", broker.coordinator.on_sync, k, group, generation, member_id, assignments
        )
        try:
            err, gen, assignment = await fut
        finally:
            if resolve in k.sync_waiters:
                k.sync_waiters.remove(resolve)
        if err is not None:
            return {"throttle_time": 0, "error_code": _code(err), "assignment": b""}
        saved_gen, raw = self.assignment_bytes.get(group, (-1, {}))
        data = raw.get(member_id) if saved_gen == gen else None
        return {
            "throttle_time": 0,
            "error_code": NONE,
            "protocol_type": getattr(b, "protocol_type", None) or "consumer",
            "protocol_name": k.protocol,
            "assignment": data if data is not None else encode_assignment(assignment or []),
        }

    async def heartbeat(self, conn: Connection, req: Request) -> dict:
        b = req.body
        group, member_id = b.group_id, b.member_id
        k = self.members.get((group, member_id))
        if k is not None:
            k.last_seen_ms = self.c.now
        co = self.broker(conn).coordinator
        if co.is_coordinator(group) and group not in co.groups:
            # a coordinator that just took over knows no members: the member must rejoin (Kafka would have
            # loaded the group from __consumer_offsets; the simulation keeps only offsets there)
            return {"throttle_time": 0, "error_code": UNKNOWN_MEMBER_ID}
        actor = k.id if k is not None else self._group_actor(conn, group)
        fut, resolve = self.future(conn)
        self.send_request(
            actor,
            conn,
            "Heartbeat",
            co.on_heartbeat,
            Reply(actor, resolve),
            group,
            int(b.generation_id),
            member_id,
        )
        _g, err = await fut
        return {"throttle_time": 0, "error_code": _code(err)}

    async def leave_group(self, conn: Connection, req: Request) -> dict:
        """LeaveGroup (v3+ batched, KIP-345). The coordinator removes the member and rebalances at once."""
        b, v = req.body, req.api_version
        group = b.group_id
        mids = [m.member_id for m in b.members] if v >= 3 else [b.member_id]
        co = self.broker(conn).coordinator
        if not co.is_coordinator(group):
            return {"throttle_time": 0, "error_code": NOT_COORDINATOR, "members": []}
        g = co.groups.get(group)
        results = []
        for mid in mids:
            known = g is not None and mid in g.members
            results.append(
                {
                    "member_id": mid,
                    "group_instance_id": None,
                    "error_code": NONE if known else UNKNOWN_MEMBER_ID,
                }
            )
            if known:
                k = self.members.get((group, mid))
                actor = k.id if k is not None else self._group_actor(conn, group)
                if k is not None:
                    k.state = "closed"
                self.send_request(actor, conn, "LeaveGroup", co.on_leave, k or Reply(actor, None), group, mid)
        top = NONE if v >= 3 or results[0]["error_code"] == NONE else UNKNOWN_MEMBER_ID
        return {"throttle_time": 0, "error_code": top, "members": results}

    async def list_groups(self, conn: Connection, req: Request) -> dict:
        """ListGroups: the classic groups this broker coordinates (admin clients ask every broker)."""
        b = req.body
        states = {x.lower() for x in getattr(b, "states_filter", None) or ()}
        types = {x.lower() for x in getattr(b, "types_filter", None) or ()}
        co = self.broker(conn).coordinator
        out = []
        if not types or "classic" in types:
            for gid, g in sorted(co.groups.items()):
                if co.is_coordinator(gid) and (not states or g.state.lower() in states):
                    out.append(
                        {
                            "group_id": gid,
                            "protocol_type": "consumer",
                            "group_state": g.state,
                            "group_type": "classic",
                        }
                    )
        return {"throttle_time": 0, "error_code": NONE, "groups": out}

    async def describe_groups(self, conn: Connection, req: Request) -> dict:
        """DescribeGroups (kafka-consumer-groups.sh --describe): state, protocol and members with their
        subscriptions and assignments, real and simulated members alike."""
        co = self.broker(conn).coordinator
        out = []
        for gid in req.body.groups:
            if not co.is_coordinator(gid):
                out.append(
                    {
                        "error_code": NOT_COORDINATOR,
                        "group_id": gid,
                        "group_state": "",
                        "protocol_type": "",
                        "protocol_data": "",
                        "members": [],
                    }
                )
                continue
            g = co.groups.get(gid)
            if g is None:
                out.append(
                    {
                        "error_code": NONE,
                        "group_id": gid,
                        "group_state": "Dead",
                        "protocol_type": "",
                        "protocol_data": "",
                        "members": [],
                    }
                )
                continue
            gen, raw_assign = self.assignment_bytes.get(gid, (-1, {}))
            members = []
            for mid, m in g.members.items():
                k = self.members.get((gid, mid))
                meta = self.metadata_bytes.get((gid, mid), {}).get(g.protocol or "")
                assigned = raw_assign.get(mid) if gen == g.generation else None
                members.append(
                    {
                        "member_id": mid,
                        "group_instance_id": None,
                        "client_id": k.client_id if k is not None else m.client_id,
                        "client_host": "/127.0.0.1",
                        "member_metadata": meta
                        if meta is not None
                        else encode_subscription(m.topics, list(m.owned)),
                        "member_assignment": assigned
                        if assigned is not None
                        else encode_assignment(list(m.assignment)),
                    }
                )
            out.append(
                {
                    "error_code": NONE,
                    "group_id": gid,
                    "group_state": g.state,
                    "protocol_type": "consumer",
                    "protocol_data": g.protocol or "",
                    "members": members,
                    "authorized_operations": -2147483648,
                }
            )
        return {"throttle_time": 0, "groups": out}

    # -- offsets -------------------------------------------------------------------------------------------------
    async def offset_commit(self, conn: Connection, req: Request) -> dict:
        """OffsetCommit into the group's coordinator (checked against member id and generation there)."""
        b = req.body
        group, member_id = b.group_id, b.member_id or ""
        generation = int(b.generation_id_or_member_epoch)
        offsets: dict[TP, int] = {}
        codes: dict[TP, int] = {}
        order: list[TP] = []
        for t in b.topics:
            for p in t.partitions:
                tp = (t.name, int(p.partition_index))
                order.append(tp)
                if self.exists(tp):
                    offsets[tp] = int(p.committed_offset)
                else:
                    codes[tp] = UNKNOWN_TOPIC_OR_PARTITION
        if offsets:
            k = self.members.get((group, member_id))
            actor = k.id if k is not None else self._group_actor(conn, group)
            fut, resolve = self.future(conn)
            co = self.broker(conn).coordinator
            self.send_request(
                actor,
                conn,
                "OffsetCommit",
                co.on_offset_commit,
                Reply(actor, resolve),
                group,
                generation,
                member_id,
                dict(offsets),
                self.next_request_id(),
            )
            _g, _rid, err, _offs = await fut
            for tp in offsets:
                codes[tp] = _code(err)
        topics: dict[str, list] = {}
        for tp in order:
            topics.setdefault(tp[0], []).append({"partition_index": tp[1], "error_code": codes[tp]})
        return {"throttle_time": 0, "topics": [{"name": t, "partitions": ps} for t, ps in topics.items()]}

    async def _fetch_offsets(self, conn: Connection, group: str, topics) -> tuple[int, list[dict]]:
        co = self.broker(conn).coordinator
        if not co.is_coordinator(group):
            return NOT_COORDINATOR, []
        if topics is None:
            tps = sorted(co.group(group).offsets)
        else:
            tps = [(t.name, int(p)) for t in topics for p in t.partition_indexes]
        actor = self._group_actor(conn, group)
        fut, resolve = self.future(conn)
        self.send_request(
            actor,
            conn,
            "OffsetFetch",
            co.on_offset_fetch,
            Reply(actor, resolve),
            group,
            tps,
            self.next_request_id(),
        )
        _g, _rid, err, found = await fut
        if err is not None:
            return _code(err), []
        out: dict[str, list] = {}
        for tp in tps:
            out.setdefault(tp[0], []).append(
                {
                    "partition_index": tp[1],
                    "committed_offset": found.get(tp, -1),
                    "committed_leader_epoch": -1,
                    "metadata": "",
                    "error_code": NONE,
                }
            )
        return NONE, [{"name": t, "partitions": ps} for t, ps in out.items()]

    async def offset_fetch(self, conn: Connection, req: Request) -> dict:
        """OffsetFetch (v8+ several groups at once, KIP-709); -1 means nothing committed."""
        b, v = req.body, req.api_version
        if v >= 8:
            groups = []
            for g in b.groups:
                err, topics = await self._fetch_offsets(conn, g.group_id, g.topics)
                groups.append({"group_id": g.group_id, "topics": topics, "error_code": err})
            return {"throttle_time": 0, "groups": groups}
        err, topics = await self._fetch_offsets(conn, b.group_id, b.topics)
        if err and v < 2:  # v0-1 have no top-level error: report it on every partition asked for
            topics = [
                {
                    "name": t.name,
                    "partitions": [
                        {"partition_index": p, "committed_offset": -1, "metadata": "", "error_code": err}
                        for p in t.partition_indexes
                    ],
                }
                for t in b.topics or ()
            ]
        return {"throttle_time": 0, "topics": topics, "error_code": err}

    # -- admin ---------------------------------------------------------------------------------------------------
    async def create_topics(self, conn: Connection, req: Request) -> dict:
        """CreateTopics through `Cluster.create_topic` (kafka-topics.sh --create). -1 partitions / replication
        factor take the broker defaults (KIP-464); manual replica assignments are not simulated."""
        c, b = self.c, req.body
        bc = c.broker_config
        out = []
        for t in b.topics:
            name = t.name
            parts = int(t.num_partitions) if int(t.num_partitions) != -1 else bc.num_partitions
            rf = (
                int(t.replication_factor)
                if int(t.replication_factor) != -1
                else bc.default_replication_factor
            )
            configs = {x.name: x.value for x in t.configs if x.value is not None}
            res: dict[str, Any] = {
                "name": name,
                "error_code": NONE,
                "error_message": None,
                "num_partitions": -1,
                "replication_factor": -1,
                "configs": None,
            }
            try:
                if t.assignments:
                    res.update(
                        error_code=INVALID_REQUEST,
                        error_message="manual replica assignment is not "
                        "simulated; give num_partitions and replication_factor",
                    )
                elif name.startswith("__"):
                    res.update(
                        error_code=INVALID_REQUEST,
                        error_message=f"creating internal topic {name} is prohibited",
                    )
                elif b.validate_only:
                    validate_topic_name(name)
                    if name in c.topics:
                        res.update(
                            error_code=TOPIC_ALREADY_EXISTS, error_message=f"Topic '{name}' already exists."
                        )
                    elif parts < 1:
                        res.update(
                            error_code=INVALID_PARTITIONS, error_message="partitions must be at least 1"
                        )
                    elif not 1 <= rf <= len(c.brokers):
                        res.update(
                            error_code=INVALID_REPLICATION_FACTOR,
                            error_message=f"replication factor {rf} is not within 1.."
                            f"{len(c.brokers)} brokers",
                        )
                    else:
                        TopicConfig.parse(configs, where=f"topic {name!r}")
                else:
                    c.create_topic(name, parts, rf, configs)
            except KafkaError as exc:
                res.update(
                    error_code=_code(exc) if _code(exc) > 0 else INVALID_REQUEST, error_message=str(exc)
                )
            if res["error_code"] == NONE:
                res.update(
                    num_partitions=parts,
                    replication_factor=rf,
                    topic_id=self.topic_id(name) if name in c.topics else uuid.UUID(int=0),
                )
                if name in c.topics:
                    res["configs"] = [
                        {k: x[k] for k in ("name", "value", "read_only", "config_source", "is_sensitive")}
                        for x in self._topic_configs(name, None)
                    ]
            out.append(res)
        return {"throttle_time": 0, "topics": out}

    async def delete_topics(self, conn: Connection, req: Request) -> dict:
        c, b, v = self.c, req.body, req.api_version
        wanted = [(t.name, t.topic_id) for t in b.topics] if v >= 6 else [(n, None) for n in b.topic_names]
        out = []
        for name, tid in wanted:
            if name is None and tid is not None:
                name = self.topic_by_id(tid)
                if name is None:
                    out.append({"name": None, "topic_id": tid, "error_code": UNKNOWN_TOPIC_ID})
                    continue
            res = {
                "name": name,
                "topic_id": self.topic_ids.get(name, uuid.UUID(int=0)),
                "error_code": NONE,
                "error_message": None,
            }
            if name not in c.topics:
                res["error_code"] = UNKNOWN_TOPIC_OR_PARTITION
            elif c.topics[name].internal:
                res.update(
                    error_code=INVALID_REQUEST, error_message=f"internal topic {name} cannot be deleted"
                )
            else:
                c.delete_topic(name)
            out.append(res)
        return {"throttle_time": 0, "responses": out}

    def _topic_configs(self, name: str, keys) -> list[dict]:
        tcfg = self.c.topics[name].config
        explicit = set(tcfg.explicit())
        out: list[dict[str, Any]] = []
        for k, val in tcfg.as_kafka_dict().items():
            if keys is not None and k not in keys:
                continue
            out.append(
                {
                    "name": k,
                    "value": _cfg_value(val),
                    "read_only": False,
                    "is_sensitive": False,
                    "config_source": SRC_DYNAMIC_TOPIC if k in explicit else SRC_DEFAULT,
                    "synonyms": [],
                    "config_type": _cfg_type(val),
                    "documentation": None,
                }
            )
        return out

    async def describe_configs(self, conn: Connection, req: Request) -> dict:
        """DescribeConfigs for topics (type 2) and brokers (type 4), from the engine's pydantic configs."""
        c = self.c
        results = []
        for res in req.body.resources:
            rtype, rname = int(res.resource_type), res.resource_name
            keys = set(res.configuration_keys) if res.configuration_keys is not None else None
            entry: dict[str, Any] = {
                "error_code": NONE,
                "error_message": None,
                "resource_type": rtype,
                "resource_name": rname,
                "configs": [],
            }
            if rtype == 2:
                if rname in c.topics:
                    entry["configs"] = self._topic_configs(rname, keys)
                else:
                    entry.update(error_code=UNKNOWN_TOPIC_OR_PARTITION, error_message=f"no topic {rname!r}")
            elif rtype == 4:
                if rname and (not rname.isdigit() or int(rname) not in c.brokers):
                    entry.update(error_code=INVALID_REQUEST, error_message=f"no broker {rname!r}")
                else:
                    bc = c.broker_config
                    explicit = set(bc.explicit())
                    entry["configs"] = [
                        {
                            "name": k,
                            "value": _cfg_value(val),
                            "read_only": True,
                            "is_sensitive": False,
                            "config_source": SRC_STATIC_BROKER if k in explicit else SRC_DEFAULT,
                            "synonyms": [],
                            "config_type": _cfg_type(val),
                            "documentation": None,
                        }
                        for k, val in bc.as_kafka_dict().items()
                        if not k.startswith("simulator.") and (keys is None or k in keys)
                    ]
            else:
                entry.update(
                    error_code=INVALID_REQUEST, error_message=f"resource type {rtype} is not simulated"
                )
            results.append(entry)
        return {"throttle_time": 0, "results": results}

    async def init_producer_id(self, conn: Connection, req: Request) -> dict:
        """InitProducerId for idempotence (KIP-98); v3+ may bump the epoch of a known id (KIP-360)."""
        c, b = self.c, req.body
        if b.transactional_id is not None:
            return await self.txn.init_producer_id(conn, req)  # transactions.py
        prod = self.producer(conn.client_id)
        old_pid, old_epoch = int(getattr(b, "producer_id", -1)), int(getattr(b, "producer_epoch", -1))
        if old_pid >= 0 and 0 <= old_epoch < 32767:
            pid, epoch = old_pid, old_epoch + 1
        else:
            pid, epoch = c.next_producer_id(), 0
        prod.pid, prod.producer_epoch = pid, epoch
        c.emit(
            "note",
            f"{prod.id} got producer id {pid} (epoch {epoch}) from InitProducerId: its batches carry "
            f"sequence numbers, so a retried batch is never written twice (idempotence, KIP-98)",
            actors=(prod.id, self.broker(conn).name),
            producer_id=pid,
            external=True,
        )
        return {"throttle_time": 0, "error_code": NONE, "producer_id": pid, "producer_epoch": epoch}


class _Acked:
    """What `Cluster.on_acked` reads from an acknowledged batch (the loss ledger and the batch_acked event)."""

    __slots__ = ("tp", "base_offset", "sealed", "count", "created_ms", "sent_at", "timestamps")

    def __init__(self, tp: TP, base_offset: int, batch: RecordBatch, now: int) -> None:
        self.tp, self.base_offset, self.sealed, self.count, self.created_ms = (
            tp,
            base_offset,
            batch,
            batch.count,
            now,
        )
        # A real client's send() times are on its own wall clock: its records count as sent when they arrived.
        self.sent_at: list[int] | None = None
        self.timestamps = (now,) * batch.count


__all__ = ["KafkaAdapter", "Connection"]
