"""The simulated network: requests and responses travel between actors with latency.

Messages are visible while in flight (the UI animates them). A message to a crashed actor, or across an
isolated broker's link, is dropped on arrival; the sender finds out the way real clients do, by a timeout.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .scheduler import Scheduler


class Message:
    __slots__ = ("id", "kind", "src", "dst", "sent_ms", "arrive_ms", "handler", "args", "topic", "partition")

    # (no __init__: Network.send sets every slot; a Python __init__ call was half of a message's cost)
    id: int
    kind: str
    src: str
    dst: str
    sent_ms: int
    arrive_ms: int
    handler: Callable[..., Any]
    args: tuple
    topic: str | None
    partition: int | None


_new_message = object.__new__


def _lost() -> None:
    """Marks a message whose sender crashed while it was in flight."""


class Network:
    """Point-to-point links with a base latency plus per-actor extra latency (slow_broker)."""

    __slots__ = (
        "scheduler",
        "latency_ms",
        "extra_ms",
        "in_flight",
        "reachable",
        "on_drop",
        "_next_id",
        "_drop_rules",
        "delivered",
        "dropped",
        "_last_arrival",
    )

    def __init__(
        self,
        scheduler: Scheduler,
        latency_ms: int,
        reachable: Callable[[str, str], bool],
        on_drop: Callable[[Message, str], None],
    ) -> None:
        self.scheduler = scheduler
        self.latency_ms = latency_ms
        self.extra_ms: dict[str, int] = {}
        self.in_flight: dict[int, Message] = {}
        self.reachable = reachable
        self.on_drop = on_drop
        self._next_id = 0
        self._drop_rules: list[list] = []  # [kind, remaining count, src or None, dst or None]
        self._last_arrival: dict[tuple[str, str], int] = {}  # per link, once latencies vary (slow_broker)
        self.delivered = 0
        self.dropped = 0

    def latency(self, src: str, dst: str) -> int:
        extra = self.extra_ms
        return self.latency_ms + (extra.get(src, 0) + extra.get(dst, 0) if extra else 0)

    def send(
        self,
        src: str,
        dst: str,
        kind: str,
        handler: Callable[..., Any],
        *args: Any,
        topic: str | None = None,
        partition: int | None = None,
    ) -> Message:
        """Put a message on the wire; `handler(*args)` runs at the destination when it arrives."""
        mid = self._next_id = self._next_id + 1
        sched = self.scheduler
        now = sched.now_ms
        extra = self.extra_ms
        if extra:
            arrive = now + self.latency_ms + extra.get(src, 0) + extra.get(dst, 0)  # latency()
            # a link is one TCP connection: nothing overtakes what was sent before it on the same link, even when
            # slow_broker() changes the latency in between (else a stale LeaderAndIsr lands after a newer one)
            last = self._last_arrival.get((src, dst), arrive)
            arrive = self._last_arrival[(src, dst)] = last if last > arrive else arrive
        else:
            arrive = now + self.latency_ms
        # (the one place a Message is made: every request and response of the simulation goes through here)
        msg = _new_message(Message)
        msg.id = mid
        msg.kind = kind
        msg.src = src
        msg.dst = dst
        msg.sent_ms = now
        msg.arrive_ms = arrive
        msg.handler = handler
        msg.args = args
        msg.topic = topic
        msg.partition = partition
        self.in_flight[mid] = msg
        sched.push(arrive, self._deliver, (msg,))
        return msg

    def drop_next(self, kind: str, count: int = 1, src: str | None = None, dst: str | None = None) -> None:
        """Fault injection: lose the next `count` messages of this kind (e.g. "ProduceResponse")."""
        self._drop_rules.append([kind, count, src, dst])

    def drop_from(self, actor: str) -> int:
        """A machine failure: what the actor had sent but not yet delivered is lost with it."""
        n = 0
        for msg in self.in_flight.values():
            if msg.src == actor and msg.handler is not _lost:
                msg.handler, msg.args = _lost, ()
                n += 1
        return n

    def _deliver(self, msg: Message) -> None:
        del self.in_flight[msg.id]
        if msg.handler is _lost:
            self.dropped += 1
            self.on_drop(msg, f"{msg.src} crashed before it arrived")
            return
        if self._drop_rules and self._matches_drop_rule(msg):
            self.dropped += 1
            self.on_drop(msg, "lost on the network (injected fault)")
            return
        if not self.reachable(msg.src, msg.dst):
            self.dropped += 1
            self.on_drop(msg, "unreachable")
            return
        self.delivered += 1
        msg.handler(*msg.args)

    def _matches_drop_rule(self, msg: Message) -> bool:
        for rule in self._drop_rules:
            kind, count, src, dst = rule
            if kind == msg.kind and (src is None or src == msg.src) and (dst is None or dst == msg.dst):
                rule[1] = count - 1
                if rule[1] <= 0:
                    self._drop_rules.remove(rule)
                return True
        return False
