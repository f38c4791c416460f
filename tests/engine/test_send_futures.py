"""send()'s futures: each one a caller holds keeps its own record, whatever is sent after it.

send() reuses its last future when nobody else holds it (see RecordMetadataFuture); these check that no caller
can see that: every pattern that keeps a future keeps a distinct, unchanged one."""

from __future__ import annotations

import pytest

from engine import RecordMetadataFuture
from engine.errors import KafkaTimeoutError
from helpers import GROUP_FAST, make_cluster


def _offsets_by_value(c) -> dict[bytes, tuple[int, int]]:
    """value -> (partition, offset) of everything on "orders", read back by a consumer."""
    k = c.consumer("c1", group_id="g", topics=["orders"], config=GROUP_FAST)
    got = {}
    for _ in range(30):
        for r in k.poll(200):
            got[r.value] = (r.partition, r.offset)
    return got


@pytest.mark.parametrize("keyed", [True, False])
def test_futures_kept_in_a_list_stay_distinct_and_correct_after_many_sends(keyed):
    c = make_cluster(partitions=3)
    p = c.producer("p1", {"linger.ms": 5, "batch.size": 1024})
    futs = []
    for i in range(2000):
        key = b"k%d" % (i % 7) if keyed else None
        futs.append(p.send("orders", key=key, value=b"v%d" % i, headers=None if i % 3 else [("h", b"x")]))
        p.send("orders", key=key, value=b"dropped %d" % i)  # its future is dropped at once
    p.flush()
    assert len({id(f) for f in futs}) == len(futs)
    where = _offsets_by_value(c)
    for i, f in enumerate(futs):
        assert f.value == b"v%d" % i and f.key == (b"k%d" % (i % 7) if keyed else None)
        assert f.topic == "orders" and f.succeeded and f.error is None
        assert (f.partition, f.offset) == where[b"v%d" % i]
        assert f.result() is f


def test_a_future_held_in_a_variable_keeps_its_record_across_the_next_send():
    c = make_cluster(partitions=3)
    p = c.producer("p1", {"linger.ms": 5})
    for i in range(10):
        p.send("orders", key=b"a", value=b"v-%05d" % i)
    f = p.send("orders", key=b"a", value=b"v-first")
    g = p.send("orders", key=b"a", value=b"v-secnd")
    assert (f.key, f.value) == (b"a", b"v-first") and (g.key, g.value) == (b"a", b"v-secnd")
    for i in range(100):
        p.send("orders", key=b"a", value=b"v-%05d" % i)
    p.flush()
    assert f is not g and f.partition == g.partition and g.offset == f.offset + 1
    assert repr(f) == f"<send orders-{f.partition} offset={f.offset}>"


def test_f_equals_send_in_a_loop_and_chained_attributes():
    c = make_cluster(partitions=3)
    p = c.producer("p1", {"linger.ms": 5})
    seen = []
    for i in range(500):
        f = p.send("orders", key=b"k%d" % (i % 5), value=b"v%d" % i)
        seen.append((f.value, f.partition))
    partitions = [p.send("orders", key=b"k%d" % (i % 5), value=b"w%d" % i).partition for i in range(500)]
    p.flush()
    where = _offsets_by_value(c)
    assert f.value == b"v499" and f.offset == where[b"v499"][1]
    assert seen == [(b"v%d" % i, where[b"v%d" % i][0]) for i in range(500)]
    assert partitions == [where[b"w%d" % i][0] for i in range(500)]


def test_futures_of_an_expired_batch_keep_their_error_while_later_sends_succeed():
    c = make_cluster(partitions=1)
    leader = c.leaders_of("orders")[0]
    c.crash_broker(leader)
    p = c.producer("p1", {"delivery.timeout.ms": 5000, "request.timeout.ms": 1000, "linger.ms": 0})
    doomed = [p.send("orders", key=b"k", value=b"doomed %d" % i) for i in range(50)]
    for i in range(50):
        p.send("orders", key=b"k", value=b"dropped %d" % i)
    p.flush()
    c.restart_broker(leader)
    c.run_for(10_000)
    later = [p.send("orders", key=b"k", value=b"later %d" % i) for i in range(50)]
    p.flush()
    assert len({id(f) for f in doomed + later}) == 100
    for i, f in enumerate(doomed):
        assert f.value == b"doomed %d" % i and f.done and not f.succeeded and f.offset is None
        assert isinstance(f.error, KafkaTimeoutError)
        with pytest.raises(KafkaTimeoutError):
            f.result()
    assert all(f.succeeded and f.value == b"later %d" % i for i, f in enumerate(later))
    assert isinstance(later[0], RecordMetadataFuture)


def test_on_cpython_a_dropped_future_is_reused_and_its_record_is_the_newest():
    # (the speed the reuse buys is invisible to the other tests: if the probe stopped matching send()'s pattern
    # on some Python, every send() would quietly make a new future again)
    import platform

    import engine.producer as producer_module

    if platform.python_implementation() != "CPython":
        pytest.skip("the reuse relies on CPython's reference counting")
    assert producer_module._REUSE_FUTURES
    c = make_cluster(partitions=1)
    p = c.producer("p1", {"linger.ms": 5})
    p.send("orders", key=b"k", value=b"v0")  # a new key, batch and size: the full path, a new future
    first = id(p.send("orders", key=b"k", value=b"v1"))
    assert id(p.send("orders", key=b"k", value=b"v2")) == first
    f = p.send("orders", key=b"k", value=b"v3")
    assert id(f) == first and f.value == b"v3"
