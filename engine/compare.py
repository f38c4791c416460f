"""Compare two runs side by side: the same scenario and seed, one setting changed.

`ComparePair(scenario, left=["producer.acks=1"], right=["producer.acks=all"])` builds two clusters that
differ only in those settings. One `step()` moves both to the next moment either of them has something to
show, so they stay aligned on simulated time; commands (crash broker 2, ...) go to both. `divergence()`
names the first event where the runs differ (`first_difference()` gives it as data), and `outcome()` sums up
each side: records lost, duplicates, acknowledgement latency p50/p99, throughput.

A change is `scope.config=value`: scope is producer, consumer, topic or broker (every producer / group /
topic of the scenario, or the cluster config), e.g. `consumer.partition.assignment.strategy=cooperative-sticky`,
`topic.unclean.leader.election.enable=true`, `producer.linger.ms=50`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from .cluster import Cluster
from .commands import Command, apply_command, parse_command
from .errors import ConfigError, UserInputError
from .events import Event
from .scenario import Scenario, build_cluster, validate_scenario
from .timeline import thin_checkpoints

SCOPES = ("producer", "consumer", "topic", "broker")
STATE_VERSION = 1  # of `ComparePair.to_state()`
MAX_STEP = 100_000
MAX_COMMANDS = 1000
MAX_CHANGES = 20


def _step_number(v: Any, field: str) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= MAX_STEP:
        raise UserInputError(f"{field} must be a whole number from 0 to {MAX_STEP}, got {str(v)[:20]!r}")
    return v


def _changes(v: Any, side: str) -> list[str]:
    if not isinstance(v, list) or not 1 <= len(v) <= MAX_CHANGES or not all(isinstance(c, str) for c in v):
        raise UserInputError(f"{side} must be a list of 1 to {MAX_CHANGES} changes like 'producer.acks=1'")
    for ch in v:
        parse_change(ch)
    return list(v)


def _value(raw: str) -> Any:
    low = raw.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    try:
        return int(raw)
    except ValueError:
        return raw.strip()


def parse_change(ch: str) -> tuple[str, str, Any]:
    """`producer.acks=1` -> ("producer", "acks", 1); ConfigError when it is not `scope.config=value`."""
    if not isinstance(ch, str) or "=" not in ch or "." not in ch.split("=", 1)[0]:
        raise ConfigError(f"a change looks like 'producer.acks=1' (scope.config=value), got {ch!r}")
    lhs, raw = ch.split("=", 1)
    scope, key = lhs.strip().split(".", 1)
    if scope not in SCOPES:
        raise ConfigError(f"change {ch!r}: scope must be one of {', '.join(SCOPES)}")
    return scope, key, _value(raw)


def apply_changes(s: Scenario, changes: list[str]) -> Scenario:
    """A copy of the scenario with `scope.config=value` changes applied (validated like any scenario)."""
    data = s.model_dump()
    for ch in changes:
        scope, key, val = parse_change(ch)
        if scope == "broker":
            data["broker_config"][key] = val
        else:
            items = {"producer": data["producers"], "consumer": data["groups"], "topic": data["topics"]}[
                scope
            ]
            if not items:
                raise ConfigError(f"change {ch!r}: the scenario has no {scope}s")
            for item in items:
                item["config"][key] = val
    return validate_scenario(data)


@dataclass(frozen=True, slots=True)
class Outcome:
    records_acked: int
    records_lost: int
    duplicates: int
    ack_latency_p50_ms: float | None
    ack_latency_p99_ms: float | None
    throughput_per_s: float


def outcome(c: Cluster) -> Outcome:
    m = c.metrics
    acked = sum(p.acked for p in c.producers.values())
    secs = max(c.now, 1) / 1000
    return Outcome(
        acked,
        c.losses.lost_count,
        sum(k.duplicates for k in c.consumers.values()),
        m.ack_percentile(0.5),
        m.ack_percentile(0.99),
        acked / secs,
    )


@dataclass(frozen=True, slots=True)
class Divergence:
    """The first event where two runs differ: its time, and each run's event there (None: that run has none)."""

    time_ms: int
    left: Event | None
    right: Event | None

    def __str__(self) -> str:
        if self.left is not None and self.right is not None:
            return f"t={self.time_ms} ms: left {_short(self.left)}; right {_short(self.right)}"
        side, e = ("left", self.left) if self.left is not None else ("right", self.right)
        assert e is not None
        return f"t={self.time_ms} ms: only the {side} run: {_short(e)}"


def first_difference(left: list[Event], right: list[Event]) -> Divergence | None:
    """The first moment the two runs' events differ (None while they agree)."""
    for a, b in zip(left, right, strict=False):
        if (a.time_ms, a.kind, a.summary) != (b.time_ms, b.kind, b.summary):
            return Divergence(min(a.time_ms, b.time_ms), a, b)
    if len(left) != len(right):
        n = min(len(left), len(right))
        e = left[n] if len(left) > len(right) else right[n]
        return Divergence(
            e.time_ms, e if len(left) > len(right) else None, e if len(right) > len(left) else None
        )
    return None


def divergence(left: list[Event], right: list[Event]) -> str | None:
    """The first moment the two runs' events differ, in a sentence (None while they agree)."""
    d = first_difference(left, right)
    return None if d is None else str(d)


def _short(e: Event) -> str:
    s = e.summary
    return s if len(s) <= 140 else s[:137] + "..."


class ComparePair:
    """Two aligned runs. `step()`, `back()`, `apply(cmd)`; `left` / `right` are the live clusters."""

    def __init__(
        self, scenario: Scenario, left: list[str], right: list[str], checkpoint_every: int = 25
    ) -> None:
        self.scenario = scenario
        self.changes = (list(left), list(right))
        self.scenarios = (apply_changes(scenario, left), apply_changes(scenario, right))
        self.left = build_cluster(self.scenarios[0])
        self.right = build_cluster(self.scenarios[1])
        self.position = 0
        self.commands: list[tuple[int, Command]] = []
        self.checkpoint_every = checkpoint_every
        self._checkpoints: dict[int, tuple[Cluster, Cluster, int]] = {0: self._copy(0)}

    def _copy(self, applied: int) -> tuple[Cluster, Cluster, int]:
        return (copy.deepcopy(self.left), copy.deepcopy(self.right), applied)

    def step(self, max_rounds: int = 100_000) -> tuple[list[Event], list[Event]]:
        """Advance both runs together to the next moment either has an event."""
        if self.position % self.checkpoint_every == 0 and self.position not in self._checkpoints:
            self._checkpoints[self.position] = self._copy(self._applied())
            thin_checkpoints(self._checkpoints)
        a0, b0 = self.left.events.seq, self.right.events.seq
        for _ in range(max_rounds):
            times = [
                t
                for t in (self.left.scheduler.next_time(), self.right.scheduler.next_time())
                if t is not None
            ]
            if not times:
                break
            t = min(times)
            self.left.run_for(max(0, t - self.left.now))
            self.right.run_for(max(0, t - self.right.now))
            if self.left.events.seq != a0 or self.right.events.seq != b0:
                break
        self.position += 1
        for at, cmd in self.commands:
            if at == self.position:
                apply_command(self.left, cmd)
                apply_command(self.right, cmd)
        return self.left.events.since(a0), self.right.events.since(b0)

    def _applied(self) -> int:
        return sum(1 for at, _ in self.commands if at <= self.position)

    def apply(self, command: Command | dict) -> str:
        cmd = parse_command(command) if isinstance(command, dict) else command
        self.commands = [(at, c) for at, c in self.commands if at <= self.position]
        self._checkpoints = {p: cp for p, cp in self._checkpoints.items() if p <= self.position}
        msg = apply_command(self.left, cmd)
        apply_command(self.right, cmd)
        self.commands.append((self.position, cmd))
        return msg

    def back(self) -> None:
        if self.position == 0:
            return
        target = self.position - 1
        base = max(p for p in self._checkpoints if p <= target)
        left, right, applied = self._checkpoints[base]
        self.left, self.right = copy.deepcopy(left), copy.deepcopy(right)
        self.position = base
        for at, cmd in self.commands[applied:]:
            if at <= base:
                apply_command(self.left, cmd)
                apply_command(self.right, cmd)
        while self.position < target:
            self.step()

    def divergence(self) -> str | None:
        return divergence(self.left.events.events, self.right.events.events)

    # -- sharing ----------------------------------------------------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        """Scenario, both sides' changes and the commands applied so far: with the step number, the whole
        picture (the engine is deterministic), small enough for a URL like the Playground's link."""
        return {
            "v": STATE_VERSION,
            "scenario": self.scenario.model_dump(),
            "left": list(self.changes[0]),
            "right": list(self.changes[1]),
            "position": self.position,
            "commands": [{"at": p, **c.model_dump()} for p, c in self.commands if p <= self.position],
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ComparePair:
        """Rebuild a pair from `to_state()` output at its position (validated: it may come from a URL;
        UserInputError / ConfigError name the field)."""
        if not isinstance(state, dict):
            raise UserInputError(
                "compare state must be a mapping with scenario, left, right, position and commands"
            )
        if state.get("v") != STATE_VERSION:
            raise UserInputError(f"compare state version 'v' must be {STATE_VERSION}, got {state.get('v')!r}")
        scenario = validate_scenario(state.get("scenario", {}))
        sides = [_changes(state.get(side), side) for side in ("left", "right")]
        position = _step_number(state.get("position", 0), "position")
        raw = state.get("commands", [])
        if not isinstance(raw, list) or len(raw) > MAX_COMMANDS:
            raise UserInputError(f"commands must be a list of at most {MAX_COMMANDS} commands")
        pending: list[tuple[int, Command]] = []
        for item in raw:
            if not isinstance(item, dict):
                raise UserInputError(f"each command must be a mapping, got {str(item)[:60]!r}")
            item = dict(item)
            pending.append((_step_number(item.pop("at", 0), "command 'at'"), parse_command(item)))
        pair = cls(scenario, left=sides[0], right=sides[1])
        for at, cmd in sorted(pending, key=lambda pc: pc[0]):
            while pair.position < at:
                pair.step()
            pair.apply(cmd)
        while pair.position < position:
            pair.step()
        return pair

    def first_difference(self) -> Divergence | None:
        return first_difference(self.left.events.events, self.right.events.events)

    def outcomes(self) -> tuple[Outcome, Outcome]:
        return outcome(self.left), outcome(self.right)
