"""A steady stream of records from one producer (how the Playground's producers run on their own).

Sends are scheduled actions on the simulated clock, so the stream is deterministic for a seed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import BufferExhaustedError, KafkaError

if TYPE_CHECKING:
    from .cluster import Cluster
    from .producer import Producer

KEY_PATTERNS = ("fixed", "user_ids", "none")


class LoadGenerator:
    """`rate_per_s` records per simulated second; keys cycle over a fixed set, are random user ids, or are null."""

    def __init__(self, cluster: Cluster, producer: Producer, topic: str, rate_per_s: float, keys: str = "user_ids",
                 key_count: int = 6, value_bytes: int = 20) -> None:
        if keys not in KEY_PATTERNS:
            raise ValueError(f"keys must be one of {KEY_PATTERNS}, got {keys!r}")
        self.cluster = cluster
        self.producer = producer
        self.topic = topic
        self.rate_per_s = rate_per_s
        self.keys = keys
        self.key_count = max(1, key_count)
        self.value_bytes = value_bytes
        self.sent = 0
        self.skipped = 0
        self.running = False
        self.started_ms = 0
        self.generation = 0

    def start(self) -> None:
        if self.rate_per_s <= 0:
            return
        self.running = True
        self.generation += 1
        self.started_ms = self.cluster.now
        self.sent = 0
        self.cluster.scheduler.after(self._interval(), self._tick, self.generation)

    def stop(self) -> None:
        self.running = False
        self.generation += 1

    def _interval(self) -> int:
        return max(1, int(1000 / self.rate_per_s))

    def _key(self, n: int) -> str | None:
        if self.keys == "none":
            return None
        if self.keys == "fixed":
            return f"key-{n % self.key_count}"
        return f"user-{self.cluster.rng.randrange(self.key_count)}"

    def _tick(self, generation: int) -> None:
        if generation != self.generation or not self.producer.alive:
            return
        c = self.cluster
        due = int((c.now - self.started_ms) * self.rate_per_s / 1000) - self.sent
        # a bulk lesson run sends millions of records from here: look things up once per tick, not per record
        send, topic, keyless = self.producer.send, self.topic, self.keys == "none"
        prefix, width, cut = f"{self.producer.id}-".encode(), self.value_bytes, max(self.value_bytes, 1)
        for _ in range(max(0, due)):
            n = self.sent
            value = (prefix + str(n).encode()).ljust(width, b".")[:cut]  # client ids are ASCII: same bytes
            self.sent += 1
            try:
                send(topic, value=value, key=None if keyless else self._key(n))
            except BufferExhaustedError:
                self.skipped += 1
            except KafkaError as exc:  # e.g. the topic was deleted: stop quietly, say why
                self.running = False
                c.emit("note", f"{self.producer.id} stopped producing to {self.topic}: {exc}", actors=(self.producer.id,))
                return
        c.scheduler.after(self._interval(), self._tick, generation)
