"""The consumer protocol's embedded bytes (JoinGroup metadata, SyncGroup assignments).

A group coordinator treats these as opaque, but the simulated coordinator and simulated leaders think in
topics and partitions, so we decode them (ConsumerProtocolSubscription / ConsumerProtocolAssignment, KIP-429
added owned partitions in v1) and encode them for members on the other side. Each is an int16 version
followed by that version's struct.
"""

from __future__ import annotations

import io
import struct
from functools import cache

from kio.index import load_entity_schema
from kio.static.constants import EntityType

from .protocol import _reader, _writer, build

TP = tuple[str, int]
_MAX = {"consumer_protocol_subscription": 3, "consumer_protocol_assignment": 3}


@cache
def _schema(name: str, version: int):
    return load_entity_schema(name, version, EntityType.data)


def _decode(name: str, data: bytes):
    if not data or len(data) < 2:
        raise ValueError("empty consumer protocol bytes")
    (version,) = struct.unpack_from(">h", data, 0)
    if version < 0:
        raise ValueError(f"negative consumer protocol version {version}")
    cls = _schema(name, min(version, _MAX[name]))  # newer versions only append fields (ConsumerProtocol)
    entity, _ = _reader(cls)(data, 2)
    return entity


def decode_subscription(data: bytes) -> tuple[list[str], list[TP]]:
    """(topics, owned partitions) from a JoinGroup protocol's metadata; ([], []) if it is not readable."""
    try:
        sub = _decode("consumer_protocol_subscription", data)
    except Exception:
        return [], []
    owned = [(tp.topic, int(p)) for tp in getattr(sub, "owned_partitions", ()) for p in tp.partitions]
    return [str(t) for t in sub.topics], owned


def decode_subscription_extras(data: bytes) -> tuple[int, str | None]:
    """(GenerationId, RackId) of a subscription: v2 added the generation of the owned partitions, v3 the
    consumer's client.rack (KIP-881); (-1, None) when older or unreadable, ConsumerProtocol's defaults."""
    try:
        sub = _decode("consumer_protocol_subscription", data)
    except Exception:
        return -1, None
    return int(getattr(sub, "generation_id", -1)), getattr(sub, "rack_id", None) or None


def decode_assignment(data: bytes) -> list[TP] | None:
    try:
        a = _decode("consumer_protocol_assignment", data)
    except Exception:
        return None
    return [(tp.topic, int(p)) for tp in a.assigned_partitions for p in tp.partitions]


def _by_topic(tps: list[TP]) -> list[dict]:
    out: dict[str, list[int]] = {}
    for t, p in tps:
        out.setdefault(t, []).append(p)
    return [{"topic": t, "partitions": sorted(ps)} for t, ps in sorted(out.items())]


def _encode(name: str, version: int, data: dict) -> bytes:
    cls = _schema(name, version)
    buf = io.BytesIO()
    buf.write(struct.pack(">h", version))
    _writer(cls)(buf, build(cls, data))
    return buf.getvalue()


def encode_subscription(topics: list[str], owned: list[TP] | None = None) -> bytes:
    """Version 1 (topics, no user data, owned partitions), what a cooperative-aware Java client sends."""
    return _encode(
        "consumer_protocol_subscription",
        1,
        {"topics": list(topics), "user_data": None, "owned_partitions": _by_topic(owned or [])},
    )


def encode_assignment(tps: list[TP]) -> bytes:
    return _encode(
        "consumer_protocol_assignment", 1, {"assigned_partitions": _by_topic(tps), "user_data": None}
    )


__all__ = [
    "decode_subscription",
    "decode_subscription_extras",
    "decode_assignment",
    "encode_subscription",
    "encode_assignment",
]
