"""A tiny application under test: it publishes orders keyed by customer and totals them per customer in a
consumer group, committing what it has counted. Delivery is at least once (a rebalance can hand records
out again), so each order id is counted once. Plain kafka-python, nothing test-specific."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter

from kafka import KafkaConsumer, KafkaProducer
from kafka.errors import (
    CommitFailedError,
    IllegalGenerationError,
    RebalanceInProgressError,
    UnknownMemberIdError,
)

TOPIC = "orders"


def order(customer: str, amount: int) -> dict:
    return {"id": uuid.uuid4().hex, "customer": customer, "amount": amount}


def publish(bootstrap: str, orders: list[dict], **producer_config) -> list[tuple[int, int]]:
    """Send each order (key: its customer) with acks=all; (partition, offset) of each once acknowledged."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", retry_backoff_ms=100, **producer_config)
    try:
        futures = [
            producer.send(TOPIC, key=o["customer"].encode(), value=json.dumps(o).encode()) for o in orders
        ]
        return [(md.partition, md.offset) for md in (f.get(timeout=30) for f in futures)]
    finally:
        producer.close()


class Totals:
    """Totals per customer, as one member of consumer group `group`."""

    def __init__(self, bootstrap: str, group: str = "totals") -> None:
        self.consumer = KafkaConsumer(
            TOPIC,
            bootstrap_servers=bootstrap,
            group_id=group,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            retry_backoff_ms=100,
        )
        self.totals: Counter[str] = Counter()
        self.counted: set[str] = set()

    def run(self, count: int, timeout_s: float = 30) -> Counter[str]:
        """Consume until `count` more orders are counted, then commit them."""
        deadline, target = time.monotonic() + timeout_s, len(self.counted) + count
        while len(self.counted) < target:
            if time.monotonic() > deadline:
                raise TimeoutError(f"counted {len(self.counted)} orders, expected {target}")
            for records in self.consumer.poll(timeout_ms=200).values():
                for r in records:
                    order = json.loads(r.value)
                    if order["id"] not in self.counted:
                        self.counted.add(order["id"])
                        self.totals[order["customer"]] += order["amount"]
        try:
            self.consumer.commit()
        except (CommitFailedError, UnknownMemberIdError, IllegalGenerationError, RebalanceInProgressError):
            pass  # the group is rebalancing: the next poll rejoins, and what comes again is not counted twice
        return self.totals

    def close(self) -> None:
        self.consumer.close()
