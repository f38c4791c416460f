"""What one Playground Step runs: to the next moment a student can see, with waits for a timeout as one step.

A visible step runs the scheduler until an event that ends a step (engine/events.py: every kind except the
ride-along ones, and the routine data flow too unless the cluster is waiting out a timeout), then finishes
that simulated millisecond, so things that happen at the same moment (two followers copying the same batch,
a fenced broker and the elections it causes) are one step. What the cluster waits for is read from its
state at the start of the step (`waiting_for`), so replaying the same commands gives the same steps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .events import PRODUCE_ENDS, PRODUCE_HOPS, RIDE_ALONG_KINDS, ROUTINE_KINDS, Event

if TYPE_CHECKING:
    from .cluster import Cluster

MAX_ACTIONS = 2_000_000  # a safety net: a step that would never see an event ends at its time limit first
ROUND_TRIP_MAX_MS = 500  # a produce hop's step runs on to the acknowledgement, but not longer than this


def waiting_for(c: Cluster) -> str | None:
    """The timeout the cluster is waiting out right now, in words, or None. Waits a student cannot speed up:
    a dead or isolated broker the controller has not fenced yet (broker.session.timeout.ms), a group in a
    rebalance (group.initial.rebalance.delay.ms, or members still to rejoin), a crashed consumer that is still
    a member (session.timeout.ms)."""
    return _broker_wait(c) or _group_wait(c) or _consumer_wait(c)


def _broker_wait(c: Cluster) -> str | None:
    ctl = c.controller
    for bid in sorted(c.brokers):
        b = c.brokers[bid]
        if (not b.alive or b.isolated) and bid in ctl.live:
            bc = c.broker_config
            if ctl.mode == "kraft":
                return (
                    f"broker {bid} sends no heartbeats; the controller waits "
                    f"broker.session.timeout.ms={bc.broker_session_timeout_ms} ms before it fences it"
                )
            return (
                f"broker {bid} is gone; ZooKeeper keeps its session for "
                f"zookeeper.session.timeout.ms={bc.zookeeper_session_timeout_ms} ms"
            )
    return None


def _group_wait(c: Cluster) -> str | None:
    for bid in sorted(c.brokers):
        b = c.brokers[bid]
        if not b.alive:
            continue
        co = b.coordinator
        for gid in sorted(co.groups):
            g = co.groups[gid]
            if not co.is_coordinator(gid) or not g.members:
                continue
            if g.state == "PreparingRebalance":
                if g.initial_delay_until is not None:
                    return (
                        f"group {gid}'s coordinator waits group.initial.rebalance.delay.ms="
                        f"{c.broker_config.group_initial_rebalance_delay_ms} ms for more members to join"
                    )
                return (
                    f"group {gid} waits for every member to rejoin (each learns it from its next heartbeat)"
                )
            if g.state == "CompletingRebalance":
                return f"group {gid} waits for its leader's assignment (SyncGroup)"
    return None


def _consumer_wait(c: Cluster) -> str | None:
    for cid in sorted(c.consumers):
        k = c.consumers[cid]
        if k.state == "crashed" and k.group_id is not None and k.member_id is not None:
            for bid in sorted(c.brokers):
                co = c.brokers[bid].coordinator
                g = co.groups.get(k.group_id)
                if g is not None and co.is_coordinator(k.group_id) and k.member_id in g.members:
                    return (
                        f"{cid} crashed; the coordinator waits session.timeout.ms="
                        f"{k.config.session_timeout_ms} ms for its heartbeats"
                    )
    return None


def ends_step(kind: str, waiting: bool) -> bool:
    """Does an event of `kind` end a visible step? (the classification lives in engine/events.py)"""
    if kind in RIDE_ALONG_KINDS:
        return False
    return not (waiting and kind in ROUTINE_KINDS)


def step_visible(c: Cluster, max_ms: int, waiting: bool) -> list[Event]:
    """Run to the next moment a student can see (see the module docstring); at most `max_ms` of simulated time
    (an idle cluster stops there with no events). A step that starts with a hop of a produce request runs on to
    its acknowledgement (at most ROUND_TRIP_MAX_MS). Returns the step's events, ride-along ones included."""
    log = c.events
    sched = c.scheduler
    start = seen = log.seq
    end = c.now + max_ms
    done = False
    round_trip_until: int | None = None  # in a produce round trip: run on to its acknowledgement until then
    c.in_simulation = True
    try:
        for _ in range(MAX_ACTIONS):
            t = sched.next_time()
            if t is None or t > end or (round_trip_until is not None and t > round_trip_until):
                if not done and round_trip_until is None:
                    sched.now_ms = max(sched.now_ms, end)
                break
            if done and t > sched.now_ms:
                break  # the moment is over: what comes next is the next step
            sched.step()
            if not done and log.seq != seen:
                kinds = log.kinds_since(seen)
                seen = log.seq
                if round_trip_until is None:
                    done = any(ends_step(k, waiting) for k in kinds)
                    if done and all(k in PRODUCE_HOPS or k in RIDE_ALONG_KINDS for k in kinds):
                        done, round_trip_until = False, sched.now_ms + ROUND_TRIP_MAX_MS
                else:
                    done = any(
                        k in PRODUCE_ENDS or ends_step(k, False) and k not in ROUTINE_KINDS for k in kinds
                    )
    finally:
        c.in_simulation = False
    return log.since(start)
