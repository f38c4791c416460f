"""Issue 15 behaviours of the producer (1, 3, 8, 9): each test failed on the engine before its fix."""

from __future__ import annotations

from engine import Cluster
from engine.compare import outcome


def test_ack_latency_p99_is_per_record():
    """Issue 15 behaviour 9: the p99 of acknowledgement latency counts records, not batches."""
    c = Cluster(brokers=2, seed=3)
    c.create_topic("t", partitions=2, replication_factor=1)
    c.run_for(100)
    leaders = c.leaders_of("t")
    slow = 1 if leaders[1] != leaders[0] else 0
    p = c.producer("p", {"acks": "1", "linger.ms": 0})
    for i in range(963):  # 963 records acknowledged in a few ms, each in its own batch
        p.send("t", value=b"v%d" % i, partition=1 - slow)
        c.run_for(1)
    p.flush()
    c.crash_broker(leaders[slow])  # the only replica of the other partition: its 37 records wait
    futs = [p.send("t", value=b"w%d" % i, partition=slow) for i in range(37)]
    c.run_for(9000)
    c.restart_broker(leaders[slow])
    p.flush()
    assert all(f.succeeded for f in futs)
    p99 = outcome(c).ack_latency_p99_ms
    assert p99 is not None and p99 >= 9000


def _stuck_topic(c: Cluster) -> int:
    """A one-replica topic whose leader then crashes: every batch for it stays in the producer's buffer."""
    c.create_topic("t", partitions=1, replication_factor=1)
    c.run_for(100)
    leader = c.leaders_of("t")[0]
    c.crash_broker(leader)
    return leader


def test_full_buffer_send_blocks_max_block_ms_then_fails_its_future():
    """Issue 15 behaviour 8: send() on a full buffer blocks max.block.ms, then fails with a TimeoutException
    (KafkaProducer returns a failed future: `get()` throws BufferExhaustedException)."""
    from engine.errors import BufferExhaustedError, KafkaTimeoutError

    c = Cluster(brokers=2, seed=1)
    _stuck_topic(c)
    p = c.producer("p", {"buffer.memory": 2048, "max.block.ms": 1000, "linger.ms": 0})
    futs = [p.send("t", key=b"k", value=b"x" * 40) for _ in range(42)]
    assert p.buffer_used + 48 > 2048  # 42 records of 48 bytes: the next one does not fit
    started = c.now
    blocked = p.send("t", key=b"k", value=b"x" * 40)
    assert c.now - started == 1000  # simulated time ran while send() blocked
    assert blocked.done and isinstance(blocked.error, BufferExhaustedError)
    assert isinstance(blocked.error, KafkaTimeoutError)
    assert "max blocking time 1000 ms" in str(blocked.error)
    assert not any(f.done for f in futs)  # the buffered records are still waiting, not dropped
    assert p.failed == 1 and p.sent == 43
    assert any(e.kind == "send_failed" for e in c.events.events)


def test_load_generator_counts_blocked_sends_that_time_out_as_failed():
    """Issue 15 behaviour 8: the steady-load generator's records that time out on a full buffer are failed
    records with an event, never silently skipped."""
    from engine.load import LoadGenerator

    c = Cluster(brokers=2, seed=1)
    _stuck_topic(c)
    p = c.producer("p", {"buffer.memory": 4096, "max.block.ms": 1000})
    gen = LoadGenerator(c, p, "t", rate_per_s=100, keys="fixed", key_count=1, value_bytes=40)
    gen.start()
    c.run_for(5000)
    kinds = [e.kind for e in c.events.events]
    assert "send_blocked" in kinds and "send_failed" in kinds
    assert gen.failed >= 3 and p.failed >= gen.failed
    # every record the generator made is accounted for: acknowledged, failed, or still buffered / blocked
    buffered = sum(b.count for dq in p.batches.values() for b in dq)
    assert gen.sent == p.acked + p.failed + buffered + (gen.blocked is not None)


def test_idempotent_producer_keeps_working_after_an_unclean_election():
    """Issue 15 behaviour 3: after an unclean election the new leader's producer state has a gap, and the
    idempotent producer bumps its epoch, resets its sequences and retries (KIP-360) instead of failing."""
    c = Cluster(brokers=3, seed=4)
    c.create_topic("t", partitions=1, replication_factor=2, config={"unclean.leader.election.enable": True})
    c.run_for(200)
    leader = c.leaders_of("t")[0]
    follower = next(r for r in c.controller.partitions[("t", 0)].replicas if r != leader)
    p = c.producer("p", {"linger.ms": 0})  # idempotent by default (Kafka 3.0+)
    for i in range(3):
        p.send("t", key=b"k", value=b"a%d" % i)
    p.flush()
    c.crash_broker(follower)
    c.run_for(40000)  # replica.lag.time.max.ms: the ISR shrinks to the leader, which takes 3 more records
    for i in range(3):
        p.send("t", key=b"k", value=b"b%d" % i)
    p.flush()
    c.crash_broker(leader)
    c.run_for(12000)
    c.restart_broker(follower)  # the only replica left: elected although it missed b0-b2 (unclean)
    c.run_for(15000)
    assert c.leaders_of("t") == [follower]
    after = [p.send("t", key=b"k", value=b"c%d" % i) for i in range(2)]
    p.flush()
    later = p.send("t", key=b"k", value=b"d")
    p.flush()
    assert [f.error for f in [*after, later]] == [None, None, None]
    assert [f.offset for f in [*after, later]] == [3, 4, 5]  # written once each, in order, after a0-a2
    assert any(e.kind == "producer_epoch_bumped" for e in c.events.events)
    assert p.producer_epoch == 1


def test_keyless_records_only_go_to_partitions_with_a_leader():
    """Issue 15 behaviour 1: BuiltInPartitioner picks a keyless record's partition among those with a leader
    (availablePartitionsForTopic)."""
    c = Cluster(brokers=3, seed=2)
    c.create_topic("t", partitions=3, replication_factor=1)
    c.run_for(100)
    c.crash_broker(c.leaders_of("t")[1])
    c.run_for(15000)  # fenced: t-1 has no leader now
    assert c.leaders_of("t")[1] is None
    p = c.producer("p", {"batch.size": 200, "linger.ms": 0, "delivery.timeout.ms": 40000})
    futs = []
    for i in range(300):
        futs.append(p.send("t", value=b"v%03d" % i))
        c.run_for(1)
    p.flush()
    assert {f.partition for f in futs} == {0, 2}
    assert all(f.succeeded for f in futs)


def _keyless_load_with_a_slow_broker(config: dict) -> tuple[int, int]:
    """(records the generator made, records for the slow broker's partition still in the producer)."""
    from engine.load import LoadGenerator

    c = Cluster(brokers=3, seed=5)
    c.create_topic("t", partitions=3, replication_factor=1)
    c.run_for(200)
    c.slow_broker(c.leaders_of("t")[0], 300)  # t-0's leader answers 600 ms later than the others
    p = c.producer("p", {"batch.size": 1024, "acks": "1", **config})
    gen = LoadGenerator(c, p, "t", rate_per_s=2000, keys="none", value_bytes=50)
    gen.start()
    c.run_for(5000)
    return gen.sent, sum(b.count for b in p.batches.get(("t", 0), ()))


def test_adaptive_partitioning_sends_fewer_keyless_records_to_a_slow_partition():
    """Issue 15 behaviour 1: partitioner.adaptive.partitioning.enable (default true) weights the sticky
    partition's draw by the inverse of each partition's queue (KIP-794), so a slow leader's queue stays short."""
    sent, queued = _keyless_load_with_a_slow_broker({})
    assert queued < sent * 0.1
    sent_uniform, queued_uniform = _keyless_load_with_a_slow_broker(
        {"partitioner.adaptive.partitioning.enable": False}
    )
    assert queued_uniform > sent_uniform * 0.25  # uniform: a third of the records wait for the slow leader
