"""A batch the leader refuses leaves the producer's state on that partition as it was."""

from __future__ import annotations

import copy

from engine import Cluster
from engine.broker import ProduceRequest


class _RawClient:
    """Sends hand-made Produce requests straight to a leader and keeps the answers."""

    id = "raw"

    def __init__(self) -> None:
        self.answers: list[dict] = []

    def on_produce_response(self, req, results) -> None:
        self.answers.append({tp: (err.name if err else None, off) for tp, (err, off) in results.items()})


def test_a_batch_refused_for_a_bad_new_epoch_sequence_leaves_the_producer_state_unchanged():
    """Kafka: UnifiedLog.append -> analyzeAndValidateProducerState checks the batch against a copy of the
    producer's entry (ProducerAppendInfo: updatedEntry); a new epoch must start at sequence 0
    (ProducerAppendInfo.checkSequence, OutOfOrderSequenceException "Invalid sequence number for new epoch") and the
    throw comes before ProducerStateManager.update. So the current epoch and its cached batches stay: a retry of
    an appended batch is still a duplicate and the producer's next batch is accepted, not fenced."""
    c = Cluster(brokers=3, seed=5)
    c.create_topic("t", partitions=1, replication_factor=3)
    p = c.producer("p", {"linger.ms": 0})
    p.send("t", key="k", value="first")
    p.flush()
    tp = ("t", 0)
    leader_replica = c.leader_replica(tp)
    leader = c.brokers[leader_replica.broker_id]
    first = next(iter(leader_replica.log.batches()))
    assert (first.producer_epoch, first.base_sequence) == (0, 0)
    raw = _RawClient()
    forged = copy.copy(first)
    forged.producer_epoch, forged.base_sequence = first.producer_epoch + 1, 3
    leader.on_produce(ProduceRequest(1, raw, {tp: forged}, 1, 1000))
    leader.on_produce(ProduceRequest(2, raw, {tp: first}, 1, 1000))  # a retry of the appended batch
    c.run_for(100)
    assert raw.answers == [{tp: ("OUT_OF_ORDER_SEQUENCE_NUMBER", -1)}, {tp: (None, 0)}]
    nxt = p.send("t", key="k", value="second")
    p.flush()
    assert nxt.error is None and nxt.offset == 1
