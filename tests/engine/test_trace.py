"""Follow one message: its life, in time order, consistent with the event log."""

from __future__ import annotations

import pytest

from engine import Cluster
from engine.errors import InvalidArgumentError
from engine.partitioner import partition_for_key
from helpers import GROUP_FAST, acks1_loss


def test_trace_of_an_acks_all_record_at_rf3_lists_its_whole_life_in_order():
    c = Cluster(brokers=3, seed=3)
    c.create_topic("orders", partitions=3, replication_factor=3, config={"min.insync.replicas": 2})
    p = c.producer("p1", {"acks": "all", "linger.ms": 5})
    fut = p.send("orders", key="alice", value="order-1")
    c.run_until(lambda: fut.done, 1000)  # (flush() would send at once, skipping linger.ms)
    k = c.consumer(
        "c1", group_id="g1", topics=["orders"], config={**GROUP_FAST, "auto.commit.interval.ms": 100}
    )
    k.poll(5000)
    k.poll(500)
    k.poll(200)  # auto-commit happens inside poll() once auto.commit.interval.ms has passed
    t = c.trace("orders", fut.partition, fut.offset)
    assert t.key == b"alice" and t.partition == partition_for_key(b"alice", 3)
    kinds = t.kinds()
    for needed in (
        "partitioned",
        "sent",
        "appended",
        "replicated",
        "committed",
        "acked",
        "polled",
        "offset_committed",
    ):
        assert needed in kinds, f"{needed} missing from {kinds}"
    assert kinds.count("replicated") == 2  # both followers
    order = [kinds.index(k_) for k_ in ("sent", "appended", "replicated", "committed", "acked", "polled")]
    assert order == sorted(order)
    times = [s.time_ms for s in t.steps]
    assert times == sorted(times)
    by_seq = {e.seq: e for e in c.events.events}
    for s in t.steps:
        if s.seq:
            assert by_seq[s.seq].time_ms == s.time_ms  # consistent with the event log
    appended = next(s for s in t.steps if s.kind == "appended")
    assert f"offset {fut.offset}" in appended.summary
    assert (
        "murmur2" in t.steps[0].summary
        and "5 ms in the accumulator" in next(s for s in t.steps if s.kind == "sent").summary
    )


def test_trace_by_key_and_a_lost_record():
    c, _leader, _kept, f = acks1_loss()
    t = c.trace("orders", 0, f.offset)
    assert t.value == b"doomed" and "lost" in t.kinds() and "acked" in t.kinds()
    assert "acks=1" in next(s for s in t.steps if s.kind == "lost").summary
    by_key = c.trace("orders", key="bob")
    assert [tr.value for tr in by_key] == [b"kept"]  # the lost one is no longer in the log


def test_a_lost_record_whose_offset_was_reused_is_traced_from_the_loss_ledger():
    c, _leader, _kept, f = acks1_loss()
    g = c.producers["p1"].send("orders", key="carol", value="after")
    c.run_until(lambda: g.done, 5000)
    assert g.offset == f.offset  # the new leader wrote another record at the lost one's offset
    assert c.trace("orders", 0, f.offset).value == b"after"
    t = c.trace("orders", 0, f.offset, lost=True)
    assert (t.key, t.value) == (b"bob", b"doomed")
    kinds = t.kinds()
    assert kinds[-1] == "lost" and kinds.index("appended") < kinds.index("acked") < kinds.index("lost")
    assert all(s.seq <= next(x.seq for x in t.steps if x.kind == "lost") for s in t.steps)  # nothing after
    assert [b.lost_reason is not None for b in c.acked_batches("p1")] == [False, True, False]
    for call, arg in (
        (lambda: c.trace("orders", 0, f.offset + 5, lost=True), "offset"),
        (lambda: c.trace("orders", 3, 0, lost=True), "partition"),
        (lambda: c.trace("nope", key="bob"), "topic"),
    ):
        with pytest.raises(InvalidArgumentError, match=f"^{arg}:"):
            call()
