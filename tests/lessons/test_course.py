"""The course itself: every lesson validates and every step's checks hold on the real engine."""

from __future__ import annotations

import time

import pytest

from lessons.__main__ import main
from lessons.checks import CheckContext
from lessons.loader import lesson_files
from lessons.runner import LessonRun

# The issue's order: the first 14 lessons, by id.
COURSE_ORDER = [
    "brokers-producers-consumers",
    "topics-partitions-offsets",
    "keys-and-partitioning",
    "queue-vs-pubsub",
    "idle-consumer",
    "rebalance-on-failure",
    "offsets-and-delivery",
    "replication",
    "broker-failure-and-data-loss",
    "the-controller",
    "producer-batching",
    "durability-on-disk",
    "scaling-online",
    "docker-to-simulator-and-back",
    # issue 16's new lessons, ranked by what learners need next
    "consumer-lag-and-liveness",
    "ordering-under-retries",
    "poison-records",
    "offset-management",
    "choosing-partition-count",
    "static-membership",
    "rack-awareness",
    "rolling-restart",
]


def test_check_command_passes_on_the_whole_course(capsys):
    t0 = time.perf_counter()
    rc = main(["check"])
    out = capsys.readouterr().out.strip().splitlines()
    assert rc == 0, "\n".join(out)
    lessons, _, steps, *_ = out[-1].split()
    assert int(lessons) >= 23 and int(steps) >= 110  # issue 16: at least 23 lessons
    assert out[-1].endswith("all checks pass")
    assert time.perf_counter() - t0 < 60  # the whole course stays cheap to check


# Issue 11's lessons, each right after the lesson it builds on.
MODERN_AFTER = {
    "share-groups": "queue-vs-pubsub",
    "kip848-rebalance": "rebalance-on-failure",
    "transactions-exactly-once": "offsets-and-delivery",
}


def test_course_order_follows_the_issue(course):
    ids = [lesson.id for lesson in course]
    assert [i for i in ids if i in COURSE_ORDER] == COURSE_ORDER
    for lesson_id, after in MODERN_AFTER.items():
        assert ids.index(lesson_id) == ids.index(after) + 1, (lesson_id, ids)
    assert len(lesson_files()) == len(course)


def test_lesson_four_is_the_notes_example_with_a_prediction(lesson_by_id):
    lesson = lesson_by_id["queue-vs-pubsub"]
    assert [t.partitions for t in lesson.scenario.topics] == [2]
    groups = {g.group_id: g.members for g in lesson.scenario.groups}
    assert groups == {"group-1": 2, "group-2": 1}
    assert any(step.predict is not None for step in lesson.steps)


@pytest.mark.parametrize("lesson_id", COURSE_ORDER)
def test_notebook_asserts_say_what_the_checks_say(lesson_by_id, lesson_id):
    """Each check's Python form (what notebooks print) must agree with the check itself, step by step."""
    lesson = lesson_by_id[lesson_id]
    run = LessonRun(lesson)
    for i in range(len(lesson.steps)):
        res = run.run_next()
        assert res.passed, (lesson_id, i + 1, [f.message for _, fs in res.checks for f in fs])
        snap = run.timeline.cluster.snapshot()

        class _TL:  # the notebook's `tl`, for checks on internal topics
            cluster = run.timeline.cluster

        for check, _ in res.checks:
            lines = check.python()
            if lines is None:
                continue
            pair = res.compare.pair if res.compare else None  # the notebook's `pair` of a compare step
            exec("\n".join(lines), {"snap": snap, "tl": _TL, "pair": pair})  # noqa: S102 - our own generated asserts
        # and the same checks, evaluated again on a fresh context, still pass (no hidden state)
        c = run.timeline.cluster
        ctx = CheckContext(c, None, res.events, c.events.events, res.sweep, res.compare)
        assert all(not ch.evaluate(ctx) for ch, _ in res.checks)
