"""The pictures of a room's followers, shared: each (room recipe, step) is replayed and drawn once per app
process, however many students follow it (issue 20, a lecture hall).

A room carries only a recipe and a step (ui/rooms.py), and replay is deterministic, so every follower of a
step sees the same picture. `PICTURES` keeps the last few as `Picture`s (narration, diagram and log-strip
figures, and the snapshot they were drawn from) in a bounded LRU keyed by (recipe, step); a miss replays on
one shared run per room (`follow()`: only the new steps when the teacher moved on). A module of its own,
not the page's: Streamlit runs a page file as a fresh `__main__`, so a cache there would not be one per process.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

from engine.timeline import Timeline, parse_moves
from ui.figures.diagram import cluster_diagram
from ui.figures.logs import log_strips
from ui.rooms import RoomView
from ui.session import PlaygroundSession

PICTURE_CACHE_SIZE = 48  # (recipe, step) pictures kept per process: a few rooms' last steps


def follow(run: PlaygroundSession | None, synced_json: str | None, view: RoomView) -> PlaygroundSession:
    """The student's run at the room's recipe and step. Replays only what is new when the teacher just
    stepped or added commands; rebuilds from the recipe when the teacher went back or changed scenario."""
    state = view.state()
    if run is not None and synced_json is not None:
        old = json.loads(synced_json)
        oc, nc = old["commands"], state["commands"]
        # the teacher's recorded moves (+1 s, Step until, every event): the same as ours up to where we are
        moves = parse_moves(state, 0, max((c.get("at", 0) for c in nc), default=0))
        same_past = _clip(run.timeline.moves, run.position) == _clip(moves, run.position)
        if old["scenario"] == state["scenario"] and nc[: len(oc)] == oc and same_past:
            for item in nc[len(oc) :]:
                item = dict(item)
                at = item.pop("at")
                run.timeline.moves = [list(m) for m in moves]
                run.goto(at)
                run.apply(item)  # (forgets the moves after `at`: they are set again below)
            run.timeline.moves = [list(m) for m in moves]
            run.goto(view.step)
            return run
    tl = Timeline.from_state({**state, "position": 0})
    run = PlaygroundSession(tl)
    run.goto(view.step)
    return run


def _clip(moves: list[list[Any]], position: int) -> list[list[Any]]:
    """The recorded moves of the steps before `position`."""
    return [[f, min(last, position - 1), m] for f, last, m in moves if f < position]


class SharedFigure(go.Figure):
    """A plotly figure that many page runs draw and nobody changes after it is built: its JSON is encoded once.

    The room's live charts (ui/live_chart.py) would send `plotly.io.to_json(fig)`: a deep copy of every trace and
    shape (`fig.to_dict()`), plotly's typed-array pass and the encoding, ~1.5 ms for a room's diagram and ~2.5 ms
    for its log strips, for every follower of every step. Shared, that is once per (recipe, step) per process
    (`shared_json`, which the live charts send as it is). tests/ui/test_room_pictures.py checks that a page run
    draws it without copying or encoding it again."""

    _shared_json: str | None = None

    def shared_json(self) -> str:
        """`plotly.io.to_json` of this figure, encoded once: the JSON a live chart sends (ui/live_chart.py looks
        for this method). Encoding it was still ~1-2 ms per follower run, the largest piece of a
        woken follower's CPU (bench/NOTES.md, lecture hall round four)."""
        s = self._shared_json
        if s is None:
            s = self._shared_json = pio.to_json(self, validate=False)
        return s


def shared(fig: go.Figure) -> SharedFigure:
    """`fig`, now a SharedFigure with its JSON encoded (in place: a copy through go.Figure(fig) would validate
    every property again, ~20 ms). Only for a figure nobody else holds and nothing changes afterwards."""
    fig.__class__ = SharedFigure
    fig.shared_json()
    return fig  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class Picture:
    """What a room's screen shows at one step: built once, drawn by every session (teacher or student)."""

    position: int
    now_ms: int
    summary: str | None  # the step's headline, None when nothing visible happened
    diagram: SharedFigure  # never changed after building: every session's live chart sends the same JSON
    logs: SharedFigure
    snapshot: Any  # the ClusterSnapshot the figures were drawn from


def build_picture(run: PlaygroundSession) -> Picture:
    events = run.current_events()
    head = PlaygroundSession.headline(events)
    snap = run.cluster.snapshot()
    topics = [t.name for t in snap.topics if not t.internal]
    return Picture(
        run.position,
        run.cluster.now,
        head.summary if head else None,
        shared(cluster_diagram(snap, highlight=head.actors if head else ())),
        shared(log_strips(snap, topics[0] if topics else None)),
        snap,
    )


class PictureCache:
    """Process-wide pictures keyed by (room recipe, step), least recently used first out. A miss replays on
    one shared run per room (`follow()`: only the new steps when the teacher moved on), under that room's
    lock, so 200 followers of a step cost one replay and one pair of figures, not 200, and one room's long
    replay (a far jump) never holds up another room's followers."""

    def __init__(self, size: int = PICTURE_CACHE_SIZE, rooms: int = 16) -> None:
        self.size, self.rooms = size, rooms
        self._pics: OrderedDict[tuple[str, int], Picture] = OrderedDict()
        self._runs: OrderedDict[str, tuple[PlaygroundSession, str]] = OrderedDict()
        self._lock = threading.Lock()  # guards the dicts
        self._building: dict[str, threading.Lock] = {}  # room code -> its replay lock (followers wait on it)
        self.builds = 0

    def get(self, view: RoomView) -> Picture:
        key = (view.state_json, view.step)
        with self._lock:
            if (pic := self._pics.get(key)) is not None:
                self._pics.move_to_end(key)
                return pic
        with self._lock:
            building = self._building.setdefault(view.code, threading.Lock())
        with building:
            with self._lock:
                if (pic := self._pics.get(key)) is not None:
                    return pic
                run, synced = self._runs.pop(view.code, (None, None))
            run = follow(run, synced, view)  # raises for a recipe that does not replay: the next try rebuilds
            pic = build_picture(run)
            self.builds += 1
            with self._lock:
                self._runs[view.code] = (run, view.state_json)
                while len(self._runs) > self.rooms:
                    gone, _ = self._runs.popitem(last=False)
                    self._building.pop(gone, None)
                self._keep(key, pic)
            return pic

    def put(self, state_json: str, step: int, pic: Picture) -> None:
        """The teacher's own picture of the room at this step (ui/room_state.py TeacherRoom.publish), before the
        followers are told: their page runs draw it as it is, without replaying and drawing it again."""
        with self._lock:
            self.builds += 1
            self._keep((state_json, step), pic)

    def _keep(self, key: tuple[str, int], pic: Picture) -> None:
        """Store `pic` as the newest picture, dropping the oldest beyond `size` (the caller holds the lock)."""
        self._pics[key] = pic
        self._pics.move_to_end(key)
        while len(self._pics) > self.size:
            self._pics.popitem(last=False)

    def peek(self, state_json: str, step: int) -> Picture | None:
        with self._lock:
            return self._pics.get((state_json, step))

    def clear(self) -> None:
        with self._lock:
            self._pics.clear()
            self._runs.clear()


PICTURES = PictureCache()  # the process-wide cache every page session draws from
