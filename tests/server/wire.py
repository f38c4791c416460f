"""Raw Kafka wire helpers for tests: build request frames with kio, read responses from a socket."""

from __future__ import annotations

import io
import socket
import struct
import time

from engine.server.protocol import _reader, _writer, build, request_class, response_class


def request_frame(
    api_key: int, version: int, body: dict, correlation_id: int = 1, client_id: str = "wire-test"
) -> bytes:
    cls = request_class(api_key, version)
    hcls = cls.__header_schema__
    buf = io.BytesIO()
    _writer(hcls)(
        buf,
        hcls(
            request_api_key=api_key,
            request_api_version=version,
            correlation_id=correlation_id,
            client_id=client_id,
        ),
    )
    _writer(cls)(buf, build(cls, body))
    data = buf.getvalue()
    return struct.pack(">i", len(data)) + data


def connect(port: int, timeout: float = 5.0) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.settimeout(timeout)
    return s


def recv_exact(s: socket.socket, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise ConnectionError("closed")
        out += chunk
    return out


def read_frame(s: socket.socket) -> bytes:
    (size,) = struct.unpack(">i", recv_exact(s, 4))
    return recv_exact(s, size)


def read_response(s: socket.socket, api_key: int, version: int):
    """-> (correlation id, kio response entity)."""
    frame = read_frame(s)
    cls = response_class(api_key, version)
    header, hsize = _reader(cls.__header_schema__)(frame, 0)
    body, _ = _reader(cls)(frame, hsize)
    return header.correlation_id, body


def closed_by_server(s: socket.socket, within: float) -> bool:
    """True if the server closes (EOF or reset) within `within` seconds."""
    deadline = time.monotonic() + within
    s.settimeout(0.2)
    while time.monotonic() < deadline:
        try:
            if s.recv(65536) == b"":
                return True
        except TimeoutError:
            continue
        except OSError:
            return True
    return False
