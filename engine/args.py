"""The Python API's arguments, checked at the edge: a careless call gets the engine's own error naming the
argument and what is allowed, never a TypeError or AttributeError from deep inside.

Each check returns the value (normalised where Kafka's Python clients accept several shapes, e.g. a tuple of
topics) or raises `InvalidArgumentError` (a `ConfigError`, so a `KafkaError` and a `UserInputError`). Only the
public methods call these, once per call; the hot path (`Producer.send`) calls `send_args` only when an
argument is not of the common shape, and `send_headers` only for headers that differ from the last record's
(see there).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .errors import InvalidArgumentError

TP = tuple[str, int]
MAX_SHOWN = 40


def _shown(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= MAX_SHOWN else r[: MAX_SHOWN - 3] + "..."


def bad(call: str, name: str, allowed: str, got: Any) -> InvalidArgumentError:
    """The error for argument `name` of `call` ("poll()"): what is allowed and what came."""
    return InvalidArgumentError(f"{call}: {name} must be {allowed}; got {_shown(got)}")


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def whole(call: str, name: str, v: Any, minimum: int = 0, unit: str = "") -> int:
    """A whole number >= `minimum` (bool is refused: `poll(True)` is a mistake, not 1 ms)."""
    if not is_int(v) or v < minimum:
        raise bad(call, name, f"a whole number, {minimum}{' ' + unit if unit else ''} or more", v)
    return v


def optional_whole(call: str, name: str, v: Any, minimum: int = 0, unit: str = "") -> int | None:
    return None if v is None else whole(call, name, v, minimum, unit)


def name(call: str, arg: str, v: Any, example: str) -> str:
    """A non-empty string (a topic, a group id, a client id)."""
    if not isinstance(v, str) or not v:
        raise bad(call, arg, f"a non-empty string like {example!r}", v)
    return v


def optional_name(call: str, arg: str, v: Any, example: str) -> str | None:
    return None if v is None else name(call, arg, v, example)


def topics(call: str, arg: str, v: Any) -> list[str]:
    """A list (or tuple) of topic names; a lone string is refused, it would be read letter by letter."""
    if isinstance(v, str) or not isinstance(v, list | tuple) or not all(isinstance(t, str) and t for t in v):
        raise bad(call, arg, "a list of topic names like ['orders']", v)
    return list(v)


def tp(call: str, arg: str, v: Any) -> TP:
    """A (topic, partition) pair."""
    if not isinstance(v, list | tuple) or len(v) != 2 or not isinstance(v[0], str) or not is_int(v[1]):
        raise bad(call, arg, "a (topic, partition) pair like ('orders', 0)", v)
    if not v[0]:
        raise bad(call, arg, "a (topic, partition) pair with a topic name, like ('orders', 0)", v)
    if v[1] < 0:
        raise bad(call, arg, "a (topic, partition) pair with a partition of 0 or more", v)
    return (v[0], v[1])


def partitions(call: str, arg: str, v: Any) -> list[TP]:
    if isinstance(v, str) or not isinstance(v, list | tuple):
        raise bad(call, arg, "a list of (topic, partition) pairs like [('orders', 0)]", v)
    return [tp(call, arg, x) for x in v]


def offsets(call: str, arg: str, v: Any) -> dict[TP, int]:
    """{(topic, partition): offset} with offsets of 0 or more."""
    if not isinstance(v, Mapping):
        raise bad(call, arg, "a mapping of (topic, partition) to offset like {('orders', 0): 42}", v)
    out = {}
    for k, o in v.items():
        key = tp(call, arg, k)
        if not is_int(o) or o < 0:
            raise bad(call, arg, f"a mapping to offsets of 0 or more (at {key})", o)
        out[key] = o
    return out


def callable_(call: str, arg: str, v: Any) -> Callable[..., Any]:
    if not callable(v):
        raise bad(call, arg, "a function taking no arguments, like lambda: fut.done", v)
    return v


def send_args(topic: Any, partition: Any, timestamp_ms: Any) -> None:
    """`Producer.send`'s arguments other than key, value (their serializers check those) and headers."""
    name("send()", "topic", topic, "orders")
    optional_whole("send()", "partition", partition)
    optional_whole("send()", "timestamp_ms", timestamp_ms, unit="ms")


def send_headers(headers: Any) -> None:
    """`Producer.send`'s headers: None, empty, or a list (or tuple) of (str, bytes or None) pairs (a bytearray or
    memoryview value is taken as its bytes, as record values are: ByteArraySerializer)."""
    if headers is not None and (
        isinstance(headers, str | bytes)
        or not isinstance(headers, list | tuple)
        or not all(
            isinstance(h, list | tuple)
            and len(h) == 2
            and isinstance(h[0], str)
            and (h[1] is None or isinstance(h[1], bytes | bytearray | memoryview))
            for h in headers
        )
    ):
        raise bad("send()", "headers", "a list of (str, bytes or None) pairs like [('trace', b'1')]", headers)
