"""One Playground run per browser session, and the only place where a click becomes an engine command.

`PlaygroundSession` wraps an `engine.timeline.Timeline` and remembers, per visible step, the last event
sequence number (so the narration can show "what this step did" and the timeline list can jump back)
and a lag sample (for the lag chart; the engine's metrics have no lag series). It imports no Streamlit:
`get_session()` is the only function that touches `st.session_state`, so the logic is testable alone.

While real Kafka clients are served (`live`, see ui/real_clients.py) the run is off the timeline: `cluster` is
the latest copy of the served cluster, commands go to the server's thread, and everything that moves along
the timeline (step, back, goto, reset, run_until) raises a ValueError saying why, until serving stops and the
run is back at the step where it began.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from engine.commands import parse_command
from engine.errors import KafkaError, UserInputError
from engine.events import PRODUCE_ENDS, RIDE_ALONG_KINDS, ROUTINE_KINDS, UNTIL_KINDS, Event
from engine.scenario import PRESETS, Scenario, ScenarioError
from engine.timeline import Timeline

from . import kafka_cli
from .share import ShareError, decode_params, encode_state

SESSION_KEY = "kc_playground"
DEFAULT_PRESET = "Default"
RUN_UNTIL_SECONDS = 6.0  # wall-clock budget of "run until": big clusters take many steps per simulated second
RUN_UNTIL_STEPS = 4000
REPLAY_CHECKPOINT_EVERY = 250  # checkpoint spacing of a long forward jump before its last REPLAY_TAIL steps
REPLAY_TAIL = 100
# Events worth the big narration line when a step produced several.
PRIORITY = (
    "records_lost",
    "partition_offline",
    "leader_elected",
    "controller_elected",
    "broker_crashed",
    "broker_stopped",
    "controlled_shutdown",
    "broker_isolated",
    "isr_shrink",
    "isr_expand",
    "rebalance_started",
    "rebalance_completed",
    "assignment_received",
    "member_expired",
    "consumer_crashed",
    "batch_failed",
    "send_failed",
    "producer_epoch_bumped",
    "send_blocked",
    "produce_rejected",
)
# What a long step did in the background, kind -> words for "N <words>" (the rest are counted as "other").
BACKGROUND = {
    "batch_sent": "batch(es) sent",
    "batch_appended": "batch(es) appended by leaders",
    "records_replicated": "copies by followers",
    "high_watermark": "high watermark moves",
    "batch_acked": "acknowledgements",
    "batch_retried": "retries",
    "records_fetched": "fetches with records",
    "records_polled": "poll() results",
    "offsets_committed": "offset commits",
    "message_dropped": "requests lost on the network",
}
LIVE_NOTE = (
    "Real Kafka clients are connected, so simulated time follows the wall clock: Step, Back, Play, Reset "
    "and jumping to a step are off. Switch off “Accept real clients” to return to step {position} and "
    "step again."
)
IDLE_NOTE = (
    "Nothing visible happens any more: the cluster is idle (no producer is sending). Send records "
    "(Producers tab), add a consumer or break something, then Step again."
)
SPEEDS: dict[str, tuple[float, int]] = {  # label -> (seconds between reruns, steps per rerun)
    "1 step/s": (1.0, 1),
    "3 steps/s": (0.35, 1),
    "10 steps/s": (0.4, 4),
    "50 steps/s": (0.5, 25),
}


@dataclass
class PlaygroundSession:
    timeline: Timeline
    marks: dict[int, int] = field(default_factory=dict)  # position -> cluster.events.seq once there
    lag: dict[int, tuple[float, dict[str, int]]] = field(default_factory=dict)  # position -> (time s, lags)
    version: int = 0  # bumps on every new scenario, so builder widgets re-read their defaults
    playing: bool = False
    speed: str = "3 steps/s"
    skip_tick: bool = False  # a button rerun, not a Play timer tick: do not also step
    last_action: str | None = None
    last_cli: str | None = None
    flash: list[tuple[str, str]] = field(default_factory=list)  # (level, message), shown once
    live: Any = None  # a ui.real_clients.LiveRun while real Kafka clients are served, else None
    real_port: int = 9092  # the first broker's port for "Accept real clients"
    real_error: str | None = None  # why the last attempt to accept real clients failed (shown until fixed)
    clock: dict[int, int] = field(default_factory=dict)  # position -> simulated ms once there
    waits: dict[int, str] = field(default_factory=dict)  # position -> the timeout the step to it waited out

    def __post_init__(self) -> None:
        if not self.marks:  # built around an existing timeline (e.g. handed over by the Lessons page)
            self._record()

    # -- construction -------------------------------------------------------------------------------------------
    @classmethod
    def new(cls, scenario: Scenario) -> PlaygroundSession:
        return cls(Timeline(scenario))

    @classmethod
    def from_link(cls, params: dict[str, str]) -> PlaygroundSession:
        """Rebuild the run a shared link describes (ShareError if the link is bad)."""
        state = decode_params(params)
        try:
            tl = Timeline.from_state({**state, "position": 0})
        except (KafkaError, UserInputError) as exc:
            raise ShareError(f"Link parameter 'state' holds an invalid run: {exc}") from None
        s = cls(tl)
        s.goto(state["position"])
        return s

    def load(self, scenario: Scenario) -> None:
        """Start over with another scenario (the builder's Apply, a preset or an uploaded file)."""
        if self.live is not None:
            from .real_clients import stop

            stop(self, f"Loading “{scenario.name}”")
        self.real_error = None
        self.timeline = Timeline(scenario)
        self.marks, self.lag, self.clock, self.waits = {}, {}, {}, {}
        self.version += 1
        self.playing = False
        self.last_action = f"Loaded scenario “{scenario.name}”"
        self.last_cli = kafka_cli.scenario_setup(scenario)
        self._record()

    # -- views ----------------------------------------------------------------------------------------------
    @property
    def cluster(self):
        """The cluster to draw: the timeline's, or while serving real clients the latest copy of the served one."""
        return self.live.view if self.live is not None else self.timeline.cluster

    @property
    def serving(self) -> bool:
        """Real Kafka clients are being served. A server that stopped by itself (nobody watched it for a while)
        is cleaned up here: the run goes back to the step where serving began."""
        if self.live is not None and not self.live.running:
            from .real_clients import stop

            stop(self)
        return self.live is not None

    def _not_live(self) -> None:
        if self.serving:
            raise UserInputError(LIVE_NOTE.format(position=self.position))

    @property
    def scenario(self) -> Scenario:
        return self.timeline.scenario

    @property
    def position(self) -> int:
        return self.timeline.position

    def events_at(self, position: int) -> list[Event] | None:
        """The events the step to `position` produced (None when unknown, e.g. beyond the recorded marks)."""
        if position not in self.marks or position > self.position:
            return None
        start = self.marks.get(position - 1, 0) if position > 0 else 0
        if position > 0 and position - 1 not in self.marks:
            return None
        log = self.timeline.cluster.events  # the timeline's own, also while real clients use a served copy
        return [e for e in log.since(start) if e.seq <= self.marks[position]]

    def current_events(self) -> list[Event]:
        if self.live is not None:  # serving: what happened since the previous redraw
            return self.live.current_events()
        evs = self.events_at(self.position)
        if evs is None:
            evs = self.cluster.events.events[-1:]
        return evs

    @staticmethod
    def headline(events: list[Event]) -> Event | None:
        """The event to narrate in big letters: the most important one of the step, else the newest one that
        ended it (never an older event the step merely carried along)."""
        if not events:
            return None
        for kind in PRIORITY:
            for e in events:
                if e.kind == kind:
                    return e
        for pick in (
            lambda e: e.kind not in ROUTINE_KINDS and e.kind not in RIDE_ALONG_KINDS,
            lambda e: e.kind == "records_polled",
            lambda e: e.kind in PRODUCE_ENDS,
            lambda e: e.kind not in RIDE_ALONG_KINDS,
        ):
            for e in reversed(events):
                if pick(e):
                    return e
        return events[-1]

    def story(self, position: int, events: list[Event]) -> tuple[Event | None, str, str | None]:
        """(headline event, headline text, what passed) of the step to `position`. A step that let time pass
        (+1 s, a wait for a timeout, Step until) says how long and why, so text and picture show one moment."""
        head = self.headline(events)
        move = self.timeline.move_at(position - 1) if position > 0 else None
        ms = (
            self.clock.get(position, 0) - self.clock.get(position - 1, 0) if position - 1 in self.clock else 0
        )
        secs = f"{ms / 1000:.1f} s pass" if ms != 1000 else "1 s passes"
        wait = self.waits.get(position)
        if move is not None and move.startswith("ms:"):
            bits = background(events)
            text = f"{secs}: " + (
                head.summary
                if head is not None and head.kind not in ROUTINE_KINDS | RIDE_ALONG_KINDS
                else (bits[0].upper() + bits[1:] if bits else "nothing visible happens")
            )
            return head, text, None
        if move is not None and move.startswith("until:"):
            what = move.split(":")[1]
            found = head is not None and head.kind in UNTIL_KINDS.get(what, ())
            text = (
                f"{secs} to the next {what}: {head.summary}"
                if found
                else f"{secs} and no {what} yet" + (f"; last: {head.summary}" if head else "")
            )
            return head, text, None
        if head is None:
            return (
                None,
                (
                    "Press Step to start the cluster."
                    if position == 0
                    else "Nothing visible happened: the cluster is idle."
                ),
                None,
            )
        if ms >= 1000:
            return head, f"{secs}: {head.summary}", (f"While {wait}." if wait else None)
        return head, head.summary, None

    def history(self, limit: int = 40) -> list[tuple[int, list[Event]]]:
        """The last `limit` steps up to now, newest first, with their events (for the clickable timeline)."""
        out = []
        for p in range(self.position, -1, -1):
            evs = self.events_at(p)
            if evs is None:
                break
            out.append((p, evs))
            if len(out) >= limit:
                break
        return out

    def lag_history(self) -> list[tuple[float, dict[str, int]]]:
        return [self.lag[p] for p in sorted(self.lag) if p <= self.position]

    def topic_of(self) -> dict[str, str]:
        """Producer id or group id -> the (first) topic it uses, from the scenario."""
        out = {p.id: p.topic for p in self.scenario.producers}
        out.update({g.group_id: g.topics[0] for g in self.scenario.groups})
        return out

    def share_params(self) -> dict[str, str]:
        return encode_state(self.timeline.to_state())

    # -- moving -------------------------------------------------------------------------------------------------
    def step(self, n: int = 1) -> list[Event]:
        """`n` visible steps. A step with no event means the cluster is idle: stop there and say so."""
        self._not_live()
        out: list[Event] = []
        for _ in range(n):
            evs = self.timeline.step()
            self._record(self.timeline.last_wait)
            out.extend(evs)
            if not evs:
                self.playing = False
                self.flash.append(("info", IDLE_NOTE))
                break
        return out

    def back(self) -> None:
        self._not_live()
        self.timeline.back()

    def goto(self, position: int) -> None:
        """Jump to a step: back through the timeline's checkpoints, forward by stepping (recording marks)."""
        self._not_live()
        position = max(0, int(position))
        if position < self.position:
            self.timeline.goto(position)
        # A long jump forward (a shared link replays every step) copies the cluster for Back only every
        # REPLAY_CHECKPOINT_EVERY steps until its last stretch: each copy costs ~25 ms after 1,000 steps.
        tl, every = self.timeline, self.timeline.checkpoint_every
        try:
            while self.position < position:
                near = position - self.position <= REPLAY_TAIL
                tl.checkpoint_every = every if near else max(every, REPLAY_CHECKPOINT_EVERY)
                self.step()
        finally:
            tl.checkpoint_every = every

    def reset(self) -> None:
        """Back to step 0 of the same scenario, forgetting the commands applied."""
        self._not_live()
        self.timeline.reset()
        self.marks, self.lag, self.clock, self.waits = {}, {}, {}, {}
        self.playing = False
        self.last_action, self.last_cli = "Reset to step 0", None
        self._record()

    def run_until(self, kinds: set[str] | frozenset[str] | str, what: str) -> str:
        """One step that runs until an event of `kinds` ("rebalance" | "election" or their kinds), within a
        wall-clock budget (the timeline records how far it got, so Back and links are exact); returns a sentence."""
        self._not_live()
        name = kinds if isinstance(kinds, str) else next(n for n, k in UNTIL_KINDS.items() if k == kinds)
        t0 = time.monotonic()
        start_ms = self.cluster.now
        self._forget_future_marks()
        evs = self.timeline.step_until(
            name, RUN_UNTIL_STEPS, lambda: time.monotonic() - t0 > RUN_UNTIL_SECONDS
        )
        self._record()
        secs = (self.cluster.now - start_ms) / 1000
        hit = next((e for e in evs if e.kind in UNTIL_KINDS[name]), None)
        if hit is not None:
            return f"Ran {secs:.1f} s to the next {what} in one step (Back undoes it): {hit.summary}"
        if not evs or self.cluster.events.seq == self.marks.get(self.position - 1):
            return f"Nothing more happens: no {what} ahead ({secs:.1f} s of simulated time)."
        return (
            f"No {what} yet after {secs:.1f} s of simulated time; press again to keep going, "
            f"or cause one (crash a broker, add or crash a consumer)."
        )

    def skip(self, ms: int) -> str:
        """Let `ms` of simulated time pass as one step (Back undoes it); returns a sentence for the user."""
        self._not_live()
        self._forget_future_marks()
        self.timeline.step(f"ms:{int(ms)}")
        self._record()
        return f"{ms / 1000:g} s of simulated time passed in one step"

    def _forget_future_marks(self) -> None:
        for d in (self.marks, self.lag, self.clock, self.waits):
            for p in [p for p in d if p > self.position]:
                del d[p]

    # -- commands -----------------------------------------------------------------------------------------------
    def apply(self, command: dict[str, Any]) -> str:
        """Validate and apply one command at this step (KafkaError / UserInputError propagate to the page). While
        serving real clients it runs on the served cluster instead and is not recorded: it cannot be replayed."""
        cmd = parse_command(command)
        if self.serving:
            msg = self.live.apply(cmd)
            self.last_action = f"{msg} (live, with real clients: not part of the replayable run)"
            self.last_cli = kafka_cli.for_command(command, self.topic_of())
            return msg
        msg = self.timeline.apply(cmd)
        self.marks = {p: s for p, s in self.marks.items() if p < self.position}
        self.lag = {p: s for p, s in self.lag.items() if p < self.position}
        self.clock = {p: s for p, s in self.clock.items() if p < self.position}
        self._record()
        self.last_action = msg
        self.last_cli = kafka_cli.for_command(command, self.topic_of())
        return msg

    def _record(self, wait: str | None = None) -> None:
        p = self.position
        c = self.cluster
        self.marks[p] = c.events.seq
        self.clock[p] = c.now
        if wait:
            self.waits[p] = wait
        else:
            self.waits.pop(p, None)
        # Lag as kafka-consumer-groups.sh counts it: partitions without a committed offset have none ("-").
        # The groups alone, not a whole snapshot: a shared link replays (and samples) every step.
        self.lag[p] = (
            c.now / 1000,
            {g.group_id: sum(v for tp, v in g.lag.items() if tp in g.committed) for g in c.group_views()},
        )


def background(events: list[Event]) -> str:
    """What a step carried along, counted by kind: "60 batch(es) sent, 120 copies by followers, ..."."""
    counts: dict[str, int] = {}
    for e in events:
        counts[e.kind] = counts.get(e.kind, 0) + 1
    return ", ".join(f"{counts[k]} {words}" for k, words in BACKGROUND.items() if counts.get(k))


def preset(name: str) -> Scenario:
    if name not in PRESETS:
        raise ScenarioError(f"preset must be one of {', '.join(PRESETS)}; got {name!r}")
    return PRESETS[name]


def get_session() -> PlaygroundSession:
    """This browser session's run: created on first use from the link's query parameters, else the default."""
    import streamlit as st

    s = st.session_state.get(SESSION_KEY)
    if s is None:
        params = {k: st.query_params[k] for k in st.query_params}
        if "state" in params:
            try:
                s = PlaygroundSession.from_link(params)
                s.flash.append(
                    ("success", f"Opened the shared run “{s.scenario.name}” at step {s.position}.")
                )
            except ShareError as exc:
                s = PlaygroundSession.new(preset(DEFAULT_PRESET))
                s.flash.append(("error", f"{exc} Showing the Default scenario instead."))
        else:
            s = PlaygroundSession.new(preset(DEFAULT_PRESET))
        st.session_state[SESSION_KEY] = s
    return s


def guarded(s: Any, action: Any) -> None:
    """Run a page control's action (Playground, Compare: sessions with `skip_tick` and `flash`); a Kafka or
    validation error becomes a message, never a traceback. The click already acted: Play must not also step."""
    s.skip_tick = True
    try:
        out = action()
    except (KafkaError, UserInputError) as exc:  # anything else is a bug: let it show
        s.flash.append(("error", str(exc)))
        return
    if isinstance(out, str):
        s.flash.append(("info", out))
