"""Followers woken by the server when their room moves, instead of a timer per student browser.

A following student's page does not tick. It registers here (`watch`) with what it drew: the room's version
and whether it showed the "your teacher has gone" notice. One daemon thread per app process (`Watcher`) asks
the room store about each room that has followers on this process (`store.pulse`: one call per room, one
round trip on Redis) every WATCH_SECONDS, and when a follower's page is behind (a new version, the teacher
left or came back, the room closed, or the store stopped answering) it asks Streamlit to rerun that session's
page, the way Streamlit reruns a session itself when a source file changes under `runOnSave`
(`AppSession.request_rerun` with the session's query string and page). So an idle room costs one store call
per room per tick on each process, whatever the number of followers (a `run_every` fragment per follower
cost a script run per student per second), and a teacher's step reaches a follower within WATCH_SECONDS plus
one page run. Across app processes (Redis) each process's watcher reads the shared version key.

Streamlit has no public call for a server-started rerun. This uses `Runtime.get_app_session` (thread-safe,
per its docstring), `AppSession.page_script_hash` and `AppSession.request_rerun` (handed to the session's
event loop when it has one, else called from the watcher thread as Streamlit's `runOnSave` does). Where
they are missing (another Streamlit version, `AppTest`, a bare `python` run) `available()` is False and the
page keeps its one-second fragment poll (`ui/room_page.py` `_poll`), so a class still follows, only at the
old cost. tests/e2e/test_room_browser.py checks that a following browser sends nothing while the room is
idle, so a Streamlit upgrade that silently falls back fails there.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ui.rooms import ORPHAN_SECONDS, StoreUnavailable

_LOG = logging.getLogger(__name__)
WATCH_SECONDS = 0.25  # how often the watcher asks the store about each watched room
# Followers are woken in groups of IN_FLIGHT; the next group once the whole group has redrawn and
# GROUP_PAUSE seconds have passed. Streamlit's runtime loop sends one message per event-loop turn, and
# those turns crawl while page runs hold the GIL: woken one after another without a pause, every
# follower's picture left the server only after the last page run (bench/NOTES.md "Cheap follower runs").
# The pause, with no page run going, lets the loop send the group's pictures (9 messages per follower since
# a step reruns only the picture fragment; 20 ms when it was ~20), so the first followers see the step early
# and the last no later (bench/NOTES.md "Round three": 8 and 10 ms judged against 8/20, 12/10, 16/10, 16/20).
IN_FLIGHT = 8
GROUP_PAUSE = 0.01
FLIGHT_SECONDS = 3.0  # a woken session that has not redrawn within this no longer holds a place
REPUSH_SECONDS = 10.0  # a session that has not redrawn this long after a push is pushed again
GONE_SECONDS = 300.0  # a session disconnected this long is forgotten (a websocket blip is not: it is retried)
DOWN = "unavailable"  # the watcher's picture of a room whose store does not answer


@dataclass
class Follower:
    code: str
    store: Any  # the RoomStore / RedisRoomStore the page read
    drawn: Any  # (version, orphaned) as the page last drew them
    client_state: Any  # the ClientState a push reruns the page with (query string, page, browser context)
    page: str  # the page's script hash: a session that went to another page is not pushed
    fragment: str | None = None  # the fragment that draws the room's picture: a new step reruns only it
    pushed: Any = None  # what the last push was for
    pushed_at: float = 0.0
    missing_since: float | None = None  # when a push last found the session disconnected


def picture_only(f: Follower) -> bool:
    """Is what moved since `f` drew only the room's step or recipe or question (its version), so that rerunning
    the page's picture fragment is enough? Not for an orphan notice coming or going, a closed room or a store
    that does not answer: those change the rest of the page, which a full page run redraws. (The fragment
    itself asks for a full run when it finds the question changed: ui/room_page.py `_picture_fragment`.)"""
    if not f.fragment or f.pushed in (None, DOWN) or f.drawn in (None, DOWN):
        return False
    (version, orphaned), (drawn_version, drawn_orphaned) = f.pushed, f.drawn
    return version is not None and drawn_version is not None and orphaned == drawn_orphaned


def current_fragment() -> str | None:
    """The id of the fragment this code runs in, or None (not in a fragment, or a Streamlit that does not
    say). Streamlit has no public call for it: its `ThreadState` (streamlit.runtime.scriptrunner_utils,
    1.67) holds it while a fragment body runs. tests/ui/test_room_push.py fails if that stops working, and
    without it followers are woken with a full page run, as before."""
    try:
        from streamlit.runtime.scriptrunner_utils.script_run_context import ThreadState

        fid = ThreadState.get().fragment_id
    except (ImportError, AttributeError, RuntimeError):
        return None
    return fid if isinstance(fid, str) and fid else None


def room_signature(pulse: tuple[int | None, float | None]) -> tuple[int | None, bool]:
    """What a follower's screen shows of the room, from `store.pulse`: the version and the orphan notice
    (the same rule as ui.room_page.orphaned)."""
    version, away = pulse
    return version, away is not None and away > ORPHAN_SECONDS


def _streamlit() -> tuple[Any, Any] | None:
    """(the running Runtime, this script run's context), or None where a server-started rerun is not
    possible (no Runtime: AppTest or bare mode; or a Streamlit without these calls)."""
    try:
        from streamlit import runtime
        from streamlit.runtime.scriptrunner import get_script_run_ctx
    except ImportError:
        return None
    if not runtime.exists():
        return None
    rt, ctx = runtime.get_instance(), get_script_run_ctx()
    if ctx is None or not hasattr(rt, "get_app_session"):
        return None
    return rt, ctx


def available() -> bool:
    """Can this page run be woken by the server (a real `streamlit run` whose API we rely on)?"""
    got = _streamlit()
    if got is None:
        return False
    rt, ctx = got
    try:
        from streamlit.runtime.app_session import AppSession
    except ImportError:
        return False
    session = rt.get_app_session(ctx.session_id)  # AppTest's Runtime is a mock: no real session, no push
    return isinstance(session, AppSession) and hasattr(session, "request_rerun")


class Watcher:
    """The followers of this process, by session id, and the thread that wakes them."""

    def __init__(
        self, rerun: Callable[[str, Follower], bool | None] | None = None, background: bool = True
    ) -> None:
        self._lock = threading.Lock()
        self._background = background  # False (tests): no thread; call tick() and next_group() by hand
        self._group_done = threading.Event()  # the group in flight has redrawn (or `poke`): the watcher acts
        self._poked = False  # a room moved on this process: tick now
        self._followers: dict[str, Follower] = {}
        self._thread: threading.Thread | None = None
        self._rerun = rerun or _rerun_session
        self._flying: dict[str, float] = {}  # session id -> when it was woken (not redrawn yet)
        self._waiting: list[str] = []  # sessions found behind, to wake as places free up
        self._shows: dict[tuple[int, str], Any] = {}  # (store, code) -> what the room showed at the last tick
        self._turns: dict[tuple[int, str], int] = {}  # (store, code) -> how many times the room moved
        self.pushes = 0  # reruns asked for (for tests and the bench notes)

    def watch(self, session_id: str, follower: Follower) -> None:
        """A follower's page run drew the room as `follower.drawn`: watch it, and if it was woken, its place
        goes to the next follower waiting."""
        with self._lock:
            old = self._followers.get(session_id)
            if old is not None and old.code == follower.code:
                follower.pushed, follower.pushed_at = old.pushed, old.pushed_at
            self._followers[session_id] = follower
            if self._thread is None and self._background:
                self._thread = threading.Thread(target=self._loop, name="kc-room-watcher", daemon=True)
                self._thread.start()
        self.landed(session_id)

    def forget(self, session_id: str) -> None:
        """Not a follower (any more): not woken when the room moves, and no longer holding up its group."""
        with self._lock:
            self._followers.pop(session_id, None)
            group_done = self._flying.pop(session_id, None) is not None and not self._flying
        if group_done:
            self._group_done.set()

    def landed(self, session_id: str) -> None:
        """This session's page run is over: if it was the last of its group to redraw, the watcher thread
        wakes the next group after GROUP_PAUSE."""
        with self._lock:
            was_woken = self._flying.pop(session_id, None) is not None
            group_done = was_woken and not self._flying
        if group_done:
            self._group_done.set()

    def poke(self) -> None:
        """A room moved on this process (its teacher's page just published a step or a question): ask the
        store now instead of at the next tick (up to WATCH_SECONDS later). Followers on other processes (Redis)
        still learn of it at their own watcher's next tick."""
        self._poked = True
        self._group_done.set()

    def next_group(self) -> None:
        """Wake the next group of followers waiting (the watcher thread calls it GROUP_PAUSE after a group
        redrew)."""
        self._group_done.clear()
        self._wake(time.monotonic())

    def __len__(self) -> int:
        with self._lock:
            return len(self._followers)

    def _loop(self) -> None:
        due = time.monotonic() + WATCH_SECONDS
        while True:
            group_done = self._group_done.wait(max(0.0, due - time.monotonic()))
            try:
                if group_done and self._poked:  # (a group that redrew meanwhile: this tick wakes the next)
                    self._poked = False
                    self._group_done.clear()
                    due = time.monotonic() + WATCH_SECONDS
                    self.tick()
                    continue
                if group_done:
                    time.sleep(GROUP_PAUSE)  # no page run going: the event loop sends the group's pictures
                    self.next_group()
                    continue
                due = time.monotonic() + WATCH_SECONDS
                self.tick()
            except Exception:  # the watcher must outlive any one bad tick; say what went wrong
                _LOG.exception("room watcher: a tick failed")

    def tick(self, now: float | None = None) -> None:
        """One round: ask the store about each watched room once, wake the followers that are behind."""
        now = time.monotonic() if now is None else now
        with self._lock:
            rooms: dict[tuple[int, str], list[tuple[str, Follower]]] = {}
            for sid, f in self._followers.items():
                rooms.setdefault((id(f.store), f.code), []).append((sid, f))
        shows: dict[tuple[int, str], Any] = {}
        behind: list[str] = []
        turns: dict[tuple[int, str], int] = {}
        for key, group in rooms.items():
            store, code = group[0][1].store, group[0][1].code
            try:
                shows[key] = room_signature(store.pulse(code))
            except StoreUnavailable:
                shows[key] = DOWN
            turns[key] = self._turns.get(key, 0) + (shows[key] != self._shows.get(key, shows[key]))
            behind += _rotated([sid for sid, f in group if f.drawn != shows[key]], turns[key])
        with self._lock:
            self._shows, self._turns = shows, turns
            for sid, woken in list(self._flying.items()):
                if now - woken > FLIGHT_SECONDS:  # slow or gone: it no longer holds a place
                    del self._flying[sid]
            self._waiting = [sid for sid in behind if sid not in self._flying]
        self._wake(now)

    def _wake(self, now: float) -> None:
        """Start the next group: wake up to IN_FLIGHT waiting followers, unless a group is still in flight."""
        with self._lock:
            if self._flying:
                return
        while True:
            with self._lock:
                if len(self._flying) >= IN_FLIGHT or not self._waiting:
                    return
                sid = self._waiting.pop(0)
                f = self._followers.get(sid)
                shows = None if f is None else self._shows.get((id(f.store), f.code))
                if f is None or shows is None or f.drawn == shows:
                    continue
                if f.pushed == shows and now - f.pushed_at < REPUSH_SECONDS:
                    continue  # woken already for this; its page run has not redrawn yet
                f.pushed, f.pushed_at = shows, now
                self._flying[sid] = now
            done = self._rerun(sid, f)
            if done:
                self.pushes += 1
                f.missing_since = None
                continue
            with self._lock:  # not woken after all: its place is free (this loop goes on to the next)
                self._flying.pop(sid, None)
            if done is None and (f.missing_since is None or now - f.missing_since < GONE_SECONDS):
                if f.missing_since is None:  # disconnected for now: tried again REPUSH_SECONDS later
                    f.missing_since = now
            else:  # on another page (its next Classroom run registers again), or long gone
                self.forget(sid)


def _rotated(sids: list[str], turn: int) -> list[str]:
    """The room's followers in the order to wake them when the room moved for the `turn`-th time: the
    registration order, started a golden-ratio step further round each time, so the last groups of a step
    (the ones that wait longest) are different students from one step to the next, not always the latest
    to join."""
    if not sids:
        return sids
    start = int(len(sids) * ((turn * 0.6180339887) % 1.0))
    return sids[start:] + sids[:start]


def _rerun_session(session_id: str, f: Follower) -> bool | None:
    """Ask Streamlit to rerun this session's page. False: it shows another page now; None: it is not
    connected now (closed, or a websocket reconnecting)."""
    from streamlit import runtime

    session = runtime.get_instance().get_app_session(session_id)
    if session is None:
        return None
    if getattr(session, "page_script_hash", "") not in ("", f.page):  # "": first run not finished yet
        return False
    client_state = f.client_state
    # only the picture moved: rerun the fragment that draws it (a fragment run sends about half the messages
    # of a page run and skips the app's preamble). Streamlit drops a rerun of a fragment the session no
    # longer holds (`AppSession.has_fragment`), so then the whole page runs.
    has = getattr(session, "has_fragment", None)
    if picture_only(f) and callable(has) and has(f.fragment):
        from streamlit.proto.ClientState_pb2 import ClientState

        client_state = ClientState()
        client_state.CopyFrom(f.client_state)
        client_state.fragment_id = f.fragment
    # on the session's event loop, where the browser's own rerun requests are handled, so a push and a
    # click at the same moment do not race (Streamlit's runOnSave calls it from its watcher thread)
    loop = getattr(session, "_event_loop", None)
    if loop is not None and hasattr(loop, "call_soon_threadsafe") and not loop.is_closed():
        loop.call_soon_threadsafe(session.request_rerun, client_state)
    else:
        session.request_rerun(client_state)
    return True


WATCHER = Watcher()


def watch(code: str, store: Any, drawn: Any, fragment: str | None = None) -> bool:
    """Register this session as a follower of room `code` that drew `drawn` ((version, orphaned)); False
    when the server cannot wake it (the caller then polls). `fragment`: the id of the fragment that draws the
    room's picture (`current_fragment()` inside it): a new step reruns only that fragment."""
    if not available():
        return False
    _, ctx = _streamlit()  # type: ignore[misc]  # available() said it is there
    from streamlit.proto.ClientState_pb2 import ClientState

    cs = ClientState(query_string=ctx.query_string, page_script_hash=ctx.page_script_hash)
    if getattr(ctx, "context_info", None):
        cs.context_info.CopyFrom(ctx.context_info)
    WATCHER.watch(ctx.session_id, Follower(code, store, drawn, cs, ctx.page_script_hash, fragment))
    return True


def poke() -> None:
    """A room moved on this process: the watcher asks the store now (see Watcher.poke)."""
    WATCHER.poke()


def unwatch() -> None:
    """This session no longer follows a room on this page (it left, broke away, became a teacher)."""
    got = _streamlit()
    if got is not None:
        WATCHER.forget(got[1].session_id)


def ran() -> None:
    """This session's page run is over (whatever it drew): a place for the next follower to wake."""
    got = _streamlit()
    if got is not None:
        WATCHER.landed(got[1].session_id)
