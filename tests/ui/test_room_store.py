"""The room store's contract, run against both stores: the embedded one (this process's memory) and Redis
(a real redis-server the tests start themselves; skipped with the reason when it is not installed).

A teacher on one app process and students on another share a Redis room, so everything a page relies on
must hold for both: unguessable codes, only the teacher moves the room, versions bump on what students must
redraw (and only then), anonymous answer counts that stay right under concurrent answers, size caps, idle
expiry, and a Redis that cannot be reached is an error the page can show, never the embedded store instead.
"""

from __future__ import annotations

import threading
import time

import pytest

from engine.scenario import PRESETS
from engine.timeline import Timeline
from ui.rooms import (
    ALPHABET,
    CODE_LENGTH,
    STORE,
    RedisRoomStore,
    RoomError,
    RoomStore,
    StoreUnavailable,
    open_store,
)

STATE = {"scenario": PRESETS["Default"].model_dump(), "commands": []}


class Backend:
    """Makes stores of one kind; `advance(s)` lets s seconds of idle time pass for them."""

    def __init__(self, kind: str, redis_srv=None) -> None:
        self.kind, self.srv, self.t = kind, redis_srv, 1000.0

    def make(self, **kw):
        if self.kind == "memory":
            return RoomStore(clock=lambda: self.t, **kw)
        return RedisRoomStore.from_url(self.srv.url, **kw)

    def advance(self, seconds: float) -> None:
        if self.kind == "memory":
            self.t += seconds
        else:  # Redis expires keys on its own clock
            time.sleep(seconds)


@pytest.fixture(params=["memory", "redis"])
def backend(request):
    if request.param == "memory":
        return Backend("memory")
    srv = request.getfixturevalue("redis_srv")
    srv.flush()
    return Backend("redis", srv)


def test_codes_are_unique_unambiguous_and_spread(backend):
    store = backend.make(max_rooms=500)
    codes = [store.create(STATE)[0] for _ in range(120)]
    assert len(set(codes)) == len(codes) and len(store) == 120
    assert all(len(c) == CODE_LENGTH and set(c) <= set(ALPHABET) for c in codes)
    assert len({c[0] for c in codes}) > 15  # spread over the alphabet, not counting up


def test_only_the_teacher_moves_the_room_and_versions_bump_on_changes_only(backend):
    store = backend.make()
    code, token = store.create(STATE)
    v0 = store.get(code).version
    assert store.version(code) == v0
    assert store.update(code, token, step=5) == v0 + 1
    assert store.update(code, token, step=5) == v0 + 1  # no change, no new version
    with pytest.raises(RoomError, match="only the teacher"):
        store.update(code, "guess", step=6)
    with pytest.raises(RoomError, match="only the teacher"):
        store.resume(code, "guess")
    tl = Timeline(PRESETS["Default"])
    tl.steps(3)
    tl.apply({"op": "crash_broker", "broker": 2})
    assert store.update(code, token, state=tl.to_state(), step=tl.position) == v0 + 2
    view = store.get(code.lower())
    assert view.step == 3 and view.state()["commands"][0]["op"] == "crash_broker"
    assert store.resume(f" {code.lower()} ", token).step == 3
    assert store.version(code) == view.version == store.peek(code, token).version
    version, away = store.pulse(code)  # a follower's tick: the version and the teacher's absence at once
    assert version == view.version and 0 <= away < 60 and store.pulse("AAAAAA") == (None, None)
    assert store.get("AAAAAA") is None and store.get("<x>") is None and store.version("AAAAAA") is None


def test_answers_are_counted_anonymously_and_checked(backend):
    store = backend.make()
    code, token = store.create(STATE)
    q = store.pose(code, token, "What happens to acks=1 writes?", ["kept", "lost", "dup"], 1, "why")
    v = store.version(code)
    assert q.counts == (0, 0, 0) and not q.revealed
    store.answer(code, q.qid, 1)
    store.answer(code, q.qid, 1)
    store.answer(code, q.qid, 0)
    got = store.answer(code, q.qid, 2, previous=0)  # a student changed their mind
    assert got.counts == (0, 2, 1) == store.get(code).question.counts
    assert store.version(code) == v  # counts alone do not redraw every student's screen
    assert store.peek(code, token).question.counts == (0, 2, 1)
    for bad in (3, True, -1, "1"):
        with pytest.raises(RoomError, match="^choice"):
            store.answer(code, q.qid, bad)
    q2 = store.pose(code, token, "Next question?", ["yes", "no"])
    assert q2.qid == q.qid + 1 and store.get(code).question.counts == (0, 0)
    with pytest.raises(RoomError, match="moved on"):
        store.answer(code, q.qid, 0)  # an answer to the old question does not count on the new one
    store.answer(code, q2.qid, 0)
    shown = store.reveal(code, token)
    assert shown.revealed and shown.counts == (1, 0)
    with pytest.raises(RoomError, match="revealed"):
        store.answer(code, q2.qid, 1)
    store.clear_question(code, token)
    assert store.get(code).question is None
    with pytest.raises(RoomError, match="^question"):
        store.reveal(code, token)
    with pytest.raises(RoomError, match="closed or has expired"):
        store.answer("AAAAAA", 1, 0)


def test_concurrent_answers_all_count(backend):
    store = backend.make()
    code, token = store.create(STATE)
    q = store.pose(code, token, "Pick one", ["a", "b"])

    def vote(i: int) -> None:
        for _ in range(25):
            store.answer(code, q.qid, i % 2)

    threads = [threading.Thread(target=vote, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.get(code).question.counts == (100, 100)
    store.close(code, token)
    assert store.get(code) is None and store.version(code) is None
    with pytest.raises(RoomError, match="closed or has expired"):
        store.update(code, token, step=1)


def test_question_text_and_limits_name_the_field(backend):
    store = backend.make(max_rooms=2)
    code, token = store.create(STATE)
    with pytest.raises(RoomError, match="^question"):
        store.pose(code, token, "", ["a", "b"])
    with pytest.raises(RoomError, match="^choices"):
        store.pose(code, token, "Which?", ["only one", "  "])
    with pytest.raises(RoomError, match="^choices"):
        store.pose(code, token, "Which?", [str(i) for i in range(7)])
    with pytest.raises(RoomError, match="^answer"):
        store.pose(code, token, "Which?", ["a", "b"], answer=2)
    store.create(STATE)
    with pytest.raises(RoomError, match="2 rooms are open"):
        store.create(STATE)
    store.close(code, token)  # closing makes room
    store.create(STATE)
    big = {
        "scenario": STATE["scenario"],
        "commands": [{"at": i, "op": "run_for", "ms": 1} for i in range(3000)],
    }
    with pytest.raises(RoomError, match="room state"):
        store.update(code, token, state=big)
    with pytest.raises(RoomError, match="room step"):
        store.create(STATE, step=-1)


def test_idle_rooms_expire_and_answers_or_the_teacher_keep_them(backend):
    idle = 2.0
    store = backend.make(idle_seconds=idle)
    code, token = store.create(STATE)
    q = store.pose(code, token, "Which broker leads?", ["1", "2", "3"])
    backend.advance(0.6 * idle)
    store.answer(code, q.qid, 1)  # a student's answer is activity
    backend.advance(0.6 * idle)
    assert store.get(code) is not None  # 1.2 idle since the pose, 0.6 since the answer
    assert store.teacher_away(code) >= 1.0 * idle  # answers are not the teacher
    store.peek(code, token)  # the teacher's page checking in is activity too
    assert store.teacher_away(code) < 0.5 * idle
    backend.advance(0.6 * idle)
    assert store.get(code) is not None and store.version(code) is not None  # a student's poll is not...
    backend.advance(0.6 * idle)
    assert store.get(code) is None and len(store) == 0  # ...so the room expires
    assert store.teacher_away(code) is None
    with pytest.raises(RoomError, match="expired"):
        store.update(code, token, step=1)


# -- Redis only ---------------------------------------------------------------------------------------------------
def test_two_app_processes_share_one_redis_room(redis_srv):
    """A teacher's store on process A and a student's on process B (two clients of one Redis)."""
    redis_srv.flush()
    a, b = RedisRoomStore.from_url(redis_srv.url), RedisRoomStore.from_url(redis_srv.url)
    code, token = a.create(STATE)
    q = a.pose(code, token, "Which?", ["x", "y"])
    assert b.get(code).question.text == "Which?"
    b.answer(code, q.qid, 1)
    assert a.peek(code, token).question.counts == (0, 1)
    v = b.version(code)
    a.update(code, token, step=4)
    assert b.version(code) == v + 1 and b.get(code).step == 4


def test_an_unreachable_or_restarted_redis_is_an_error_never_the_embedded_store(redis_srv):
    from redis_server import free_port

    before = len(STORE)
    down = open_store(f"redis://127.0.0.1:{free_port()}/0")
    assert isinstance(down, RedisRoomStore)
    for call in (
        lambda: down.get("K7MQ3R"),
        lambda: down.create(STATE),
        down.ping,
        lambda: down.version("X"),
    ):
        with pytest.raises(StoreUnavailable, match="cannot be reached"):
            call()
    assert len(STORE) == before  # nothing went to the embedded store

    redis_srv.flush()
    store = open_store(redis_srv.url)
    code, token = store.create(STATE)
    redis_srv.stop()
    try:
        with pytest.raises(StoreUnavailable):
            store.version(code)
        with pytest.raises(StoreUnavailable):
            store.update(code, token, step=1)
    finally:
        redis_srv.start()  # an empty Redis (nothing saved): the client reconnects, the room is gone
    assert store.version(code) is None and store.get(code) is None
    with pytest.raises(RoomError, match="expired"):
        store.peek(code, token)
    store.create(STATE)  # and the store works again


def test_the_store_setting_names_its_allowed_values(monkeypatch):
    monkeypatch.delenv("KC_ROOM_STORE", raising=False)
    assert open_store() is STORE and open_store("memory") is STORE
    for bad in ("mysql://x", "redis:/oops", "localhost:6379"):
        with pytest.raises(RoomError, match="^KC_ROOM_STORE: .*redis://"):
            open_store(bad)
    monkeypatch.setenv("KC_ROOM_STORE", "redis://user:secret@127.0.0.1:1/0")
    store = open_store()
    assert isinstance(store, RedisRoomStore) and "secret" not in store.describe()
