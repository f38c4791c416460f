"""The check kinds that close issue 16's gaps between what a step says and what it checks; each must be able
to fail: per-key read order, polls inside a rebalance window, the active segment, voters back in the quorum."""

from __future__ import annotations

import pytest

from lessons.checks import CheckContext, CheckError, parse_check
from lessons.loader import find_lesson
from lessons.runner import LessonRun


def _ctx(run: LessonRun) -> CheckContext:
    res = run.results[-1]
    return CheckContext(run.timeline.cluster, None, res.events, res.all_events)


def _ok(raw: dict, ctx: CheckContext) -> bool:
    return not parse_check(raw).evaluate(ctx)


@pytest.fixture(scope="module")
def keys_run() -> LessonRun:
    run = LessonRun(find_lesson("keys-and-partitioning"))
    run.run_to(2)  # "Order per key, not per topic": c1 has read everything
    return run


def test_read_in_order_holds_for_a_key_c1_read(keys_run):
    ctx = _ctx(keys_run)
    assert _ok({"record": {"topic": "orders", "key": "alice"}, "read_by": "c1", "read_in_order": True}, ctx)
    assert not _ok(
        {"record": {"topic": "orders", "key": "alice"}, "read_by": "c1", "read_in_order": False}, ctx
    )


def test_read_in_order_fails_for_records_the_consumer_never_read(keys_run):
    ctx = _ctx(keys_run)
    assert not _ok(
        {"record": {"topic": "orders", "key": "alice"}, "read_by": "nobody", "read_in_order": True}, ctx
    )
    assert not _ok(
        {"record": {"topic": "orders", "key": "no-such-key"}, "read_by": "c1", "read_in_order": True}, ctx
    )


def test_read_in_order_fails_when_a_partition_was_polled_out_of_order(keys_run):
    """Feed the check a poll history where c1 saw alice's third order (orders-0@2) before her first two."""
    from engine.events import Event

    ctx = _ctx(keys_run)
    polls = [e for e in ctx.all_events if e.kind == "records_polled" and e.actors[:1] == ("c1",)]
    swapped = [
        Event(0, 10**9, "records_polled", "", ("c1",), data={"ranges": {"orders-0": [2, 5]}}),
        Event(0, 10**9 + 1, "records_polled", "", ("c1",), data={"ranges": {"orders-0": [0, 1]}}),
    ]
    bad = CheckContext(ctx.cluster, None, [], [e for e in ctx.all_events if e not in polls] + swapped)
    assert not _ok(
        {"record": {"topic": "orders", "key": "alice"}, "read_by": "c1", "read_in_order": True}, bad
    )


def test_read_in_order_needs_read_by():
    with pytest.raises(CheckError, match="read_in_order needs read_by"):
        parse_check({"record": {"topic": "orders", "key": "alice"}, "read_in_order": True})


def test_polls_between_revoke_and_assignment():
    run = LessonRun(find_lesson("kip848-rebalance"))
    run.run_to(2)  # "One partition moves, nobody stops"
    ctx = _ctx(run)
    window = ["partitions_revoked", "assignment_received"]
    assert _ok({"consumer": "m1", "polled": {"gte": 1}, "between": window}, ctx)
    whole = parse_check({"consumer": "m1", "polled": {"gte": 0}}).values(ctx)["polled"]
    inside = parse_check({"consumer": "m1", "polled": {"gte": 0}, "between": window}).values(ctx)["polled"]
    assert 0 < inside < whole  # the window is part of the step, not all of it
    # a window that never opens in this step is a failure, not a pass
    assert not _ok(
        {"consumer": "m1", "polled": {"gte": 0}, "between": ["member_expired", "assignment_received"]}, ctx
    )
    with pytest.raises(CheckError, match="between: give two event kinds"):
        parse_check({"consumer": "m1", "polled": 1, "between": ["partitions_revoked"]})


def test_segment_bases_and_the_active_segment():
    run = LessonRun(find_lesson("durability-on-disk"))
    run.run_to(0)
    ctx = _ctx(run)
    got = parse_check({"partition": "logs-0", "active_segment_base": 0}).values(ctx)
    assert got["segment_bases"][0] == 0 and got["active_segment_base"] == got["segment_bases"][-1] > 0
    assert not _ok({"partition": "logs-0", "active_segment_base": 0}, ctx)


def test_voters_alive_sees_a_crashed_voter_and_its_return():
    run = LessonRun(find_lesson("the-controller"))
    run.run_to(3)  # KRaft: broker 1 (a voter) crashed
    assert parse_check({"controller": "kraft", "voters_alive": [2, 3]}).evaluate(_ctx(run)) == []
    run.run_to(4)  # broker 1 restarted
    assert parse_check({"controller": "kraft", "voters_alive": [1, 2, 3]}).evaluate(_ctx(run)) == []
