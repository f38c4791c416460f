"""Simulated time: one priority queue of scheduled actions, ordered by (time, sequence).

As small as SimPy's core: `at()` / `after()` push, `step()` pops and runs one action. Actions are bound
methods plus arguments (never closures), so `copy.deepcopy` of the whole cluster is an exact checkpoint.
"""

from __future__ import annotations

import gc
import heapq
import os
import threading
from collections.abc import Callable
from typing import Any, Literal, overload

_PURGE_MIN = 256  # heap size at which cancelled timers are swept out (then twice the live size)
# gen-0 threshold while the simulation runs (CPython's default is 700); KC_SIM_GC_YOUNG=0 leaves GC alone
_YOUNG = int(os.environ.get("KC_SIM_GC_YOUNG", "20000"))


class RarerYoungGC:
    """While a simulation loop runs, CPython's cyclic GC starts a young collection every `_YOUNG` net container
    allocations instead of every 700; the caller's thresholds come back when the outermost loop ends.

    A bulk run allocates requests, responses and records that nearly all live on (retained logs, consumed
    records) or die by reference counting, so the frequent young collections (and the full ones they lead
    to, each a scan of every retained batch and record) found little to free: ~10-15% of benchmark 1's CPU
    time. Cycles are still collected, just less often. Thread-safe and re-entrant (a loop inside a loop, two
    clusters in two threads): one depth count under a lock. KC_SIM_GC_YOUNG=0 turns this off."""

    __slots__ = ()
    _lock = threading.Lock()
    _depth = 0
    _saved: tuple[int, ...] = ()

    def __enter__(self) -> None:
        cls = RarerYoungGC
        with cls._lock:
            if cls._depth == 0 and _YOUNG:
                cls._saved = gc.get_threshold()
                if cls._saved[0] and cls._saved[0] < _YOUNG:  # 0: the application turned the GC off
                    gc.set_threshold(_YOUNG, *cls._saved[1:])
            cls._depth += 1

    def __exit__(self, *exc: object) -> None:
        cls = RarerYoungGC
        with cls._lock:
            cls._depth -= 1
            if cls._depth == 0 and cls._saved:
                gc.set_threshold(*cls._saved)
                cls._saved = ()


rarer_young_gc = RarerYoungGC()


class Timer:
    """A handle to a scheduled action; `cancel()` makes it a no-op when its time comes."""

    __slots__ = ("time_ms", "cancelled")

    def __init__(self, time_ms: int) -> None:
        self.time_ms = time_ms
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Scheduler:
    __slots__ = ("now_ms", "_heap", "_seq", "actions_run", "_purge_at")

    def __init__(self) -> None:
        self.now_ms = 0
        self._heap: list[tuple[int, int, Timer | None, Callable[..., Any], tuple]] = []
        self._seq = 0
        self.actions_run = 0
        self._purge_at = _PURGE_MIN

    @overload
    def at(self, time_ms: int, fn: Callable[..., Any], *args: Any, timer: Literal[True]) -> Timer: ...
    @overload
    def at(self, time_ms: int, fn: Callable[..., Any], *args: Any, timer: Literal[False] = False) -> None: ...
    @overload
    def at(self, time_ms: int, fn: Callable[..., Any], *args: Any, timer: bool) -> Timer | None: ...
    def at(self, time_ms: int, fn: Callable[..., Any], *args: Any, timer: bool = False) -> Timer | None:
        """Run `fn(*args)` at `time_ms` (never in the past). Returns a cancellable Timer if asked."""
        t = Timer(time_ms) if timer else None
        self._seq += 1
        heap = self._heap
        now = self.now_ms
        heapq.heappush(heap, (time_ms if time_ms >= now else now, self._seq, t, fn, args))
        if len(heap) > self._purge_at:
            self._purge()
        return t

    def _purge(self) -> None:
        """Drop cancelled timers from anywhere in the heap (asyncio does the same): a cancelled 30 s request
        timeout would otherwise sit there, with everything its arguments reference, and be copied into every
        checkpoint. Keys (time, seq) are unique, so the run order is unchanged."""
        heap = [e for e in self._heap if e[2] is None or not e[2].cancelled]
        heapq.heapify(heap)
        self._heap = heap
        self._purge_at = max(_PURGE_MIN, 2 * len(heap))

    @overload
    def after(self, delay_ms: int, fn: Callable[..., Any], *args: Any, timer: Literal[True]) -> Timer: ...
    @overload
    def after(
        self, delay_ms: int, fn: Callable[..., Any], *args: Any, timer: Literal[False] = False
    ) -> None: ...
    @overload
    def after(self, delay_ms: int, fn: Callable[..., Any], *args: Any, timer: bool) -> Timer | None: ...
    def after(self, delay_ms: int, fn: Callable[..., Any], *args: Any, timer: bool = False) -> Timer | None:
        return self.at(self.now_ms + delay_ms, fn, *args, timer=timer)

    def next_time(self) -> int | None:
        """Time of the next live action, dropping cancelled ones from the top of the heap."""
        heap = self._heap
        while heap and heap[0][2] is not None and heap[0][2].cancelled:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def step(self) -> bool:
        """Run the next action. False when nothing is scheduled."""
        return self.step_until(None)

    def step_until(self, end_ms: int | None) -> bool:
        """Run the next action if one is due by `end_ms` (None: any time). False when none is.

        The run loops' one call per action (next_time() and step() in one): it is the engine's innermost loop."""
        heap = self._heap
        while heap:
            entry = heap[0]
            timer = entry[2]
            if timer is not None and timer.cancelled:
                heapq.heappop(heap)
                continue
            if end_ms is not None and entry[0] > end_ms:
                return False
            heapq.heappop(heap)
            self.now_ms = entry[0]
            self.actions_run += 1
            entry[3](*entry[4])
            return True
        return False

    def run_to(self, end_ms: int) -> None:
        """Run every action due by `end_ms`, in order (what `while step_until(end_ms): pass` does, in one frame:
        `Cluster.run_for`'s loop, one Python call less per action)."""
        pop = heapq.heappop
        while True:
            heap = self._heap  # (re-read: an action may purge cancelled timers, which replaces the heap)
            if not heap:
                return
            entry = heap[0]
            timer = entry[2]
            if timer is not None and timer.cancelled:
                pop(heap)
                continue
            if entry[0] > end_ms:
                return
            pop(heap)
            self.now_ms = entry[0]
            self.actions_run += 1
            entry[3](*entry[4])

    def push(self, time_ms: int, fn: Callable[..., Any], args: tuple) -> None:
        """at() for the network's deliveries: never in the past, never cancelled (no Timer, no sweep check)."""
        self._seq += 1
        heapq.heappush(self._heap, (time_ms, self._seq, None, fn, args))

    def push_keyed(self, key: tuple[int, int], fn: Callable[..., Any], args: tuple) -> None:
        """Schedule with a key reserved earlier (Watchdog.start takes the next sequence number for it): it runs
        exactly where it would have run if pushed back then."""
        heapq.heappush(self._heap, (key[0], key[1], None, fn, args))

    def __len__(self) -> int:
        return len(self._heap)


class Watchdog:
    """Request timeouts that are nearly always answered in time, for one requester with one fixed timeout.

    A Timer per request is a heap entry pushed, cancelled and swept out again, for every request. A watchdog
    keeps the pending deadlines in creation order (a fixed timeout makes that deadline order) and has one heap
    entry, at the oldest; each deadline keeps the (time, sequence) key its own timer would have had, so every
    timeout fires at the same point of the run as it did with a timer per request.
    """

    __slots__ = ("scheduler", "fn", "pending", "armed")

    def __init__(self, scheduler: Scheduler, fn: Callable[..., Any]) -> None:
        self.scheduler = scheduler
        self.fn = fn  # called with the token's args when its deadline passes unanswered
        self.pending: dict[Any, tuple[tuple[int, int], tuple]] = {}  # token -> (key, args), oldest first
        self.armed: tuple[int, int] | None = None  # the key of the one entry in the heap

    def start(self, token: Any, delay_ms: int, *args: Any) -> None:
        """A request went out: `fn(*args)` unless stop(token) comes within `delay_ms`."""
        pending = self.pending
        pending.pop(token, None)  # a token started again goes to the back
        sched = self.scheduler
        sched._seq += (
            1  # the key its own timer would have had (at() takes the next sequence number the same way)
        )
        key = (sched.now_ms + (delay_ms if delay_ms >= 0 else 0), sched._seq)
        pending[token] = (key, args)
        if self.armed is None:
            self._arm(key)

    def stop(self, token: Any) -> None:
        """The answer came."""
        self.pending.pop(token, None)

    def _arm(self, key: tuple[int, int]) -> None:
        self.armed = key
        self.scheduler.push_keyed(key, self._fire, (key,))

    def _fire(self, key: tuple[int, int]) -> None:
        self.armed = None
        if not self.pending:
            return  # everything was answered
        token = next(iter(self.pending))
        oldest, args = self.pending[token]
        if oldest != key:
            self._arm(oldest)  # the deadline this entry was for was answered: wait for the oldest one left
            return
        del self.pending[token]
        for nxt, _ in self.pending.values():
            self._arm(nxt)
            break
        self.fn(*args)
