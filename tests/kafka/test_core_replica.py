"""Ported from Apache Kafka core: kafka.cluster.ReplicaTest (a follower's state as its leader tracks it).

Kafka's Replica / ReplicaState is engine.replica.FollowerState: `updateFetchStateOrThrow` is `on_fetch`,
`resetReplicaState` is `FollowerState.reset`, `isCaughtUp` is `is_caught_up`. Adaptations: the follower's log
start offset and broker epoch are not tracked (see NOT_PORTED-core.md); `lastCaughtUpTimeMs = 0` /
`lastFetchTimeMs = 0` (never) is NEVER_MS; MockTime's clock is T0.
"""

from __future__ import annotations

from engine.replica import NEVER_MS, FollowerState

T0 = 1_000_000
LAG_MAX_MS = 30_000  # ReplicaTest.ReplicaLagTimeMaxMs


def _new_replica() -> FollowerState:
    """new Replica(...): ReplicaState.Empty (LEO unknown, never fetched, never caught up)."""
    return FollowerState.reset(T0, 0, False, None)


def _state(f: FollowerState) -> tuple[int, int, int, int]:
    return f.leo, f.last_caught_up_ms, f.last_fetch_leader_leo, f.last_fetch_ms


def test_initial_state():
    """ReplicaTest.testInitialState"""
    f = _new_replica()
    assert (f.leo, f.last_caught_up_ms, f.last_fetch_ms) == (-1, NEVER_MS, NEVER_MS)


def test_update_fetch_state():
    """ReplicaTest.testUpdateFetchState"""
    f = _new_replica()
    f.on_fetch(5, 10, T0)
    assert _state(f) == (5, NEVER_MS, 10, T0)
    f.on_fetch(10, 15, T0 + 1)
    assert _state(f) == (10, T0, 15, T0 + 1)  # reached the leader's LEO of the previous fetch: caught up then
    f.on_fetch(15, 15, T0 + 2)
    assert _state(f) == (15, T0 + 2, 15, T0 + 2)


def test_reset_replica_state_when_leader_is_reelected_and_replica_is_in_sync():
    """ReplicaTest.testResetReplicaStateWhenLeaderIsReelectedAndReplicaIsInSync"""
    f = _new_replica()
    f.on_fetch(10, 10, T0)
    g = FollowerState.reset(T0 + 5, 11, True, f)
    assert _state(g) == (10, T0 + 5, 11, T0 + 5)


def test_reset_replica_state_when_leader_is_reelected_and_replica_is_not_in_sync():
    """ReplicaTest.testResetReplicaStateWhenLeaderIsReelectedAndReplicaIsNotInSync"""
    f = _new_replica()
    f.on_fetch(10, 10, T0)
    g = FollowerState.reset(T0 + 5, 11, False, f)
    assert _state(g) == (10, NEVER_MS, 11, NEVER_MS)


def test_reset_replica_state_when_new_leader_is_elected_and_replica_is_in_sync():
    """ReplicaTest.testResetReplicaStateWhenNewLeaderIsElectedAndReplicaIsInSync"""
    f = _new_replica()
    f.on_fetch(10, 10, T0)
    g = FollowerState.reset(T0 + 5, 11, True, None)  # a new leader knows nothing of the follower
    assert _state(g) == (-1, T0 + 5, -1, NEVER_MS)


def test_reset_replica_state_when_new_leader_is_elected_and_replica_is_not_in_sync():
    """ReplicaTest.testResetReplicaStateWhenNewLeaderIsElectedAndReplicaIsNotInSync"""
    f = _new_replica()
    f.on_fetch(10, 10, T0)
    g = FollowerState.reset(T0 + 5, 11, False, None)
    assert _state(g) == (-1, NEVER_MS, -1, NEVER_MS)


def test_is_caught_up_when_replica_is_caught_up_to_log_end():
    """ReplicaTest.testIsCaughtUpWhenReplicaIsCaughtUpToLogEnd"""
    f = _new_replica()
    assert not f.is_caught_up(10, T0, LAG_MAX_MS)
    f.on_fetch(10, 10, T0)
    assert f.is_caught_up(10, T0, LAG_MAX_MS)
    assert f.is_caught_up(10, T0 + LAG_MAX_MS + 1, LAG_MAX_MS)  # at the log end: caught up however long ago


def test_is_caught_up_when_replica_is_not_caught_up_to_log_end():
    """ReplicaTest.testIsCaughtUpWhenReplicaIsNotCaughtUpToLogEnd"""
    f = _new_replica()
    assert not f.is_caught_up(10, T0, LAG_MAX_MS)
    f.on_fetch(5, 10, T0)
    assert not f.is_caught_up(10, T0, LAG_MAX_MS)
    f.on_fetch(10, 15, T0)
    assert f.is_caught_up(16, T0, LAG_MAX_MS)
    assert not f.is_caught_up(16, T0 + LAG_MAX_MS + 1, LAG_MAX_MS)
