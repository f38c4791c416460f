"""Run a lesson on the real engine, step by step, through `engine.timeline.Timeline`.

Every engine command goes through `Timeline.apply` and every "run until" through `Timeline.step`, so the
state after any step is `Timeline.to_state()`: what "Open in Playground" carries and what a notebook
rebuilds. Results are cached per step, so Previous/Next on the Lessons page never re-runs anything.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from engine.errors import KafkaError, UserInputError
from engine.events import ELECTION_KINDS, REBALANCE_KINDS, Event
from engine.scenario import ScenarioError
from engine.snapshot import ClusterSnapshot
from engine.timeline import Timeline

from .checks import Check, CheckContext, Failure, parse_check, run_checks
from .comparison import CompareResult, quiet, run_compare
from .experiments import Progress, run_sweep
from .model import (
    CommandError,
    CompareOp,
    DropNextOp,
    EngineOp,
    Lesson,
    LessonOp,
    NewClusterOp,
    RunUntilOp,
    StepsOp,
    SweepOp,
    command_to_dict,
)

# Lessons cache every step's snapshot, so they never go back through the Timeline: skip its checkpoints
# (a deep copy every 25 steps would cost more than the whole step). The Playground builds its own.
NO_CHECKPOINTS = 10**9


class StepFailed(RuntimeError):
    """A command of a lesson step could not run on the engine (`command` is its index in the step)."""

    def __init__(self, message: str, command: int) -> None:
        super().__init__(message)
        self.command = command


@dataclass
class StepResult:
    index: int  # 0-based step index
    snapshot: ClusterSnapshot
    events: list[Event]  # what this step emitted
    messages: list[str]  # one sentence per command
    checks: list[tuple[Check, list[Failure]]]
    state: dict[str, Any]  # Timeline.to_state() after the step
    sweep: dict[str, Any] | None = None
    compare: CompareResult | None = None  # the step's side-by-side runs (a compare op); not in `state`
    replayable: bool = (
        True  # False once a step used a lesson-only fault (drop_next) the Timeline cannot record
    )
    seconds: float = 0.0
    all_events: list[Event] = field(
        default_factory=list, repr=False
    )  # the cluster's event log after the step

    @property
    def passed(self) -> bool:
        return all(not f for _, f in self.checks)


@dataclass
class LessonRun:
    """One lesson's timeline and the results of the steps run so far."""

    lesson: Lesson
    timeline: Timeline = field(init=False)
    results: list[StepResult] = field(default_factory=list)
    initial: ClusterSnapshot = field(init=False)
    initial_state: dict[str, Any] = field(init=False)
    replayable: bool = True
    drops: list[dict[str, Any]] = field(
        default_factory=list
    )  # lesson-only faults with the position they ran at
    progress: Progress | None = field(default=None, repr=False)  # sweep progress (the page's progress bar)

    def __post_init__(self) -> None:
        self.timeline = Timeline(self.lesson.scenario, checkpoint_every=NO_CHECKPOINTS)
        self.initial = self.timeline.cluster.snapshot()
        self.initial_state = self.timeline.to_state()

    @property
    def done(self) -> int:
        return len(self.results)

    def snapshot_before(self, index: int) -> ClusterSnapshot:
        """The picture a predict question is asked on: the state after the previous step."""
        return self.initial if index == 0 else self.results[index - 1].snapshot

    def run_to(self, index: int) -> StepResult:
        """Run steps until step `index` (0-based) has a result; returns it."""
        index = max(0, min(index, len(self.lesson.steps) - 1))
        while len(self.results) <= index:
            self.run_next()
        return self.results[index]

    def run_all(self) -> list[StepResult]:
        while len(self.results) < len(self.lesson.steps):
            self.run_next()
        return self.results

    def run_next(self) -> StepResult:
        i = len(self.results)
        step = self.lesson.steps[i]
        t0 = time.perf_counter()
        start_seq = self.timeline.cluster.events.seq
        messages: list[str] = []
        sweep = compare = None
        for n, cmd in enumerate(step.parsed_commands()):
            try:
                msg, out = self._apply(cmd)
            except (KafkaError, ScenarioError, UserInputError) as exc:
                raise StepFailed(f"{command_to_dict(cmd)} failed: {exc}", n) from exc
            messages.append(msg)
            if isinstance(cmd, NewClusterOp):
                start_seq = 0  # a new cluster: its whole event log belongs to this step
            if isinstance(out, CompareResult):
                compare = out
            elif out is not None:
                sweep = out
        tl = self.timeline
        c = tl.cluster
        snap = c.snapshot()
        events = list(c.events.since(start_seq))
        all_events = list(c.events.events)
        ctx = CheckContext(c, snap, events, all_events, sweep, compare)
        checks = run_checks(step.parsed_checks(), ctx)
        state = tl.to_state()
        if self.drops:
            state["lesson_faults"] = list(self.drops)
        res = StepResult(
            i,
            snap,
            events,
            messages,
            checks,
            state,
            sweep,
            compare,
            self.replayable,
            time.perf_counter() - t0,
            all_events,
        )
        self.results.append(res)
        return res

    # -- one command ------------------------------------------------------------------------------------------
    def _apply(self, cmd: LessonOp) -> tuple[str, dict[str, Any] | CompareResult | None]:
        tl = self.timeline
        match cmd:
            case EngineOp(command=command):
                return tl.apply(command), None
            case StepsOp(n=n):
                evs = tl.steps(n)
                return f"Stepped {n} time(s) ({len(evs)} event(s))", None
            case RunUntilOp(until=until, max_steps=limit, max_ms=max_ms):
                return self._run_until(until, limit, max_ms), None
            case DropNextOp(message=kind, count=count):
                tl.cluster.drop_messages(kind, count)
                self.replayable = False
                self.drops.append({"at": tl.position, "message": kind, "count": count})
                return f"The next {count} {kind} message(s) will be lost on the network", None
            case NewClusterOp(scenario=scenario):
                self.timeline = Timeline(scenario, checkpoint_every=NO_CHECKPOINTS)
                self.replayable, self.drops = True, []
                return f"Started a new cluster: {scenario.name}", None
            case SweepOp():
                out = run_sweep(self.lesson.scenario, cmd, self.progress)
                return f"Ran {len(cmd.values)} clusters with {cmd.config} = {cmd.values}", out
            case CompareOp():  # two fresh runs side by side; the step's own cluster is left as it is
                res = run_compare(cmd, tl.scenario)
                lost = [o.records_lost for o in res.outcomes()]
                return (
                    f"Compared left {res.labels[0]} with right {res.labels[1]} "
                    f"({len(res.messages)} command(s) on both; lost after ack: {lost[0]} vs {lost[1]})",
                    res,
                )
        raise ValueError(f"unknown command {cmd!r}")

    def _run_until(self, until: str | dict, limit: int, max_ms: int) -> str:
        """Step until the condition holds; a clear error (not a hang) when it does not come."""
        tl = self.timeline
        deadline = tl.cluster.now + max_ms
        start = tl.cluster.events.seq
        check = parse_check(until) if isinstance(until, dict) else None
        kinds = {"rebalance": REBALANCE_KINDS, "election": ELECTION_KINDS}.get(
            str(until), frozenset({str(until)})
        )
        what = (
            check.describe() if check else f"the cluster is {until}" if until in ("idle", "stable") else until
        )
        step_start = start
        for n in range(limit + 1):
            c = tl.cluster
            if check is not None:
                if not check.evaluate(CheckContext(c, None, c.events.since(start), c.events.events)):
                    return f"Ran {n} step(s) until {what}"
            elif until in ("idle", "stable"):
                if self._quiet(str(until)):
                    return f"Ran {n} step(s) until {what}"
            elif n:
                hit = next((e for e in c.events.since(step_start) if e.kind in kinds), None)
                if hit is not None:
                    return f"Ran {n} step(s) until: {hit.summary}"
            if n == limit or c.now >= deadline:
                break
            step_start = c.events.seq
            if not tl.step():
                break
        busy = "; ".join(tl.cluster.busy()[:2])
        raise CommandError(
            f"run_until {what}: not reached after {n} step(s) and "
            f"{(tl.cluster.now - deadline + max_ms) / 1000:.1f} s of simulated time"
            f"{' (busy: ' + busy + ')' if busy else ''}; raise max_steps/max_ms or add the command "
            f"that causes it before this one"
        )

    def _quiet(self, what: str) -> bool:
        return quiet(self.timeline.cluster, what)


def run_lesson(lesson: Lesson) -> LessonRun:
    run = LessonRun(lesson)
    run.run_all()
    return run


__all__ = ["LessonRun", "StepResult", "StepFailed", "run_lesson"]
