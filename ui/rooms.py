"""The teacher-led room store: a small table of rooms keyed by an unguessable code.

Deterministic replay means a room never needs to hold a cluster: it holds only the run's recipe (the
scenario and the commands with their step numbers, as `Timeline.to_state()` JSON), the step the teacher is
on, and the current question with its anonymous answer counts. Followers draw the picture from the recipe
and step. No names, no per-student records: an answer is one `+1` on a choice's counter.

Two stores with one contract (tests/ui/test_room_store.py runs it against both):

- `RoomStore`, the embedded default: a process-wide dict behind a `threading.Lock` (Streamlit serves each
  browser session on its own thread). No set-up, but a room lives in one app process.
- `RedisRoomStore`, chosen with `KC_ROOM_STORE=redis://host:port/db` (`open_store`): the same room as Redis
  keys, so a teacher on one app process and students on others behind a load balancer share it. Same size
  caps, idle expiry with EXPIRE, answers counted atomically (a Lua script: HINCRBY on the question's
  counters), and a version key followers GET once a tick.

When the configured Redis cannot be reached, every call raises `StoreUnavailable` (not a `RoomError`: the
room is not gone, it cannot be seen right now); the page says so and retries. The embedded store is never
used instead: a teacher must not believe students see a room they cannot.

Pure Python (no Streamlit): the page hands the one store out through `st.cache_resource`.
"""

from __future__ import annotations

import json
import os
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


ENV_VAR = "KC_ROOM_STORE"  # "" / "memory": the embedded store; "redis://host:port/db": Redis


class RoomError(UserInputError):
    """A room action that cannot happen; the message names the field and says what to do."""


class StoreUnavailable(Exception):  # noqa: N818 - reads as what it is: "the store is unavailable"
    """The room store (Redis) cannot be reached now. Not a RoomError: the room may well still exist."""


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
    # seconds since the teacher was last seen, when this view was read (one call gives a follower's page both;
    # not part of what the room is: two views of the same room compare equal whenever they were read)
    away: float | None = field(default=None, compare=False)

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


def _question(text: Any, choices: Any, answer: Any) -> tuple[str, tuple[str, ...]]:
    """A posed question checked: (text, choices), or RoomError naming the field."""
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
    return text, opts


def _choice_numbers(n: int, choice: Any, previous: Any) -> None:
    for name, v in (("choice", choice), ("previous", previous)):
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < n):
            raise RoomError(f"{name}: must be a choice number from 0 to {n - 1}, got {v!r}")


def _full(max_rooms: int) -> RoomError:
    return RoomError(
        f"rooms: {max_rooms} rooms are open on this server, the most it keeps; "
        f"close one or try again when an idle room has expired"
    )


def _gone() -> RoomError:
    return RoomError("room code: this room is closed or has expired after inactivity; start a new one")


def _not_teacher() -> RoomError:
    return RoomError("room: only the teacher who started this room can change it")


def _closed_for_students() -> RoomError:
    return RoomError("room code: this room is closed or has expired; ask your teacher for the code")


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
                raise _full(self.max_rooms)
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
        text, opts = _question(text, choices, answer)
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
                raise _closed_for_students()
            q = room.question
            if q is None or q.qid != qid:
                raise RoomError("question: the teacher has moved on to another question")
            if q.revealed:
                raise RoomError("question: the answer has been revealed; answers are closed")
            _choice_numbers(len(q.choices), choice, previous)
            counts = list(q.counts)
            if previous is not None and counts[previous] > 0:
                counts[previous] -= 1
            counts[choice] += 1
            room.question = replace(q, counts=tuple(counts))
            room.touched = self.clock()  # no new version: counts alone must not redraw 30 students' screens
            return room.question

    def version(self, code: str) -> int | None:
        """A follower's tick: the room's version only (None: no such room), the cheapest question to ask."""
        with self._lock:
            self._expire(self.clock())
            room = self._rooms.get(code)
            return None if room is None else room.version

    def pulse(self, code: str) -> tuple[int | None, float | None]:
        """A follower's tick in one call: (version, seconds since the teacher was seen); (None, None) when
        there is no such room."""
        with self._lock:
            self._expire(self.clock())
            room = self._rooms.get(code)
            if room is None:
                return None, None
            return room.version, max(0.0, self.clock() - room.teacher_seen)

    def describe(self) -> str:
        return "this app process's memory"

    def ping(self) -> None:
        """Raises StoreUnavailable when the store cannot be reached (never, for the embedded one)."""

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
            raise _gone()
        if not secrets.compare_digest(room.token, str(token)):
            raise _not_teacher()
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

    def _view(self, room: _Room) -> RoomView:
        away = max(0.0, self.clock() - room.teacher_seen)
        return RoomView(room.code, room.state_json, room.step, room.version, room.question, away)


STORE = RoomStore()  # the process-wide store (the page hands it out through st.cache_resource)


# -- Redis ----------------------------------------------------------------------------------------------------------
# Every teacher action is one script run: token check, change, version bump and idle expiry in one atomic step
# (Redis runs a script without interleaving other commands), so two teacher devices or a close racing a step
# never leave half a room. (The token is compared inside Redis, next to the data; it never leaves the server.)
_TEACHER_LUA = """
local tok = redis.call('HGET', KEYS[1], 'token')
if not tok then return {-1, 0, 0} end
if tok ~= ARGV[1] then return {-2, 0, 0} end
local op, bump, qid = ARGV[5], 0, 0
if op == 'update' then
  if ARGV[6] ~= '' and ARGV[6] ~= redis.call('HGET', KEYS[1], 'state') then
    redis.call('HSET', KEYS[1], 'state', ARGV[6]); bump = 1
  end
  if ARGV[7] ~= '' and ARGV[7] ~= redis.call('HGET', KEYS[1], 'step') then
    redis.call('HSET', KEYS[1], 'step', ARGV[7]); bump = 1
  end
elseif op == 'pose' then
  qid = redis.call('HINCRBY', KEYS[1], 'next_qid', 1) - 1
  redis.call('HSET', KEYS[1], 'q', ARGV[6], 'qid', tostring(qid), 'revealed', '0', 'nchoices', ARGV[7])
  redis.call('DEL', KEYS[3])
  bump = 1
elseif op == 'reveal' then
  if redis.call('HGET', KEYS[1], 'qid') == '' then return {-3, 0, 0} end
  redis.call('HSET', KEYS[1], 'revealed', '1'); bump = 1
elseif op == 'clear' then
  redis.call('HSET', KEYS[1], 'q', '', 'qid', '', 'revealed', '0', 'nchoices', '0')
  redis.call('DEL', KEYS[3]); bump = 1
elseif op == 'close' then
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3]); redis.call('ZREM', KEYS[4], ARGV[4])
  return {0, 0, 0}
end
redis.call('HSET', KEYS[1], 'teacher_seen', ARGV[3])
if bump == 1 then redis.call('INCR', KEYS[2]) end
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[4])
return {0, tonumber(redis.call('GET', KEYS[2])), qid}
"""
# A student's answer: checked against the current question and counted with HINCRBY in one atomic step.
_ANSWER_LUA = """
local f = redis.call('HMGET', KEYS[1], 'qid', 'revealed', 'nchoices')
if not f[1] then return {-1, 0} end
if f[1] ~= ARGV[1] then return {-2, 0} end
if f[2] == '1' then return {-3, 0} end
local n = tonumber(f[3])
local choice = tonumber(ARGV[2])
if choice >= n then return {-4, n} end
if ARGV[3] ~= '' then
  if tonumber(ARGV[3]) >= n then return {-4, n} end
  if tonumber(redis.call('HGET', KEYS[3], ARGV[3]) or '0') > 0 then redis.call('HINCRBY', KEYS[3], ARGV[3], -1) end
end
redis.call('HINCRBY', KEYS[3], ARGV[2], 1)
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[4]) end
redis.call('ZADD', KEYS[4], ARGV[5], ARGV[6])
return {0, n}
"""


class RedisRoomStore:
    """The room store as Redis keys, shared by every app process pointed at the same Redis (`open_store`).

    Per room `<prefix>room:CODE` (a hash: token, recipe, step, teacher last seen, the question and its qid,
    whether it is revealed, its number of choices), `…:v` (the version: followers GET it every tick) and `…:c`
    (the current question's counters, one field per choice). All three expire after `idle_seconds` without a
    teacher action or an answer (PEXPIRE, renewed by both); `<prefix>rooms` (a sorted set by last activity)
    counts open rooms for the cap. Any Redis failure is a `StoreUnavailable`.
    """

    def __init__(
        self,
        client: Any,
        *,
        clock: Callable[[], float] = time.time,  # wall clock: every app process must agree on it
        max_rooms: int = MAX_ROOMS,
        idle_seconds: float = IDLE_SECONDS,
        prefix: str = "kc:",
        label: str = "Redis",
    ) -> None:
        self.r, self.clock, self.max_rooms, self.idle_seconds = client, clock, max_rooms, idle_seconds
        self.prefix, self.label = prefix, label
        self._teacher = client.register_script(_TEACHER_LUA)
        self._answer = client.register_script(_ANSWER_LUA)

    @classmethod
    def from_url(cls, url: str, **kw: Any) -> RedisRoomStore:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        client = redis.Redis.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=1.0,  # a page waits at most this long to learn Redis is down
            socket_timeout=2.0,
            retry=Retry(
                NoBackoff(), 1
            ),  # one retry: a pooled connection broken by a Redis restart reconnects
            health_check_interval=15,
        )
        kw.setdefault("label", _safe_url(url))
        return cls(client, **kw)

    # -- plumbing ---------------------------------------------------------------------------------------------
    def _keys(self, code: str) -> list[str]:
        base = f"{self.prefix}room:{code}"
        return [base, base + ":v", base + ":c", f"{self.prefix}rooms"]

    def _ms(self) -> int:
        return max(1, int(self.idle_seconds * 1000))

    def _call(self, fn: Callable[[], Any]) -> Any:
        import redis

        try:
            return fn()
        except redis.exceptions.RedisError as exc:  # down, restarting, loading, out of memory, read-only...
            raise StoreUnavailable(f"the room store ({self.label}) cannot be reached: {exc}") from exc

    def _run_teacher(self, code: str, token: str, op: str, *args: str) -> tuple[int, int]:
        now = self.clock()
        keys = self._keys(str(code))
        got = self._call(
            lambda: self._teacher(keys=keys, args=[str(token), self._ms(), repr(now), str(code), op, *args])
        )
        status = int(got[0])
        if status == -1:
            raise _gone()
        if status == -2:
            raise _not_teacher()
        if status == -3:
            raise RoomError("question: there is no question to reveal; pose one first")
        return int(got[1]), int(got[2])

    def _fetch(self, code: str) -> RoomView | None:
        keys = self._keys(code)

        def read() -> list[Any]:
            pipe = self.r.pipeline(transaction=True)
            pipe.hgetall(keys[0])
            pipe.get(keys[1])
            pipe.hgetall(keys[2])
            return pipe.execute()

        h, version, counts = self._call(read)
        if not h or version is None:
            return None
        question = None
        if h.get("qid"):
            q = json.loads(h["q"])
            n = int(h["nchoices"])
            question = Question(
                int(h["qid"]),
                q["text"],
                tuple(q["choices"]),
                q["answer"],
                q["explanation"],
                tuple(int(counts.get(str(j), 0)) for j in range(n)),
                revealed=h.get("revealed") == "1",
                markdown=bool(q["markdown"]),
            )
        seen = h.get("teacher_seen")
        away = None if seen is None else max(0.0, self.clock() - float(seen))
        return RoomView(code, h["state"], int(h["step"]), int(version), question, away)

    def _sweep(self) -> None:
        """Forget the cap's entries of rooms idle for longer than idle_seconds (their keys have expired)."""
        cutoff = self.clock() - self.idle_seconds
        self._call(lambda: self.r.zremrangebyscore(f"{self.prefix}rooms", "-inf", repr(cutoff)))

    # -- teacher ------------------------------------------------------------------------------------------------
    def create(self, state: dict[str, Any], step: int = 0) -> tuple[str, str]:
        body, step = _state_json(state), _step(step)
        self._sweep()
        if self._call(lambda: self.r.zcard(f"{self.prefix}rooms")) >= self.max_rooms:
            raise _full(self.max_rooms)
        token = secrets.token_urlsafe(16)
        now = self.clock()
        while True:  # 8.9e8 codes, at most max_rooms taken: a repeat is rare, never a loop
            code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
            keys = self._keys(code)
            if self._call(lambda k=keys: self.r.set(k[1], 1, nx=True, px=self._ms())):
                break

        def write() -> None:
            pipe = self.r.pipeline(transaction=True)
            pipe.hset(
                keys[0],
                mapping={
                    "token": token,
                    "state": body,
                    "step": str(step),
                    "teacher_seen": repr(now),
                    "next_qid": "1",
                    "q": "",
                    "qid": "",
                    "revealed": "0",
                    "nchoices": "0",
                },
            )
            pipe.pexpire(keys[0], self._ms())
            pipe.zadd(keys[3], {code: now})
            pipe.execute()

        self._call(write)
        return code, token

    def update(
        self, code: str, token: str, *, state: dict[str, Any] | None = None, step: int | None = None
    ) -> int:
        body = _state_json(state) if state is not None else ""
        step_s = str(_step(step)) if step is not None else ""
        return self._run_teacher(code, token, "update", body, step_s)[0]

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
        text, opts = _question(text, choices, answer)
        explanation = str(explanation or "")[:2000]
        q = {"text": text, "choices": list(opts), "answer": answer, "explanation": explanation}
        q["markdown"] = bool(markdown)
        _, qid = self._run_teacher(code, token, "pose", json.dumps(q), str(len(opts)))
        return Question(qid, text, opts, answer, explanation, (0,) * len(opts), markdown=bool(markdown))

    def reveal(self, code: str, token: str) -> Question:
        self._run_teacher(code, token, "reveal")
        view = self._fetch(code)
        if view is None or view.question is None:
            raise _gone()
        return view.question

    def clear_question(self, code: str, token: str) -> None:
        self._run_teacher(code, token, "clear")

    def close(self, code: str, token: str) -> None:
        self._run_teacher(code, token, "close")

    def peek(self, code: str, token: str) -> RoomView:
        self._run_teacher(code, token, "peek")
        view = self._fetch(code)
        if view is None:
            raise _gone()
        return view

    def resume(self, code: str, token: str) -> RoomView:
        return self.peek(normalize_code(code), str(token or ""))

    def teacher_away(self, code: str) -> float | None:
        seen = self._call(lambda: self.r.hget(self._keys(code)[0], "teacher_seen"))
        return None if seen is None else max(0.0, self.clock() - float(seen))

    # -- students -----------------------------------------------------------------------------------------------
    def get(self, code: str) -> RoomView | None:
        try:
            code = normalize_code(code)
        except RoomError:
            return None
        return self._fetch(code)

    def version(self, code: str) -> int | None:
        got = self._call(lambda: self.r.get(self._keys(code)[1]))
        return None if got is None else int(got)

    def pulse(self, code: str) -> tuple[int | None, float | None]:
        keys = self._keys(code)

        def read() -> list[Any]:
            pipe = self.r.pipeline(transaction=False)  # one round trip
            pipe.get(keys[1])
            pipe.hget(keys[0], "teacher_seen")
            return pipe.execute()

        version, seen = self._call(read)
        if version is None or seen is None:
            return None, None
        return int(version), max(0.0, self.clock() - float(seen))

    def answer(self, code: str, qid: int, choice: int, previous: int | None = None) -> Question:
        for name, v in (("choice", choice), ("previous", previous)):  # the range is checked inside Redis
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
                raise RoomError(f"{name}: must be a choice number from 0, got {v!r}")
        keys = self._keys(code)
        args = [str(qid), str(choice), "" if previous is None else str(previous), self._ms()]
        got = self._call(lambda: self._answer(keys=keys, args=[*args, repr(self.clock()), code]))
        status, n = int(got[0]), int(got[1])
        if status == -1:
            raise _closed_for_students()
        if status == -2:
            raise RoomError("question: the teacher has moved on to another question")
        if status == -3:
            raise RoomError("question: the answer has been revealed; answers are closed")
        if status == -4:
            _choice_numbers(n, choice, previous)
        view = self._fetch(code)
        if view is None or view.question is None:
            raise _closed_for_students()
        return view.question

    # -- housekeeping -------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        self._sweep()
        return int(self._call(lambda: self.r.zcard(f"{self.prefix}rooms")))

    def describe(self) -> str:
        return self.label

    def ping(self) -> None:
        self._call(self.r.ping)


def _safe_url(url: str) -> str:
    """The store's address for messages, without a password."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "…@" + rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"


_OPENED: dict[str, RedisRoomStore] = {}
_OPENED_LOCK = threading.Lock()


def open_store(url: str | None = None) -> RoomStore | RedisRoomStore:
    """The room store `KC_ROOM_STORE` names: unset, "" or "memory" -> the embedded `STORE`;
    `redis://host:port/db` (or rediss://, unix://) -> a `RedisRoomStore`, one per URL and process (cheap to
    call on every page run: the setting is read each time). Anything else is a RoomError."""
    url = (os.environ.get(ENV_VAR, "") if url is None else url).strip()
    if url in ("", "memory"):
        return STORE
    if url.startswith(("redis://", "rediss://", "unix://")):
        with _OPENED_LOCK:  # one client (and connection pool) per URL and process
            if url not in _OPENED:
                try:
                    _OPENED[url] = RedisRoomStore.from_url(url)
                except ValueError as exc:  # redis-py's own complaint about the URL
                    raise RoomError(f"{ENV_VAR}: {exc}") from exc
            return _OPENED[url]
    raise RoomError(
        f"{ENV_VAR}: must be empty or 'memory' (the room store in this app process) or a Redis URL such as "
        f"redis://localhost:6379/0, got {_safe_url(url)!r}"
    )
