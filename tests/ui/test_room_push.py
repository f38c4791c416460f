"""Issue 20, an idle lecture hall: a following student's page is woken by the server when the room moves
(ui/room_push.py), so an idle room costs one store call per room per tick, not a script run per student."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from ui import room_page, room_push
from ui.rooms import ORPHAN_SECONDS, RoomStore, StoreUnavailable

PAGE = str(Path(__file__).resolve().parents[2] / "ui" / "room_page.py")


class CountingStore(RoomStore):
    def __init__(self) -> None:
        super().__init__()
        self.pulses = 0

    def pulse(self, code):
        self.pulses += 1
        return super().pulse(code)


def _room(store: RoomStore) -> tuple[str, str]:
    return store.create(recipe(), step=0)


def recipe() -> dict:
    from engine.scenario import PRESETS
    from engine.timeline import Timeline

    return Timeline(next(iter(PRESETS.values()))).to_state()


def _follower(code: str, store, drawn) -> room_push.Follower:
    return room_push.Follower(code, store, drawn, client_state=None, page="classroom")


def test_an_idle_room_asks_the_store_once_per_tick_however_many_follow_and_wakes_nobody():
    store = CountingStore()
    code, _ = _room(store)
    woken: list[str] = []
    w = room_push.Watcher(rerun=lambda sid, f: woken.append(sid) or True)
    drawn = room_push.room_signature(store.pulse(code))
    for i in range(200):
        w.watch(f"s{i}", _follower(code, store, drawn))
    store.pulses = 0
    for _ in range(4):
        w.tick()
    assert store.pulses == 4 and woken == []


def test_a_teacher_step_wakes_each_follower_once_until_its_page_redraws():
    store = RoomStore()
    code, token = _room(store)
    woken: list[str] = []
    w = room_push.Watcher(rerun=lambda sid, f: woken.append(sid) or True)
    before = room_push.room_signature(store.pulse(code))
    for sid in ("a", "b"):
        w.watch(sid, _follower(code, store, before))
    version = store.update(code, token, step=1)
    w.tick(now=100.0)
    assert sorted(woken) == ["a", "b"]
    w.tick(now=101.0)  # their pages are still running: not woken again
    assert len(woken) == 2
    w.watch("a", _follower(code, store, (version, False)))  # a's page drew the step
    w.tick(now=100.0 + room_push.REPUSH_SECONDS + 1)  # b never redrew (a lost rerun): woken again
    assert sorted(woken) == ["a", "b", "b"]


def test_a_step_wakes_the_followers_a_group_at_a_time_and_a_redrawn_group_lets_the_next_in():
    """200 page runs started at once, or one after another without a pause, would all deliver their
    pictures at the end of the burst (Streamlit sends while no page run holds the interpreter)."""
    store = RoomStore()
    code, token = _room(store)
    woken: list[str] = []
    w = room_push.Watcher(rerun=lambda sid, f: woken.append(sid) or True, background=False)
    before = room_push.room_signature(store.pulse(code))
    n = 2 * room_push.IN_FLIGHT + 3
    for i in range(n):
        w.watch(f"s{i}", _follower(code, store, before))
    version = store.update(code, token, step=1)
    w.tick()
    group = list(woken)
    assert len(group) == room_push.IN_FLIGHT
    for sid in group[:-1]:  # all but one of the group redrew: nobody else is woken yet
        w.watch(sid, _follower(code, store, (version, False)))
    w.tick()
    w.next_group()
    assert woken == group
    w.watch(group[-1], _follower(code, store, (version, False)))  # the whole group redrew
    w.next_group()  # (the watcher thread, GROUP_PAUSE later)
    assert len(woken) == 2 * room_push.IN_FLIGHT
    while len(woken) < n:  # group after group, until every follower was woken once
        for sid in woken[-room_push.IN_FLIGHT :]:
            w.watch(sid, _follower(code, store, (version, False)))
        w.next_group()
    assert sorted(woken) == sorted(f"s{i}" for i in range(n))


def test_a_closed_room_an_absent_teacher_or_an_unreachable_store_wake_the_followers():
    store = RoomStore()
    code, token = _room(store)
    woken: list[str] = []
    w = room_push.Watcher(rerun=lambda sid, f: woken.append(sid) or True)
    w.watch("a", _follower(code, store, room_push.room_signature(store.pulse(code))))
    store.clock = lambda: RoomStore.clock() + ORPHAN_SECONDS + 5  # the teacher's tab closed long ago
    w.tick()
    assert woken == ["a"]  # to show "your teacher has gone"
    w.landed("a")  # its page ran

    class Down(RoomStore):
        def pulse(self, code):
            raise StoreUnavailable("connection refused")

    w.watch("b", _follower(code, Down(), (1, False)))
    w.tick()
    assert woken == ["a", "b"]  # to say the room is unavailable (and retry)
    w.forget("b")
    store.close(code, token)
    w.watch("a", _follower(code, store, (2, True)))
    w.tick()
    assert woken == ["a", "b", "a"]  # to say the room has closed


def test_a_session_on_another_page_is_forgotten_and_a_disconnected_one_retried_until_long_gone():
    store = RoomStore()
    code, token = _room(store)
    w = room_push.Watcher(rerun=lambda sid, f: False if sid == "elsewhere" else None)
    drawn = room_push.room_signature(store.pulse(code))
    w.watch("elsewhere", _follower(code, store, drawn))  # went to the Playground page
    w.watch("blip", _follower(code, store, drawn))  # its websocket is reconnecting
    store.update(code, token, step=1)
    w.tick(now=0.0)
    assert len(w) == 1  # the blip is kept: it is woken once it is back
    w.tick(now=room_push.GONE_SECONDS + 1)
    assert len(w) == 0  # closed for good


def test_where_the_server_cannot_wake_a_session_the_follower_polls():
    """AppTest has no real Streamlit server: the page falls back to its one-second fragment, and a following
    student is not registered with the watcher."""
    teacher = AppTest.from_file(PAGE, default_timeout=60)
    teacher.run()
    teacher.button(key="room_start").click().run()
    code = teacher.session_state[room_page.TEACHER_KEY].code
    student = AppTest.from_file(PAGE, default_timeout=60)
    student.query_params["room"] = code
    student.run()
    assert not student.exception and student.session_state[room_page.STUDENT_KEY].following
    assert not room_push.available()
    assert len(room_push.WATCHER) == 0


def _land(w: room_push.Watcher, store, code: str, sids: list[str]) -> None:
    """These followers' pages drew the room as it is now."""
    for sid in sids:
        w.watch(sid, _follower(code, store, room_push.room_signature(store.pulse(code))))


def test_the_last_students_to_see_a_step_are_not_the_same_every_step():
    """Followers are woken in groups; the last groups wait longest. Registration order every time would make
    the latest to join the slowest on every step."""
    store = RoomStore()
    code, token = _room(store)
    woken: list[str] = []
    w = room_push.Watcher(rerun=lambda sid, f: woken.append(sid) or True, background=False)
    n = 4 * room_push.IN_FLIGHT
    everyone = [f"s{i}" for i in range(n)]
    _land(w, store, code, everyone)
    tails = []
    for step in (1, 2, 3):
        store.update(code, token, step=step)
        woken.clear()
        w.tick()
        while True:
            _land(w, store, code, woken[-room_push.IN_FLIGHT :])  # the group in flight redrew
            if len(woken) == n:
                break
            w.next_group()
        assert sorted(woken) == sorted(everyone)  # each follower woken once per step
        tails.append(set(woken[-room_push.IN_FLIGHT :]))
    assert tails[0] != tails[1] and tails[1] != tails[2] and tails[0] != tails[2]
    assert not tails[0] & tails[1] & tails[2], "some students are in the last group of every step"


class _Session:
    """What room_push asks of Streamlit's AppSession."""

    page_script_hash = "classroom"
    _event_loop = None

    def __init__(self, fragments: tuple[str, ...]) -> None:
        self.fragments, self.reruns = fragments, []

    def has_fragment(self, fragment_id: str) -> bool:
        return fragment_id in self.fragments

    def request_rerun(self, client_state) -> None:
        self.reruns.append(client_state.fragment_id or "page")


def test_a_new_step_reruns_only_the_followers_picture_and_anything_else_the_whole_page(monkeypatch):
    from types import SimpleNamespace

    from streamlit import runtime
    from streamlit.proto.ClientState_pb2 import ClientState

    sessions = {"a": _Session(("pic",)), "b": _Session(()), "c": _Session(("pic",))}
    monkeypatch.setattr(runtime, "get_instance", lambda: SimpleNamespace(get_app_session=sessions.get))
    store = RoomStore()
    code, token = _room(store)
    w = room_push.Watcher(background=False)

    def land() -> None:
        drawn = room_push.room_signature(store.pulse(code))
        cs = ClientState(query_string=f"room={code}", page_script_hash="classroom")
        for sid, fragment in (("a", "pic"), ("b", "pic"), ("c", None)):
            w.watch(sid, room_push.Follower(code, store, drawn, cs, "classroom", fragment))

    land()
    store.update(code, token, step=1)
    w.tick()
    # a: its picture fragment; b: a page run dropped that fragment (Streamlit would ignore its rerun);
    # c: drew without a fragment (a Streamlit that does not say which fragment runs)
    assert [s.reruns for s in sessions.values()] == [["pic"], ["page"], ["page"]]
    land()
    store.clock = lambda: RoomStore.clock() + ORPHAN_SECONDS + 5  # the teacher's tab closed long ago
    w.tick()
    assert sessions["a"].reruns == ["pic", "page"]  # "your teacher has gone" is outside the picture


def test_a_followers_picture_is_a_fragment_the_server_can_rerun_alone(monkeypatch):
    """Which fragment draws the picture comes from Streamlit's internals (room_push.current_fragment): a
    Streamlit upgrade that moves them fails here, instead of every follower silently running its whole page."""
    from room_apptest import run_page
    from ui_fixtures import chart_specs

    registered: list = []
    monkeypatch.setattr(room_push, "available", lambda: True)  # as under `streamlit run`
    monkeypatch.setattr(
        room_push, "watch", lambda code, store, drawn, fragment=None: registered.append(fragment) or True
    )
    teacher = run_page()
    teacher.button(key="room_start").click().run()
    teacher.button(key="room_step").click().run()
    student = run_page({"room": teacher.session_state[room_page.TEACHER_KEY].code})
    assert registered and isinstance(registered[-1], str) and registered[-1]
    assert room_push.current_fragment() is None  # not in a fragment here
    assert any(m.value.startswith("**Step 1**") for m in student.markdown)
    assert len(chart_specs(student)) == 2  # the diagram and the log strips, drawn by the fragment


def test_a_teachers_step_on_this_process_wakes_its_followers_without_waiting_for_the_next_tick(monkeypatch):
    import threading

    monkeypatch.setattr(room_push, "WATCH_SECONDS", 3600.0)  # the watcher's next tick is an hour away
    store = RoomStore()
    code, token = _room(store)
    woken = threading.Event()
    w = room_push.Watcher(rerun=lambda sid, f: woken.set() or True)
    w.watch("a", _follower(code, store, room_push.room_signature(store.pulse(code))))  # starts its thread
    store.update(code, token, step=1)
    w.poke()  # what the teacher's page does right after publishing the step
    assert woken.wait(30), "the follower was not woken until the watcher's next tick"
