"""The Classroom page: a teacher-led room whose students' screens follow the teacher's run live.

"Start a room" gives the teacher a short code and a link (`?room=CODE`). The room in the shared store
(`ui.rooms`) carries only the run's recipe (scenario + commands), the teacher's step and the current
question's anonymous counts. A following student's page does not tick: the server wakes it when the room
moved (`ui.room_push`: one thread per app process asks the store about each watched room every 0.25 s and
reruns the sessions that are behind). A student exploring alone, or a page the server cannot wake, asks the
store for the room's version once a second in a small `st.fragment(run_every=...)` (one round trip on
Redis), and the page reruns only when it changed. A following student draws the room's picture from a process-wide cache (`PictureCache`, keyed by the room's recipe and
step): each (recipe, step) picture is built once per app process, on one shared replay, however many
students follow (deterministic: same recipe + same step = the same picture). "Break away" gives the student
their own copy of the run to explore; "Rejoin" snaps back to the teacher. The teacher poses a
lesson's predict question (or their own) and watches the answer histogram fill before revealing it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import streamlit as st

from engine.errors import KafkaError, UserInputError
from engine.scenario import PRESETS, Scenario
from engine.timeline import Timeline
from lessons.choices import shuffled
from ui import room_push
from ui.figures.diagram import natural_key
from ui.figures.room import answer_histogram
from ui.live_chart import live_chart
from ui.room_pictures import PICTURES, Picture, _clip, build_picture, follow  # noqa: F401 - re-exported
from ui.room_state import StudentRoom, TeacherRoom, TooManyTries  # noqa: F401 - re-exported
from ui.rooms import (
    IDLE_SECONDS,
    ORPHAN_SECONDS,
    RoomError,
    RoomStore,
    RoomView,
    StoreUnavailable,
    normalize_code,
    open_store,
)
from ui.session import SESSION_KEY as PLAYGROUND_KEY
from ui.session import PlaygroundSession
from ui.trace_panel import md_escape

TEACHER_KEY = "kc_room_teacher"
STUDENT_KEY = "kc_room_student"
PAGE_PATH = "classroom"
TEACHER_COOKIE = "kc_room_teacher"  # "CODE.secret": a reload in this browser finds the room as teacher again
TEACHER_PARAM = "teacher"  # ?room=CODE&teacher=secret: the teacher-only link for a second device
POLL_SECONDS = 1.0
HISTOGRAM_SECONDS = 1.5
# The teacher's page checks in this often: students can tell an orphaned room, and a teacher's second device
# (a phone as remote, a laptop on the projector) follows what the other one did.
HEARTBEAT_SECONDS = 2.0
PLOTLY_CONFIG = {"displayModeBar": False, "scrollZoom": False, "responsive": True}
MY_PLAYGROUND = "My Playground run"
FREE, LESSON = "Your own question", "A lesson's question"
# label -> (seconds between ticks, steps per tick): one tick a second, since every tick also redraws every
# student's screen.
SPEEDS: dict[str, tuple[float, int]] = {"1 step/s": (1.0, 1), "3 steps/s": (1.0, 3), "10 steps/s": (1.0, 10)}
RETRY_SECONDS = 2.0  # while the room store is unreachable, the page tries again this often
# A session may get a room code wrong this often per JOIN_WINDOW seconds: 31^6 codes cannot be scanned from a
# browser (5 tries a minute finds one of 200 open rooms in ~1.7 years on average).
JOIN_TRIES, JOIN_WINDOW = 5, 60.0


def get_store() -> RoomStore:
    """The process-wide room store (it holds recipes and counts, never an engine): the embedded one, or Redis
    when `KC_ROOM_STORE=redis://host:port/db` (ui.rooms.open_store keeps one per process). A bad setting is a
    RoomError."""
    return open_store()  # type: ignore[return-value]  # RedisRoomStore has the same methods


def signature(s: StudentRoom, view: RoomView | None) -> Any:
    """What, in the room, changes this student's screen: everything while following; only the question
    (new, revealed) while exploring alone."""
    if view is None:
        return None
    if s.following:
        return view.version
    q = view.question
    return (q.qid, q.revealed) if q else 0


# -- page -----------------------------------------------------------------------------------------------------------
def render() -> None:
    try:
        store = get_store()
    except RoomError as exc:  # KC_ROOM_STORE set to something that is not a store
        st.title("Classroom")
        st.error(f"The Classroom is not set up right: {exc}", icon=":material/error:")
        return
    room_push.unwatch()  # a run that ends without following a room must not be woken by the room
    try:
        _render(store)
    except StoreUnavailable as exc:
        _unavailable(store, exc)
    finally:
        room_push.ran()  # woken or not, this run is over: the watcher may wake the next follower


def _unavailable(store: RoomStore, exc: Exception) -> None:
    """The room store cannot be reached: say so and retry, never pretend (no fallback to another store)."""
    st.warning(
        f"The room is unavailable right now: {exc}. Nothing is lost on this page; it tries again every "
        f"{RETRY_SECONDS:.0f} s and carries on as soon as the room store answers.",
        icon=":material/cloud_off:",
    )
    st.fragment(run_every=RETRY_SECONDS)(_retry)(store)


def _retry(store: RoomStore) -> None:
    try:
        store.ping()
    except StoreUnavailable:
        st.caption(f":material/autorenew: still unavailable at {time.strftime('%H:%M:%S')}; retrying")
        return
    st.rerun(scope="app")


def _safe(fragment: Callable[..., None]) -> Callable[..., None]:
    """A fragment body that says "unavailable" in place when the store cannot be reached (its next tick, or
    the next click, tries again), instead of a traceback."""

    def run(*args: Any) -> None:
        try:
            fragment(*args)
        except StoreUnavailable as exc:
            st.caption(f":material/cloud_off: the room is unavailable ({exc}); retrying")

    run.__name__ = run.__qualname__ = fragment.__name__  # st.fragment keys fragments by the function
    return run


def _render(store: RoomStore) -> None:
    ss = st.session_state
    if ss.pop("room_cookie_clear", False):  # the room this browser taught is closed: forget its secret
        st.html(teacher_cookie_script("", 0), unsafe_allow_javascript=True)  # safe-html: literal text
    _resume_teacher(store)
    t = ss.get(TEACHER_KEY)
    if t is None or not t.projector:
        st.title("Classroom")
    _from_link(store)
    if t is not None:
        _teacher(t, store)
    elif ss.get(STUDENT_KEY) is not None:
        _student(ss[STUDENT_KEY], store)
    else:
        _lobby(store)


# -- the teacher's secret: a cookie and a teacher-only link --------------------------------------------------------
def cookie_value(code: str, token: str) -> str:
    return f"{code}.{token}"


def parse_cookie(value: str | None) -> tuple[str, str] | None:
    """(code, secret) from the teacher cookie, or None for anything malformed (it comes from the browser)."""
    if not isinstance(value, str) or len(value) > 100:
        return None
    code, sep, token = value.partition(".")
    if not sep or not token or not all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in token):
        return None
    try:
        return normalize_code(code), token
    except RoomError:
        return None


def teacher_cookie_script(value: str, max_age: int) -> str:
    """The snippet that keeps the teacher's secret in this browser for as long as a room can live (the approach
    of lessons.progress.cookie_script; the value is a room code and URL-safe characters only)."""
    return (
        f"<script>document.cookie = '{TEACHER_COOKIE}={value}; path=/; max-age={int(max_age)}; "
        f"SameSite=Strict';</script>"
    )


def _cookie() -> str | None:
    try:
        value = st.context.cookies.get(TEACHER_COOKIE)
    except (AttributeError, RuntimeError, KeyError):
        return None
    return value if isinstance(value, str) else None


def _resume_teacher(store: RoomStore) -> None:
    """A new session (a reload, a second device) gets the room back as teacher: from the teacher-only link
    (`?room=CODE&teacher=secret`, checked first) or from this browser's cookie (once per session)."""
    ss, params = st.session_state, st.query_params
    token = params.get(TEACHER_PARAM)
    if token is not None:
        del params[TEACHER_PARAM]  # the secret must not stay in the address bar, which a projector shows
        if ss.get(TEACHER_KEY) is not None and ss[TEACHER_KEY].token == token:
            return
        try:
            _adopt(store.resume(params.get("room") or "", token), token, "your teacher link")
        except RoomError as exc:
            st.error(
                f"Teacher link: {exc}. Open the teacher link exactly as the room showed it, or start a "
                f"new room.",
                icon=":material/error:",
            )
        return
    if ss.get(TEACHER_KEY) is not None or ss.get("room_cookie_tried"):
        return
    ss["room_cookie_tried"] = True
    saved = parse_cookie(_cookie())
    if saved is None:
        return
    code, token = saved
    linked = params.get("room")
    if linked is not None and "".join(str(linked).split()).replace("-", "").upper() != code:
        return  # a link to another room: this browser joins that one as a student
    try:
        _adopt(store.resume(code, token), token, "this browser")
    except StoreUnavailable:
        ss["room_cookie_tried"] = False  # try the cookie again once the store answers
        raise
    except RoomError:  # closed, expired or not this room's secret: the browser forgets it
        st.html(teacher_cookie_script("", 0), unsafe_allow_javascript=True)  # safe-html: literal text


def _adopt(view: RoomView, token: str, source: str) -> None:
    """Become this room's teacher again: the run is rebuilt from the room's recipe at the room's step."""
    run = follow(None, None, view)
    note = (
        f"Welcome back: you are the teacher of room {view.code} again (restored from {source}), at step "
        f"{view.step}."
    )
    st.session_state[TEACHER_KEY] = TeacherRoom(view.code, token, run, note=note, version=view.version)
    st.session_state.pop(STUDENT_KEY, None)


def _from_link(store: RoomStore) -> None:
    """`?room=CODE` joins that room as a student (validated; a bad or unknown code is an error, not a crash)."""
    raw = st.query_params.get("room")
    ss = st.session_state
    if raw is None or ss.get(TEACHER_KEY) is not None:
        return
    try:
        code = normalize_code(raw)
    except RoomError as exc:
        st.error(f"Link parameter {exc}", icon=":material/error:")
        return
    current = ss.get(STUDENT_KEY)
    if current is not None and current.code == code:
        return
    known_bad = ss.get("room_link_failed")
    try:
        if known_bad is not None and known_bad[0] == code:  # the same link again (a rerun): same answer,
            raise RoomError(known_bad[1])  # not another try against the rate limit
        _lookup(store, code)
    except RoomError as exc:
        if not isinstance(exc, TooManyTries):
            ss["room_link_failed"] = (code, str(exc))
        st.error(f"{exc}", icon=":material/error:")
        return
    ss[STUDENT_KEY] = StudentRoom(code)


def _lookup(store: RoomStore, code: str) -> None:
    """Is there a room with this code? Wrong codes are rate-limited per session (JOIN_TRIES per JOIN_WINDOW
    seconds), so nobody can scan for open rooms from a browser."""
    ss, now = st.session_state, time.monotonic()
    fails = [t for t in ss.get("room_join_fails", []) if now - t < JOIN_WINDOW]
    if len(fails) >= JOIN_TRIES:
        wait = int(JOIN_WINDOW - (now - fails[0])) + 1
        raise TooManyTries(
            f"room code: {JOIN_TRIES} wrong codes in a minute from this browser; wait {wait} s, then check "
            f"the code with your teacher"
        )
    if store.get(code) is None:
        ss["room_join_fails"] = [*fails, now]
        raise RoomError(
            "room code: there is no open room with this code (it may have expired after inactivity); "
            "ask your teacher for the current code"
        )


def _lobby(store: RoomStore) -> None:
    st.caption(
        "A teacher starts a room; students join with its code and their screens follow the teacher's "
        "cluster step by step. A room keeps only the scenario, the step and anonymous answer counts."
    )
    teach, join = st.columns(2, gap="large")
    with teach, st.container(border=True, key="room_teach"):
        st.markdown("#### Teach")
        options = (
            list(PRESETS)
            + [label for label, _ in lesson_clusters()]
            + ([MY_PLAYGROUND] if st.session_state.get(PLAYGROUND_KEY) is not None else [])
        )
        st.selectbox(
            "Start from",
            options,
            key="room_start_from",
            help="A preset, a lesson's cluster (its questions then name the clients and topics your "
            "students see), or the run you built in the Playground (with what you broke in it).",
        )
        st.button("Start a room", key="room_start", type="primary", on_click=_start, args=(store,))
    with join, st.container(border=True, key="room_join"):
        st.markdown("#### Join")
        st.text_input("Room code", key="room_code_input", max_chars=12, placeholder="e.g. K7MQ3R")
        st.button("Join", key="room_join_btn", on_click=_join, args=(store,))
    for level, msg in st.session_state.pop("room_lobby_flash", []):
        (st.error if level == "error" else st.info)(md_escape(msg))  # messages may quote what was typed


def _start(store: RoomStore) -> None:
    ss = st.session_state
    pick = ss.get("room_start_from") or "Default"
    try:
        if pick == MY_PLAYGROUND and ss.get(PLAYGROUND_KEY) is not None:
            tl = Timeline.from_state(ss[PLAYGROUND_KEY].timeline.to_state())
        elif pick in PRESETS:
            tl = Timeline(PRESETS[pick])
        elif pick in (clusters := dict(lesson_clusters())):
            tl = Timeline(clusters[pick])
        else:
            raise RoomError(f"start from: choose one of {', '.join(PRESETS)} or a lesson")
        run = PlaygroundSession(tl)
        code, token = store.create(tl.to_state(), tl.position)
    except (KafkaError, UserInputError, StoreUnavailable) as exc:
        ss["room_lobby_flash"] = [("error", str(exc))]
        return
    ss[TEACHER_KEY] = TeacherRoom(code, token, run)


def _join(store: RoomStore) -> None:
    ss = st.session_state
    try:
        code = normalize_code(ss.get("room_code_input"))
        _lookup(store, code)
    except (RoomError, StoreUnavailable) as exc:
        ss["room_lobby_flash"] = [("error", str(exc))]
        return
    ss[STUDENT_KEY] = StudentRoom(code)
    st.query_params["room"] = code  # a reload keeps the student in the room


# -- the shared picture ---------------------------------------------------------------------------------------------
def _picture(run: PlaygroundSession, who: str, compact: bool = False) -> None:
    """The picture of a session's own run (the teacher's, a student's copy after Break away)."""
    _draw(build_picture(run), who, compact)


def _draw(pic: Picture, who: str, compact: bool = False) -> None:
    """Narration, diagram and log strips: the same builders and keys for teacher and students, so their
    screens are the same picture when they are at the same step. `compact` (the projector) puts the narration
    on one line, so the diagram starts higher."""
    with st.container(border=True, key="room_narration"):
        when = f"**Step {pic.position}** · simulated time **{pic.now_ms / 1000:.3f} s**"
        text = (
            pic.summary
            if pic.summary
            else (
                "Press Step to start the cluster."
                if pic.position == 0 and who == "teacher"
                else "Nothing visible happened at this step."
            )
        )
        # one element, not two: a lecture hall sends this to every follower on every step (each element is a
        # message of its own)
        st.markdown(f"##### {when} — {md_escape(text)}" if compact else f"{when}\n\n#### {md_escape(text)}")
    # live charts, not st.plotly_chart: its element id is derived from the figure, so every step made a new
    # element, and Streamlit keeps the old one on screen ("retained") until the run ends; a click that cut a
    # run short left those copies standing, a teacher saw the diagram two or three times
    live_chart(pic.diagram, "room_diagram", PLOTLY_CONFIG)
    live_chart(pic.logs, "room_logs", PLOTLY_CONFIG)


def _take_picture(s: StudentRoom, view: RoomView) -> None:
    """A following student's picture of the room's step (shared by the process's followers); a recipe that does
    not replay says so and keeps the old picture."""
    try:
        s.picture = PICTURES.get(view)
        s.seen = view
    except (KafkaError, UserInputError) as exc:
        st.error(f"room state: could not replay the teacher's run: {exc}")


def _guard(flash: list, action: Callable[[], Any]) -> bool:
    try:
        out = action()
    except (KafkaError, UserInputError, StoreUnavailable) as exc:
        flash.append(("error", str(exc)))
        return False
    if isinstance(out, str):
        flash.append(("info", out))
    return True


def _commands(run: PlaygroundSession, prefix: str, act: Callable[[dict], None]) -> None:
    """Crash / restart brokers and crash consumers, applied through `act` (teacher: also publishes)."""
    snap = run.cluster.snapshot(tail=0)
    with st.container(horizontal=True, key=f"{prefix}_commands"):
        for b in sorted(snap.brokers, key=lambda b: b.id):
            op, label = ("crash_broker", "Crash") if b.alive else ("restart_broker", "Restart")
            st.button(
                f"{label} broker {b.id}",
                key=f"{prefix}_{op}_{b.id}",
                on_click=act,
                args=({"op": op, "broker": b.id},),
            )
        for k in sorted(snap.consumers, key=lambda k: natural_key(k.id)):
            live = k.alive and k.state not in ("closed", "crashed")
            st.button(
                f"Crash {k.id}",
                key=f"{prefix}_crash_c_{k.id}",
                disabled=not live,
                on_click=act,
                args=({"op": "crash_consumer", "consumer": k.id},),
            )


# -- teacher --------------------------------------------------------------------------------------------------------
def _teacher(t: TeacherRoom, store: RoomStore) -> None:
    try:
        t.catch_up(store)
    except RoomError as exc:
        st.warning(str(exc), icon=":material/timer_off:")
        st.button("Back to the start", key="room_restart", on_click=_forget, args=(TEACHER_KEY,))
        st.session_state["room_cookie_clear"] = True
        return
    if not t.cookie_saved:  # a reload of this browser finds the room again (until the room expires)
        value = cookie_value(t.code, t.token)  # a room code and a secrets.token_urlsafe: [A-Za-z0-9_.-] only
        st.html(
            teacher_cookie_script(value, IDLE_SECONDS), unsafe_allow_javascript=True
        )  # safe-html: see above
        t.cookie_saved = True
    if t.note:
        st.success(t.note, icon=":material/how_to_reg:")
        t.note = ""
    _header(t, store)
    mode = (t.playing, t.speed)
    live = st.fragment(run_every=SPEEDS[t.speed][0] if t.playing else None)(_safe(_teacher_live))
    if t.projector:  # the picture large on the left, the question and its live answers on the right
        left, right = st.columns([2, 1], gap="medium")
        with left:
            live(t, store, mode)
        with right:
            _answers_live(t, store)
        st.fragment(run_every=HEARTBEAT_SECONDS)(_safe(_heartbeat))(t, store)
        return
    live(t, store, mode)
    st.fragment(run_every=HEARTBEAT_SECONDS)(_safe(_heartbeat))(t, store)
    with st.sidebar:  # the question and its live histogram stay in view while the teacher steps
        _ask(t, store)
        _answers_live(t, store)


def _header(t: TeacherRoom, store: RoomStore) -> None:
    if t.projector:  # one line: the code students type, and the way back
        with st.container(horizontal=True, vertical_alignment="center", key="room_header"):
            st.markdown(f"### Room code **{t.code}**", width="content")
            st.markdown(f"join at `{_room_link(t.code).split('?')[0]}`", width="content")
            with st.popover("Ask the room", icon=":material/quiz:", key="room_ask_popover"):
                _ask(t, store)
            st.button(
                "Exit projector view",
                key="room_projector_off",
                icon=":material/close_fullscreen:",
                on_click=_set_projector,
                args=(t, False),
            )
        return
    with st.container(border=True, key="room_header"):
        a, b = st.columns([1, 2], vertical_alignment="center")
        with a, st.container(key="room_code"):
            st.markdown(f"## Room code: **{t.code}**")
        with b:
            st.caption(
                f"Students open this link, or enter the code on the Classroom page. The room closes after "
                f"{IDLE_SECONDS // 3600} h without activity."
            )
            st.code(_room_link(t.code), language=None)
            with st.container(horizontal=True):
                st.button(
                    "Projector view",
                    key="room_projector_on",
                    icon=":material/open_in_full:",
                    on_click=_set_projector,
                    args=(t, True),
                    help="For the projector: the question, the live answers and the cluster large, no sidebar.",
                )
                st.button("Close the room", key="room_close", on_click=_close, args=(t, store))
        with st.expander(
            ":material/key: Teacher link: to teach from another device", key="room_teacher_link"
        ):
            st.warning(
                "This link makes whoever opens it the teacher of this room: they can move the cluster and "
                "pose questions. Do not share it with students or show it on the projector.",
                icon=":material/warning:",
            )
            st.code(_teacher_link(t.code, t.token), language=None)
            st.caption("A reload of this page keeps you the teacher too (your browser remembers the room).")


def _set_projector(t: TeacherRoom, on: bool) -> None:
    t.projector = on
    t.skip_tick = True


def _heartbeat(t: TeacherRoom, store: RoomStore) -> None:
    """The teacher's page checks in while it is open (a closed tab shows students an orphaned room), and
    redraws when the teacher moved the room from another device."""
    try:
        moved = t.catch_up(store)
    except RoomError:
        st.rerun(scope="app")
    if moved:
        st.rerun(scope="app")


def _teacher_link(code: str, token: str) -> str:
    return f"{_room_link(code)}&{TEACHER_PARAM}={token}"


def _room_link(code: str) -> str:
    base = ""
    try:
        base = (st.context.url or "").split("?")[0]
    except Exception:  # noqa: BLE001 - no browser URL (e.g. AppTest): a relative link still works
        base = ""
    if base and not base.rstrip("/").endswith(PAGE_PATH):
        base = base.rstrip("/") + "/" + PAGE_PATH
    return f"{base or PAGE_PATH}?room={code}"


def _forget(key: str) -> None:
    st.session_state.pop(key, None)
    if key == STUDENT_KEY and "room" in st.query_params:
        del st.query_params["room"]


def _close(t: TeacherRoom, store: RoomStore) -> None:
    try:
        store.close(t.code, t.token)
    except RoomError:
        pass  # already gone
    except StoreUnavailable as exc:  # the room is still open for its students: stay its teacher
        t.flash.append(("error", f"Close the room: {exc}; try again"))
        return
    _forget(TEACHER_KEY)
    st.session_state["room_cookie_clear"] = True


def _teacher_act(t: TeacherRoom, store: RoomStore, action: Callable[[], Any]) -> None:
    t.skip_tick = True
    if not _guard(t.flash, lambda: t.catch_up(store) and None):  # act on the room as it is now
        return
    if _guard(t.flash, action):
        _guard(t.flash, lambda: t.publish(store))


def _teacher_live(t: TeacherRoom, store: RoomStore, mode: tuple[bool, str]) -> None:
    # Play is a toggle (its value rides along with every request; a button click could be lost to a tick).
    t.playing = bool(st.session_state.get("room_playing", False))
    if (t.playing, t.speed) != mode:
        st.rerun(scope="app")
    if t.playing and not t.skip_tick:
        t.run.playing = True
        _teacher_act(t, store, lambda: t.run.step(SPEEDS[t.speed][1]) and None)
        if not t.run.playing:  # the run stops itself when the cluster goes idle
            t.playing = False
            st.session_state["room_playing"] = False
    t.skip_tick = False
    run = t.run
    with st.container(horizontal=True, vertical_alignment="bottom", key="room_controls"):
        st.button(
            "Step",
            key="room_step",
            type="primary",
            disabled=t.playing,
            on_click=_teacher_act,
            args=(t, store, lambda: t.run.step() and None),
        )
        st.button(
            "Back",
            key="room_back",
            disabled=t.playing or run.position == 0,
            on_click=_teacher_act,
            args=(t, store, lambda: t.run.back()),
        )
        st.toggle("Play", key="room_playing", help="Step automatically; every student's screen follows.")
        st.selectbox(
            "Speed",
            list(SPEEDS),
            index=list(SPEEDS).index(t.speed),
            key="room_speed",
            on_change=_set_speed,
            args=(t,),
            label_visibility="collapsed",
            width=115,
        )
        st.button("Reset", key="room_reset", on_click=_teacher_reset, args=(t, store))
        if t.projector:  # one row of controls, so the picture starts high on the projector
            with st.popover(
                "Step until", icon=":material/fast_forward:", key="room_t_until", disabled=t.playing
            ):
                _time_controls(t, store)
        else:
            _time_controls(t, store)
        if t.projector:
            with st.popover(
                "Break",
                icon=":material/bolt:",
                key="room_t_break",
                help="Crash or restart a broker, crash a consumer.",
            ):
                _commands(run, "room_t", lambda cmd: _teacher_act(t, store, lambda: t.run.apply(cmd)))
    if not t.projector:
        _commands(run, "room_t", lambda cmd: _teacher_act(t, store, lambda: t.run.apply(cmd)))
    for level, msg in t.flash:
        (st.error if level == "error" else st.caption)(md_escape(msg))
    t.flash.clear()
    run.flash.clear()
    _draw(t.picture(), "teacher", compact=t.projector)  # the picture its followers draw (shared, built once)


def _time_controls(t: TeacherRoom, store: RoomStore) -> None:
    """The Playground's time controls, on the Playground's own session methods (`PlaygroundSession.run_until`
    and `skip`): each is one recorded step that Back undoes, published to the room like a Step (the recipe
    carries the moves, so students replay the same step)."""
    moves = (
        (
            "Next rebalance",
            "room_run_rebalance",
            lambda: t.run.run_until("rebalance", "rebalance"),
            "One step to the moment a consumer group starts or finishes a rebalance (Back undoes it).",
        ),
        (
            "Next election",
            "room_run_election",
            lambda: t.run.run_until("election", "leader election"),
            "One step to the next leader or controller election (crash a broker first; Back undoes it).",
        ),
        (
            "+1 s",
            "room_skip_1s",
            lambda: t.run.skip(1000),
            "Let one simulated second pass as one step (Back undoes it).",
        ),
    )
    for label, key, action, help_text in moves:
        st.button(
            label, key=key, disabled=t.playing, on_click=_teacher_act, args=(t, store, action), help=help_text
        )


def _teacher_reset(t: TeacherRoom, store: RoomStore) -> None:
    st.session_state["room_playing"] = False
    _teacher_act(t, store, lambda: t.run.reset())


def _set_speed(t: TeacherRoom) -> None:
    t.speed = st.session_state.get("room_speed") or t.speed
    t.skip_tick = True


def _course() -> list[Any]:
    try:
        from lessons.loader import load_course_lenient

        lessons, _ = load_course_lenient()
    except (OSError, UserInputError):  # a broken course folder must not break the room
        return []
    return lessons


def _step_scenario(step: Any, current: Scenario) -> Scenario:
    """The cluster a lesson step runs on: the lesson's, or the one a `new_cluster` command switched to."""
    from lessons.model import NewClusterOp, parse_lesson_command

    for raw in step.commands:
        try:
            cmd = parse_lesson_command(raw)
        except UserInputError:
            continue
        if isinstance(cmd, NewClusterOp):
            current = cmd.scenario
    return current


def lesson_clusters() -> list[tuple[str, Scenario]]:
    """(label, scenario) of every cluster the course's questions are asked on, in course order: a room started
    from one of them can pose those questions with the client and topic names its students see."""
    out: list[tuple[str, Scenario]] = []
    for n, lesson in enumerate(_course(), 1):
        current, seen = lesson.scenario, []
        for step in lesson.steps:
            current = _step_scenario(step, current)
            if step.predict is not None and current.model_dump() not in seen:
                seen.append(current.model_dump())
                extra = f" ({current.name})" if len(seen) > 1 else ""
                out.append((f"Lesson {n}: {lesson.title}{extra}", current))
    return out


def lesson_questions(scenario: Scenario | None = None) -> list[tuple[str, Any]]:
    """(label, Predict) of the course's predict questions, in course order. Given the room's scenario, only the
    questions asked on that very cluster, so the clients and topics a question names are the ones on screen."""
    want = scenario.model_dump() if scenario is not None else None
    out: list[tuple[str, Any]] = []
    for lesson in _course():
        current = lesson.scenario
        for step in lesson.steps:
            current = _step_scenario(step, current)
            if step.predict is not None and (want is None or current.model_dump() == want):
                out.append((f"{lesson.title} · {step.title}", step.predict))
    return out


def _ask(t: TeacherRoom, store: RoomStore) -> None:
    with st.container(border=True, key="room_ask"):
        st.markdown("#### Ask the room")
        qs = lesson_questions(t.run.scenario)
        src = st.radio(
            "Question",
            [LESSON, FREE],
            index=0 if qs else 1,
            horizontal=True,
            key="room_q_src",
            label_visibility="collapsed",
        )
        if src == LESSON:
            if not qs:
                st.info(
                    f"No lesson asks its questions on this room's cluster (“{md_escape(t.run.scenario.name)}”): "
                    f"a lesson's question names its own clients and topics. Start a room from a lesson to pose "
                    f"its questions, or write your own.",
                    icon=":material/info:",
                )
                return
            labels = [label for label, _ in qs]
            i = st.selectbox(
                "Lesson step", range(len(qs)), format_func=lambda i: labels[i], key="room_q_lesson"
            )
            p = qs[i or 0][1]
            st.markdown(p.question)
            shown, _ = shuffled(p, t.code)  # the order the room will see
            st.caption("  \n".join(f"{chr(65 + j)}. {c}" for j, c in enumerate(shown)))
        else:
            st.text_input(
                "Question",
                key="room_q_text",
                max_chars=500,
                placeholder="What happens to acks=1 writes when the leader crashes?",
            )
            st.text_area("Choices, one per line (2 to 6)", key="room_q_choices", height=110)
            n = len([c for c in (st.session_state.get("room_q_choices") or "").splitlines() if c.strip()])
            st.selectbox(
                "Right answer",
                ["none (a poll)"] + [chr(65 + j) for j in range(max(n, 0))],
                key="room_q_answer",
            )
            st.text_input("Explanation shown on reveal (optional)", key="room_q_expl", max_chars=500)
        st.button("Pose to the room", key="room_pose", type="primary", on_click=_pose, args=(t, store))


def _pose(t: TeacherRoom, store: RoomStore) -> None:
    ss = st.session_state

    def pose() -> None:
        if ss.get("room_q_src", LESSON) == LESSON:
            qs = lesson_questions(t.run.scenario)
            i = ss.get("room_q_lesson") or 0
            if not 0 <= i < len(qs):
                raise RoomError("lesson step: choose a question from the list")
            p = qs[i][1]
            # the room's code seeds the order: every student sees the same letters as the teacher's histogram
            choices, answer = shuffled(p, t.code)
            store.pose(t.code, t.token, p.question, choices, answer, p.explanation, markdown=True)
        else:
            choices = [c.strip() for c in (ss.get("room_q_choices") or "").splitlines() if c.strip()]
            pick = ss.get("room_q_answer") or "none (a poll)"
            answer = None if pick.startswith("none") else ord(pick) - 65
            store.pose(
                t.code, t.token, ss.get("room_q_text") or "", choices, answer, ss.get("room_q_expl") or ""
            )

    if _guard(t.flash, pose):
        room_push.poke()  # this process's followers see the question now, not at the watcher's next tick


def _answers_live(t: TeacherRoom, store: RoomStore) -> None:
    """The posed question and its answer histogram, refreshed while a question is open."""
    view = store.peek(t.code, t.token)
    st.fragment(run_every=HISTOGRAM_SECONDS if view.question is not None else None)(_safe(_answers))(t, store)


def _answers(t: TeacherRoom, store: RoomStore) -> None:
    try:
        view = store.peek(t.code, t.token)
    except RoomError as exc:
        st.warning(str(exc))
        return
    q = view.question
    with st.container(border=True, key="room_answers"):
        if q is None:
            st.caption(
                "No question posed yet. Students see the question on their screen as soon as you pose it."
            )
            return
        if t.projector:  # read from the back of the room
            st.markdown(f"#### {_qtext(q.text, q.markdown)}")
            st.markdown(
                "  \n".join(f"**{chr(65 + j)}.** {_qtext(c, q.markdown)}" for j, c in enumerate(q.choices))
            )
        else:
            st.markdown(f"**Asked:** {_qtext(q.text, q.markdown)}")
            st.caption(
                "  \n".join(f"{chr(65 + j)}. {_qtext(c, q.markdown)}" for j, c in enumerate(q.choices))
            )
        # a live chart (redrawn in place as answers arrive; see _draw)
        live_chart(
            answer_histogram(q.choices, q.counts, q.answer, q.revealed), "room_histogram", PLOTLY_CONFIG
        )
        with st.container(horizontal=True):
            st.button(
                "Reveal the answer",
                key="room_reveal",
                disabled=q.revealed,
                type="primary",
                on_click=lambda: _guard(t.flash, lambda: store.reveal(t.code, t.token) and None),
            )
            st.button(
                "Clear the question",
                key="room_clear",
                on_click=lambda: _guard(t.flash, lambda: store.clear_question(t.code, t.token)),
            )
        if q.revealed:
            _reveal_text(q)


def _qtext(text: str, markdown: bool) -> str:
    return text if markdown else md_escape(text)


def _reveal_text(q) -> None:
    if q.answer is not None:
        st.success(
            f"Right answer: **{chr(65 + q.answer)}.** {_qtext(q.choices[q.answer], q.markdown)}",
            icon=":material/check_circle:",
        )
    else:
        st.info("A poll: no right answer.")
    if q.explanation:
        st.markdown(_qtext(q.explanation, q.markdown))


# -- student --------------------------------------------------------------------------------------------------------
def _student(s: StudentRoom, store: RoomStore) -> None:
    view = store.get(s.code)
    if view is None:
        st.warning(
            "This room is closed or has expired. Ask your teacher for a new code.",
            icon=":material/timer_off:",
        )
        st.button("Back to the start", key="room_leave_closed", on_click=_forget, args=(STUDENT_KEY,))
        return
    if s.following:
        _take_picture(s, view)
    elif s.run is None:  # just broke away: their own copy of what they were looking at
        try:
            s.run = follow(None, None, s.seen or view)
            s.synced_json = (s.seen or view).state_json
        except (KafkaError, UserInputError) as exc:
            s.following = True
            st.error(f"room state: could not copy the teacher's run to explore it: {exc}")
    s.drawn = signature(s, view)
    _orphan_notice(s, view, store)
    with st.container(horizontal=True, vertical_alignment="center", key="room_status"):
        if s.following:
            st.markdown(f":green-badge[:material/sensors: Following the teacher] · room **{s.code}**")
            st.button(
                "Break away",
                key="room_break",
                on_click=_break_away,
                args=(s,),
                help="Explore on your own copy of this run; the teacher's steps no longer move your screen.",
            )
        else:
            st.markdown(f":orange-badge[:material/explore: On your own copy] · room **{s.code}**")
            st.button(
                "Rejoin",
                key="room_rejoin",
                type="primary",
                on_click=_rejoin,
                args=(s,),
                help="Snap back to the teacher's run and step.",
            )
        # a follower is woken by the server when the room moves (ui/room_push.py, no tick per student);
        # exploring alone, or where the server cannot wake a session, the page asks once a second
        woken = s.following and room_push.available()
        if not woken:
            st.fragment(run_every=POLL_SECONDS)(_safe(_poll))(s, store)
        st.button("Leave the room", key="room_leave", on_click=_forget, args=(STUDENT_KEY,))
    for level, msg in s.flash:
        (st.error if level == "error" else st.caption)(md_escape(msg))
    s.flash.clear()
    if s.following:
        _student_question(s, view, store)  # always drawn (a caption when there is none): the page never jumps
        s.question_drawn = question_signature(view.question)
        if woken:
            s.fresh = (
                True  # the fragment draws the picture this run just read, without asking the store again
            )
            st.fragment(_picture_fragment)(s, store)
        elif s.picture is not None:
            _draw(s.picture, "student")
        return
    if s.run is None:
        return
    run = s.run
    with st.container(horizontal=True, key="room_own_controls"):
        st.button(
            "Step",
            key="room_s_step",
            type="primary",
            on_click=_guard,
            args=(s.flash, lambda: run.step() and None),
        )
        st.button(
            "Back",
            key="room_s_back",
            disabled=run.position == 0,
            on_click=_guard,
            args=(s.flash, run.back),
        )
    _commands(run, "room_s", lambda cmd: _student_command(s, cmd))
    run.flash.clear()
    _student_question(s, view, store)  # always drawn (a caption when there is none): the page never jumps
    _picture(s.run, "student")


def question_signature(q: Any) -> Any:
    """What of the room's question a following student's page shows: which one, whether revealed, and the
    counts once revealed (the histogram)."""
    if q is None:
        return None
    return q.qid, q.revealed, tuple(q.counts) if q.revealed else None


def _picture_fragment(s: StudentRoom, store: RoomStore) -> None:
    """A following student's picture of the room (narration, diagram, log strips), in a fragment of its own.
    In the page's run it draws what that run read. When the teacher steps, the server reruns only this
    fragment (ui/room_push.py): it reads the room once, draws the new picture and registers what it drew;
    the rest of the page (title, status row, question) stays as it is and is not sent again. When more than
    the picture changed (the question, the orphan notice, the room closed, the student broke away, the store
    stopped answering) it asks for a run of the whole page instead."""
    if s.fresh:
        s.fresh = False
    else:
        try:
            view = store.get(s.code)
            changed = (
                view is None
                or not s.following
                or orphaned(_away(view, store, s.code)) != s.orphaned
                or question_signature(view.question) != s.question_drawn
            )
        except StoreUnavailable:
            changed = True  # the page's run says the room is unavailable, and retries
        if changed:
            st.rerun(scope="app")
        _take_picture(s, view)
        s.drawn = signature(s, view)
    if s.picture is not None:
        _draw(s.picture, "student")
    # registered once drawn: the watcher wakes the next follower when this one is done
    room_push.watch(s.code, store, (s.drawn, s.orphaned), room_push.current_fragment())


def _poll(s: StudentRoom, store: RoomStore) -> None:
    """Once a second: has the room changed what this student should see? Then redraw the page. A following
    student asks only for the room's version and when the teacher was last seen (one round trip on Redis);
    the page reruns only when it moved or the teacher left or came back. While
    the student explores alone, only this line follows the teacher."""
    version, away = store.pulse(s.code)  # one call (one round trip on Redis)
    if s.following:
        changed = version is None or version != s.drawn
    else:
        view = store.get(s.code)
        changed = signature(s, view) != s.drawn
    if changed or orphaned(away) != s.orphaned:
        st.rerun(scope="app")
    if not s.following and view is not None:
        st.markdown(f"the teacher is at step **{view.step}**", width="content")


def orphaned(away: float | None) -> bool:
    """The room's teacher has not acted nor had the room open for ORPHAN_SECONDS (closed tab, lost laptop)."""
    return away is not None and away > ORPHAN_SECONDS


def _away(view: RoomView, store: RoomStore, code: str) -> float | None:
    """Seconds since the room's teacher was last seen: read with the view where the store has it (no 2nd call)."""
    return view.away if view.away is not None else store.teacher_away(code)


def _orphan_notice(s: StudentRoom, view: RoomView, store: RoomStore) -> None:
    away = _away(view, store, s.code)
    s.orphaned = orphaned(away)
    if not s.orphaned:
        return
    minutes = int((away or 0) // 60)
    with st.container(border=True, key="room_orphaned"):
        st.warning(
            f"Your teacher has not been in room {s.code} for {minutes} minutes: they may have left. "
            f"You can keep exploring this run on your own, or leave the room.",
            icon=":material/person_off:",
        )
        st.button(
            "Leave the room", key="room_leave_orphaned", type="primary", on_click=_forget, args=(STUDENT_KEY,)
        )


def _break_away(s: StudentRoom) -> None:
    s.following = False
    s.run = None  # built from the picture they were looking at on the next run (s.seen)


def _rejoin(s: StudentRoom) -> None:
    s.following = True
    s.run, s.synced_json = None, None  # back on the shared picture; their copy is dropped
    s.drawn = None


def _student_command(s: StudentRoom, cmd: dict) -> None:
    if s.run is not None and _guard(s.flash, lambda: s.run.apply(cmd)):
        s.synced_json = None  # the copy now differs from the teacher's recipe: rebuild on rejoin


def _student_question(s: StudentRoom, view: RoomView, store: RoomStore) -> None:
    q = view.question
    if q is None:
        st.caption(":material/quiz: When your teacher asks a question, it appears here.")
        return
    with st.container(border=True, key="room_question"):
        st.markdown("#### Your teacher asks")
        st.markdown(_qtext(q.text, q.markdown))
        letters = [chr(65 + j) for j in range(len(q.choices))]
        mine = s.answers.get(q.qid)
        if not q.revealed:
            st.radio(
                "Your answer",
                range(len(q.choices)),
                index=None,
                key=f"room_answer_{q.qid}",
                format_func=lambda j: f"{letters[j]}. {_qtext(q.choices[j], q.markdown)}",
            )
            st.button(
                "Change my answer" if mine is not None else "Send my answer",
                key="room_send",
                type="primary",
                on_click=_send,
                args=(s, store, q.qid),
            )
            if mine is not None:
                st.caption(
                    f"You answered {letters[mine]}. You can change it until your teacher reveals the answer. "
                    f"Answers are anonymous: only the counts are kept."
                )
        else:
            if mine is not None:
                right = q.answer is not None and mine == q.answer
                st.markdown(f"You answered **{letters[mine]}**" + (" — right!" if right else ""))
            _reveal_text(q)
            st.caption("  \n".join(f"{letters[j]}. {_qtext(c, q.markdown)}" for j, c in enumerate(q.choices)))
            live_chart(
                answer_histogram(q.choices, q.counts, q.answer, True), "room_student_histogram", PLOTLY_CONFIG
            )


def _send(s: StudentRoom, store: RoomStore, qid: int) -> None:
    choice = st.session_state.get(f"room_answer_{qid}")
    if choice is None:
        s.flash.append(("error", "answer: pick one of the choices first"))
        return
    if _guard(s.flash, lambda: store.answer(s.code, qid, choice, s.answers.get(qid)) and None):
        s.answers[qid] = choice


if __name__ == "__main__":  # Streamlit runs page files as __main__; importing this module draws nothing
    render()
