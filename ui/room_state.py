"""What a Classroom page keeps in `st.session_state` (ui/room_page.py): the teacher's room and a student's.

A module of its own because Streamlit runs a page file afresh on every page run: classes defined there are
made again each time (a dataclass costs ~1 ms to build), which a lecture hall pays for every follower woken on
every teacher step; here they are made once per process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ui import room_push
from ui.room_pictures import PICTURES, Picture, build_picture, follow
from ui.rooms import RoomError, RoomStore, RoomView, recipe_json
from ui.session import PlaygroundSession


@dataclass
class TeacherRoom:
    code: str
    token: str
    run: PlaygroundSession
    playing: bool = False
    speed: str = "1 step/s"
    skip_tick: bool = False
    flash: list[tuple[str, str]] = field(default_factory=list)
    cookie_saved: bool = False  # the teacher cookie was written in this session
    projector: bool = False  # the projector view: question, histogram and picture large, no sidebar
    note: str = ""  # shown once (e.g. "welcome back" after a reload)
    version: int = 0  # the room's version this session last published or caught up with

    def publish(self, store: RoomStore) -> None:
        """Put this run's recipe and step in the room (students follow on their next poll). The picture of the
        step is drawn first, from the teacher's own run, and shared: this process's followers then draw
        exactly the teacher's picture without replaying the run (the first of 200 woken followers used to
        build it while the others of its group waited)."""
        state = self.run.timeline.to_state()
        self.picture(state)
        self.version = store.update(self.code, self.token, state=state, step=self.run.position)
        room_push.poke()  # this process's followers are woken now, not at the watcher's next tick

    def picture(self, state: dict[str, Any] | None = None) -> Picture:
        """The picture of the teacher's run now (`state`: its recipe, if at hand), from the shared cache: built
        once per recipe and step."""
        key = recipe_json(state or self.run.timeline.to_state()), self.run.position
        pic = PICTURES.peek(*key)
        if pic is None:
            pic = build_picture(self.run)
            PICTURES.put(*key, pic)
        return pic

    def catch_up(self, store: RoomStore) -> bool:
        """Take what the teacher did on another device (the same room, another session); True when the room
        changed since this session last saw it (its run, step or question)."""
        view = store.peek(self.code, self.token)
        if view.version == self.version:
            return False
        mine = recipe_json(self.run.timeline.to_state())
        if view.state_json != mine or view.step != self.run.position:
            self.run = follow(self.run, mine, view)
        self.version = view.version
        return True


@dataclass
class StudentRoom:
    code: str
    following: bool = True
    run: PlaygroundSession | None = None  # the student's own copy, only after "Break away"
    synced_json: str | None = None  # the recipe `run` was built from (None: rebuild on the next sync)
    picture: Picture | None = None  # what a following student last drew (shared with the other followers)
    seen: RoomView | None = None  # the room as this page last drew it ("Break away" starts from it)
    drawn: Any = None  # what the page last drew from the room: the poller reruns the page when it changes
    answers: dict[int, int] = field(default_factory=dict)  # qid -> choice, in this browser only
    flash: list[tuple[str, str]] = field(default_factory=list)
    orphaned: bool = False  # the page last said "your teacher has gone"
    question_drawn: Any = None  # the question as the page last drew it (ui/room_page.py question_signature)
    fresh: bool = False  # this page run already read the room and its picture: the picture fragment draws it


class TooManyTries(RoomError):
    """This session got too many room codes wrong lately (JOIN_TRIES per JOIN_WINDOW)."""
