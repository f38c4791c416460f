"""The room store: unguessable codes, expiry, anonymous answer counts, limits, and only the teacher moves it."""

from __future__ import annotations

import threading

import pytest

from engine.scenario import PRESETS
from engine.timeline import Timeline
from ui.rooms import ALPHABET, CODE_LENGTH, RoomError, RoomStore, normalize_code


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


STATE = {"scenario": PRESETS["Default"].model_dump(), "commands": []}


def test_codes_are_unique_short_unambiguous_and_not_sequential():
    store = RoomStore(max_rooms=500)
    codes = [store.create(STATE)[0] for _ in range(300)]
    assert len(set(codes)) == len(codes)
    assert all(len(c) == CODE_LENGTH and set(c) <= set(ALPHABET) for c in codes)
    assert not set("01OIL") & set(ALPHABET)
    # not counting: consecutive codes share few positions and do not differ by one in the alphabet
    idx = [[ALPHABET.index(ch) for ch in c] for c in codes]
    steps = [sum(x != y for x, y in zip(a, b, strict=True)) for a, b in zip(idx, idx[1:], strict=False)]
    assert sum(steps) / len(steps) > 4.5
    sequential = sum(1 for a, b in zip(idx, idx[1:], strict=False) if a[:-1] == b[:-1])
    assert sequential < 3
    first_chars = {c[0] for c in codes}
    assert len(first_chars) > 20  # spread over the alphabet, not one prefix


def test_codes_are_normalized_and_bad_ones_name_the_field():
    assert normalize_code(" k7mq-3r ") == "K7MQ3R"
    for bad in ("", "K7MQ3", "K7MQ3RX", "K0MQ3R", "<script>", None, "K7 MQ 3Ŕ"):
        with pytest.raises(RoomError, match="room code"):
            normalize_code(bad)
    store = RoomStore()
    assert store.get("nope") is None and store.get("AAAAAA") is None


def test_only_the_teacher_moves_the_room_and_versions_bump():
    store = RoomStore()
    code, token = store.create(STATE)
    v0 = store.get(code).version
    assert store.update(code, token, step=5) == v0 + 1
    assert store.update(code, token, step=5) == v0 + 1  # no change, no new version
    with pytest.raises(RoomError, match="only the teacher"):
        store.update(code, "guess", step=6)
    tl = Timeline(PRESETS["Default"])
    tl.steps(3)
    tl.apply({"op": "crash_broker", "broker": 2})
    store.update(code, token, state=tl.to_state(), step=tl.position)
    view = store.get(code.lower())
    assert view.step == 3 and view.state()["commands"][0]["op"] == "crash_broker"
    assert "position" not in view.state()  # the step travels on its own, not inside the recipe


def test_room_holds_only_the_recipe_step_and_counts():
    store = RoomStore()
    code, _ = store.create(STATE, step=2)
    view = store.get(code)
    assert set(view.__slots__) == {"code", "state_json", "step", "version", "question"}
    assert set(view.state()) == {"scenario", "commands"}


def test_expiry_after_inactivity_and_answers_keep_a_room_alive():
    clock = Clock()
    store = RoomStore(clock=clock, idle_seconds=100)
    code, token = store.create(STATE)
    q = store.pose(code, token, "Which broker leads?", ["1", "2", "3"])
    clock.t += 90
    store.answer(code, q.qid, 1)  # a student's answer is activity
    clock.t += 90
    assert store.get(code) is not None
    store.peek(code, token)  # the teacher's page polling is activity too
    clock.t += 99
    assert store.get(code) is not None  # a student's poll alone is not activity...
    clock.t += 2
    assert store.get(code) is None and len(store) == 0  # ...so the room expires
    with pytest.raises(RoomError, match="expired"):
        store.update(code, token, step=1)
    with pytest.raises(RoomError, match="expired"):
        store.answer(code, q.qid, 0)


def test_answer_counting_is_anonymous_and_checked():
    store = RoomStore()
    code, token = store.create(STATE)
    q = store.pose(code, token, "What happens to acks=1 writes?", ["kept", "lost", "duplicated"], answer=1,
                   explanation="the new leader never had them")
    assert q.counts == (0, 0, 0) and not q.revealed
    store.answer(code, q.qid, 1)
    store.answer(code, q.qid, 1)
    store.answer(code, q.qid, 0)
    store.answer(code, q.qid, 2, previous=0)  # a student changed their mind
    assert store.get(code).question.counts == (0, 2, 1)
    with pytest.raises(RoomError, match="choice"):
        store.answer(code, q.qid, 3)
    with pytest.raises(RoomError, match="choice"):
        store.answer(code, q.qid, True)
    q2 = store.pose(code, token, "Next question?", ["yes", "no"])
    with pytest.raises(RoomError, match="moved on"):
        store.answer(code, q.qid, 0)  # an answer to the old question does not count on the new one
    store.answer(code, q2.qid, 0)
    assert store.reveal(code, token).revealed
    with pytest.raises(RoomError, match="revealed"):
        store.answer(code, q2.qid, 1)
    assert store.get(code).question.counts == (1, 0)


def test_question_validation_names_the_field():
    store = RoomStore()
    code, token = store.create(STATE)
    with pytest.raises(RoomError, match="^question"):
        store.pose(code, token, "", ["a", "b"])
    with pytest.raises(RoomError, match="^choices"):
        store.pose(code, token, "Which?", ["only one", "  "])
    with pytest.raises(RoomError, match="^choices"):
        store.pose(code, token, "Which?", [str(i) for i in range(7)])
    with pytest.raises(RoomError, match="^answer"):
        store.pose(code, token, "Which?", ["a", "b"], answer=2)
    with pytest.raises(RoomError, match="^question"):
        store.reveal(code, token)


def test_limits_on_rooms_state_and_step():
    clock = Clock()
    store = RoomStore(clock=clock, max_rooms=3, idle_seconds=10)
    for _ in range(3):
        store.create(STATE)
    with pytest.raises(RoomError, match="3 rooms are open"):
        store.create(STATE)
    clock.t += 11  # idle rooms expire and make space
    store.create(STATE)
    big = {"scenario": STATE["scenario"], "commands": [{"at": i, "op": "run_for", "ms": 1} for i in range(3000)]}
    with pytest.raises(RoomError, match="room state"):
        store.create(big)
    with pytest.raises(RoomError, match="room step"):
        store.create(STATE, step=-1)
    with pytest.raises(RoomError, match="room state"):
        store.create({"commands": []})


def test_close_and_concurrent_answers():
    store = RoomStore()
    code, token = store.create(STATE)
    q = store.pose(code, token, "Pick one", ["a", "b"])

    def vote(i: int) -> None:
        for _ in range(50):
            store.answer(code, q.qid, i % 2)

    threads = [threading.Thread(target=vote, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.get(code).question.counts == (200, 200)
    store.close(code, token)
    assert store.get(code) is None
