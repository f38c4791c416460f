"""The teacher-led room store: a small process-wide table of rooms keyed by an unguessable code.

Deterministic replay means a room never needs to hold a cluster: it holds only the run's recipe (the
scenario and the commands with their step numbers, as `Timeline.to_state()` JSON), the step the teacher is
on, and the current question with its anonymous answer counts. Every student rebuilds the picture on their
own `Timeline`. No names, no per-student records: an answer is one `+1` on a choice's counter.

Pure Python (no Streamlit): the page wraps the one `STORE` in `st.cache_resource`. A `threading.Lock`
guards the dict because Streamlit serves each browser session on its own thread.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from engine.errors import UserInputError

# No 0/O, 1/I/L: a code read off a projector must not be ambiguous. 31^6 ~ 8.9e8 codes: a stranger who
# tries a thousand codes while 200 rooms are open hits one with probability ~2e-4.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
MAX_ROOMS = 200  # rooms open at once in this process; the hosted demo must not grow without bound
IDLE_SECONDS = 2 * 3600  # a room nobody has touched (teacher action or answer) for this long is gone
# The teacher's page checks in every few seconds while it is open; a room not seen by its teacher for this long
# is "orphaned": students are told so and offered to leave (the room itself lives on until IDLE_SECONDS).
ORPHAN_SECONDS = 5 * 60
MAX_STATE_BYTES = 64 * 1024  # the run's recipe; a preset with a few hundred commands is ~5 KB
MAX_QUESTION_CHARS = 500
MAX_CHOICE_CHARS = 200
MAX_CHOICES = 6
MAX_STEP = 100_000


class RoomError(UserInputError):
    """A room action that cannot happen; the message names the field and says what to do."""


@dataclass(frozen=True, slots=True)
class Question:
    """The question posed to the room: text, choices, the right one (None for a poll) and counts."""

    qid: int  # bumps with every question, so an answer to an old one is not counted on a new one
    text: str
    choices: tuple[str, ...]
    answer: int | None = None
    explanation: str = ""
    counts: tuple[int, ...] = ()
    revealed: bool = False
    markdown: bool = False  # from a lesson file (trusted Markdown); a typed question is shown as plain text

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(slots=True)
class _Room:
    code: str
    token: str  # only the teacher's session knows it: students cannot move the room
    state_json: str
    step: int
    version: int = 1  # bumps on a change of run, step or question (not on answers): students redraw only then
    question: Question | None = None
    touched: float = 0.0
    next_qid: int = 1
    teacher_seen: float = 0.0  # the last teacher action or teacher page check-in (not student activity)


@dataclass(frozen=True, slots=True)
class RoomView:
    """What a poller sees: an immutable copy (the store's own objects never leave the lock)."""

    code: str
    state_json: str
    step: int
    version: int
    question: Question | None = None

    def state(self) -> dict[str, Any]:
        return json.loads(self.state_json)


def normalize_code(text: str | None) -> str:
    """A code as a person types it (spaces, dashes, lower case) -> the canonical code, or RoomError."""
    raw = "".join(ch for ch in str(text or "") if not ch.isspace() and ch != "-").upper()
    if len(raw) != CODE_LENGTH or any(ch not in ALPHABET for ch in raw):
        raise RoomError(
            f"room code: a room code is {CODE_LENGTH} letters and digits (no 0, O, 1, I or L), "
            f"for example {'K7MQ3R'}; check it with your teacher"
        )
    return raw


def _state_json(state: dict[str, Any]) -> str:
    if not isinstance(state, dict) or "scenario" not in state:
        raise RoomError("room state: must be a timeline state with a scenario (Timeline.to_state())")
    body = {"scenario": state["scenario"], "commands": list(state.get("commands", []))}
    if "v" in state:  # the step semantics (engine/timeline.py): without them a student replays other steps
        body.update(v=state["v"], moves=list(state.get("moves", [])))
    text = json.dumps(body, separators=(",", ":"), sort_keys=True)
    if len(text.encode()) > MAX_STATE_BYTES:
        raise RoomError(
            f"room state: the run is {len(text.encode())} bytes; a room carries at most "
            f"{MAX_STATE_BYTES} (use fewer commands or a smaller scenario)"
        )
    return text


def recipe_json(state: dict[str, Any]) -> str:
    """A run's recipe as the room stores it (to tell whether a teacher's own run is the room's)."""
    return _state_json(state)


def _step(step: int) -> int:
    if not isinstance(step, int) or isinstance(step, bool) or not 0 <= step <= MAX_STEP:
        raise RoomError(f"room step: must be a whole number from 0 to {MAX_STEP}, got {step!r}")
    return step


@dataclass
class RoomStore:
    """All open rooms of this process. Every method takes the lock; expired rooms are dropped lazily."""

    clock: Callable[[], float] = time.monotonic
    max_rooms: int = MAX_ROOMS
    idle_seconds: float = IDLE_SECONDS
    _rooms: dict[str, _Room] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- teacher ------------------------------------------------------------------------------------------------
    def create(self, state: dict[str, Any], step: int = 0) -> tuple[str, str]:
        """Open a room for this run; returns (code, teacher token). RoomError when the store is full."""
        body, step = _state_json(state), _step(step)
        with self._lock:
            now = self.clock()
            self._expire(now)
            if len(self._rooms) >= self.max_rooms:
                raise RoomError(
                    f"rooms: {self.max_rooms} rooms are open on this server, the most it keeps; "
                    f"close one or try again when an idle room has expired"
                )
            code = self._new_code()
            token = secrets.token_urlsafe(16)
            self._rooms[code] = _Room(code, token, body, step, touched=now, teacher_seen=now)
            return code, token

    def update(
        self, code: str, token: str, *, state: dict[str, Any] | None = None, step: int | None = None
    ) -> int:
        """The teacher moved: a new run recipe and/or step. Returns the room's new version."""
        body = _state_json(state) if state is not None else None
        step = _step(step) if step is not None else None
        with self._lock:
            room = self._own(code, token)
            changed = False
            if body is not None and body != room.state_json:
                room.state_json, changed = body, True
            if step is not None and step != room.step:
                room.step, changed = step, True
            if changed:
                room.version += 1
            return room.version

    def pose(
        self,
        code: str,
        token: str,
        text: str,
        choices: list[str] | tuple[str, ...],
        answer: int | None = None,
        explanation: str = "",
        markdown: bool = False,
    ) -> Question:
        """Ask the room a multiple-choice question; counts start at zero and stay hidden until revealed."""
        text = str(text or "").strip()
        opts = tuple(str(c).strip() for c in (choices or ()) if str(c).strip())
        if not 3 <= len(text) <= MAX_QUESTION_CHARS:
            raise RoomError(f"question: write 3 to {MAX_QUESTION_CHARS} characters, got {len(text)}")
        if not 2 <= len(opts) <= MAX_CHOICES:
            raise RoomError(f"choices: give 2 to {MAX_CHOICES} non-empty choices, got {len(opts)}")
        if any(len(c) > MAX_CHOICE_CHARS for c in opts):
            raise RoomError(f"choices: each choice is at most {MAX_CHOICE_CHARS} characters")
        if answer is not None and (
            not isinstance(answer, int) or isinstance(answer, bool) or not 0 <= answer < len(opts)
        ):
            raise RoomError(
                f"answer: the right choice is a number from 0 to {len(opts) - 1} (or none for a "
                f"poll), got {answer!r}"
            )
        with self._lock:
            room = self._own(code, token)
            q = Question(
                room.next_qid,
                text,
                opts,
                answer,
                str(explanation or "")[:2000],
                (0,) * len(opts),
                markdown=bool(markdown),
            )
            room.next_qid += 1
            room.question = q
            room.version += 1
            return q

    def reveal(self, code: str, token: str) -> Question:
        with self._lock:
            room = self._own(code, token)
            if room.question is None:
                raise RoomError("question: there is no question to reveal; pose one first")
            room.question = replace(room.question, revealed=True)
            room.version += 1
            return room.question

    def clear_question(self, code: str, token: str) -> None:
        with self._lock:
            room = self._own(code, token)
            room.question = None
            room.version += 1

    def close(self, code: str, token: str) -> None:
        with self._lock:
            self._own(code, token)
            del self._rooms[code]

    def peek(self, code: str, token: str) -> RoomView:
        """The teacher's own poll (for the histogram): keeps the room alive while the teacher is there."""
        with self._lock:
            return self._view(self._own(code, token))

    def resume(self, code: str, token: str) -> RoomView:
        """The teacher's secret (kept in a cookie and a teacher-only link) gives the room back after a reload
        or on a second device. RoomError when the code is malformed, the room is gone or the secret is wrong."""
        code = normalize_code(code)
        with self._lock:
            return self._view(self._own(code, str(token or "")))

    def teacher_away(self, code: str) -> float | None:
        """Seconds since the teacher last acted or their page checked in; None when there is no such room."""
        with self._lock:
            room = self._rooms.get(code)
            return None if room is None else max(0.0, self.clock() - room.teacher_seen)

    # -- students -----------------------------------------------------------------------------------------------
    def get(self, code: str) -> RoomView | None:
        """A student's poll: the room as it is now, or None when there is no such room (or it expired)."""
        try:
            code = normalize_code(code)
        except RoomError:
            return None
        with self._lock:
            self._expire(self.clock())
            room = self._rooms.get(code)
            return self._view(room) if room is not None else None

    def answer(self, code: str, qid: int, choice: int, previous: int | None = None) -> Question:
        """Count one anonymous answer to question `qid` (moving it from `previous` if the student changed
        their mind). Answers to a question that was replaced or already revealed are refused."""
        with self._lock:
            self._expire(self.clock())
            room = self._rooms.get(code)
            if room is None:
                raise RoomError(
                    "room code: this room is closed or has expired; ask your teacher for the code"
                )
            q = room.question
            if q is None or q.qid != qid:
                raise RoomError("question: the teacher has moved on to another question")
            if q.revealed:
                raise RoomError("question: the answer has been revealed; answers are closed")
            for name, v in (("choice", choice), ("previous", previous)):
                if v is not None and (
                    not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < len(q.choices)
                ):
                    raise RoomError(
                        f"{name}: must be a choice number from 0 to {len(q.choices) - 1}, got {v!r}"
                    )
            counts = list(q.counts)
            if previous is not None and counts[previous] > 0:
                counts[previous] -= 1
            counts[choice] += 1
            room.question = replace(q, counts=tuple(counts))
            room.touched = self.clock()  # no new version: counts alone must not redraw 30 students' screens
            return room.question

    # -- housekeeping -------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        with self._lock:
            self._expire(self.clock())
            return len(self._rooms)

    def _own(self, code: str, token: str) -> _Room:
        now = self.clock()
        self._expire(now)
        room = self._rooms.get(code)
        if room is None:
            raise RoomError("room code: this room is closed or has expired after inactivity; start a new one")
        if not secrets.compare_digest(room.token, str(token)):
            raise RoomError("room: only the teacher who started this room can change it")
        room.touched = room.teacher_seen = now
        return room

    def _expire(self, now: float) -> None:
        for code in [c for c, r in self._rooms.items() if now - r.touched > self.idle_seconds]:
            del self._rooms[code]

    def _new_code(self) -> str:
        while True:  # 8.9e8 codes, at most MAX_ROOMS taken: a repeat is rare, never a loop
            code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
            if code not in self._rooms:
                return code

    @staticmethod
    def _view(room: _Room) -> RoomView:
        return RoomView(room.code, room.state_json, room.step, room.version, room.question)


STORE = RoomStore()  # the process-wide store (the page hands it out through st.cache_resource)
