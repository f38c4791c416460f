"""The Kafka wire protocol: framing, request/response headers, and which API versions we speak.

Message schemas come from `kio` (dataclasses generated from Kafka's own JSON message definitions in
clients/src/main/resources/common/message), so every field of every version is Kafka's. This module adds
what kio leaves to a broker: the size-prefixed framing (https://kafka.apache.org/protocol#protocol_common),
the request header parse, a builder that turns plain dicts into the entity of whichever version the client
negotiated, and the UNSUPPORTED_VERSION answers. Versions are the ranges Kafka 4.0 brokers accept
(KIP-896 removed older ones), capped where a newer version would need topic IDs in Produce/Fetch (KIP-516).
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import struct
import types
import typing
import uuid
from functools import cache
from typing import Any

from kio.index import load_request_schema, load_response_schema
from kio.schema.errors import ErrorCode
from kio.serial import entity_reader, entity_writer

# socket.request.max.bytes (KafkaConfig): a frame larger than this closes the connection.
SOCKET_REQUEST_MAX_BYTES = 104857600

# api key -> (name, min version, max version) that this server accepts, with the protocol page / KIP that
# defines each (https://kafka.apache.org/protocol#protocol_api_keys).
SUPPORTED: dict[int, tuple[str, int, int]] = {
    0: ("Produce", 3, 12),  # record batch v2 only (KIP-98); v13 needs topic ids (KIP-516)
    1: ("Fetch", 4, 12),  # v7+ fetch sessions (KIP-227, we always answer session 0); v13 needs topic ids
    2: ("ListOffsets", 1, 10),  # v7 max timestamp (KIP-734), v8/9 tiered specs (KIP-405/1005), v10 timeout
    3: ("Metadata", 0, 12),  # v4 allow_auto_topic_creation, v7 leader epochs (KIP-320), v10 topic ids
    8: ("OffsetCommit", 2, 9),  # v8+ flexible (KIP-482)
    9: ("OffsetFetch", 1, 9),  # v8 batched groups (KIP-709)
    10: ("FindCoordinator", 0, 5),  # v4 batched keys (KIP-699)
    11: ("JoinGroup", 0, 9),  # v4 MEMBER_ID_REQUIRED (KIP-394), v5 static members (KIP-345)
    12: ("Heartbeat", 0, 4),
    13: ("LeaveGroup", 0, 5),  # v3 batched members (KIP-345)
    14: ("SyncGroup", 0, 5),  # v5 protocol type/name (KIP-559)
    15: ("DescribeGroups", 0, 5),  # v6 (KIP-1043 GROUP_ID_NOT_FOUND) is not spoken
    16: ("ListGroups", 0, 5),  # v4 state filter (KIP-518), v5 type filter (KIP-848)
    18: ("ApiVersions", 0, 4),  # v3 client software name (KIP-511)
    19: ("CreateTopics", 2, 7),  # v5 returns configs (KIP-525)
    20: ("DeleteTopics", 1, 6),
    22: ("InitProducerId", 0, 5),  # producer ids, transactional.id (KIP-98), v3 epoch bump (KIP-360)
    23: ("OffsetForLeaderEpoch", 2, 4),  # consumer position validation (KIP-320)
    24: ("AddPartitionsToTxn", 0, 3),  # KIP-98; v4+ is the brokers' batched form (KIP-890)
    25: ("AddOffsetsToTxn", 0, 4),  # KIP-98, KIP-447
    26: ("EndTxn", 0, 4),  # v5 bumps the epoch per transaction (KIP-890 part 2, transaction.version 2)
    28: ("TxnOffsetCommit", 0, 4),  # v3 member id and generation (KIP-447)
    32: ("DescribeConfigs", 1, 4),
}

API_VERSIONS = 18


class MalformedRequest(Exception):
    """A frame that cannot be parsed: Kafka closes the connection (InvalidRequestException)."""


@dataclasses.dataclass(slots=True)
class Request:
    api_key: int
    api_version: int
    correlation_id: int
    client_id: str
    body: Any  # the kio request entity, or None when the API/version is not one we speak
    size: int

    @property
    def supported(self) -> bool:
        spec = SUPPORTED.get(self.api_key)
        return self.body is not None and spec is not None and spec[1] <= self.api_version <= spec[2]


@cache
def request_class(api_key: int, version: int) -> type | None:
    try:
        return load_request_schema(api_key, version)
    except Exception:  # kio.index.KioIndexError for unknown keys/versions
        return None


@cache
def response_class(api_key: int, version: int) -> type | None:
    try:
        return load_response_schema(api_key, version)
    except Exception:
        return None


@cache
def _reader(cls: type):
    return entity_reader(cls)


@cache
def _writer(cls: type):
    return entity_writer(cls)


def parse_request(frame: bytes | memoryview) -> Request:
    """A frame (without its 4-byte size) -> Request. Raises MalformedRequest on garbage."""
    if len(frame) < 8:
        raise MalformedRequest(f"a request needs at least 8 header bytes, got {len(frame)}")
    api_key, version, correlation_id = struct.unpack_from(">hhi", frame, 0)
    cls = request_class(api_key, version) if version >= 0 else None
    if cls is None:
        # request header v1: key, version, correlation id, nullable client id (enough to answer)
        client_id = ""
        if len(frame) >= 10:
            (n,) = struct.unpack_from(">h", frame, 8)
            if 0 <= n <= len(frame) - 10:
                client_id = bytes(frame[10 : 10 + n]).decode("utf-8", "replace")
        return Request(api_key, version, correlation_id, client_id, None, len(frame))
    try:
        header, hsize = _reader(cls.__header_schema__)(frame, 0)  # type: ignore[attr-defined]  # every kio request class has one
        body, _bsize = _reader(cls)(frame, hsize)
    except Exception as exc:  # kio raises DecodeError/ValueError/UnicodeError/... on garbage
        raise MalformedRequest(
            f"cannot parse {cls.__name__} v{version}: {type(exc).__name__}: {exc}"
        ) from None
    _check_nulls(body, cls.__name__)
    return Request(api_key, version, correlation_id, header.client_id or "", body, len(frame))


# -- building responses from plain data ------------------------------------------------------------------------
_ENTITY, _ENTITY_TUPLE, _TD, _DT, _ERR, _UUID, _PRIM, _PRIM_TUPLE = range(8)
_MISSING = dataclasses.MISSING


def _unwrap_optional(t: Any) -> tuple[Any, bool]:
    if isinstance(t, types.UnionType) or typing.get_origin(t) is typing.Union:
        args = [a for a in typing.get_args(t) if a is not type(None)]
        return (args[0] if args else t), True
    return t, False


@cache
def _plan(cls: type) -> tuple:
    plan = []
    for f in dataclasses.fields(cls):
        kt = f.metadata.get("kafka_type")
        t, nullable = _unwrap_optional(f.type)
        sub = None
        if typing.get_origin(t) is tuple:
            inner = typing.get_args(t)[0]
            if dataclasses.is_dataclass(inner):
                kind, sub = _ENTITY_TUPLE, inner
            else:
                kind = _PRIM_TUPLE
        elif dataclasses.is_dataclass(t):
            kind, sub = _ENTITY, t
        elif kt in ("timedelta_i32", "timedelta_i64"):
            kind = _TD
        elif kt == "datetime_i64":
            kind = _DT
        elif kt == "error_code":
            kind = _ERR
        elif kt == "uuid":
            kind = _UUID
        else:
            kind = _PRIM
        if f.default is not _MISSING:
            default = f.default
        elif f.default_factory is not _MISSING:
            default = f.default_factory()
        else:
            default = _MISSING
        plan.append((f.name, kind, sub, kt, nullable, default))
    return tuple(plan)


def _zero(kind: int, sub: Any, kt: str | None, nullable: bool) -> Any:
    if nullable and kind not in (_ENTITY_TUPLE, _PRIM_TUPLE):
        return None
    if kind in (_ENTITY_TUPLE, _PRIM_TUPLE):
        return ()
    if kind == _ENTITY:
        return build(sub, {})
    if kind == _TD:
        return datetime.timedelta(0)
    if kind == _ERR:
        return ErrorCode.none
    if kind == _UUID:
        return uuid.UUID(int=0)
    if kind == _DT:
        return datetime.datetime.fromtimestamp(0, datetime.UTC)
    if kt in ("string",):
        return ""
    if kt in ("bytes", "records"):
        return b""
    if kt == "bool":
        return False
    return 0


def _check_nulls(entity: object, where: str) -> None:
    """kio reads a null array or string where the schema forbids one; Kafka rejects such a request as invalid."""
    cls: type = type(entity)
    for name, kind, _sub, kt, nullable, _default in _plan(cls):
        v = getattr(entity, name)
        if v is None:
            if not nullable and (kind in (_ENTITY_TUPLE, _PRIM_TUPLE, _ENTITY) or kt in ("string", "bytes")):
                raise MalformedRequest(f"{where}.{name} is null but the schema does not allow null")
        elif kind == _ENTITY_TUPLE:
            for x in v:
                _check_nulls(x, where)
        elif kind == _ENTITY:
            _check_nulls(v, where)


def build(cls: type, data: dict[str, Any]) -> Any:
    """Make the kio entity `cls` from plain values; keys this version lacks are ignored, missing ones get the
    schema default (or a zero). Lets one handler answer every version of an API."""
    kw: dict[str, Any] = {}
    for name, kind, sub, kt, nullable, default in _plan(cls):
        if name in data:
            v = data[name]
            if v is None and nullable:
                kw[name] = None
                continue
            if kind == _ENTITY_TUPLE:
                v = tuple(x if isinstance(x, sub) else build(sub, x) for x in v)
            elif kind == _ENTITY:
                v = v if isinstance(v, sub) else build(sub, v)
            elif kind == _TD:
                v = datetime.timedelta(milliseconds=v)
            elif kind == _ERR:
                v = ErrorCode(int(v))
            elif kind == _PRIM_TUPLE:
                v = tuple(v)
            kw[name] = v
        elif default is not _MISSING:
            kw[name] = default
        else:
            kw[name] = _zero(kind, sub, kt, nullable)
    return cls(**kw)


def encode_response(api_key: int, version: int, correlation_id: int, body: dict[str, Any] | Any) -> bytes:
    """Size-prefixed response frame: the response header of this API/version, then the body."""
    cls = response_class(api_key, version)
    if cls is None:
        raise ValueError(f"no response schema for api {api_key} v{version}")
    entity = body if isinstance(body, cls) else build(cls, body)
    buf = io.BytesIO()
    buf.write(b"\0\0\0\0")
    hcls = cls.__header_schema__  # type: ignore[attr-defined]  # every kio response class has one
    _writer(hcls)(buf, hcls(correlation_id=correlation_id))
    _writer(cls)(buf, entity)
    out = buf.getbuffer()
    struct.pack_into(">i", out, 0, len(out) - 4)
    return bytes(out)


def api_versions_body(error: int = 0) -> dict[str, Any]:
    return {
        "error_code": error,
        "throttle_time": 0,
        "api_keys": [
            {"api_key": k, "min_version": lo, "max_version": hi}
            for k, (_n, lo, hi) in sorted(SUPPORTED.items())
        ],
    }


def unsupported_response(req: Request) -> bytes:
    """UNSUPPORTED_VERSION (35) in the best form the client can read, never a dropped connection.

    ApiVersions of a version we do not know gets a v0 response listing what we support (KIP-511: the client
    then retries with the highest version both know). Another API/version with a known response schema gets
    that schema filled with error 35 where it has a top-level error code (empty otherwise); an API kio does
    not know gets the response header plus the bare error code."""
    if req.api_key == API_VERSIONS:
        return encode_response(
            API_VERSIONS, 0, req.correlation_id, api_versions_body(ErrorCode.unsupported_version)
        )
    cls = response_class(req.api_key, req.api_version) if req.api_version >= 0 else None
    if cls is not None:
        body: dict[str, Any] = {}
        if any(name == "error_code" for name, *_ in _plan(cls)):
            body["error_code"] = ErrorCode.unsupported_version
            body["error_message"] = "Kafka Classroom's simulated broker does not support this API/version"
        return encode_response(req.api_key, req.api_version, req.correlation_id, body)
    return struct.pack(">iih", 6, req.correlation_id, int(ErrorCode.unsupported_version))


def api_name(api_key: int) -> str:
    spec = SUPPORTED.get(api_key)
    return spec[0] if spec else f"api {api_key}"


__all__ = [
    "SUPPORTED",
    "SOCKET_REQUEST_MAX_BYTES",
    "MalformedRequest",
    "Request",
    "parse_request",
    "build",
    "encode_response",
    "unsupported_response",
    "api_versions_body",
    "request_class",
    "response_class",
    "ErrorCode",
]
