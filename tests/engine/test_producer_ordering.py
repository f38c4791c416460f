"""Ordering under retries: several batches of one partition in flight at once (max.in.flight > 1), a retried
batch landing behind later ones without idempotence, and sequence numbers keeping the order with it."""

from __future__ import annotations

from engine import Cluster


def _run(config: dict) -> tuple[Cluster, list[str]]:
    """Warm the producer up, lose the Produce request carrying A, send B right behind it, let A be retried."""
    c = Cluster(brokers=3, seed=5)
    c.create_topic("orders", partitions=1, replication_factor=3)
    base = {"linger.ms": 0, "request.timeout.ms": 2000, "delivery.timeout.ms": 20000, "retry.backoff.ms": 100}
    p = c.producer("p1", {**base, **config})
    p.send("orders", key="k", value="warm-up")
    p.flush()
    c.drop_messages("Produce")  # the request carrying A is lost on the way to the leader
    p.send("orders", key="k", value="A")
    c.run_for(5)
    p.send("orders", key="k", value="B")
    c.run_for(6000)
    leader = c.leader_replica(("orders", 0))
    values = [v.decode() for b in leader.log.batches() for v in b.values]
    return c, values


def test_without_idempotence_a_retried_batch_lands_behind_a_later_one():
    """Issue 16 ordering: max.in.flight=5 and no idempotence reorders A and B (Sender/RecordAccumulator)."""
    c, values = _run({"enable.idempotence": False, "max.in.flight.requests.per.connection": 5})
    assert values == ["warm-up", "B", "A"]
    assert any(e.kind == "batch_retried" for e in c.events.events)


def test_max_in_flight_one_keeps_the_order_without_idempotence():
    """guaranteeMessageOrder: with one request in flight B waits until A is written."""
    _, values = _run({"enable.idempotence": False, "max.in.flight.requests.per.connection": 1})
    assert values == ["warm-up", "A", "B"]


def test_idempotence_keeps_the_order_with_five_in_flight():
    """B arrives out of sequence, is refused with OUT_OF_ORDER_SEQUENCE_NUMBER and retried after A."""
    c, values = _run({"enable.idempotence": True, "max.in.flight.requests.per.connection": 5})
    assert values == ["warm-up", "A", "B"]
    retried = [e.data["error"] for e in c.events.events if e.kind == "batch_retried"]
    assert "OUT_OF_ORDER_SEQUENCE_NUMBER" in retried
    assert c.producers["p1"].failed == 0


def test_an_in_flight_batch_expires_at_delivery_timeout():
    """Sender.getExpiredInflightBatches: the batch fails delivery.timeout.ms after creation, not at the late answer."""
    c = Cluster(brokers=3, seed=5)
    c.create_topic("orders", partitions=1, replication_factor=3)
    p = c.producer("p1", {"linger.ms": 0, "request.timeout.ms": 10000, "delivery.timeout.ms": 15000})
    p.send("orders", key="k", value="warm-up")
    p.flush()
    c.drop_messages("Produce", 10)  # every attempt is lost: the second one is in flight at 15 s
    start = c.now
    fut = p.send("orders", key="k", value="never")
    c.run_for(30000)
    failed = [e for e in c.events.events if e.kind == "batch_failed"]
    assert fut.done and fut.error is not None and len(failed) == 1
    assert failed[0].time_ms - start == 15000
    assert p.failed == 1 and p.acked == 1
