"""Run a lesson's `compare` op: two runs side by side, the same commands to both (`engine.compare.ComparePair`).

The pair is built from the same scenario and seed with each side's `scope.config=value` changes, so the
only difference between the runs is those settings. Commands go through the pair's public API, the same
calls the Compare page makes and the notebook export writes out, so a lesson's comparison is reproducible
anywhere:

- an engine op (`crash_broker`, `slow_broker`, `run_for` / `run_for_ms`, ...) -> `pair.apply(command)`;
- `steps: N` -> `pair.step()` N times (each moves both runs to the next moment either has an event);
- `run_until` -> `compare_until(pair, until, side)`: step until the event kind / named moment / check
  comes on `side` (either run, left, right, or both), with the lesson runner's limits and error message;
- `drop_next` -> `drop_messages(kind, count)` on both clusters: the same network fault in both runs (like any
  drop_next, a lesson-only fault: not recorded in the pair's commands, so the Compare page cannot replay it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.compare import ComparePair, Divergence, Outcome
from engine.errors import KafkaError, UserInputError
from engine.events import ELECTION_KINDS, REBALANCE_KINDS, Event
from engine.scenario import Scenario
from engine.snapshot import ClusterSnapshot

from .checks import CheckContext, parse_check
from .model import CommandError, CompareOp, CompareUntilOp, DropNextOp, EngineOp, StepsOp, command_to_dict

if TYPE_CHECKING:
    from engine.cluster import Cluster

SIDES = ("left", "right")
NO_CHECKPOINTS = 10**9  # the result is never stepped back: no deep copies while it runs


@dataclass
class CompareResult:
    """A finished comparison: the two live clusters, what was done to both, and where the panels' story starts."""

    pair: ComparePair
    labels: tuple[str, str]  # each side's changes, as the Compare page prints them
    start: ClusterSnapshot | None  # the left run before any command (both runs start from this cluster)
    messages: list[str] = field(default_factory=list)  # one sentence per command
    since: tuple[int, int] = (0, 0)  # event seqs before the last command that acted on the runs

    def outcomes(self) -> tuple[Outcome, Outcome]:
        return self.pair.outcomes()

    def divergence(self) -> Divergence | None:
        return self.pair.first_difference()

    def events_now(self) -> tuple[list[Event], list[Event]]:
        """Each run's events since the last command (a crash, say): what the two panels narrate."""
        return self.pair.left.events.since(self.since[0]), self.pair.right.events.since(self.since[1])


def labels_of(op: CompareOp) -> tuple[str, str]:
    return "; ".join(op.left), "; ".join(op.right)


def run_compare(op: CompareOp, scenario: Scenario) -> CompareResult:
    """Build the pair from `op.scenario` (or `scenario`) and apply the commands in order."""
    pair = ComparePair(op.scenario or scenario, left=op.left, right=op.right, checkpoint_every=NO_CHECKPOINTS)
    res = CompareResult(pair, labels_of(op), pair.left.snapshot())
    for i, cmd in enumerate(op.parsed_commands()):
        seqs = (pair.left.events.seq, pair.right.events.seq)
        try:
            res.messages.append(_apply(res, cmd))
        except (KafkaError, UserInputError) as exc:  # a bad target (no broker 7), a condition that never came
            raise CommandError(f"compare: commands[{i}] {command_to_dict(cmd)}: {exc}") from exc
        if isinstance(cmd, EngineOp) and cmd.command.op != "run_for":
            res.since = seqs  # the panels tell what followed the last thing done to both runs
    return res


def _apply(res: CompareResult, cmd: Any) -> str:
    pair = res.pair
    match cmd:
        case EngineOp(command=command):
            return f"Both runs: {pair.apply(command)}"
        case StepsOp(n=n):
            for _ in range(n):
                pair.step()
            return f"Stepped both runs {n} time(s), to t={pair.left.now} ms"
        case CompareUntilOp():
            return compare_until(pair, cmd.until, cmd.side, cmd.max_steps, cmd.max_ms, res)
        case DropNextOp(message=kind, count=count):
            pair.left.drop_messages(kind, count)
            pair.right.drop_messages(kind, count)
            return f"Both runs: the network will lose the next {count} {kind} message(s)"
    raise ValueError(f"{command_to_dict(cmd)} cannot run inside a compare")


def compare_until(
    pair: ComparePair,
    until: str | dict,
    side: str = "either",
    max_steps: int = 4000,
    max_ms: int = 120_000,
    result: CompareResult | None = None,
) -> str:
    """Step both runs until `until` comes on `side` (either, left, right, both): an event kind, rebalance /
    election (since this call), idle / stable, or a check mapping (`{partition: orders-0, leader: 2}`;
    `{compare: divergence, found: true}` reads the pair, whatever the side). A condition that never comes is
    a ValueError naming it, not a hang."""
    check = parse_check(until) if isinstance(until, dict) else None
    sides = (
        ("left",)
        if check is not None and check.subject == "compare"
        else {"either": SIDES, "both": SIDES}.get(side, (side,))
    )
    kinds = {"rebalance": REBALANCE_KINDS, "election": ELECTION_KINDS}.get(
        str(until), frozenset({str(until)})
    )
    what = check.describe() if check else f"the cluster is {until}" if until in ("idle", "stable") else until
    starts = {"left": pair.left.events.seq, "right": pair.right.events.seq}
    result = result or CompareResult(pair, ("", ""), None)
    deadline = pair.left.now + max_ms
    for n in range(max_steps + 1):
        holds = []
        for name in sides:
            c = pair.left if name == "left" else pair.right
            if check is not None:  # a check holds now; an event has come since the call
                ok = not check.evaluate(
                    CheckContext(c, None, c.events.since(starts[name]), c.events.events, compare=result)
                )
            elif until in ("idle", "stable"):
                ok = quiet(c, str(until))
            else:
                ok = any(e.kind in kinds for e in c.events.since(starts[name]))
            if ok:
                holds.append(name)
        if holds and (side != "both" or len(holds) == len(sides)):
            on = (
                "the comparison"
                if check is not None and check.subject == "compare"
                else f"the {' and '.join(holds)} run"
            )
            return f"Stepped both runs {n} time(s) until {what} (in {on}), t={pair.left.now} ms"
        if n == max_steps or pair.left.now >= deadline:
            break
        if pair.left.scheduler.next_time() is None and pair.right.scheduler.next_time() is None:
            break  # both clusters idle: nothing more will happen
        pair.step()
    raise CommandError(
        f"run_until {what} ({side} run): not reached after {n} step(s) and "
        f"{(pair.left.now - deadline + max_ms) / 1000:.1f} s of simulated time; raise max_steps/max_ms "
        f"or add the command that causes it before this one"
    )


def quiet(c: Cluster, what: str) -> bool:
    """`idle`: nothing in progress; `stable`: every live group member is stable and every group Stable/Empty."""
    if what == "idle":
        return not c.busy()
    snap = c.snapshot(tail=0)
    if any(k.alive and k.group_id and k.state != "stable" for k in snap.consumers):
        return False
    return all(g.state in ("Stable", "Empty", "Dead") for g in snap.groups)


__all__ = ["CompareResult", "run_compare", "compare_until", "quiet", "labels_of"]
