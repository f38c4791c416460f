"""Shared helpers for the producer-area conformance tests (tests/kafka/test_producer_*.py)."""

from __future__ import annotations

from engine.errors import KafkaError
from engine.partitioner import BuiltInPartitioner


class SequentialPartitioner(BuiltInPartitioner):
    """Kafka's test double (BuiltInPartitionerTest.SequentialPartitioner): "random" numbers 0, 1, 2, ..."""

    __slots__ = ("mock_random",)

    def __init__(self, topic: str, sticky_batch_size: int) -> None:
        super().__init__(topic, sticky_batch_size)
        self.mock_random = 0

    def random_partition(self) -> int:
        n = self.mock_random
        self.mock_random += 1
        return n


def send_and_get(producer, cluster, topic: str, **record) -> tuple[object, KafkaError | None]:
    """Java's `producer.send(record).get()`: the record's future once acknowledged or failed, and the error that
    `get()` would wrap in an ExecutionException. An error send() raises at once (our engine answers metadata
    without waiting, so it raises where Kafka's future would fail) counts as that error too."""
    try:
        fut = producer.send(topic, **record)
    except KafkaError as exc:
        return None, exc
    cluster.run_until(lambda: fut.done, 200_000)
    return fut, fut.error
