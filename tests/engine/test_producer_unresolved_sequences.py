"""An idempotent producer that gives up on a batch after it got a sequence bumps its epoch before its next send.

Kafka's client cannot know whether the broker wrote a batch it sent, retried and then gave up on, so the
partition's sequence is "unresolved" (Sender.sendProducerData -> TransactionManager.markSequenceUnresolved).
Once no batch of that partition is in flight, TransactionManager.maybeResolveSequences bumps the epoch unless a
later batch was acknowledged (then the expired one was written too), and the partition's sequences restart at 0.
The next batch (new epoch, sequence 0) is accepted whether or not the broker has the expired one
(ProducerAppendInfo.checkSequence): no OUT_OF_ORDER_SEQUENCE_NUMBER round trip. Kafka's SenderTest covers the
client side: testExpiryOfAllSentBatchesShouldCauseUnresolvedSequences and
testExpiryOfUnsentBatchesShouldNotCauseUnresolvedSequences.

A batch a broker refuses for good (e.g. RECORD_TOO_LARGE) leaves a gap too: Sender.failBatch with
adjustSequenceNumbers -> TransactionManager.handleFailedBatch -> requestEpochBumpForPartition.

The reliability state machine found the case (seed 43): a batch for t2-1 expired while its leader was
unreachable, and after the leader restarted the next one was refused with OUT_OF_ORDER_SEQUENCE_NUMBER.
"""

from __future__ import annotations

from engine import Cluster

CONFIG = {"linger.ms": 0, "request.timeout.ms": 1000, "delivery.timeout.ms": 3000, "retry.backoff.ms": 100}


def _expire_second_record(lose: str):
    """'first' acknowledged; every attempt of 'expired' (3 in 3 s) loses its `lose` message; then 'next'."""
    c = Cluster(brokers=3, seed=5)
    c.create_topic("t", partitions=1, replication_factor=3)
    p = c.producer("p", CONFIG)  # idempotent, acks=all by default
    p.send("t", key="k", value="first")
    p.flush()
    c.drop_messages(lose, 3)
    expired = p.send("t", key="k", value="expired")
    c.run_for(4000)
    assert expired.error is not None and expired.error.name == "TIMEOUT"
    epoch_after_expiry = p.producer_epoch
    nxt = p.send("t", key="k", value="next")
    p.flush()
    log = [
        (b.base_offset, b.producer_epoch, b.base_sequence, v.decode())
        for b in c.leader_replica(("t", 0)).log.batches()
        for v in b.values
    ]
    errors = [e.data.get("error") for e in c.events.events]
    return epoch_after_expiry, nxt, log, errors


def test_an_expired_batch_the_broker_never_got_bumps_the_epoch_before_the_next_send():
    epoch, nxt, log, errors = _expire_second_record("Produce")
    assert epoch == 1  # bumped when the batch expired, not when a broker refused the next one
    assert nxt.error is None and nxt.offset == 1
    assert log == [(0, 0, 0, "first"), (1, 1, 0, "next")]  # the new epoch starts at sequence 0
    assert "OUT_OF_ORDER_SEQUENCE_NUMBER" not in errors


def test_an_expired_batch_the_broker_wrote_bumps_the_epoch_too():
    """Only the answers were lost: the producer cannot tell, bumps all the same, and nothing is written twice."""
    epoch, nxt, log, errors = _expire_second_record("ProduceResponse")
    assert epoch == 1
    assert nxt.error is None and nxt.offset == 2
    assert log == [(0, 0, 0, "first"), (1, 0, 1, "expired"), (2, 1, 0, "next")]
    assert "OUT_OF_ORDER_SEQUENCE_NUMBER" not in errors


def test_a_batch_that_expires_unsent_keeps_the_epoch():
    """testExpiryOfUnsentBatchesShouldNotCauseUnresolvedSequences: a batch never sent took no sequence."""
    c = Cluster(brokers=3, seed=5)
    c.create_topic("t", partitions=1, replication_factor=1)
    c.run_for(100)
    leader = c.leaders_of("t")[0]
    c.crash_broker(leader)  # the only replica: the partition goes offline
    c.run_for(15000)
    assert c.leaders_of("t") == [None]
    p = c.producer("p", CONFIG)
    unsent = p.send("t", key="k", value="unsent")
    c.run_for(4000)
    assert unsent.error is not None and unsent.error.name == "TIMEOUT"
    assert p.producer_epoch == 0
    c.restart_broker(leader)
    c.run_for(1000)
    nxt = p.send("t", key="k", value="next")
    p.flush()
    assert nxt.error is None
    batches = list(c.leader_replica(("t", 0)).log.batches())
    assert [(b.producer_epoch, b.base_sequence) for b in batches] == [(0, 0)]


def test_a_batch_refused_for_good_bumps_the_epoch_at_once():
    """handleFailedBatch(adjustSequenceNumbers=true): the refused batch's sequence is never written, so the
    epoch is bumped when it fails, not when the next batch comes back OUT_OF_ORDER_SEQUENCE_NUMBER."""
    c = Cluster(brokers=3, seed=5)
    c.create_topic("t", partitions=1, replication_factor=3, config={"max.message.bytes": 300})
    p = c.producer("p", {"linger.ms": 0})
    p.send("t", key="k", value="first")
    p.flush()
    big = p.send(
        "t", key="k", value="x" * 1000
    )  # within max.request.size, over the topic's max.message.bytes
    p.flush()
    assert big.error is not None and big.error.name == "RECORD_TOO_LARGE"
    assert p.producer_epoch == 1
    nxt = p.send("t", key="k", value="next")
    p.flush()
    assert nxt.error is None and nxt.offset == 1
    assert [(b.producer_epoch, b.base_sequence) for b in c.leader_replica(("t", 0)).log.batches()] == [
        (0, 0),
        (1, 0),
    ]
    assert "OUT_OF_ORDER_SEQUENCE_NUMBER" not in [e.data.get("error") for e in c.events.events]
