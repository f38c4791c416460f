"""Ported from Apache Kafka's core integration test ProducerFailureHandlingTest (each case for quorum "zk"
and "kraft": our `controller="zookeeper"` and `controller="kraft"`).

Adapted: Kafka's two-broker harness (auto.create.topics.enable=false, message.max.bytes=15000,
offsets.topic.num.partitions=1) is a `Cluster(brokers=2, ...)` with the same broker configs; producer1/2/3 are
acks=0/1/all with retries=0, request.timeout.ms=30000, max.block.ms=10000, buffer.memory=30000. Java's
`send(record).get()` throwing an ExecutionException is `send_and_get` returning an error (see its docstring).
"""

from __future__ import annotations

import pytest
from _producer_helpers import send_and_get

from engine import Cluster
from engine.errors import (
    IllegalStateError,
    InvalidTopicError,
    KafkaTimeoutError,
    NotEnoughReplicasAfterAppendError,
    NotEnoughReplicasError,
)

QUORUMS = ["zookeeper", "kraft"]  # Kafka's @ValueSource(strings = Array("zk", "kraft"))
PRODUCER_BUFFER_SIZE = 30000
SERVER_MESSAGE_MAX_BYTES = PRODUCER_BUFFER_SIZE // 2
REPLICA_FETCH_MAX_PARTITION_BYTES = SERVER_MESSAGE_MAX_BYTES + 200
REPLICA_FETCH_MAX_RESPONSE_BYTES = REPLICA_FETCH_MAX_PARTITION_BYTES + 200
NUM_SERVERS = 2
RECORD_BATCH_OVERHEAD, MAX_RECORD_OVERHEAD = 61, 21  # DefaultRecordBatch / DefaultRecord


def _harness(quorum: str) -> tuple[Cluster, dict[int, object]]:
    c = Cluster(
        brokers=NUM_SERVERS,
        seed=11,
        controller=quorum,
        config={
            "auto.create.topics.enable": False,
            "message.max.bytes": SERVER_MESSAGE_MAX_BYTES,
            "offsets.topic.num.partitions": 1,
            "offsets.topic.replication.factor": NUM_SERVERS,
        },
    )
    producers = {
        acks: c.producer(
            f"producer{i + 1}",
            {
                "acks": acks,
                "retries": 0,
                "request.timeout.ms": 30000,
                "max.block.ms": 10000,
                "buffer.memory": PRODUCER_BUFFER_SIZE,
            },
        )
        for i, acks in enumerate(["0", "1", "all"])
    }
    return c, producers


def _create(c: Cluster, name: str, partitions: int = 1, config: dict | None = None) -> None:
    c.create_topic(name, partitions=partitions, replication_factor=NUM_SERVERS, config=config)
    c.run_for(500)


@pytest.mark.parametrize("quorum", QUORUMS)
def test_too_large_record_with_ack_zero(quorum):
    # ProducerFailureHandlingTest.testTooLargeRecordWithAckZero: the future has no error and offset -1
    c, producers = _harness(quorum)
    _create(c, "topic-1")
    fut, err = send_and_get(
        producers["0"], c, "topic-1", key=b"key", value=bytes(SERVER_MESSAGE_MAX_BYTES + 1)
    )
    assert err is None
    assert fut.offset == -1


@pytest.mark.parametrize("quorum", QUORUMS)
def test_too_large_record_with_ack_one(quorum):
    # ProducerFailureHandlingTest.testTooLargeRecordWithAckOne: get() throws (RecordTooLargeException)
    c, producers = _harness(quorum)
    _create(c, "topic-1")
    _fut, err = send_and_get(
        producers["1"], c, "topic-1", key=b"key", value=bytes(SERVER_MESSAGE_MAX_BYTES + 1)
    )
    assert err is not None and err.name == "RECORD_TOO_LARGE"


def _check_too_large_record_for_replication_with_ack_all(quorum: str, max_fetch_size: int) -> None:
    # ProducerFailureHandlingTest.checkTooLargeRecordForReplicationWithAckAll
    c, producers = _harness(quorum)
    max_message_size = max_fetch_size + 100
    _create(
        c,
        "topic10",
        partitions=NUM_SERVERS,
        config={"min.insync.replicas": NUM_SERVERS, "max.message.bytes": max_message_size},
    )
    value = bytes(max_message_size - RECORD_BATCH_OVERHEAD - MAX_RECORD_OVERHEAD)
    fut, err = send_and_get(producers["all"], c, "topic10", value=value)
    assert err is None
    assert fut.topic == "topic10"


@pytest.mark.parametrize("quorum", QUORUMS)
def test_partition_too_large_for_replication_with_ack_all(quorum):
    # ProducerFailureHandlingTest.testPartitionTooLargeForReplicationWithAckAll (KIP-74: followers fetch it)
    _check_too_large_record_for_replication_with_ack_all(quorum, REPLICA_FETCH_MAX_PARTITION_BYTES)


@pytest.mark.parametrize("quorum", QUORUMS)
def test_response_too_large_for_replication_with_ack_all(quorum):
    # ProducerFailureHandlingTest.testResponseTooLargeForReplicationWithAckAll (KIP-74)
    _check_too_large_record_for_replication_with_ack_all(quorum, REPLICA_FETCH_MAX_RESPONSE_BYTES)


@pytest.mark.parametrize("quorum", QUORUMS)
def test_non_existent_topic(quorum):
    # ProducerFailureHandlingTest.testNonExistentTopic: sending to topic-2 (never created) fails
    c, producers = _harness(quorum)
    _fut, err = send_and_get(producers["0"], c, "topic-2", key=b"key", value=b"value")
    assert err is not None


@pytest.mark.parametrize("quorum", QUORUMS)
def test_send_after_closed(quorum):
    # ProducerFailureHandlingTest.testSendAfterClosed
    c, producers = _harness(quorum)
    _create(c, "topic-1")
    record = {"key": b"key", "value": b"value"}
    for p in producers.values():  # first a send to make sure the metadata is refreshed
        assert send_and_get(p, c, "topic-1", **record)[1] is None
    for p in producers.values():
        p.close()
        with pytest.raises(IllegalStateError):
            p.send("topic-1", **record)


@pytest.mark.parametrize("quorum", QUORUMS)
def test_cannot_send_to_internal_topic(quorum):
    # ProducerFailureHandlingTest.testCannotSendToInternalTopic
    c, producers = _harness(quorum)
    _create(c, "topic-1")
    c.consumer(
        "c1", group_id="g", topics=["topic-1"]
    )  # createOffsetsTopic: the first FindCoordinator makes it
    c.run_for(3000)
    assert "__consumer_offsets" in c.topics
    _fut, err = send_and_get(producers["1"], c, "__consumer_offsets", key=b"test", value=b"test")
    assert isinstance(err, InvalidTopicError), (
        f"Unexpected exception while sending to an invalid topic {err!r}"
    )


@pytest.mark.parametrize("quorum", QUORUMS)
def test_not_enough_replicas_after_broker_shutdown(quorum):
    # ProducerFailureHandlingTest.testNotEnoughReplicasAfterBrokerShutdown
    c, producers = _harness(quorum)
    _create(c, "minisrtest2", config={"min.insync.replicas": NUM_SERVERS})
    record = {"key": b"key", "value": b"value"}
    assert send_and_get(producers["all"], c, "minisrtest2", **record)[1] is None  # works with all brokers up
    first = min(c.brokers)
    c.crash_broker(first)  # brokers.head.shutdown() (controlled shutdown disabled in the harness)
    _fut, err = send_and_get(producers["all"], c, "minisrtest2", **record)
    assert isinstance(err, NotEnoughReplicasError | NotEnoughReplicasAfterAppendError | KafkaTimeoutError), (
        err
    )
    c.restart_broker(first)
