"""Mutation tests for the reliability soak: plant a replication bug in the engine and show the soak catches it.

Each mutant replaces one engine method in-process (pytest's monkeypatch, undone after the test):

- `hw_is_leader_leo`: `Replica.compute_hw` returns the leader's log end offset, ignoring the followers'
  (the min-ISR hold of KAFKA-15583 kept): consumers may read, and acks=all is answered for, records that only
  the leader has.
- `acks_all_at_append`: `Broker.on_produce` answers an acks=all produce as soon as the leader appended it,
  instead of parking it in the DelayedProduce purgatory until the high watermark covers it.
- `follower_truncates_its_latest_epoch`: a follower that starts following a new leader truncates to where its
  own latest leader epoch starts instead of to where that epoch ends in the leader's log (KIP-101/KIP-279), so
  it drops records below the high watermark that consumers could already read (it fetches them again, so no
  other invariant notices). Truncating to its own HW, as Kafka did before KIP-101, is the realistic version of
  this bug, but a follower's HW lags the leader's for one fetch at most here, and 100 examples never hit it.

The soak (tests/reliability/test_guarantees.py) runs smoke-sized and derandomized, without shrinking, so each
run is the same few examples and a mutant costs seconds, not minutes. Unmutated, the same run passes.
Invariants 8 and 9 (`LogWitness`, reading the replicas' logs) catch each mutant within these examples; with them
switched off, invariants 1 to 6 let all three survive 150 examples of 50 steps (measured when this was written).
"""

from __future__ import annotations

import _profiles
import pytest
from hypothesis import Phase
from hypothesis.stateful import run_state_machine_as_test
from test_guarantees import KafkaGuarantees

from engine.broker import Broker
from engine.replica import Replica

SMOKE = _profiles.fixed_settings(
    30,
    50,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a mutant only needs to fail, not be minimal
    print_blob=False,
)


class SmokeSoak(KafkaGuarantees):
    """The soak's state machine; teardown settles and checks recovery but skips the replay (invariant 7),
    which no mutant here can break (a mutant is as deterministic as the engine)."""

    stat_name = "guarantees: mutation smoke"

    def teardown(self) -> None:
        self._do("settle")
        self.checker.check_recovered()


# -- the mutants ------------------------------------------------------------------------------------------------
def _hw_is_leader_leo(self, min_insync, now_ms=0, lag_max_ms=-1, eligible=None):
    if len(self.isr) < self.effective_min_isr(min_insync):
        return self.hw
    return max(self.hw, self.leo)


def hw_is_leader_leo(mp: pytest.MonkeyPatch) -> None:
    mp.setattr(Replica, "compute_hw", _hw_is_leader_leo)


def acks_all_at_append(mp: pytest.MonkeyPatch) -> None:
    on_produce = Broker.on_produce

    def answered_at_append(self, req):
        on_produce(self, req)
        if req.acks == -1 and req.pending and not req.done:
            for tp in req.batches:
                r = self.replicas.get(tp)
                if r is not None:
                    r.delayed_produce = [(o, q) for o, q in r.delayed_produce if q is not req]
            req.pending = 0
            if req.timer is not None:
                req.timer.stop(req)
            self._respond_produce(req)

    mp.setattr(Broker, "on_produce", answered_at_append)


def follower_truncates_its_latest_epoch(mp: pytest.MonkeyPatch) -> None:
    respond = Broker.on_offsets_for_leader_epoch_response

    def truncate_whole_epoch(self, leader_id, tp, epoch, answer, my_epoch):
        r = self.replicas.get(tp)
        if answer is not None and r is not None and r.log.epochs:
            answer = (answer[0], min(answer[1], r.log.epochs[-1][1]))  # where its latest epoch starts
        respond(self, leader_id, tp, epoch, answer, my_epoch)

    mp.setattr(Broker, "on_offsets_for_leader_epoch_response", truncate_whole_epoch)


MUTANTS = [hw_is_leader_leo, acks_all_at_append, follower_truncates_its_latest_epoch]


def test_the_smoke_soak_passes_unmutated():
    run_state_machine_as_test(SmokeSoak, settings=SMOKE)


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.__name__)
def test_the_soak_catches_a_planted_replication_bug(mutant, monkeypatch):
    mutant(monkeypatch)
    with pytest.raises(AssertionError, match=r"invariant \d") as info:
        run_state_machine_as_test(SmokeSoak, settings=SMOKE)
    print(f"{mutant.__name__}: {str(info.value).splitlines()[0]}")
