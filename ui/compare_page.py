"""The Compare page: one scenario, two runs that differ in one setting, driven by the same buttons.

Top: what to compare (a preset and a ready-made pair such as acks=1 vs acks=all, or your own
`scope.config=value` per side). Then one Step / Back / Play that moves both runs to the next moment either
has something to show (`engine.compare.ComparePair`, aligned on simulated time), commands that hit both
(crash a broker, slow a broker, crash a consumer), the difference strip (where the runs part first, and
the outcome of each), and two panels with the same pictures side by side. The run lives in
`st.session_state` (one `CompareSession` per browser session); nothing is shared between users. The address
bar holds the comparison as `?step=&state=` (ui/share.py packs `ComparePair.to_state()` as it packs a
Playground run), so Share, or copying the URL, hands someone else the same picture.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from engine.compare import ComparePair, apply_changes
from engine.errors import KafkaError, UserInputError
from engine.events import ELECTION_KINDS, REBALANCE_KINDS, Event
from engine.scenario import PRESETS, build_cluster
from ui.builder import share_box
from ui.compare_view import code_span, render_difference, render_panels
from ui.figures.diagram import natural_key
from ui.session import guarded
from ui.share import ShareError, decode_params, encode_state
from ui.trace_panel import md_escape, render_trace_panel

SESSION_KEY = "kc_compare"
CUSTOM = "Your own settings"
# label -> (left changes, right changes, preset it shows best on, what to try)
PAIRS: dict[str, tuple[list[str], list[str], str, str]] = {
    "acks=1 vs acks=all": (
        ["producer.acks=1"],
        ["producer.acks=all"],
        "Broker failure",
        "**Slow** the two brokers that follow payments-0's leader (its chip is filled blue), **Step until the next "
        "acknowledgement** of payments-0, then **Crash** its leader and **Step until a lost record**: acks=1 "
        "loses what its leader had acknowledged alone; acks=all loses nothing, but its writes stall until the "
        "dead broker leaves the ISR (watch throughput).",
    ),
    "eager (range) vs cooperative-sticky": (
        ["consumer.partition.assignment.strategy=range"],
        ["consumer.partition.assignment.strategy=cooperative-sticky"],
        "Default",
        "Let the group settle, then **Add a consumer** (or crash one) and **Step until the next rebalance**: "
        "eager revokes every partition first; cooperative moves only the ones that change owner.",
    ),
    "range vs sticky": (
        ["consumer.partition.assignment.strategy=range"],
        ["consumer.partition.assignment.strategy=sticky"],
        "Queue vs pub-sub",
        "**Crash a consumer** and compare who owns what after the rebalance: sticky keeps most partitions "
        "where they were.",
    ),
    "linger.ms=0 vs linger.ms=50": (
        ["producer.linger.ms=0"],
        ["producer.linger.ms=50"],
        "Default",
        "Play for a few seconds and compare ack latency and the batches: waiting 50 ms fills bigger batches "
        "(fewer requests) at the price of latency.",
    ),
}
DEFAULT_PAIR = "acks=1 vs acks=all"
DEFAULT_PRESET = PAIRS[DEFAULT_PAIR][2]
# label -> (seconds between ticks, steps per tick). One tick a second at most: each tick redraws six charts,
# and a browser busy redrawing faster than that answers clicks late.
SPEEDS: dict[str, tuple[float, int]] = {"1 step/s": (1.0, 1), "5 steps/s": (1.0, 5), "25 steps/s": (1.0, 25)}
UNTIL: dict[str, tuple[str, Callable[[Event], bool]]] = {  # label -> (what, does this event end the run?)
    "the next acknowledgement": ("acknowledgement", lambda e: e.kind == "batch_acked"),
    "the next leader election": ("leader election", lambda e: e.kind in ELECTION_KINDS),
    "the next rebalance": ("rebalance", lambda e: e.kind in REBALANCE_KINDS),
    "a lost record": ("lost record", lambda e: e.kind == "records_lost"),
}
ONE_SECOND = "1 s of simulated time"
RUN_UNTIL_SECONDS = 8.0
RUN_UNTIL_STEPS = 5000
SLOW_MS = 30
MAX_CHANGE_CHARS = 300
MAX_LINK_STEP = 5000  # a link replays every step of both runs when it opens: keep that within seconds
LINK_PAGE = "the Compare page"


class CompareError(UserInputError):
    """A comparison that cannot be built; the message starts with the field ("Left settings: ...")."""


def parse_changes(text: str, side: str) -> list[str]:
    """`scope.config=value` changes, one per line (or separated by ';'), validated against Kafka's configs."""
    if len(text or "") > MAX_CHANGE_CHARS:
        raise CompareError(f"{side} settings: at most {MAX_CHANGE_CHARS} characters")
    out = [c.strip() for line in (text or "").splitlines() for c in line.split(";") if c.strip()]
    if not out:
        raise CompareError(
            f"{side} settings: write at least one change like producer.acks=1 "
            f"(scope.config=value; scope is producer, consumer, topic or broker)"
        )
    return out


@dataclass
class CompareSession:
    """One browser session's two runs, their per-step event marks and the play state."""

    preset: str
    pair_name: str
    left_changes: list[str]
    right_changes: list[str]
    pair: ComparePair
    marks: dict[int, tuple[int, int]] = field(default_factory=dict)  # position -> (left seq, right seq)
    playing: bool = False
    speed: str = "5 steps/s"
    skip_tick: bool = False
    flash: list[tuple[str, str]] = field(default_factory=list)
    version: int = 0

    def __post_init__(self) -> None:
        self._record()

    @classmethod
    def build(
        cls, preset: str, pair_name: str, left_text: str | None = None, right_text: str | None = None
    ) -> CompareSession:
        """Both runs from a preset and a named pair (or, for CUSTOM, the two settings texts)."""
        if not isinstance(preset, str) or preset not in PRESETS:
            raise CompareError(f"Preset: choose one of {', '.join(PRESETS)}")
        if pair_name in PAIRS and pair_name != CUSTOM:
            left, right = list(PAIRS[pair_name][0]), list(PAIRS[pair_name][1])
        elif pair_name == CUSTOM:
            left, right = parse_changes(left_text or "", "Left"), parse_changes(right_text or "", "Right")
        else:
            raise CompareError(f"Compare: choose one of {', '.join([*PAIRS, CUSTOM])}")
        scenario = PRESETS[preset]
        for side, changes in (("Left", left), ("Right", right)):
            try:
                build_cluster(apply_changes(scenario, changes))  # name the side before building the pair
            except (KafkaError, UserInputError) as exc:
                raise CompareError(f"{side} settings: {exc}") from None
        return cls(preset, pair_name, left, right, ComparePair(scenario, left=left, right=right))

    @classmethod
    def from_link(cls, params: dict[str, str]) -> CompareSession:
        """The comparison a shared Compare link describes, at its step (ShareError naming the problem)."""
        state = decode_params(params, LINK_PAGE)
        if "left" not in state and "right" not in state:
            raise ShareError(
                "Link parameter 'state' holds a Playground run, not a comparison: open it on the "
                "Playground page."
            )
        preset, pair_name = state.get("preset"), state.get("pair")
        if not isinstance(preset, str) or preset not in PRESETS:
            raise ShareError(
                f"Link parameter 'state' names preset {str(preset)[:40]!r}; it must be one of "
                f"{', '.join(PRESETS)}."
            )
        if state["position"] > MAX_LINK_STEP:
            raise ShareError(
                f"Link parameter 'step' is {state['position']}; a Compare link opens at most step "
                f"{MAX_LINK_STEP}."
            )
        target = state["position"]
        try:  # one step short of the target, then a Step: the narration shows that step's events
            pair = ComparePair.from_state({**state, "position": max(0, target - 1)})
        except (KafkaError, UserInputError) as exc:
            raise ShareError(f"Link parameter 'state' holds an invalid comparison: {exc}") from None
        left, right = pair.changes
        if (
            not isinstance(pair_name, str)
            or pair_name not in PAIRS
            or (PAIRS[pair_name][0], PAIRS[pair_name][1]) != (left, right)
        ):
            pair_name = CUSTOM
        s = cls(preset, pair_name, list(left), list(right), pair)
        if target > 0:
            s.step()
        return s

    def share_params(self) -> dict[str, str]:
        """`?step=&state=` of this comparison (ui/share.py packs it as it packs a Playground run)."""
        return encode_state({**self.pair.to_state(), "preset": self.preset, "pair": self.pair_name})

    # -- views --------------------------------------------------------------------------------------------------
    @property
    def position(self) -> int:
        return self.pair.position

    @property
    def labels(self) -> tuple[str, str]:
        return "; ".join(self.left_changes), "; ".join(self.right_changes)

    def events_now(self) -> tuple[list[Event], list[Event]]:
        """The events of the current step on each side (what the narration tells)."""
        p = self.position
        if p not in self.marks:
            return self.pair.left.events.events[-1:], self.pair.right.events.events[-1:]
        start = self.marks.get(p - 1, (0, 0)) if p > 0 else (0, 0)
        end = self.marks[p]
        out = []
        for c, a, b in ((self.pair.left, start[0], end[0]), (self.pair.right, start[1], end[1])):
            out.append([e for e in c.events.since(a) if e.seq <= b])
        return out[0], out[1]

    # -- moving -------------------------------------------------------------------------------------------------
    def step(self, n: int = 1) -> list[tuple[list[Event], list[Event]]]:
        out = []
        for _ in range(n):
            a, b = self.pair.step()
            self._record()
            out.append((a, b))
            if not a and not b:
                self.playing = False
                self.flash.append(("info", "Nothing more happens in either run: both clusters are idle."))
                break
        return out

    def back(self) -> None:
        self.pair.back()

    def reset(self) -> None:
        """Back to step 0 of the same comparison, forgetting the commands."""
        fresh = CompareSession.build(
            self.preset, CUSTOM, "\n".join(self.left_changes), "\n".join(self.right_changes)
        )
        self.pair, self.marks, self.playing = fresh.pair, fresh.marks, False

    def apply(self, command: dict[str, Any]) -> str:
        """The same command on both runs, at this step (KafkaError / ValueError propagate to the page)."""
        msg = self.pair.apply(command)
        self.marks = {p: m for p, m in self.marks.items() if p < self.position}
        self._record()
        return msg

    def run_until(self, label: str) -> str:
        """Step both runs until either shows the event `label` names, within a wall-clock budget."""
        if label not in UNTIL and label != ONE_SECOND:
            raise CompareError(f"Step until: choose one of {', '.join([*UNTIL, ONE_SECOND])}")
        t0 = time.monotonic()
        start = self.pair.left.now
        if label == ONE_SECOND:
            n = 0
            while self.pair.left.now < start + 1000 and time.monotonic() - t0 < RUN_UNTIL_SECONDS:
                n += 1
                a, b = self.step()[-1]
                if not a and not b:
                    break
            return f"Ran {n} step(s): {(self.pair.left.now - start) / 1000:.3f} s of simulated time passed."
        what, hit = UNTIL[label]
        for n in range(1, RUN_UNTIL_STEPS + 1):
            a, b = self.step()[-1]
            found = [(side, e) for side, evs in (("left", a), ("right", b)) for e in evs if hit(e)]
            if found:
                side, e = found[0]
                return f"Ran {n} step(s) to the next {what} ({side} run): {e.summary}"
            if not a and not b:
                return f"Nothing more happens: no {what} ahead."
            if time.monotonic() - t0 > RUN_UNTIL_SECONDS:
                break
        secs = (self.pair.left.now - start) / 1000
        return f"No {what} yet after {n} step(s) ({secs:.1f} s of simulated time); press again to keep going."

    def _record(self) -> None:
        self.marks[self.position] = (self.pair.left.events.seq, self.pair.right.events.seq)


def get_session() -> CompareSession:
    """This browser session's comparison: from the link's query parameters on first use, else the default."""
    s = st.session_state.get(SESSION_KEY)
    if s is None:
        params = {k: st.query_params[k] for k in st.query_params}
        if "state" in params:
            try:
                s = CompareSession.from_link(params)
                s.flash.append(
                    ("info", f"Opened the shared comparison of “{s.preset}” at step {s.position}.")
                )
            except ShareError as exc:
                s = CompareSession.build(DEFAULT_PRESET, DEFAULT_PAIR)
                s.flash.append(
                    ("error", f"This link could not be opened: {exc} Showing {DEFAULT_PAIR} instead.")
                )
        else:
            s = CompareSession.build(DEFAULT_PRESET, DEFAULT_PAIR)
        st.session_state[SESSION_KEY] = s
    return s


def _sync_link(s: CompareSession) -> None:
    """Keep the URL's query parameters equal to this comparison, so copying the address bar shares it."""
    params = s.share_params()
    if any(st.query_params.get(k) != v for k, v in params.items()):
        st.query_params.update(params)


# -- page --------------------------------------------------------------------------------------------------------
def render() -> None:
    st.title("Compare two runs")
    st.caption(
        "The same scenario and seed twice, one setting changed. One Step moves both runs to the next "
        "moment either has something to show, so they stay aligned on simulated time."
    )
    s = get_session()
    _setup(s)
    every = SPEEDS[s.speed][0] if s.playing else None
    st.fragment(run_every=every)(_live)(s, (s.playing, s.speed))


def _setup(s: CompareSession) -> None:
    with st.expander(
        f"**What to compare** — {s.preset}: left {code_span(s.labels[0])} vs right {code_span(s.labels[1])}",
        expanded=False,
        key="cmp_setup",
    ):
        ss = st.session_state
        ss.setdefault("cmp_preset", s.preset)
        ss.setdefault("cmp_pair", s.pair_name)
        cols = st.columns([1, 1, 1])
        cols[0].selectbox("Preset", list(PRESETS), key="cmp_preset")
        pair_name = cols[1].selectbox("Compare", [*PAIRS, CUSTOM], key="cmp_pair", on_change=_pair_picked)
        if pair_name == CUSTOM:
            ss.setdefault("cmp_left", "\n".join(s.left_changes))
            ss.setdefault("cmp_right", "\n".join(s.right_changes))
            a, b = st.columns(2)
            a.text_area(
                "Left settings",
                key="cmp_left",
                height=80,
                help="One scope.config=value per line; scope is producer, consumer, topic or broker.",
            )
            b.text_area(
                "Right settings",
                key="cmp_right",
                height=80,
                help="For example producer.linger.ms=50 or topic.unclean.leader.election.enable=true.",
            )
        else:
            st.caption(
                f"Left `{'; '.join(PAIRS[pair_name][0])}` · right `{'; '.join(PAIRS[pair_name][1])}` · "
                f"shows best on the “{PAIRS[pair_name][2]}” preset."
            )
        cols[2].button("Build both runs", key="cmp_build", type="primary", on_click=_rebuild)


def _pair_picked() -> None:
    """A ready-made pair comes with the preset it shows best on (the teacher can still change it)."""
    pair = st.session_state.get("cmp_pair")
    if pair in PAIRS:
        st.session_state["cmp_preset"] = PAIRS[pair][2]


def _rebuild() -> None:
    """Build from the widgets' values as they are now (a callback's bound args would be one rerun old)."""
    old = st.session_state.get(SESSION_KEY)
    ss = st.session_state
    preset, pair_name = ss.get("cmp_preset", DEFAULT_PRESET), ss.get("cmp_pair", DEFAULT_PAIR)
    left, right = ss.get("cmp_left"), ss.get("cmp_right")
    try:
        s = CompareSession.build(preset, pair_name, left, right)
    except CompareError as exc:
        if old is not None:
            old.flash.append(("error", f"{exc} (the current comparison is kept)"))
        return
    s.version = (old.version + 1) if old is not None else 0
    _stop_playing()
    s.flash.append(("info", f"Built both runs of “{preset}”: left {s.labels[0]} vs right {s.labels[1]}."))
    st.session_state[SESSION_KEY] = s


def _stop_playing() -> None:
    st.session_state["cmp_playing"] = False


def _reset(s: CompareSession) -> None:
    _stop_playing()
    guarded(s, s.reset)


def _set_speed(s: CompareSession) -> None:
    s.speed = st.session_state.get("cmp_speed") or s.speed
    s.skip_tick = True


def _live(s: CompareSession, mode: tuple[bool, str]) -> None:
    s = st.session_state.get(SESSION_KEY, s)  # a rebuild replaced the session: draw the new one
    # Play is a toggle, not a button: its value rides along with every request, so a click that lands
    # while a timer tick is running cannot get lost the way a one-shot button trigger can.
    s.playing = bool(st.session_state.get("cmp_playing", False))
    if (s.playing, s.speed) != mode:
        st.rerun(scope="app")
    if s.playing and not s.skip_tick:
        guarded(s, lambda: s.step(SPEEDS[s.speed][1]) and None)
        if not s.playing:  # the runs went idle
            _stop_playing()
    s.skip_tick = False
    _controls(s)
    for level, msg in s.flash:
        (st.error if level == "error" else st.info)(
            md_escape(msg), icon=":material/error:" if level == "error" else ":material/info:"
        )
    s.flash.clear()
    _commands(s)
    _difference(s)
    _panels(s)
    _follow(s)
    _sync_link(s)


def _controls(s: CompareSession) -> None:
    with st.container(horizontal=True, vertical_alignment="bottom", key="cmp_controls"):
        st.button(
            "Step",
            key="cmp_step",
            type="primary",
            disabled=s.playing,
            on_click=guarded,
            args=(s, lambda: s.step() and None),
            help="Both runs to the next moment either shows something.",
        )
        st.button(
            "Back",
            key="cmp_back",
            disabled=s.playing or s.position == 0,
            on_click=guarded,
            args=(s, s.back),
            help="Both runs to the exact previous step (replayed from a checkpoint).",
        )
        st.toggle("Play", key="cmp_playing", help="Step both runs automatically at the chosen speed.")
        st.selectbox(
            "Speed",
            list(SPEEDS),
            index=list(SPEEDS).index(s.speed),
            key="cmp_speed",
            on_change=_set_speed,
            args=(s,),
            label_visibility="collapsed",
            width=130,
        )
        st.button(
            "Reset",
            key="cmp_reset",
            on_click=_reset,
            args=(s,),
            help="Back to step 0 of both runs, forgetting what you broke.",
        )
        st.selectbox(
            "Step until", [*UNTIL, ONE_SECOND], key="cmp_until", width=240, label_visibility="collapsed"
        )
        st.button(
            "Step until",
            key="cmp_run_until",
            disabled=s.playing,
            on_click=guarded,
            args=(s, lambda: s.run_until(st.session_state.get("cmp_until") or next(iter(UNTIL)))),
            help="Step both runs until either shows this.",
        )
        with st.popover("Share", key="cmp_share", help="A link that reopens exactly this comparison."):
            share_box(s)
    st.markdown(f"**Step {s.position}** · simulated time **{s.pair.left.now / 1000:.3f} s**")


def _commands(s: CompareSession) -> None:
    snap = s.pair.left.snapshot(tail=0)
    with st.container(border=True, key="cmp_commands"):
        st.markdown("**Do the same thing to both runs**")
        with st.container(horizontal=True, key="cmp_broker_cmds"):
            for b in sorted(snap.brokers, key=lambda b: b.id):
                if b.alive:
                    st.button(
                        f"Crash broker {b.id}",
                        key=f"cmp_crash_b{b.id}",
                        on_click=guarded,
                        args=(s, lambda b=b.id: s.apply({"op": "crash_broker", "broker": b})),
                    )
                else:
                    st.button(
                        f"Restart broker {b.id}",
                        key=f"cmp_restart_b{b.id}",
                        on_click=guarded,
                        args=(s, lambda b=b.id: s.apply({"op": "restart_broker", "broker": b})),
                    )
                slow = 0 if b.extra_latency_ms else SLOW_MS
                st.button(
                    f"Slow broker {b.id}" if slow else f"Unslow broker {b.id}",
                    key=f"cmp_slow_b{b.id}",
                    disabled=not b.alive,
                    on_click=guarded,
                    args=(
                        s,
                        lambda b=b.id, ms=slow: s.apply(
                            {"op": "slow_broker", "broker": b, "extra_latency_ms": ms}
                        ),
                    ),
                    help=f"Add {SLOW_MS} ms to every message to and from this broker (followers fall behind)."
                    if slow
                    else "Back to normal network latency.",
                )
        with st.container(horizontal=True, key="cmp_consumer_cmds"):
            for k in sorted(snap.consumers, key=lambda k: natural_key(k.id)):
                live = k.alive and k.state not in ("closed", "crashed")
                st.button(
                    f"Crash consumer {k.id}",
                    key=f"cmp_crash_c_{k.id}",
                    disabled=not live,
                    on_click=guarded,
                    args=(s, lambda k=k.id: s.apply({"op": "crash_consumer", "consumer": k})),
                )
            for gid in sorted({g.group_id for g in snap.groups}, key=natural_key):
                st.button(
                    f"Add a consumer to {gid}",
                    key=f"cmp_add_c_{gid}",
                    on_click=guarded,
                    args=(s, lambda g=gid: s.apply({"op": "add_consumer", "group": g})),
                )
        if s.pair_name in PAIRS:
            st.caption(f":material/lightbulb: Try: {PAIRS[s.pair_name][3]}")


def _difference(s: CompareSession) -> None:
    render_difference(s.pair, s.labels, key="cmp")


def _panels(s: CompareSession) -> None:
    snap = s.pair.left.snapshot(tail=0)
    topics = [t.name for t in snap.topics if not t.internal]
    topic = (
        st.selectbox("Topic", topics, key="cmp_topic") if len(topics) > 1 else (topics[0] if topics else None)
    )
    quiet = (
        "Press Step to start both runs."
        if s.position == 0
        else "Nothing visible happened in this run at this step."
    )
    render_panels(s.pair, s.labels, s.events_now(), topic, key="cmp", quiet_text=quiet)


def _follow(s: CompareSession) -> None:
    with st.container(key="cmp_follow"):
        st.markdown("#### Follow one message")
        side = (
            st.segmented_control("In the run", ["left", "right"], default="left", key="cmp_trace_side")
            or "left"
        )
        c = s.pair.left if side == "left" else s.pair.right
        render_trace_panel(c, key=f"cmp_trace_{side}", show_diagram=False)


if __name__ == "__main__":  # Streamlit runs page files as __main__; importing this module draws nothing
    render()
