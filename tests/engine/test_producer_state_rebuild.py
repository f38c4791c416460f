"""A restarted leader rebuilds each producer id's state from its log: the last epoch and that epoch's batches.

Kafka replays the log into ProducerStateEntry.addBatch, whose maybeUpdateProducerEpoch clears the cached batch
metadata when the epoch changes (storage: ProducerStateEntry, UnifiedLog.rebuildProducerState). The engine
used to keep the first epoch it met in the log and pile the later epoch's batches under it, so after an epoch
bump (KIP-360) and a leader restart the retry of a written batch was refused with OUT_OF_ORDER_SEQUENCE_NUMBER
instead of recognised, and the producer wrote it a second time under a new epoch.
"""

from __future__ import annotations

from engine import Cluster

CONFIG = {"linger.ms": 0, "request.timeout.ms": 1000, "delivery.timeout.ms": 3000, "retry.backoff.ms": 100}


def test_a_retry_after_the_leader_restarts_is_recognised_under_a_bumped_epoch():
    c = Cluster(brokers=3, seed=5)
    c.create_topic("t", partitions=1, replication_factor=1)  # the restarted broker leads again
    c.run_for(100)
    leader = c.leaders_of("t")[0]
    p = c.producer("p", CONFIG)
    p.send("t", key="k", value="first")
    p.flush()
    c.drop_messages("Produce", 3)  # every attempt of "expired" is lost: the producer bumps its epoch
    p.send("t", key="k", value="expired")
    c.run_for(4000)
    assert p.producer_epoch == 1
    p.send("t", key="k", value="a")
    p.flush()
    c.drop_messages("ProduceResponse", 1)  # "c" is written, its answer lost
    c_future = p.send("t", key="k", value="c")
    c.run_for(5)
    c.crash_broker(leader)
    c.restart_broker(leader)
    p.flush()
    log = [
        (b.base_offset, b.producer_epoch, b.base_sequence, v.decode())
        for b in c.leader_replica(("t", 0)).log.batches()
        for v in b.values
    ]
    assert log == [(0, 0, 0, "first"), (1, 1, 0, "a"), (2, 1, 1, "c")]  # "c" once
    assert c_future.error is None and c_future.offset == 2
    assert any(e.kind == "duplicate_batch" for e in c.events.events)
