"""The asyncio TCP server: one listener per simulated broker, Kafka framing, and the clock.

Each simulated broker gets its own port, so Metadata can advertise real leaders and a client follows a
leader change exactly as against a real cluster: a crashed broker's connections are reset and its port is
closed (connections are refused, as by a host whose Kafka process died) until it restarts on the same port.
Like Kafka's SocketServer, a connection's requests are handled one at a time and answered in order, and the
connection is muted meanwhile (Selector.mute): nothing more is read from it until the response is sent, so
requests pipelined behind a long-poll Fetch wait in the client's socket, not in the server's memory. A frame
is read in chunks as its bytes arrive (a size header alone reserves nothing). A frame larger than
socket.request.max.bytes (InvalidReceiveException), a frame that does not parse, a client that stalls
mid-frame or stops reading, closes that connection only.

Simulated time follows the wall clock (times `speed`) while the server runs: a clock task calls
`Cluster.run_for` from the event loop, the only thread that touches the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import struct
import threading
import time
from collections.abc import Callable
from typing import Any, cast

from ..cluster import Cluster
from .adapter import Connection, KafkaAdapter
from .protocol import (
    SOCKET_REQUEST_MAX_BYTES,
    MalformedRequest,
    encode_response,
    parse_request,
    unsupported_response,
)

log = logging.getLogger("engine.server")
CHUNK_MS = 200  # simulated ms run between two looks at the sockets
READ_CHUNK = 1 << 16  # bytes read from a socket at a time (and buffered ahead, at most twice that)
MAX_LAG_MS = 2000  # further behind the wall clock than this, simulated time skips ahead instead of racing


def _load_trim() -> Callable[[], None]:
    """glibc's malloc_trim: hands freed heap pages back to the OS. After a big request (whose buffers glibc's
    dynamic mmap threshold may have put on the heap) the server's resident memory returns to its baseline."""
    try:
        import ctypes

        fn = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows): nothing to do
        return lambda: None
    fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
    return lambda: fn(0)


_trim = _load_trim()
BIG_FRAME = 1 << 20  # after a request this big, freed memory is handed back (_trim)


class PortInUseError(OSError):
    """A broker's port cannot be opened (`port` says which): usually another program already listens there."""

    def __init__(self, host: str, port: int, cause: OSError) -> None:
        busy = cause.errno == errno.EADDRINUSE
        why = "is already in use" if busy else f"cannot be opened ({cause.strerror or cause})"
        super().__init__(cause.errno, f"port {port} on {host} {why}")
        self.host = host
        self.port = port
        self.in_use = busy


class KafkaServer:
    """Serve `cluster` over the Kafka protocol. `port` is broker 1's; broker N listens on port + N - 1
    (port=0: every broker on a free port, for tests)."""

    def __init__(
        self,
        cluster: Cluster,
        host: str = "127.0.0.1",
        port: int = 9092,
        *,
        advertised_host: str | None = None,
        speed: float = 1.0,
        max_request_bytes: int = SOCKET_REQUEST_MAX_BYTES,
        idle_timeout_s: float = 600.0,
        frame_timeout_s: float = 30.0,
        write_timeout_s: float = 30.0,
        cluster_id: str = "kafka-classroom",
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.cluster = cluster
        self.host = host
        self.base_port = port
        self.advertised_host = advertised_host or host
        self.speed = speed
        self.max_request_bytes = max_request_bytes
        self.idle_timeout_s = idle_timeout_s  # connections.max.idle.ms
        self.frame_timeout_s = frame_timeout_s
        self.write_timeout_s = write_timeout_s
        self.ports: dict[int, int] = {}
        # None: the broker is down (port closed)
        self._listeners: dict[int, asyncio.Server | None] = {}
        self._unlistenable: set[int] = set()
        self._conns: dict[int, tuple[Connection, asyncio.StreamWriter, set[asyncio.Task]]] = {}
        self._serving: set[asyncio.Task] = set()  # each connection's handler task
        self._kick = asyncio.Event()
        self._stopping = False
        self._clock_task: asyncio.Task | None = None
        self._paused = False
        self._wall0 = 0.0
        self._sim0 = 0
        self._last_sweep = 0
        self.requests_served = 0
        self.connections_closed_bad = 0
        self.adapter = KafkaAdapter(cluster, self.endpoint, self.kick, cluster_id)

    # -- lifecycle -------------------------------------------------------------------------------------------
    async def start(self) -> None:
        try:
            for bid in sorted(self.cluster.brokers):
                await self._listen(bid)
        except BaseException:  # one port is taken: close the ones already opened, so they are free again
            for srv in self._listeners.values():
                if srv is not None:
                    srv.close()
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(srv.wait_closed(), 2)
            self._listeners.clear()
            self.ports.clear()
            raise
        loop = asyncio.get_running_loop()
        self._wall0, self._sim0 = loop.time(), self.cluster.now
        self._clock_task = asyncio.create_task(self._clock(), name="kafka-classroom-clock")

    async def _listen(self, bid: int) -> None:
        if bid in self.ports:  # reopening after a restart: the same port, so what clients know stays right
            port = self.ports[bid]
        else:
            port = 0 if self.base_port == 0 else self.base_port + bid - min(self.cluster.brokers)
        loop = asyncio.get_running_loop()

        def protocol(b: int = bid) -> asyncio.StreamReaderProtocol:  # asyncio.start_server, with _Reader
            return asyncio.StreamReaderProtocol(
                _Reader(limit=READ_CHUNK, loop=loop),
                lambda r, w: self._accept(cast(_Reader, r), w, b),
                loop=loop,
            )

        try:
            srv = await loop.create_server(protocol, self.host, port, reuse_address=True)
        except OSError as exc:
            raise PortInUseError(self.host, port, exc) from exc
        self._listeners[bid] = srv
        self.ports[bid] = srv.sockets[0].getsockname()[1]
        log.info("broker %s listens on %s:%s", bid, self.host, self.ports[bid])

    async def stop(self) -> None:
        self._stopping = True
        if self._clock_task is not None:
            self._clock_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._clock_task
        listeners = [srv for srv in self._listeners.values() if srv is not None]
        for srv in listeners:
            srv.close()
        for cid in list(self._conns):
            self._close(cid)
        if self._serving:  # every connection's task ends before the loop does (no "Task was destroyed")
            await asyncio.wait(set(self._serving), timeout=2)
        for srv in listeners:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(srv.wait_closed(), 2)

    @staticmethod
    async def _close_listener(srv: asyncio.Server) -> None:
        """Stop accepting, let the connections accepted a moment ago reach `_accept` (which closes them: the
        broker is down), then close the port. Closing at once strands them: Python 3.11's asyncio cannot attach
        a connection accepted just before Server.close() and leaves its socket open, unanswered, so the
        client waited for its request.timeout.ms (30 s) instead of seeing the broker gone."""
        loop = asyncio.get_running_loop()
        for sock in srv.sockets:
            loop.remove_reader(sock.fileno())
        await asyncio.sleep(0)  # the accepted connections' set-up steps were queued before this one
        srv.close()

    @property
    def bootstrap(self) -> str:
        return ",".join(f"{self.advertised_host}:{p}" for _, p in sorted(self.ports.items()))

    def endpoint(self, broker_id: int) -> tuple[str, int] | None:
        port = self.ports.get(broker_id)
        return (self.advertised_host, port) if port is not None else None

    def kick(self) -> None:
        self._kick.set()

    def pause(self) -> None:
        self._paused = True

    def resume(self) -> None:
        if self._paused:
            self._paused = False
            self._wall0, self._sim0 = asyncio.get_running_loop().time(), self.cluster.now
            self.kick()

    # -- the clock ----------------------------------------------------------------------------------------------
    async def _clock(self) -> None:
        loop = asyncio.get_running_loop()
        c = self.cluster
        while not self._stopping:
            behind = 0
            if not self._paused:
                target = self._sim0 + int((loop.time() - self._wall0) * 1000 * self.speed)
                if target - c.now > MAX_LAG_MS:  # the process was suspended, or the engine is overloaded:
                    self._sim0 -= target - c.now - MAX_LAG_MS  # let go of the excess instead of racing
                    target = c.now + MAX_LAG_MS
                if target > c.now:
                    step = min(target - c.now, CHUNK_MS)  # in slices, so sockets are served while catching up
                    try:
                        c.run_for(step)
                    except Exception:  # an engine bug must not take the server down
                        log.exception("engine error while advancing simulated time")
                        self._wall0, self._sim0 = loop.time(), c.now
                    behind = target - c.now
            await self._housekeeping()
            nxt = c.scheduler.next_time()
            if behind > 0:
                delay = 0.0
            else:
                delay = 0.05 if nxt is None or self._paused else (nxt - c.now) / 1000 / self.speed
            self._kick.clear()
            if delay <= 0:
                await asyncio.sleep(0)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), min(0.05, max(0.0005, delay)))

    async def _housekeeping(self) -> None:
        c = self.cluster
        for cid, (conn, _w, _t) in list(self._conns.items()):
            b = c.brokers.get(conn.broker_id)
            if b is None or not b.alive:  # a crashed broker's TCP connections are reset
                self._close(cid)
        for bid, b in list(c.brokers.items()):
            if self._stopping:
                break
            if not b.alive:
                srv = self._listeners.get(bid)
                if srv is not None:  # a crashed broker's process is gone: its port refuses connections
                    self._listeners[bid] = None
                    await self._close_listener(srv)
            elif self._listeners.get(bid) is None:  # restarted, or new (add_broker() at run time)
                try:
                    await self._listen(bid)
                    self._unlistenable.discard(bid)
                except OSError as exc:
                    if bid not in self._unlistenable:  # say it once; try again on the next tick
                        log.warning("cannot open a port for broker %s: %s", bid, exc)
                        self._unlistenable.add(bid)
                    self._listeners[bid] = None
        if c.now - self._last_sweep >= 1000:
            self._last_sweep = c.now
            self.adapter.sweep()

    # -- connections -------------------------------------------------------------------------------------------
    async def _accept(self, reader: _Reader, writer: asyncio.StreamWriter, broker_id: int) -> None:
        b = self.cluster.brokers.get(broker_id)
        if self._stopping or b is None or not b.alive:
            writer.close()  # connection refused, as by a dead broker's host
            return
        peer = writer.get_extra_info("peername")
        conn = Connection(broker_id, f"{peer[0]}:{peer[1]}" if peer else "?")
        tasks = {
            asyncio.create_task(self._serve(conn, reader, writer)),
            asyncio.create_task(reader.hung_up()),
        }
        self._conns[conn.id] = (conn, writer, tasks)
        self.adapter.connections[conn.id] = conn
        conn.close_cb = lambda cid=conn.id: self._close(cid)
        me = asyncio.current_task()
        if me is not None:
            self._serving.add(me)
        try:
            done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                if not t.cancelled() and t.exception() is not None:
                    log.warning("connection %s to broker %s failed: %r", conn.peer, broker_id, t.exception())
        except asyncio.CancelledError:  # the server is stopping: end quietly (stop() waits for this task)
            pass
        finally:
            self._close(conn.id)
            # let the cancelled tasks finish, so none is left pending when the loop closes
            await asyncio.gather(*tasks, return_exceptions=True)
            self._serving.discard(me)

    def _close(self, cid: int) -> None:
        entry = self._conns.pop(cid, None)
        self.adapter.connections.pop(cid, None)
        if entry is None:
            return
        conn, writer, tasks = entry
        conn.closed = True
        for t in tasks:
            t.cancel()
        for fut in list(conn.futures):
            fut.cancel()
        with contextlib.suppress(Exception):
            writer.close()

    async def _read_frame(self, conn: Connection, reader: _Reader) -> bytes | memoryview | None:
        """The next request frame (without its size), read chunk by chunk; None when the connection closes."""
        try:
            head = await asyncio.wait_for(reader.readexactly(4), self.idle_timeout_s)
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            return None  # closed, reset, or idle for connections.max.idle.ms
        (size,) = struct.unpack(">i", head)
        if size < 8 or size > self.max_request_bytes:  # Kafka: InvalidReceiveException, the channel is closed
            self.connections_closed_bad += 1
            log.info(
                "closing %s: frame size %s is outside 8..%s (socket.request.max.bytes)",
                conn.peer,
                size,
                self.max_request_bytes,
            )
            return None
        frame = bytearray()  # grows as bytes arrive (a big one by mremap, without copying)
        try:
            async with asyncio.timeout(self.frame_timeout_s):
                while len(frame) < size:
                    chunk = await reader.read(min(size - len(frame), READ_CHUNK))
                    if not chunk:
                        raise ConnectionError("closed mid-frame")
                    frame += chunk
        except (ConnectionError, TimeoutError):
            self.connections_closed_bad += 1
            return None  # vanished or stalled mid-frame
        return bytes(frame) if size < READ_CHUNK else memoryview(frame).toreadonly()  # kio reads read-only

    async def _serve(self, conn: Connection, reader: _Reader, writer: asyncio.StreamWriter) -> None:
        """Read a request, answer it, read the next: the connection is muted while a request is handled."""
        while True:
            frame = await self._read_frame(conn, reader)
            if frame is None:
                return
            try:
                req = parse_request(frame)
            except MalformedRequest as exc:
                self.connections_closed_bad += 1
                log.info("closing %s: %s", conn.peer, exc)
                return
            big = len(frame) >= BIG_FRAME
            del frame  # the parsed request holds what it needs
            if req.client_id and not conn.client_id:
                conn.client_id = req.client_id
            out: bytes | bool | None
            if not req.supported:
                out = unsupported_response(req)
            else:
                out = await self._handle(conn, req)
                if out is None:  # Produce with acks=0: Kafka sends no response
                    self.requests_served += 1
                    del req
                    if big:
                        _trim()
                    continue
                if out is False:
                    return
            assert isinstance(out, bytes)  # None and False were handled above
            del req
            self.requests_served += 1
            writer.write(out)
            del out
            if big:
                _trim()
            try:
                await asyncio.wait_for(writer.drain(), self.write_timeout_s)
            except (ConnectionError, TimeoutError):
                return  # the client stopped reading, or went away

    async def _handle(self, conn: Connection, req: Any) -> bytes | None | bool:
        """The encoded response; None for none (acks=0), False when the handler failed (close the connection)."""
        adapter = self.adapter
        if not adapter.reachable(conn, conn.client_id or "client"):
            # an isolated broker the client cannot reach: nothing comes back (request.timeout.ms tells)
            await asyncio.get_running_loop().create_future()
        try:
            body = await adapter.handlers[req.api_key](conn, req)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("error handling %s v%s from %s", req.api_key, req.api_version, conn.peer)
            return False
        if body is None:
            return None
        return encode_response(req.api_key, req.api_version, req.correlation_id, body)


class _Reader(asyncio.StreamReader):
    """A StreamReader that tells when its peer hangs up even while nobody reads (the connection is muted)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._gone = asyncio.Event()
        self._reset = False

    def feed_eof(self) -> None:
        super().feed_eof()
        self._gone.set()

    def set_exception(self, exc: Exception) -> None:
        super().set_exception(exc)
        self._reset = True
        self._gone.set()

    async def hung_up(self) -> None:
        """Returns once the peer has closed or reset the connection and no request of it is left unread."""
        await self._gone.wait()
        if not self._reset and not self.at_eof():
            # requests it sent before closing (acks=0 produces, say) are read first; the reader then ends
            await asyncio.get_running_loop().create_future()


class ServerHandle:
    """A KafkaServer running on its own thread and event loop (for the Playground and tests).

    The engine is single-threaded: while the server runs, touch the cluster only through `call()`, which runs a
    function on the server's thread, e.g. `handle.call(cluster.crash_broker, 2)` or
    `snap = handle.call(cluster.snapshot)`."""

    def __init__(
        self, server: KafkaServer, loop: asyncio.AbstractEventLoop, thread: threading.Thread
    ) -> None:
        self.server = server
        self.cluster = server.cluster
        self._loop = loop
        self._thread = thread
        self.stop_reason: str | None = (
            None  # why it stopped by itself ("idle"), None while running or if stop()ped
        )
        self._touched = time.monotonic()
        self._closing = False

    @property
    def ports(self) -> dict[int, int]:
        return dict(self.server.ports)

    @property
    def bootstrap(self) -> str:
        return self.server.bootstrap

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float = 30.0, **kwargs: Any) -> Any:
        """Run `fn(*args, **kwargs)` on the server thread and return its result (or raise its exception).
        RuntimeError at once if the server has stopped (rather than waiting `timeout` for a loop that is gone)."""
        if self._closing or not self._thread.is_alive():
            raise RuntimeError("the Kafka server has stopped")

        async def run() -> Any:
            result = fn(*args, **kwargs)
            self.server.kick()
            return result

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout)

    def pause(self) -> None:
        """Stop simulated time (connections stay open; requests wait)."""
        self._loop.call_soon_threadsafe(self.server.pause)

    def resume(self) -> None:
        self._loop.call_soon_threadsafe(self.server.resume)

    def touch(self) -> None:
        """Someone is still watching: postpone the `stop_after_idle` deadline."""
        self._touched = time.monotonic()

    def stop_after_idle(self, seconds: float) -> None:
        """Stop by itself once `touch()` has not been called for `seconds` (a watchdog for a server started
        from a page the user may leave: the Playground touches it on every refresh)."""

        async def watch() -> None:
            while True:
                await asyncio.sleep(min(1.0, seconds / 4))
                if time.monotonic() - self._touched > seconds:
                    self.stop_reason = "idle"
                    log.info("nobody watched the server for %.0f s: stopping it", seconds)
                    await self._shutdown()
                    return

        self.touch()
        self._loop.call_soon_threadsafe(lambda: self._loop.create_task(watch(), name="kafka-classroom-idle"))

    async def _shutdown(self) -> None:
        self._closing = True
        with contextlib.suppress(Exception):
            await self.server.stop()
        self._loop.stop()

    def stop_soon(self) -> None:
        """Start stopping without waiting: safe from any thread, the server's own included (e.g. a finalizer)."""
        if self._closing or not self._thread.is_alive() or self._loop.is_closed():
            return
        self._closing = True
        coro = self._shutdown()
        try:
            asyncio.run_coroutine_threadsafe(coro, self._loop)
        except RuntimeError:  # the loop closed in between: nothing left to stop
            coro.close()

    def stop(self, timeout: float = 10.0) -> None:
        if not self._thread.is_alive():
            return
        if threading.current_thread() is self._thread:  # called from the server's own thread: cannot wait
            self.stop_soon()
            return
        if self._closing:  # already shutting down by itself (idle watchdog, stop_soon): just wait for it
            self._thread.join(timeout)
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(timeout)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_in_background(
    cluster: Cluster, port: int = 9092, host: str = "127.0.0.1", **kwargs: Any
) -> ServerHandle:
    """Start serving `cluster` on a daemon thread; returns once every broker's port is open.

    `port=0` picks free ports. Raises PortInUseError (an OSError naming the port) if a port is taken; the
    ports opened before it are closed again. Keyword arguments go to KafkaServer."""
    ready = threading.Event()
    box: dict[str, Any] = {}

    def main() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        box["loop"] = loop
        try:
            server = KafkaServer(cluster, host, port, **kwargs)
            loop.run_until_complete(server.start())
            box["server"] = server
        except BaseException as exc:  # noqa: BLE001 - reported to the caller
            box["error"] = exc
            ready.set()
            loop.close()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            with contextlib.suppress(Exception):
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for t in pending:
                    t.cancel()
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

    thread = threading.Thread(target=main, name="kafka-classroom-server", daemon=True)
    thread.start()
    ready.wait(30)
    if "error" in box:
        raise box["error"]
    if "server" not in box:
        raise TimeoutError("the Kafka server did not start within 30 s")
    return ServerHandle(box["server"], box["loop"], thread)


__all__ = ["KafkaServer", "PortInUseError", "ServerHandle", "start_in_background"]
