"""Step forward and back through a run: visible steps, commands at steps, and exact time travel.

`Back` is exact because the engine is deterministic: the timeline keeps a checkpoint (a deep copy whose
records and events are shared, being immutable) every `checkpoint_every` steps and rebuilds step N-1 as
the nearest checkpoint plus a replay. The scenario plus the commands with their step numbers is the whole
state, small enough for a URL.
"""

from __future__ import annotations

import copy
from typing import Any

from .cluster import Cluster
from .commands import Command, apply_command, parse_command
from .events import Event
from .scenario import Scenario, build_cluster, validate_scenario

MAX_CHECKPOINTS = 60
STEP_MAX_MS = 60_000  # an idle cluster's Step stops after a simulated minute instead of skipping hours


def thin_checkpoints(checkpoints: dict[int, Any], limit: int = MAX_CHECKPOINTS) -> None:
    """Bound the checkpoints kept: past `limit`, drop every other one of the older half, so memory stays flat,
    Back stays exact (it replays from the nearest earlier checkpoint) and recent steps stay cheap."""
    if len(checkpoints) > limit:
        keys = sorted(checkpoints)
        for k in keys[1: len(keys) // 2: 2]:
            del checkpoints[k]


class Timeline:
    def __init__(self, scenario: Scenario, checkpoint_every: int = 25) -> None:
        self.scenario = scenario
        self.checkpoint_every = max(1, checkpoint_every)
        self.commands: list[tuple[int, Command]] = []
        self.cluster: Cluster = build_cluster(scenario)
        self.position = 0
        self._checkpoints: dict[int, tuple[Cluster, int]] = {0: (copy.deepcopy(self.cluster), 0)}
        self._applied = 0  # how many of self.commands the current cluster has applied

    # -- moving ---------------------------------------------------------------------------------------------
    def step(self) -> list[Event]:
        """One visible step: run until the next event a student would notice."""
        self._maybe_checkpoint()
        events = self.cluster.step_event(max_ms=STEP_MAX_MS)
        self.position += 1
        self._apply_pending()
        return events

    def steps(self, n: int) -> list[Event]:
        out: list[Event] = []
        for _ in range(n):
            out.extend(self.step())
        return out

    def back(self) -> None:
        """The exact previous state (same picture as before the last Step)."""
        if self.position > 0:
            self.goto(self.position - 1)

    def goto(self, position: int) -> None:
        position = max(0, position)
        if position == self.position:
            return
        if position < self.position:
            base = max(p for p in self._checkpoints if p <= position)
            snap, applied = self._checkpoints[base]
            self.cluster = copy.deepcopy(snap)
            self.position = base
            self._applied = applied
            self._apply_pending()
        while self.position < position:
            self.step()

    def run_until(self, kinds: set[str] | frozenset[str], max_steps: int = 5000) -> list[Event]:
        """Step until an event of one of `kinds` happens (e.g. the next rebalance or election)."""
        out: list[Event] = []
        for _ in range(max_steps):
            evs = self.step()
            out.extend(evs)
            if any(e.kind in kinds for e in evs) or not evs:
                break
        return out

    def reset(self) -> None:
        self.commands = []
        self._checkpoints = {0: self._checkpoints[0]}
        self.cluster = copy.deepcopy(self._checkpoints[0][0])
        self.position = 0
        self._applied = 0

    # -- commands -------------------------------------------------------------------------------------------
    def apply(self, command: Command | dict) -> str:
        """Apply a user command now, record it at this step and forget any future it replaces."""
        cmd = parse_command(command) if isinstance(command, dict) else command
        self.commands = [(p, c) for p, c in self.commands[: self._applied] if p <= self.position]
        self._checkpoints = {p: cp for p, cp in self._checkpoints.items() if p <= self.position}
        msg = apply_command(self.cluster, cmd)  # raises on a bad target: nothing recorded then
        self.commands.append((self.position, cmd))
        self._applied = len(self.commands)
        return msg

    def _apply_pending(self) -> None:
        while self._applied < len(self.commands) and self.commands[self._applied][0] <= self.position:
            apply_command(self.cluster, self.commands[self._applied][1])
            self._applied += 1

    def _maybe_checkpoint(self) -> None:
        p = self.position
        if p % self.checkpoint_every or p in self._checkpoints:
            return
        self._checkpoints[p] = (copy.deepcopy(self.cluster), self._applied)
        thin_checkpoints(self._checkpoints)

    # -- sharing ----------------------------------------------------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        return {"scenario": self.scenario.model_dump(), "position": self.position,
                "commands": [{"at": p, **c.model_dump()} for p, c in self.commands[: self._applied]]}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Timeline:
        """Rebuild a timeline from `to_state()` output (validated: it may come from a URL)."""
        if not isinstance(state, dict):
            raise ValueError("timeline state must be a mapping with scenario, position and commands")
        scenario = validate_scenario(state.get("scenario", {}))
        position = state.get("position", 0)
        if not isinstance(position, int) or isinstance(position, bool) or not 0 <= position <= 100_000:
            raise ValueError(f"position must be a whole number from 0 to 100000, got {position!r}")
        raw = state.get("commands", [])
        if not isinstance(raw, list) or len(raw) > 1000:
            raise ValueError("commands must be a list of at most 1000 commands")
        tl = cls(scenario)
        pending: list[tuple[int, Command]] = []
        for item in raw:
            if not isinstance(item, dict):
                raise ValueError(f"each command must be a mapping, got {item!r}")
            item = dict(item)
            at = item.pop("at", 0)
            if not isinstance(at, int) or isinstance(at, bool) or not 0 <= at <= 100_000:
                raise ValueError(f"command 'at' must be a step number from 0 to 100000, got {at!r}")
            pending.append((at, parse_command(item)))
        pending.sort(key=lambda pc: pc[0])
        for at, cmd in pending:
            tl.goto(at)
            tl.apply(cmd)
        tl.goto(position)
        return tl
