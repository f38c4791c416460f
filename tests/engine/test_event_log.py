"""The event log: hot paths add events whose sentence is formatted only when someone reads the log."""

from __future__ import annotations

import copy

from engine.events import Event, EventLog


def _hw_words(topic: str, partition: int, old: int, hw: int, isr: list) -> tuple:
    return (
        f"High watermark of {topic}-{partition} moved {old} -> {hw} on {isr}",
        ("broker-1",),
        topic,
        partition,
        {"hw": hw},
    )


def test_an_event_kept_as_raw_values_reads_exactly_like_an_eager_one():
    log = EventLog()
    log.add(5, "note", "eager", (), None, None, {})
    log.add_built((7, "high_watermark", _hw_words, "orders", 0, 3, 5, [1, 2]))
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


_built: list[int] = []


def _sent_words(n: int) -> tuple:
    _built.append(n)
    return f"sent batch {n}", (), None, None, {}


def test_words_nobody_reads_are_never_built():
    _built.clear()
    log = EventLog(max_events=10)
    for n in range(30):
        log.add_built((n, "batch_sent", _sent_words, n))
    assert _built == []  # bulk work: nothing built yet, the oldest already trimmed
    evs = log.events
    assert [e.summary for e in evs if e.kind == "batch_sent"] == [f"sent batch {n}" for n in _built]
    assert _built and min(_built) > 0  # only the kept ones were built
    assert log.since(evs[-1].seq - 1) == evs[-1:]


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
