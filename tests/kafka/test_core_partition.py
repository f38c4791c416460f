"""Ported from Apache Kafka core: kafka.cluster.PartitionTest (with AbstractPartitionTest).

Each test names the Scala method it comes from; inputs and expected values are Kafka's. How the test drives
the leader (makeLeader, fetchFollower, maybeShrinkIsr, the AlterPartition manager) is in _core_helpers.py.
Adaptations: Kafka's brokerId 0, 1, 2 are brokers 1, 2, 3; `lastCaughtUpTimeMs = 0` (never) is
engine.replica.NEVER_MS; Kafka's UnifiedLog.UnknownOffset (-1) for an unknown follower LEO is our -1 too.
Cases the engine cannot express are listed in NOT_PORTED-core.md.
"""

from __future__ import annotations

import pytest
from _core_helpers import LAG_MAX_MS, PartitionHarness

from engine.replica import NEVER_MS

LEADER, F1, F2 = 1, 2, 3


def _seeded(brokers: int = 2, n: int = 10, min_isr: int = 1) -> PartitionHarness:
    h = PartitionHarness(brokers=brokers, min_isr=min_isr)
    h.seed_log(n, leader_epoch=4)
    return h


# -- makeLeader, leader epochs ----------------------------------------------------------------------------------
def test_make_leader_updates_epoch_cache():
    """PartitionTest.testMakeLeaderUpdatesEpochCache"""
    h = PartitionHarness(brokers=2)
    log = h.r.log
    for epoch in (0, 0, 5, 5):
        log.append(h_records(epoch, log.log_end_offset), 0, 1 << 30, 1 << 40)
    assert log.log_end_offset == 4
    h.make_leader(8, [LEADER, F1], [LEADER, F1], 1)
    assert h.leo == 4
    # lastOffsetForLeaderEpoch(currentLeaderEpoch = 8, leaderEpoch = 8): epoch 8 ends at offset 4
    assert log.end_offset_for_epoch(8) == (8, 4)


def h_records(epoch: int, at: int):
    from _core_helpers import records

    return records(1).at(at, epoch)


def test_follower_does_not_join_isr_until_caught_up_to_offset_within_current_leader_epoch():
    """PartitionTest.testFollowerDoesNotJoinISRUntilCaughtUpToOffsetWithinCurrentLeaderEpoch"""
    h = PartitionHarness(brokers=3)
    replicas, isr = [LEADER, F1, F2], [LEADER, F2]
    assert h.make_leader(8, isr, replicas, 1)
    assert h.r.leader_epoch == 8 and h.isr == {LEADER, F2}
    last_offset_of_first_batch = h.append_as_leader(2)
    h.append_as_leader(3)
    assert h.hw == h.r.log.log_start_offset  # the leader's HW did not move
    h.fetch_follower(F2, 0)
    h.fetch_follower(F2, last_offset_of_first_batch)
    assert h.hw == last_offset_of_first_batch
    # the leader becomes follower and then leader again, with no new records
    h.make_follower(F2, 9, isr, replicas, 1)
    assert h.make_leader(10, isr, replicas, 1)
    current_leader_epoch_start_offset = h.leo
    h.append_as_leader(2)
    h.fetch_follower(F1, 0)
    h.fetch_follower(F1, last_offset_of_first_batch)
    assert h.isr == {LEADER, F2}
    assert not h.inflight
    h.fetch_follower(F1, current_leader_epoch_start_offset)
    assert h.isr == {LEADER, F2}  # the expansion does not change the committed ISR
    assert h.maximal_isr == {LEADER, F1, F2}
    assert set(h.r.pending_isr) == {LEADER, F1, F2}  # the AlterPartition sent


def test_at_min_isr():
    """PartitionTest.testAtMinIsr: ISR {leader} of 3 replicas, min.insync.replicas=1: at min ISR, not under."""
    h = PartitionHarness(brokers=3)
    h.make_leader(8, [LEADER], [LEADER, F1, F2], 1)
    r = h.r
    assert len(r.isr) == r.effective_min_isr(1)


def test_is_under_min_isr():
    """PartitionTest.testIsUnderMinIsr (min.insync.replicas=2)"""
    h = PartitionHarness(brokers=2, min_isr=2)
    h.make_leader(1, [LEADER, F1], [LEADER, F1], 1)
    assert not len(h.r.isr) < h.r.effective_min_isr(2)
    h.make_leader(2, [LEADER], [LEADER, F1], 2)
    assert len(h.r.isr) < h.r.effective_min_isr(2)


@pytest.mark.parametrize(("min_isr", "replicas", "effective"), [(2, 1, 1), (3, 2, 2), (2, 3, 2), (1, 3, 1)])
def test_effective_min_isr(min_isr, replicas, effective):
    """PartitionTest.testIsUnderMinIsr / Partition.effectiveMinIsr: min(min.insync.replicas, replication factor)
    (KAFKA-15583)."""
    h = PartitionHarness(brokers=replicas, min_isr=min_isr)
    assert h.r.effective_min_isr(min_isr) == effective


def test_under_replicated_partitions_correct_semantics():
    """PartitionTest.testUnderReplicatedPartitionsCorrectSemantics"""
    h = PartitionHarness(brokers=3)
    h.make_leader(6, [LEADER, F1], [LEADER, F1, F2], 1)
    assert len(h.r.isr) < len(h.r.replicas)  # isUnderReplicated
    h.make_leader(6, [LEADER, F1, F2], [LEADER, F1, F2], 2)
    assert len(h.r.isr) == len(h.r.replicas)


# -- follower fetch state --------------------------------------------------------------------------------------
def test_update_follower_fetch_state():
    """PartitionTest.testUpdateFollowerFetchState"""
    h = _seeded(n=6)
    initialize_time_ms = h.now
    assert h.make_leader(5, [LEADER, F1], [LEADER, F1], 1)
    f = h.follower(F1)
    assert (f.last_caught_up_ms, f.leo) == (initialize_time_ms, -1)
    h.sleep(500)
    h.fetch_follower(F1, 3)
    assert (f.last_caught_up_ms, f.leo) == (initialize_time_ms, 3)
    h.sleep(500)
    h.fetch_follower(F1, 6)
    assert (f.last_caught_up_ms, f.leo) == (h.now, 6)


def test_do_not_reset_replica_state_if_leader_epoch_is_not_bumped():
    """PartitionTest.testDoNotResetReplicaStateIfLeaderEpochIsNotBumped"""
    h = PartitionHarness(brokers=2)
    assert h.make_leader(8, [LEADER], [LEADER, F1], 1)
    assert h.r.partition_epoch == 1 and h.r.leader_epoch == 8 and h.isr == {LEADER}
    f = h.follower(F1)
    assert (f.last_caught_up_ms, f.leo) == (NEVER_MS, -1)  # not in the ISR: never caught up, LEO unknown
    h.fetch_follower(F1, 0)
    assert (f.last_caught_up_ms, f.leo) == (h.now, 0)
    assert not h.make_leader(8, [LEADER], [LEADER, F1], 2)
    assert h.r.partition_epoch == 2 and h.r.leader_epoch == 8 and h.isr == {LEADER}
    f = h.follower(F1)
    assert (f.last_caught_up_ms, f.leo) == (h.now, 0)  # not reset


def test_do_not_update_epoch_start_offset_if_leader_epoch_is_not_bumped():
    """PartitionTest.testDoNotUpdateEpochStartOffsetIfLeaderEpochIsNotBumped"""
    h = PartitionHarness(brokers=2)
    assert h.make_leader(8, [LEADER], [LEADER, F1], 1)
    assert h.r.log.epochs[-1] == (8, 0)  # leaderEpochCache.latestEntry
    h.append_as_leader(2)
    assert not h.make_leader(8, [LEADER], [LEADER, F1], 2)
    assert h.r.partition_epoch == 2 and h.r.leader_epoch == 8
    assert h.r.log.epochs[-1] == (8, 0)


def test_ignore_leader_partition_state_change_with_older_partition_epoch():
    """PartitionTest.testIgnoreLeaderPartitionStateChangeWithOlderPartitionEpoch"""
    h = PartitionHarness(brokers=1)
    assert h.make_leader(8, [LEADER], [LEADER], 1)
    assert (h.r.partition_epoch, h.r.leader_epoch) == (1, 8)
    assert not h.make_leader(8, [LEADER], [LEADER], 0)
    assert (h.r.partition_epoch, h.r.leader_epoch) == (1, 8)


def test_ignore_follower_partition_state_change_with_older_partition_epoch():
    """PartitionTest.testIgnoreFollowerPartitionStateChangeWithOlderPartitionEpoch"""
    h = PartitionHarness(brokers=2)
    h.make_follower(F1, 8, [LEADER, F1], [LEADER, F1], 1)
    assert (h.r.partition_epoch, h.r.leader_epoch, h.r.is_leader) == (1, 8, False)
    h.make_follower(F1, 8, [LEADER, F1], [LEADER, F1], 0)
    assert (h.r.partition_epoch, h.r.leader_epoch) == (1, 8)


def test_follower_should_not_have_any_remote_replica_states():
    """PartitionTest.testFollowerShouldNotHaveAnyRemoteReplicaStates"""
    h = PartitionHarness(brokers=3)
    h.make_follower(F1, 8, [LEADER, F1, F2], [LEADER, F1, F2], 1)
    assert h.r.followers == {}


# -- ISR expansion ---------------------------------------------------------------------------------------------
def test_isr_expansion():
    """PartitionTest.testIsrExpansion"""
    h = _seeded()
    assert h.make_leader(5, [LEADER], [LEADER, F1], 1)
    assert h.isr == {LEADER}
    f = h.follower(F1)
    assert (f.last_caught_up_ms, f.leo) == (NEVER_MS, -1)
    h.fetch_follower(F1, 3)
    assert h.isr == {LEADER} and not h.inflight
    assert (f.last_caught_up_ms, f.leo) == (NEVER_MS, 3)
    h.fetch_follower(F1, 10)
    assert h.r.pending_isr == [LEADER, F1]  # one AlterPartition, ISR [leader, follower]
    assert h.isr == {LEADER} and h.maximal_isr == {LEADER, F1}
    assert (f.last_caught_up_ms, f.leo) == (h.now, 10)
    h.complete_isr_update(2)
    assert h.isr == {LEADER, F1}


def test_isr_not_expanded_if_update_fails():
    """PartitionTest.testIsrNotExpandedIfUpdateFails: a failed expansion leaves the committed ISR alone."""
    h = _seeded()
    h.make_leader(5, [LEADER], [LEADER, F1], 1)
    h.fetch_follower(F1, 10)
    assert h.isr == {LEADER} and h.maximal_isr == {LEADER, F1} and h.inflight
    assert h.follower(F1).last_caught_up_ms == h.now
    h.fail_isr_update()  # INVALID_UPDATE_VERSION
    # Kafka also keeps the proposed maximal ISR until new metadata arrives; we drop it (NOT_PORTED-core.md)
    assert h.isr == {LEADER}


@pytest.mark.parametrize("quorum", ["zookeeper", "kraft"])
def test_isr_not_expanded_if_replica_is_fenced_or_shutdown(quorum):
    """PartitionTest.testIsrNotExpandedIfReplicaIsFencedOrShutdown (fenced in KRaft, not alive in ZooKeeper)"""
    h = PartitionHarness(brokers=2, controller=quorum)
    h.seed_log(10, leader_epoch=4)
    h.make_leader(5, [LEADER], [LEADER, F1], 1)
    assert h.isr == {LEADER} and h.maximal_isr == {LEADER}
    h.set_fenced(F1, False)
    h.fetch_follower(F1, h.leo)
    assert h.isr == {LEADER} and h.maximal_isr == {LEADER, F1}
    h.fail_isr_update()  # INELIGIBLE_REPLICA: the leader goes back to the previous ISR
    assert h.isr == {LEADER} and h.maximal_isr == {LEADER} and not h.inflight
    h.set_fenced(F1, True)
    h.fetch_follower(F1, h.leo)
    assert h.isr == {LEADER} and h.maximal_isr == {LEADER} and not h.inflight  # no expansion: fenced
    h.set_fenced(F1, False)
    h.fetch_follower(F1, h.leo)
    assert h.isr == {LEADER} and h.maximal_isr == {LEADER, F1} and h.inflight
    h.complete_isr_update(1)
    assert h.isr == {LEADER, F1} and h.maximal_isr == {LEADER, F1} and not h.inflight


# -- high watermark -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("broker_state", ["fenced", "unfenced"])
def test_high_watermark_increases_with_fenced_or_shutdown_follower(broker_state):
    """Issue 15 behaviour 12: PartitionTest.testHighWatermarkIncreasesWithFencedOrShutdownFollower. A caught-up
    follower the controller removed from the ISR still holds the HW unless it is fenced (maybeIncrementLeaderHW)."""
    h = _seeded()
    h.make_leader(5, [LEADER, F1], [LEADER, F1], 1)
    assert h.isr == {LEADER, F1} and h.maximal_isr == {LEADER, F1}
    h.fetch_follower(F1, h.leo)
    f = h.follower(F1)
    assert (f.last_caught_up_ms, f.leo) == (h.now, 10)
    assert h.hw == 10
    if broker_state == "fenced":
        h.set_fenced(F1, True)
    h.seed_log(10, leader_epoch=5)
    assert not h.make_leader(5, [LEADER], [LEADER, F1], 2)  # the controller shrinks the ISR
    assert h.r.is_leader and h.isr == {LEADER} and h.maximal_isr == {LEADER}
    assert h.hw == (10 if broker_state == "unfenced" else 20)


def test_high_watermark_waits_for_a_caught_up_follower_outside_the_isr():
    """Issue 15 behaviour 12: Partition.maybeIncrementLeaderHW (its doc: "if a replica is considered caught-up,
    but its log end offset is smaller than HW, we will wait for this replica"), until it is no longer caught up
    (replica.lag.time.max.ms without reaching the leader's log end)."""
    h = _seeded()
    h.make_leader(5, [LEADER], [LEADER, F1], 1)
    assert h.hw == 10
    h.fetch_follower(F1, 10)  # caught up: an expansion is proposed ...
    h.fail_isr_update()  # ... and rejected: F1 is caught up but not in the ISR
    assert h.isr == {LEADER} and not h.inflight
    h.append_as_leader(5)
    assert h.hw == 10  # held at F1's log end offset
    h.sleep(LAG_MAX_MS + 1)
    h.append_as_leader(1)
    assert h.hw == 16  # F1 fell behind for longer than replica.lag.time.max.ms: it no longer holds the HW


def test_high_watermark_advance_should_not_advance_when_under_min_isr():
    """PartitionTest.testHighWatermarkAdvanceShouldNotAdvanceWhenUnderMinISR (min.insync.replicas=3)"""
    h = _seeded(brokers=3, min_isr=3)
    h.make_leader(5, [LEADER, F1], [LEADER, F1, F2], 1)
    assert len(h.r.isr) < h.r.effective_min_isr(3)
    assert h.hw == 0
    h.fetch_follower(F1, h.leo)
    assert h.hw == 0
    h.fetch_follower(F2, h.leo)  # the maximal ISR reaches 3, the committed one is still 2
    assert h.hw == 0
    assert len(h.maximal_isr) == 3 and h.inflight
    h.complete_isr_update(2)
    assert not len(h.r.isr) < h.r.effective_min_isr(3)
    assert h.hw == h.leo


# -- ISR shrink -------------------------------------------------------------------------------------------------
def test_retry_shrink_isr():
    """PartitionTest.testRetryShrinkIsr: a failed shrink is proposed again (here by the next expiry check)."""
    h = _seeded()
    assert h.make_leader(5, [LEADER, F1], [LEADER, F1], 1)
    assert h.hw == 0
    h.sleep(LAG_MAX_MS + 1)
    h.maybe_shrink_isr()
    assert h.r.pending_isr == [LEADER]
    assert h.isr == {LEADER, F1} and h.maximal_isr == {LEADER, F1}
    h.fail_isr_update()  # NETWORK_EXCEPTION
    assert h.r.partition_epoch == 1 and h.isr == {LEADER, F1} and h.hw == 0
    h.maybe_shrink_isr()
    assert h.r.pending_isr == [LEADER]
    h.complete_isr_update(2)
    assert h.r.partition_epoch == 2 and not h.inflight
    assert h.isr == {LEADER} and h.maximal_isr == {LEADER}
    assert h.hw == h.leo


def test_maybe_shrink_isr():
    """PartitionTest.testMaybeShrinkIsr"""
    h = _seeded(brokers=3)
    initialize_time_ms = h.now
    assert h.make_leader(5, [LEADER, F1, F2], [LEADER, F1, F2], 1)
    assert h.hw == 0
    h.fetch_follower(F1, h.leo)
    f2 = h.follower(F2)
    assert (f2.last_caught_up_ms, f2.leo) == (initialize_time_ms, -1)
    h.maybe_shrink_isr()  # caught up at initialisation: not removed
    assert not h.inflight and h.isr == {LEADER, F1, F2}
    h.sleep(LAG_MAX_MS + 1)
    h.maybe_shrink_isr()
    assert h.r.pending_isr == [LEADER, F1]
    assert h.isr == {LEADER, F1, F2} and h.maximal_isr == {LEADER, F1, F2}
    assert h.hw == 0
    h.complete_isr_update(2)
    assert h.r.partition_epoch == 2 and not h.inflight
    assert h.isr == {LEADER, F1} and h.maximal_isr == {LEADER, F1}
    assert h.hw == h.leo


def test_should_not_shrink_isr_if_previous_fetch_is_caught_up():
    """PartitionTest.testShouldNotShrinkIsrIfPreviousFetchIsCaughtUp"""
    h = _seeded()
    initialize_time_ms = h.now
    assert h.make_leader(5, [LEADER, F1], [LEADER, F1], 1)
    assert h.hw == 0
    h.sleep(5000)
    h.fetch_follower(F1, 5)
    f = h.follower(F1)
    assert (f.last_caught_up_ms, f.leo) == (initialize_time_ms, 5)
    assert h.hw == 5
    h.sleep(5001)
    h.seed_log(5, leader_epoch=5)
    h.fetch_follower(F1, 10)
    assert (f.last_caught_up_ms, f.leo) == (initialize_time_ms + 5000, 10)
    assert h.hw == 10
    h.maybe_shrink_isr()
    assert h.isr == {LEADER, F1} and not h.inflight


def test_should_not_shrink_isr_if_follower_caught_up_to_log_end():
    """PartitionTest.testShouldNotShrinkIsrIfFollowerCaughtUpToLogEnd"""
    h = _seeded()
    assert h.make_leader(5, [LEADER, F1], [LEADER, F1], 1)
    h.fetch_follower(F1, 10)
    assert h.follower(F1).leo == 10 and h.hw == 10
    h.sleep(30001)
    h.maybe_shrink_isr()  # at the leader's log end: caught up however long ago it fetched
    assert h.isr == {LEADER, F1} and not h.inflight


def test_isr_not_shrunk_if_update_fails():
    """PartitionTest.testIsrNotShrunkIfUpdateFails"""
    h = _seeded()
    initialize_time_ms = h.now
    assert h.make_leader(5, [LEADER, F1], [LEADER, F1], 1)
    assert h.hw == 0
    f = h.follower(F1)
    assert (f.last_caught_up_ms, f.leo) == (initialize_time_ms, -1)
    h.sleep(30001)
    h.maybe_shrink_isr()
    assert h.isr == {LEADER, F1} and h.r.pending_isr == [LEADER]
    assert h.hw == 0
    h.fail_isr_update()  # UNKNOWN_SERVER_ERROR: the ISR and the HW are unchanged
    assert h.isr == {LEADER, F1} and h.hw == 0


def test_single_in_flight_alter_isr():
    """PartitionTest.testSingleInFlightAlterIsr: while one AlterPartition is in flight no other is sent."""
    f3 = 4
    h = _seeded(brokers=4)
    assert h.make_leader(5, [LEADER, F1, F2], [LEADER, F1, F2, f3], 1)
    assert h.hw == 0
    h.fetch_follower(f3, 10)
    assert h.isr == {LEADER, F1, F2} and h.maximal_isr == {LEADER, F1, F2, f3}
    assert h.r.pending_isr == [LEADER, F1, F2, f3]
    h.sleep(LAG_MAX_MS + 1)
    h.maybe_shrink_isr()  # would shrink, but one request is in flight
    assert h.r.pending_isr == [LEADER, F1, F2, f3]


def test_use_checkpoint_to_initialize_high_watermark():
    """PartitionTest.testUseCheckpointToInitializeHighWatermark: the HW checkpoint (4) is the new leader's HW
    while the follower's LEO is unknown."""
    h = PartitionHarness(brokers=2)
    h.seed_log(6, leader_epoch=5)
    h.r.hw = 4  # replication-offset-checkpoint
    h.make_leader(6, [LEADER, F1], [LEADER, F1], 1)
    assert h.hw == 4


# -- AlterPartition on the controller (KIP-841) -------------------------------------------------------------------
def test_alter_partition_should_reject_fenced_brokers():
    """ReplicationControlManagerTest.testAlterPartitionShouldRejectFencedBrokers: a new ISR naming a fenced
    broker is refused as a whole (INELIGIBLE_REPLICA); once the broker is unfenced the same request is applied."""
    h = PartitionHarness(brokers=4)
    ctl = h.c.controller
    ps = ctl.partitions[("t", 0)]
    fenced = next(b for b in ps.replicas if b not in (ps.leader, ctl.active))
    ctl._session_expired(fenced)  # handleBrokerFenced: the controller takes it out of the ISR
    assert fenced not in ps.isr and len(ps.isr) == 3
    before = (list(ps.isr), ps.partition_epoch)
    ctl.on_alter_partition(
        ps.leader, ("t", 0), ps.leader_epoch, ps.partition_epoch, list(ps.replicas), "test"
    )
    assert (ps.isr, ps.partition_epoch) == before  # INELIGIBLE_REPLICA: nothing applied
    assert "INELIGIBLE_REPLICA" in h.c.events.events[-1].summary
    ctl.live.add(fenced)  # handleBrokerUnfenced
    ctl.on_alter_partition(
        ps.leader, ("t", 0), ps.leader_epoch, ps.partition_epoch, list(ps.replicas), "test"
    )
    assert ps.isr == list(ps.replicas) and ps.partition_epoch == before[1] + 1
