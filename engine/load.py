"""A steady stream of records from one producer (how the Playground's producers run on their own).

Sends are scheduled actions on the simulated clock, so the stream is deterministic for a seed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import BufferExhaustedError, InvalidArgumentError, KafkaError

if TYPE_CHECKING:
    from .contracts import World
    from .producer import Producer

KEY_PATTERNS = ("fixed", "user_ids", "none")


class LoadGenerator:
    """`rate_per_s` records per simulated second; keys cycle over a fixed set, are random user ids, or are null."""

    def __init__(
        self,
        cluster: World,
        producer: Producer,
        topic: str,
        rate_per_s: float,
        keys: str = "user_ids",
        key_count: int = 6,
        value_bytes: int = 20,
    ) -> None:
        if keys not in KEY_PATTERNS:
            raise InvalidArgumentError(f"keys must be one of {KEY_PATTERNS}, got {keys!r}")
        self.cluster = cluster
        self.producer = producer
        self.topic = topic
        self.rate_per_s = rate_per_s
        self.keys = keys
        self.key_count = max(1, key_count)
        self.value_bytes = value_bytes
        self.sent = 0
        self.failed = 0  # records whose send() stayed blocked on a full buffer for max.block.ms
        self.blocked: tuple[int, str | None, bytes] | None = (
            None  # (since ms, key, value) while send() blocks
        )
        self._sent_base = 0
        self.running = False
        self.started_ms = 0
        self.generation = 0
        # made once, not per record: a value is b"<producer id>-<n>" padded with dots to value_bytes (the id's own
        # "%" escaped; client ids are ASCII), cut to at least one byte; the keys are a fixed table of names
        self._value_format = f"{producer.id}-".encode().replace(b"%", b"%%") + b"%d" + b"." * value_bytes
        self._value_cut = max(value_bytes, 1)
        self._key_names = tuple(f"{'key' if keys == 'fixed' else 'user'}-{i}" for i in range(self.key_count))

    def start(self) -> None:
        if self.rate_per_s <= 0:
            return
        self.running = True
        self.generation += 1
        self.started_ms = self.cluster.now
        self.sent = 0
        self._sent_base = 0
        self.blocked = None
        self.cluster.scheduler.after(self._interval(), self._tick, self.generation)

    def stop(self) -> None:
        self.running = False
        self.generation += 1
        self.blocked = None

    def _interval(self) -> int:
        return max(1, int(1000 / self.rate_per_s))

    def _tick(self, generation: int) -> None:
        if generation != self.generation or not self.producer.alive:
            return
        c = self.cluster
        n = self.sent
        end = self._sent_base + int(
            (c.now - self.started_ms) * self.rate_per_s / 1000
        )  # the records due by now
        # a bulk lesson run sends millions of records from here: look things up once per tick, not per record,
        # and count in the loop (self.sent is written back when the loop ends or send() raises)
        send, topic, fmt, cut = self.producer.send, self.topic, self._value_format, self._value_cut
        i, key, value = n, None, b""
        try:
            if self.keys == "none":
                for i in range(n, end):
                    value = (fmt % i)[:cut]
                    send(topic, value)
            elif self.keys == "fixed":  # the keys cycle over key_count names
                names, count = self._key_names, self.key_count
                for i in range(n, end):
                    value = (fmt % i)[:cut]
                    key = names[i % count]
                    send(topic, value, key)
            else:  # random user ids, drawn from the cluster's seeded random generator
                names, count, draw = self._key_names, self.key_count, c.rng.randrange
                for i in range(n, end):
                    value = (fmt % i)[:cut]
                    key = names[draw(count)]
                    send(topic, value, key)
        except BaseException as exc:
            self.sent = i + 1
            if isinstance(exc, BufferExhaustedError):
                self._block(generation, key, value)
            elif isinstance(exc, KafkaError):  # e.g. the topic was deleted: stop quietly, say why
                self._stop(exc)
            else:
                raise
            return
        if end > n:
            self.sent = end
        sched = c.scheduler
        # (Scheduler.after, without its Timer and keyword handling)
        sched.push(sched.now_ms + self._interval(), self._tick, (generation,))

    def _stop(self, exc: KafkaError) -> None:
        """send() raised (e.g. the topic was deleted): the stream stops quietly, and the event log says why."""
        self.running = False
        self.cluster.emit(
            "note", f"{self.producer.id} stopped producing to {self.topic}: {exc}", actors=(self.producer.id,)
        )

    # -- a full buffer: the application thread blocks in send() (KafkaProducer / BufferPool.allocate) ---------
    def _block(self, generation: int, key: str | None, value: bytes) -> None:
        """send() found buffer.memory full. The thread calling send() blocks, so no more records are made until
        this one gets room (then the stream resumes at its rate, without a burst) or max.block.ms passes (then
        this record fails with BufferExhaustedError, counted in `failed` and the producer's `failed`)."""
        c = self.cluster
        self.blocked = (c.now, key, value)
        c.emit(
            "send_blocked",
            f"{self.producer.id}'s send() blocks: buffer.memory={self.producer.config.buffer_memory} "
            f"is full of unacknowledged batches; it waits up to max.block.ms={self.producer.config.max_block_ms}",
            actors=(self.producer.id,),
            topic=self.topic,
        )
        c.scheduler.after(self._interval(), self._retry_blocked, generation)

    def _retry_blocked(self, generation: int) -> None:
        if generation != self.generation or not self.producer.alive or self.blocked is None:
            return
        c = self.cluster
        since, key, value = self.blocked
        try:
            self.producer.send(self.topic, value=value, key=key)
        except BufferExhaustedError:
            waited = c.now - since
            limit = self.producer.config.max_block_ms
            if waited < limit:
                c.scheduler.after(min(self._interval(), limit - waited), self._retry_blocked, generation)
                return
            self.producer.fail_blocked_send(self.topic, key, value)
            self.failed += 1
        except KafkaError as exc:
            self._stop(exc)
            return
        self.blocked = None
        self.started_ms, self._sent_base = c.now, self.sent  # a blocked thread made no records meanwhile
        c.scheduler.after(self._interval(), self._tick, generation)
