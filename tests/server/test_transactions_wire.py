"""Transactions over the wire (issue 18 part 2): confluent-kafka, kafka-python and aiokafka (and kafkajs, when node
and the kafkajs package are installed) run transactions against the simulated brokers (KIP-98, KIP-447). A committed transaction's records and consumer offsets count, an aborted
one's do not; a read_committed consumer reads only committed records, a read_uncommitted one reads both; the
snapshot the Playground draws shows the real client's markers and LSO as it shows a simulated producer's; what is
not supported is refused at once with an error that says what."""

from __future__ import annotations

import asyncio
import time

import pytest
from conftest import wait_until
from wire import connect, read_response, request_frame

from engine.server.recordbatch import encode_batch

pytestmark = pytest.mark.timeout(90)

# Each transactional producer asks for a short transaction.timeout.ms, so a test that went wrong is not held up by
# the 60 s default; nothing here waits for it.
TXN_TIMEOUT_MS = 10000


def _topics(cluster, h, *names: str, partitions: int = 1) -> None:
    for n in names:
        h.call(cluster.create_topic, n, partitions, 3)


def _values(batch) -> list[bytes]:
    return sorted(batch)


# -- reading back -------------------------------------------------------------------------------------------------
def _kp_read(bootstrap: str, topic: str, isolation: str, partitions: int = 1) -> list[bytes]:
    """Every record of `topic` a kafka-python consumer with this isolation level sees: read until its position
    reaches the end offset (the LSO for read_committed, the high watermark otherwise)."""
    from kafka import KafkaConsumer, TopicPartition

    k = KafkaConsumer(bootstrap_servers=bootstrap, isolation_level=isolation, enable_auto_commit=False)
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        k.assign(tps)
        k.seek_to_beginning()
        ends = k.end_offsets(tps)
        got: list[bytes] = []
        deadline = time.monotonic() + 20
        while any(k.position(tp) < ends[tp] for tp in tps):
            assert time.monotonic() < deadline, f"{isolation} consumer stuck before {ends}"
            for recs in k.poll(timeout_ms=200).values():
                got.extend(r.value for r in recs)
        return got
    finally:
        k.close()


def _ck_read(bootstrap: str, topic: str, isolation: str) -> list[bytes]:
    """The same with a confluent-kafka consumer (partition 0 up to its high watermark; nothing is left open)."""
    from confluent_kafka import Consumer, TopicPartition

    k = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{isolation}",
            "isolation.level": isolation,
            "enable.auto.commit": False,
        }
    )
    try:
        _low, high = k.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        k.assign([TopicPartition(topic, 0, 0)])
        got: list[bytes] = []
        deadline = time.monotonic() + 20
        while k.position([TopicPartition(topic, 0)])[0].offset < high:
            assert time.monotonic() < deadline, f"{isolation} consumer stuck before {high}"
            for m in k.consume(100, 0.2):
                assert m.error() is None, m.error()
                got.append(m.value())
        return got
    finally:
        k.close()


def _committed(bootstrap: str, group: str, topic: str) -> int | None:
    from kafka import KafkaConsumer, TopicPartition

    k = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        return k.committed(TopicPartition(topic, 0))
    finally:
        k.close()


# -- confluent-kafka ----------------------------------------------------------------------------------------------
def test_confluent_consume_transform_produce_commits_and_aborts(serve):
    ck = pytest.importorskip("confluent_kafka")
    cluster, h = serve()
    _topics(cluster, h, "in", "out")
    seed = ck.Producer({"bootstrap.servers": h.bootstrap})
    for i in range(10):
        seed.produce("in", value=b"v%d" % i)
    assert seed.flush(10) == 0

    k = ck.Consumer(
        {
            "bootstrap.servers": h.bootstrap,
            "group.id": "ctp",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
        }
    )
    k.subscribe(["in"])
    p = ck.Producer(
        {
            "bootstrap.servers": h.bootstrap,
            "transactional.id": "ck-app",
            "client.id": "ck-app",
            "transaction.timeout.ms": TXN_TIMEOUT_MS,
        }
    )
    p.init_transactions(15)

    def round_(n: int, commit: bool) -> None:
        msgs: list = []
        deadline = time.monotonic() + 20
        while len(msgs) < n:
            assert time.monotonic() < deadline, "the consumer got no records"
            msgs += [m for m in k.consume(n - len(msgs), 0.5) if m.error() is None]
        p.begin_transaction()
        for m in msgs:
            p.produce("out", value=m.value().upper())
        p.send_offsets_to_transaction(k.position(k.assignment()), k.consumer_group_metadata(), 15)
        if commit:
            p.commit_transaction(15)
        else:
            assert p.flush(10) == 0  # in the log first, or the abort would just drop them unsent
            p.abort_transaction(15)

    try:
        round_(4, commit=True)
        round_(3, commit=False)
        # KIP-447: offsets sent for a member the group does not know (a zombie's) are refused
        co = h.call(cluster.coordinator_for, "ctp")
        part = {
            "partition_index": 0,
            "committed_offset": 9,
            "committed_leader_epoch": -1,
            "committed_metadata": "",
        }
        zombie = {
            "transactional_id": "ck-app",
            "group_id": "ctp",
            "producer_id": 0,
            "producer_epoch": 0,
            "generation_id": 1,
            "member_id": "ghost",
            "group_instance_id": None,
            "topics": [{"name": "in", "partitions": [part]}],
        }
        with connect(h.ports[co]) as s:
            s.sendall(request_frame(28, 3, zombie, 1))
            assert read_response(s, 28, 3)[1].topics[0].partitions[0].error_code == 25  # UNKNOWN_MEMBER_ID
    finally:
        k.close()
    # the aborted transaction's offsets were never committed: a restarted application reprocesses from 4
    assert _committed(h.bootstrap, "ctp", "in") == 4
    assert _ck_read(h.bootstrap, "out", "read_committed") == [b"V0", b"V1", b"V2", b"V3"]
    assert _values(_ck_read(h.bootstrap, "out", "read_uncommitted")) == [b"V%d" % i for i in range(7)]
    events = h.call(lambda: [(e.kind, e.data.get("commit")) for e in cluster.events.events])
    assert ("txn_completed", True) in events and ("txn_completed", False) in events


def test_a_new_instance_fences_the_old_one_and_aborts_its_transaction(serve):
    ck = pytest.importorskip("confluent_kafka")
    cluster, h = serve()
    _topics(cluster, h, "out")
    conf = {
        "bootstrap.servers": h.bootstrap,
        "transactional.id": "app",
        "transaction.timeout.ms": TXN_TIMEOUT_MS,
    }
    old = ck.Producer({**conf, "client.id": "zombie"})
    old.init_transactions(15)
    old.begin_transaction()
    old.produce("out", value=b"zombie")
    assert old.flush(10) == 0
    new = ck.Producer({**conf, "client.id": "successor"})
    new.init_transactions(15)  # fences "zombie" and aborts what it left open (KIP-98)
    started = time.monotonic()
    with pytest.raises(ck.KafkaException) as info:
        old.commit_transaction(15)
    assert info.value.args[0].fatal(), info.value
    assert time.monotonic() - started < 10  # refused at once, not after a timeout
    new.begin_transaction()
    new.produce("out", value=b"successor")
    new.commit_transaction(15)
    assert _kp_read(h.bootstrap, "out", "read_committed") == [b"successor"]
    assert _kp_read(h.bootstrap, "out", "read_uncommitted") == [b"zombie", b"successor"]


# -- kafka-python -------------------------------------------------------------------------------------------------
def test_kafka_python_transactions_commit_and_abort(serve):
    pytest.importorskip("kafka")
    from kafka import KafkaProducer, TopicPartition
    from kafka.structs import OffsetAndMetadata

    if not hasattr(KafkaProducer, "init_transactions"):
        pytest.skip("kafka-python < 2.2 has no transactional producer")
    cluster, h = serve()
    _topics(cluster, h, "in")
    _topics(cluster, h, "spread", partitions=2)
    p = KafkaProducer(
        bootstrap_servers=h.bootstrap,
        transactional_id="kp-app",
        client_id="kp-app",
        transaction_timeout_ms=TXN_TIMEOUT_MS,
    )
    try:
        p.init_transactions()
        p.begin_transaction()
        for i in range(4):
            p.send("spread", key=b"k%d" % i, value=b"c%d" % i)
        p.send_offsets_to_transaction({TopicPartition("in", 0): OffsetAndMetadata(4, "", -1)}, "kpg")
        p.commit_transaction()
        p.begin_transaction()
        for i in range(3):
            p.send("spread", key=b"k%d" % i, value=b"a%d" % i)
        p.send_offsets_to_transaction({TopicPartition("in", 0): OffsetAndMetadata(7, "", -1)}, "kpg")
        p.flush()  # in the log before the abort: read_uncommitted consumers see them
        p.abort_transaction()
    finally:
        p.close()
    assert _committed(h.bootstrap, "kpg", "in") == 4
    assert _values(_kp_read(h.bootstrap, "spread", "read_committed", 2)) == [b"c0", b"c1", b"c2", b"c3"]
    assert _values(_kp_read(h.bootstrap, "spread", "read_uncommitted", 2)) == [
        b"a0",
        b"a1",
        b"a2",
        b"c0",
        b"c1",
        b"c2",
        b"c3",
    ]


# -- aiokafka -----------------------------------------------------------------------------------------------------
def test_aiokafka_transactions_commit_and_abort(serve):
    aiokafka = pytest.importorskip("aiokafka")
    from aiokafka import TopicPartition

    cluster, h = serve()
    _topics(cluster, h, "in", "out")

    async def produce() -> None:
        p = aiokafka.AIOKafkaProducer(
            bootstrap_servers=h.bootstrap,
            transactional_id="ak-app",
            client_id="ak-app",
            transaction_timeout_ms=TXN_TIMEOUT_MS,
        )
        await p.start()
        try:
            async with p.transaction():  # commits on leaving the block
                for i in range(3):
                    await p.send("out", value=b"c%d" % i)
                await p.send_offsets_to_transaction({TopicPartition("in", 0): 3}, "akg")
            await p.begin_transaction()
            for i in range(2):
                await (await p.send("out", value=b"a%d" % i))  # acknowledged, so in the log
            await p.send_offsets_to_transaction({TopicPartition("in", 0): 5}, "akg")
            await p.abort_transaction()
        finally:
            await p.stop()

    async def read(isolation: str) -> list[bytes]:
        k = aiokafka.AIOKafkaConsumer(
            bootstrap_servers=h.bootstrap, isolation_level=isolation, enable_auto_commit=False
        )
        await k.start()
        try:
            tp = TopicPartition("out", 0)
            k.assign([tp])
            await k.seek_to_beginning(tp)
            end = (await k.end_offsets([tp]))[tp]
            got: list[bytes] = []
            deadline = time.monotonic() + 20
            while await k.position(tp) < end:
                assert time.monotonic() < deadline, f"{isolation} consumer stuck before {end}"
                for recs in (await k.getmany(timeout_ms=200)).values():
                    got.extend(r.value for r in recs)
            return got
        finally:
            await k.stop()

    asyncio.run(produce())
    assert _committed(h.bootstrap, "akg", "in") == 3
    assert asyncio.run(read("read_committed")) == [b"c0", b"c1", b"c2"]
    assert asyncio.run(read("read_uncommitted")) == [b"c0", b"c1", b"c2", b"a0", b"a1"]


# -- the Playground's picture -------------------------------------------------------------------------------------
def test_snapshot_shows_a_real_clients_transaction_like_a_simulated_one(serve):
    """The log strip and the transactions table read the snapshot: an open transaction holds the LSO back (and a
    read_committed ListOffsets says so), the markers are control records, aborted records are marked aborted."""
    ck = pytest.importorskip("confluent_kafka")
    from kafka import KafkaConsumer, TopicPartition

    cluster, h = serve()
    _topics(cluster, h, "out")
    p = ck.Producer(
        {
            "bootstrap.servers": h.bootstrap,
            "transactional.id": "shown",
            "client.id": "real",
            "transaction.timeout.ms": TXN_TIMEOUT_MS,
        }
    )
    p.init_transactions(15)
    p.begin_transaction()
    for i in range(3):
        p.produce("out", value=b"open%d" % i)
    assert p.flush(10) == 0

    def partition():
        snap = h.call(cluster.snapshot)
        return snap, snap.partition("out", 0)

    snap, part = partition()
    assert (part.last_stable_offset, part.high_watermark) == (0, 3)
    assert [r.txn for r in part.tail] == ["open"] * 3
    prod = next(x for x in snap.producers if x.id == "real")
    assert (prod.transactional_id, prod.txn_state) == ("shown", "InTransaction")
    tv = next(t for t in snap.transactions if t.transactional_id == "shown")
    assert tv.state == "Ongoing" and [tuple(tp) for tp in tv.partitions] == [("out", 0)]
    k = KafkaConsumer(bootstrap_servers=h.bootstrap, isolation_level="read_committed")
    tp = TopicPartition("out", 0)
    assert k.end_offsets([tp])[tp] == 0  # ListOffsets at read_committed: the LSO
    p.commit_transaction(15)
    p.begin_transaction()
    p.produce("out", value=b"gone")
    assert p.flush(10) == 0
    p.abort_transaction(15)  # answered once the leaders wrote the markers; the followers copy them next
    wait_until(lambda: partition()[1].high_watermark == 6, 10, what="the ABORT marker below the HW")
    assert k.end_offsets([tp])[tp] == 6
    k.close()

    snap, part = partition()
    assert part.last_stable_offset == 6
    assert [(r.control, r.txn) for r in part.tail] == [
        (None, "committed"),
        (None, "committed"),
        (None, "committed"),
        ("COMMIT", None),
        (None, "aborted"),
        ("ABORT", None),
    ]
    tv = next(t for t in snap.transactions if t.transactional_id == "shown")
    assert tv.state == "CompleteAbort"
    assert next(x for x in snap.producers if x.id == "real").txn_state == "Ready"
    # the Playground's "Accept real clients" panel names the transaction
    from ui.real_clients import LiveRun

    live = LiveRun(h, cluster, 0, 0)
    live._finalizer.detach()  # the fixture stops the server
    assert any("producer **real**" in x and "transactional.id `shown` (Ready)" in x for x in live.clients())
    # the Playground's transaction buttons on a real client's producer: a clear message, and nothing happens
    from engine.commands import apply_command, parse_command
    from engine.errors import IllegalStateError

    for op in ("commit_transaction", "consume_transform_produce"):
        cmd = {"op": op, "producer": "real"}
        if op == "consume_transform_produce":
            cmd.update(consumer="real-in", group="g", from_topic="out", to_topic="out", end="commit")
        with pytest.raises(IllegalStateError, match="real client"):
            h.call(apply_command, cluster, parse_command(cmd))
    assert "real-in" not in h.call(lambda: set(cluster.consumers))
    # the Playground takes checkpoints of a served run: a copy holds no sockets and draws the same picture
    copy = h.call(cluster.clone)
    again = copy.snapshot().partition("out", 0)
    assert again.tail == part.tail and again.last_stable_offset == 6
    assert copy.producers["real"].txn.waiters == {} and copy.producers["real"]._link is None


# -- refusals -----------------------------------------------------------------------------------------------------
def test_what_is_not_supported_is_refused_at_once_and_named(serve):
    cluster, h = serve()
    _topics(cluster, h, "t")
    port = h.ports[1]
    with connect(port) as s:
        # FindCoordinator for a key type other than GROUP / TRANSACTION: INVALID_REQUEST, not a retriable error
        s.sendall(request_frame(10, 4, {"key_type": 2, "coordinator_keys": ["sg"]}, 1))
        _corr, body = read_response(s, 10, 4)
        (co,) = body.coordinators
        assert co.error_code == 42 and "key type 2" in co.error_message
        # EndTxn v5 (KIP-890 part 2) is not offered: UNSUPPORTED_VERSION
        s.sendall(
            request_frame(
                26, 5, {"transactional_id": "x", "producer_id": 1, "producer_epoch": 0, "committed": True}, 2
            )
        )
        _corr, body = read_response(s, 26, 5)
        assert body.error_code == 35
        # a transaction.timeout.ms above transaction.max.timeout.ms: INVALID_TRANSACTION_TIMEOUT
        s.sendall(request_frame(22, 4, {"transactional_id": "x", "transaction_timeout": 3_600_000}, 3))
        _corr, body = read_response(s, 22, 4)
        assert body.error_code == 50
    leader = h.call(lambda: cluster.controller.partitions[("t", 0)].leader)
    wait_until(lambda: h.call(cluster.leader_replica, ("t", 0)) is not None, 10, what="the leader")
    with connect(h.ports[leader]) as s:
        for corr, (batch, txn_id, code, words) in enumerate(
            [
                # a transactional batch for a partition that was never added to a transaction (KIP-890 part 1)
                (encode_batch(0, 0, (b"k",), (b"v",), (1,), producer_id=7, producer_epoch=0, base_sequence=0,
                              transactional=True), "nobody", 48, "not added to the transaction"),
                # a transaction marker from a client
                (encode_batch(0, 0, (b"k",), (b"v",), (1,), producer_id=7, producer_epoch=0,
                              control="COMMIT"), None, 87, "control records"),
            ],
            start=10,
        ):  # fmt: skip
            body = {
                "transactional_id": txn_id,
                "acks": -1,
                "timeout": 5000,
                "topic_data": [{"name": "t", "partition_data": [{"index": 0, "records": batch}]}],
            }
            s.sendall(request_frame(0, 9, body, corr))
            _corr, resp = read_response(s, 0, 9)
            (part,) = resp.responses[0].partition_responses
            assert part.error_code == code and words in part.error_message
    assert h.call(lambda: cluster.leader_replica(("t", 0)).leo) == 0  # nothing was written


# -- failures -----------------------------------------------------------------------------------------------------
def test_a_transaction_commits_after_its_coordinators_broker_crashes(serve):
    """The coordinator's state stands for the replicated __transaction_state log: the client finds the new
    coordinator (the partition's new leader) and its EndTxn completes the transaction there."""
    ck = pytest.importorskip("confluent_kafka")
    from engine.partitioner import coordinator_partition
    from engine.transactions import TXN_PARTITIONS, TXN_TOPIC

    cluster, h = serve(config={"broker.session.timeout.ms": 1500, "broker.heartbeat.interval.ms": 500})
    h.call(cluster.create_topic, "out", 3, 3, {"min.insync.replicas": "2"})
    p = ck.Producer(
        {"bootstrap.servers": h.bootstrap, "transactional.id": "moved", "transaction.timeout.ms": 20000}
    )
    p.init_transactions(15)
    p.begin_transaction()
    for i in range(9):
        p.produce("out", key=b"k%d" % i, value=b"v%d" % i)
    assert p.flush(10) == 0
    txn_tp = (TXN_TOPIC, coordinator_partition("moved", TXN_PARTITIONS))
    old = h.call(lambda: cluster.controller.partitions[txn_tp].leader)
    h.call(cluster.crash_broker, old)
    p.commit_transaction(30)
    tv = next(t for t in h.call(cluster.snapshot).transactions if t.transactional_id == "moved")
    assert tv.state == "CompleteCommit" and tv.coordinator not in (None, old)
    assert sorted(_kp_read(h.bootstrap, "out", "read_committed", 3)) == [b"v%d" % i for i in range(9)]


def test_an_abandoned_transaction_is_aborted_after_transaction_timeout(serve):
    """A producer that goes quiet inside a transaction holds the LSO back only until transaction.timeout.ms:
    then the coordinator aborts it (and bumps the epoch, fencing the slow producer)."""
    pytest.importorskip("kafka")
    from kafka import KafkaProducer

    if not hasattr(KafkaProducer, "init_transactions"):
        pytest.skip("kafka-python < 2.2 has no transactional producer")
    cluster, h = serve()
    _topics(cluster, h, "out")
    p = KafkaProducer(bootstrap_servers=h.bootstrap, transactional_id="slow", transaction_timeout_ms=1000)
    try:
        p.init_transactions()
        p.begin_transaction()
        p.send("out", b"late")
        p.flush()
        wait_until(
            lambda: any(r.control == "ABORT" for r in h.call(cluster.snapshot).partition("out", 0).tail),
            15,
            what="the coordinator aborting the transaction",
        )
        assert _kp_read(h.bootstrap, "out", "read_committed") == []
        assert _kp_read(h.bootstrap, "out", "read_uncommitted") == [b"late"]
        with pytest.raises(Exception, match="(?i)fenced|epoch"):  # the slow producer is a zombie now
            p.commit_transaction()
    finally:
        p.close(timeout=5)


# -- kafkajs (optional: node and the kafkajs package, e.g. `npm install kafkajs` and NODE_PATH=.../node_modules) --
KAFKAJS = r"""
const { Kafka, logLevel } = require('kafkajs')
const kafka = new Kafka({ clientId: 'kjs', brokers: [process.argv[1]], logLevel: logLevel.ERROR })
async function main() {
  const p = kafka.producer({ transactionalId: 'kjs-app', maxInFlightRequests: 1, idempotent: true,
                             transactionTimeout: 10000 })
  await p.connect()
  let tx = await p.transaction()
  await tx.send({ topic: 'out', messages: [{ value: 'c0' }, { value: 'c1' }] })
  await tx.sendOffsets({ consumerGroupId: 'kjsg', topics: [{ topic: 'in', partitions: [{ partition: 0, offset: '2' }] }] })
  await tx.commit()
  tx = await p.transaction()
  await tx.send({ topic: 'out', messages: [{ value: 'a0' }] })
  await tx.abort()
  await p.disconnect()
}
main().then(() => process.exit(0), e => { console.error(e); process.exit(1) })
"""


def test_kafkajs_transactions_commit_and_abort(serve):
    import os
    import shutil
    import subprocess

    node = shutil.which("node")
    if node is None or subprocess.run([node, "-e", "require('kafkajs')"], capture_output=True).returncode:
        pytest.skip("node with the kafkajs package is not installed")
    cluster, h = serve()
    _topics(cluster, h, "in", "out")
    env = {**os.environ, "KAFKAJS_NO_PARTITIONER_WARNING": "1"}
    run = subprocess.run(
        [node, "-e", KAFKAJS, h.bootstrap.split(",")[0]], capture_output=True, text=True, env=env, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert _committed(h.bootstrap, "kjsg", "in") == 2
    assert _kp_read(h.bootstrap, "out", "read_committed") == [b"c0", b"c1"]
    assert _kp_read(h.bootstrap, "out", "read_uncommitted") == [b"c0", b"c1", b"a0"]
    assert h.call(lambda: sorted(p for p in cluster.producers)) == [
        "kjs"
    ]  # one box: the transactional producer
