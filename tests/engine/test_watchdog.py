"""A Watchdog (one heap entry for all of a requester's request timeouts) must fire every unanswered timeout
at exactly the point of the run where a cancellable Timer per request would have fired it."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.scheduler import Scheduler, Watchdog

TIMEOUT = 30


def _run(plan: list[tuple[int, str, int]], use_watchdog: bool) -> list[tuple[int, str]]:
    """`plan`: (time, what, request id) with what in send / answer / tick / later. Returns what ran, in order."""
    s = Scheduler()
    log: list[tuple[int, str]] = []
    timers = {}
    dog = Watchdog(s, lambda rid: log.append((s.now_ms, f"timeout {rid}")))

    def act(what: str, rid: int) -> None:
        log.append((s.now_ms, f"{what} {rid}"))
        if what == "send":
            if use_watchdog:
                dog.start(rid, TIMEOUT, rid)
            else:
                timers[rid] = s.after(
                    TIMEOUT, lambda r=rid: log.append((s.now_ms, f"timeout {r}")), timer=True
                )
        elif what == "later":  # schedule, from inside the run, something at the same time as rid's deadline
            s.at(deadline[rid], act, "tick", rid)
        elif what == "answer":
            if use_watchdog:
                dog.stop(rid)
            elif rid in timers:
                timers.pop(rid).cancel()

    deadline = {rid: t + TIMEOUT for t, what, rid in plan if what == "send"}
    for t, what, rid in plan:
        s.at(t, act, what, rid)
    while s.step():
        pass
    return log


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10_000))
def test_timeouts_fire_where_timers_would(seed):
    rng = random.Random(seed)
    plan = []
    for rid in range(rng.randint(1, 25)):
        sent = rng.randint(0, 100)
        plan.append((sent, "send", rid))
        if rng.random() < 0.7:  # most requests are answered, some right at their deadline
            plan.append((sent + rng.choice([0, 1, rng.randint(0, 40), TIMEOUT]), "answer", rid))
        if rng.random() < 0.3:  # other actions at the same times as deadlines, scheduled before the send ...
            plan.append((sent + TIMEOUT, "tick", rid))
        if rng.random() < 0.5:  # ... and after it
            plan.append((sent + rng.randint(0, TIMEOUT - 1), "later", rid))
    rng.shuffle(plan)
    with_timers = _run(plan, use_watchdog=False)
    assert _run(plan, use_watchdog=True) == with_timers


def test_a_request_sent_again_under_the_same_token_gets_a_new_deadline():
    s = Scheduler()
    fired = []
    dog = Watchdog(s, lambda token: fired.append((s.now_ms, token)))
    dog.start("leader-1", TIMEOUT, "leader-1")
    s.at(10, dog.start, "leader-1", TIMEOUT, "leader-1")  # a new fetch to the same leader at t=10
    while s.step():
        pass
    assert fired == [(40, "leader-1")]
