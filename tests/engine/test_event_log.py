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


def _acked_words(pid: str, count: int) -> tuple:
    return f"{pid} got {count}", (pid,), "t", 0, {"records": count}


def test_an_event_kept_as_raw_values_reads_like_an_eager_one_and_checkpoints_share_it():
    log = EventLog(max_events=10)
    log.add(1, "note", "eager", (), None, None, {})
    log.add_built((2, "batch_acked", _acked_words, "p1", 3))
    twin = copy.deepcopy(log)
    for n in range(20):  # trims the log: seqs stay dense, the note counts what went
        log.add_built((3 + n, "batch_acked", _acked_words, "p1", n))
    assert twin.kinds_since(0) == ["note", "batch_acked"]
    assert twin.events[1] == Event(2, 2, "batch_acked", "p1 got 3", ("p1",), "t", 0, {"records": 3})
    evs = log.events
    assert [e.seq for e in evs] == list(range(evs[0].seq, log.seq + 1))
    acked = [e for e in evs if e.kind == "batch_acked"]
    assert acked[-1].summary == "p1 got 19" and acked[-1].time_ms == 22 and acked[-1].actors == ("p1",)
    assert any(e.data.get("events_trimmed") == log.trimmed for e in evs)


def test_ack_latency_from_a_sealed_column_is_the_same_as_from_the_send_times():
    from engine.metrics import Metrics
    from engine.records import timestamp_column

    for stamps in ([5, 5, 5], [3] * 10 + [4] * 10 + [6] * 10 + [9] * 10, [1, 2]):
        col = timestamp_column(sorted(stamps), True)
        a, b = Metrics(), Metrics()
        a.on_acked(140, sorted(stamps))
        b.on_acked(140, col)
        assert (a.buckets, list(a.ack_histogram.items())) == (b.buckets, list(b.ack_histogram.items()))
