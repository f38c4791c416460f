"""What poll() hands out, and what the consumer's history and `Cluster.consumed_records` show afterwards: the
newest records in poll order, each with the timestamp it was sent with (the history is kept as batch slices and
the records are built again when it is read; batches sent over several milliseconds keep their timestamps as
runs)."""

from __future__ import annotations

from engine import Cluster
from engine.consumer import HISTORY


def _sent_and_polled(max_records: list[int]) -> tuple[Cluster, dict[bytes, int], list]:
    c = Cluster(brokers=3, seed=5)
    c.create_topic("t", partitions=3, replication_factor=3)
    p = c.producer("p", config={"acks": "all", "linger.ms": 20})
    k = c.consumer("k", group_id="g", topics=["t"], config={"auto.offset.reset": "earliest"})
    sent_at: dict[bytes, int] = {}
    for i in range(4000):
        v = b"v%d" % i
        sent_at[v] = c.now  # CreateTime: the time send() was called
        p.send("t", key=b"k%d" % (i % 11), value=v, headers=[("h", b"1")] if i % 3 == 0 else None)
        if i % 40 == 0:
            c.run_for(1)  # batches that span several milliseconds (kept as runs of equal timestamps)
    p.flush()
    polled = []
    j = 0
    while len(polled) < 4000:
        polled.extend(k.poll(timeout_ms=100, max_records=max_records[j % len(max_records)]))
        j += 1
    return c, sent_at, polled


def test_every_polled_record_carries_the_time_it_was_sent_and_its_offset():
    c, sent_at, polled = _sent_and_polled([500])
    assert sorted(r.value for r in polled) == sorted(sent_at)
    assert all(r.timestamp == sent_at[r.value] for r in polled)
    by_partition: dict[int, list[int]] = {}
    for r in polled:
        by_partition.setdefault(r.partition, []).append(r.offset)
    assert all(offs == list(range(len(offs))) for offs in by_partition.values())
    assert all(r.headers == ((("h", b"1"),) if int(r.value[1:]) % 3 == 0 else ()) for r in polled)


def test_history_and_consumed_records_are_the_newest_records_in_poll_order():
    c, _, polled = _sent_and_polled([1, 7, 133, 500, 61])
    k = c.consumers["k"]
    assert list(k.history) == polled[-HISTORY:]
    for n in (1, 2, 7, 20, 133, HISTORY - 1, HISTORY, HISTORY + 500):
        assert c.consumed_records("k", n) == tuple(polled[-min(n, HISTORY) :])
    assert c.consumed_records("k", 0) == ()


def test_a_restarted_consumer_keeps_its_history():
    c, _, polled = _sent_and_polled([500])
    again = c.restart_consumer("k")
    assert list(again.history) == polled[-HISTORY:]
    assert c.consumed_records("k", 5) == tuple(polled[-5:])
    assert again.received == 4000
