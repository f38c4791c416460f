"""The event log: hot paths add events whose sentence is formatted only when someone reads the log."""

from __future__ import annotations

import copy

from engine.events import Event, EventLog, Later


def test_a_lazy_event_reads_exactly_like_an_eager_one():
    log = EventLog()
    log.add(5, "note", "eager", (), None, None, {})
    log.add_lazy(
        7,
        "high_watermark",
        "High watermark of {}-{} moved {} -> {} on {}",
        ("orders", 0, 3, 5, [1, 2]),
        ("broker-1",),
        "orders",
        0,
        {"hw": 5},
    )
    first, second = log.events
    assert second == Event(
        2,
        7,
        "high_watermark",
        "High watermark of orders-0 moved 3 -> 5 on [1, 2]",
        ("broker-1",),
        "orders",
        0,
        {"hw": 5},
    )
    assert log.since(1) == [second] and len(log) == 2 and log.seq == 2


def test_words_nobody_reads_are_never_built():
    built = []

    def words(n: int) -> str:
        built.append(n)
        return f"batch {n}"

    log = EventLog(max_events=10)
    for n in range(30):
        log.add_lazy(n, "batch_sent", "sent {}", (Later(words, n),), (), None, None, {})
    assert built == []  # bulk work: nothing formatted yet, the oldest already trimmed
    evs = log.events
    assert [e.summary for e in evs if e.kind == "batch_sent"] == [f"sent batch {n}" for n in built]
    assert built and min(built) > 0  # only the kept ones were built
    assert log.since(evs[-1].seq - 1) == evs[-1:]


def test_checkpoints_share_pending_events_and_read_them_the_same():
    log = EventLog()
    log.add_lazy(1, "batch_acked", "{} got {}", ("p1", 3), ("p1",), "t", 0, {})
    twin = copy.deepcopy(log)
    log.add_lazy(2, "batch_acked", "{} got {}", ("p1", 4), ("p1",), "t", 0, {})
    assert [e.summary for e in twin.events] == ["p1 got 3"]
    assert [e.summary for e in log.events] == ["p1 got 3", "p1 got 4"]
