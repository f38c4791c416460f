"""Step forward and back through a run: visible steps, commands at steps, and exact time travel.

`Back` is exact because the engine is deterministic: the timeline keeps a checkpoint (a deep copy whose
records and events are shared, being immutable) every `checkpoint_every` steps and rebuilds step N-1 as
the nearest checkpoint plus a replay. The scenario plus the commands with their step numbers is the whole
state, small enough for a URL.

A Step is a moment a student can see (engine/steps.py). Other moves are recorded per position so a replay
takes the same ones: "event" (one event, the expert's "every event" stepping and every step of a link made
before visible steps, state version 1), "ms:<n>" (+1 s: let n ms pass) and "until:<name>:<n>" (Step until the
next rebalance / election: n visible steps in one). Back undoes any of them, since each is one step.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from .cluster import Cluster
from .commands import Command, apply_command, parse_command
from .errors import UserInputError
from .events import UNTIL_KINDS, Event
from .scenario import Scenario, build_cluster, validate_scenario
from .steps import step_visible, waiting_for

MAX_CHECKPOINTS = 60
STEP_MAX_MS = 60_000  # an idle cluster's Step stops after a simulated minute instead of skipping hours
STATE_VERSION = 2  # 1 (no "v" in the state): every step was one event; 2: visible steps plus recorded moves
VISIBLE = "visible"
MOVE_RE = re.compile(r"^(event|ms:[1-9][0-9]{0,6}|until:(" + "|".join(UNTIL_KINDS) + r"):[1-9][0-9]{0,4})$")
MAX_MOVES = 1000


def thin_checkpoints(checkpoints: dict[int, Any], limit: int = MAX_CHECKPOINTS) -> None:
    """Bound the checkpoints kept: past `limit`, drop every other one of the older half, so memory stays flat,
    Back stays exact (it replays from the nearest earlier checkpoint) and recent steps stay cheap."""
    if len(checkpoints) > limit:
        keys = sorted(checkpoints)
        for k in keys[1 : len(keys) // 2 : 2]:
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
        self.moves: list[list[Any]] = []  # [first, last, move]: positions whose step was not a visible one
        self.every_event = False  # the expert's toggle: new Steps run one event each (recorded as "event")
        self.last_wait: str | None = None  # what the last visible step waited out (for its narration)

    # -- moving ---------------------------------------------------------------------------------------------
    def step(self, move: str | None = None) -> list[Event]:
        """One step. Without `move`: the one recorded at this position (a replay), else a visible step (or one
        event with `every_event`). An explicit move that differs from the recorded one forgets the future."""
        recorded = self.move_at(self.position)
        if move is None:
            move = recorded or ("event" if self.every_event else VISIBLE)
        elif move.startswith("until:") and move.count(":") == 1:
            return self.step_until(move.split(":", 1)[1])
        elif move != (recorded or VISIBLE):
            self._forget_future()
        self._maybe_checkpoint()
        events = self._run_move(move)
        self._record_move(self.position, move)
        self.position += 1
        self._apply_pending()
        return events

    def step_until(
        self, name: str, max_substeps: int = 4000, budget: Callable[[], bool] | None = None
    ) -> list[Event]:
        """One step that runs visible steps until the next `name` ("rebalance" | "election"), at most
        `max_substeps` or until `budget()` says stop; recorded with its count so a replay is exact."""
        kinds = UNTIL_KINDS[name]
        recorded = self.move_at(self.position)
        if recorded is not None and recorded.startswith(f"until:{name}:"):
            return self.step(recorded)  # the same click again after Back: the recorded step, exactly
        self._forget_future()
        self._maybe_checkpoint()
        out: list[Event] = []
        n = 0
        self.last_wait = None
        while n < max_substeps:
            n += 1
            evs = self._visible()
            out.extend(evs)
            if not evs or any(e.kind in kinds for e in evs) or (budget is not None and budget()):
                break
        self._record_move(self.position, f"until:{name}:{n}")
        self.position += 1
        self._apply_pending()
        return out

    def _visible(self) -> list[Event]:
        wait = waiting_for(self.cluster)
        self.last_wait = wait
        return step_visible(self.cluster, STEP_MAX_MS, waiting=wait is not None)

    def _run_move(self, move: str) -> list[Event]:
        self.last_wait = None
        if move == VISIBLE:
            return self._visible()
        if move == "event":
            return self.cluster.step_event(max_ms=STEP_MAX_MS)
        if move.startswith("ms:"):
            return self.cluster.run_for(int(move[3:]))
        if move.startswith("until:"):  # a replay: the recorded number of visible steps
            out: list[Event] = []
            for _ in range(int(move.rsplit(":", 1)[1])):
                out.extend(self._visible())
            self.last_wait = None
            return out
        raise UserInputError(f"unknown step move {move!r}: use visible, event, ms:<n> or until:<name>:<n>")

    def move_at(self, position: int) -> str | None:
        """The recorded non-visible move of the step from `position`, or None (a visible step)."""
        for first, last, move in self.moves:
            if first <= position <= last:
                return move
        return None

    def _record_move(self, position: int, move: str) -> None:
        if move == VISIBLE or self.move_at(position) == move:
            return
        if self.moves and self.moves[-1][1] == position - 1 and self.moves[-1][2] == move == "event":
            self.moves[-1][1] = position  # consecutive single events are one range: links stay short
        else:
            self.moves.append([position, position, move])

    def _forget_future(self) -> None:
        """A new action at this position replaces what was recorded after it (commands, moves, checkpoints)."""
        p = self.position
        self.commands = [(a, c) for a, c in self.commands[: self._applied] if a <= p]
        self._checkpoints = {a: cp for a, cp in self._checkpoints.items() if a <= p}
        self.moves = [[f, min(last, p - 1), m] for f, last, m in self.moves if f < p]

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
        self.moves = []
        self.commands = []
        self._checkpoints = {0: self._checkpoints[0]}
        self.cluster = copy.deepcopy(self._checkpoints[0][0])
        self.position = 0
        self._applied = 0

    # -- commands -------------------------------------------------------------------------------------------
    def apply(self, command: Command | dict) -> str:
        """Apply a user command now, record it at this step and forget any future it replaces."""
        cmd = parse_command(command) if isinstance(command, dict) else command
        self._forget_future()
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
        return {
            "v": STATE_VERSION,
            "scenario": self.scenario.model_dump(),
            "position": self.position,
            "commands": [{"at": p, **c.model_dump()} for p, c in self.commands[: self._applied]],
            "moves": [[f, min(last, self.position - 1), m] for f, last, m in self.moves if f < self.position],
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Timeline:
        """Rebuild a timeline from `to_state()` output (validated: it may come from a URL)."""
        if not isinstance(state, dict):
            raise UserInputError("timeline state must be a mapping with scenario, position and commands")
        scenario = validate_scenario(state.get("scenario", {}))
        position = state.get("position", 0)
        if not isinstance(position, int) or isinstance(position, bool) or not 0 <= position <= 100_000:
            raise UserInputError(f"position must be a whole number from 0 to 100000, got {position!r}")
        raw = state.get("commands", [])
        if not isinstance(raw, list) or len(raw) > 1000:
            raise UserInputError("commands must be a list of at most 1000 commands")
        tl = cls(scenario)
        pending: list[tuple[int, Command]] = []
        for item in raw:
            if not isinstance(item, dict):
                raise UserInputError(f"each command must be a mapping, got {item!r}")
            item = dict(item)
            at = item.pop("at", 0)
            if not isinstance(at, int) or isinstance(at, bool) or not 0 <= at <= 100_000:
                raise UserInputError(f"command 'at' must be a step number from 0 to 100000, got {at!r}")
            pending.append((at, parse_command(item)))
        pending.sort(key=lambda pc: pc[0])
        tl.moves = parse_moves(state, position, max((at for at, _ in pending), default=0))
        for at, cmd in pending:
            tl.goto(at)
            apply_command(tl.cluster, cmd)  # not apply(): the recorded moves after `at` stay
            tl.commands.append((at, cmd))
            tl._applied = len(tl.commands)
        tl.goto(position)
        return tl


def parse_moves(state: dict[str, Any], position: int, last_command: int) -> list[list[Any]]:
    """The recorded moves of a state. A version-1 state (links made before visible steps, no "v") stepped one
    event per step: all its steps are replayed that way, so an old link still lands on the same picture."""
    version = state.get("v", 1)
    if version == 1:
        end = max(position, last_command) - 1
        return [[0, end, "event"]] if end >= 0 else []
    if version != STATE_VERSION:
        raise UserInputError(f"state version 'v' must be 1 or {STATE_VERSION}, got {version!r}")
    raw = state.get("moves", [])
    if not isinstance(raw, list) or len(raw) > MAX_MOVES:
        raise UserInputError(f"moves must be a list of at most {MAX_MOVES} [first, last, move] entries")
    out: list[list[Any]] = []
    for item in raw:
        ok = (
            isinstance(item, list)
            and len(item) == 3
            and all(isinstance(x, int) and not isinstance(x, bool) and 0 <= x <= 100_000 for x in item[:2])
        )
        if not ok or item[0] > item[1] or not isinstance(item[2], str) or not MOVE_RE.match(item[2]):
            raise UserInputError(
                f"each move must be [first step, last step, move] with move one of event, ms:<n>, "
                f"until:<{'|'.join(UNTIL_KINDS)}>:<n>; got {item!r}"
            )
        if out and item[0] <= out[-1][1]:
            raise UserInputError(f"moves must be in order without overlaps; got {item!r} after {out[-1]!r}")
        out.append(list(item))
    return out
