"""Ports of Kafka's clients/.../consumer/CooperativeStickyAssignorTest.java (the cases beyond the
AbstractStickyAssignorTest ones, which test_clients_abstract_sticky_assignor.py runs for both assignors).

The cooperative assignor returns the balanced assignment minus the partitions still owned by another member
(``AssignorResult.assignment``; ``.target`` is the balanced one); ``verify`` runs the follow-up rebalances
as Kafka's overridden verifyValidityAndBalance does.
"""

from __future__ import annotations

import pytest
from _clients_helpers import RACK_CONFIGS, StickyHarness, is_fully_balanced

TOPIC, T1 = "topic", "topic1"
C1, C2, C3 = "consumer1", "consumer2", "consumer3"
GEN = StickyHarness.generation_id
rack_configs = pytest.mark.parametrize("rack_config", RACK_CONFIGS)


def _h(rack_config: str | None) -> StickyHarness:
    return StickyHarness("cooperative-sticky", rack_config)


@rack_configs
def test_all_consumers_have_owned_partition_invalidated_when_claimed_by_multiple_consumers_in_same_generation_with_equal_partitions_per_consumer(  # noqa: E501
    rack_config: str,
) -> None:
    """CooperativeStickyAssignorTest.testAllConsumersHaveOwnedPartitionInvalidatedWhenClaimedByMultipleConsumers
    InSameGenerationWithEqualPartitionsPerConsumer"""
    h = _h(rack_config)
    counts = {TOPIC: h.partitions(TOPIC, 3)}
    h.subs = {
        C1: h.v2([TOPIC], [(TOPIC, 0), (TOPIC, 1)], GEN, 0),
        C2: h.v2([TOPIC], [(TOPIC, 0), (TOPIC, 2)], GEN, 1),
        C3: h.v2([TOPIC], [], GEN, 2),
    }
    a = h.assign(counts)
    # topic-0 counts as owned: it cannot be handed out until both claimants have revoked it
    assert a == {C1: [(TOPIC, 1)], C2: [(TOPIC, 2)], C3: []}
    h.verify(a, counts)
    assert is_fully_balanced(a)


@rack_configs
def test_all_consumers_have_owned_partition_invalidated_when_claimed_by_multiple_consumers_in_same_generation_with_unequal_partitions_per_consumer(  # noqa: E501
    rack_config: str,
) -> None:
    """CooperativeStickyAssignorTest.testAllConsumersHaveOwnedPartitionInvalidatedWhenClaimedByMultipleConsumers
    InSameGenerationWithUnequalPartitionsPerConsumer"""
    h = _h(rack_config)
    counts = {TOPIC: h.partitions(TOPIC, 4)}
    h.subs = {
        C1: h.v2([TOPIC], [(TOPIC, 0), (TOPIC, 1)], GEN, 0),
        C2: h.v2([TOPIC], [(TOPIC, 0), (TOPIC, 2)], GEN, 1),
        C3: h.v2([TOPIC], [], GEN, 2),
    }
    a = h.assign(counts)
    assert a == {C1: [(TOPIC, 1), (TOPIC, 3)], C2: [(TOPIC, 2)], C3: []}
    h.verify(a, counts)
    assert is_fully_balanced(a)


def test_assignor_with_old_version_subscriptions() -> None:
    """CooperativeStickyAssignorTest.testAssignorWithOldVersionSubscriptions: V1 carries the generation in
    userData, V2+ in the subscription; both are our ``generations``."""
    h = _h(None)
    counts = {T1: h.partitions(T1, 3)}
    h.subs = {
        C1: h.v2([T1], [(T1, 0)], GEN, 0),
        C2: h.v2([T1], [(T1, 1)], GEN, 1),
        C3: h.v2([T1], [], GEN, 2),
    }
    a = h.assign(counts)
    assert a == {C1: [(T1, 0)], C2: [(T1, 1)], C3: [(T1, 2)]}
    h.verify(a, counts)
    assert is_fully_balanced(a)


def test_uniform_subscription_transfer_ownership_list_is_right() -> None:
    """CooperativeStickyAssignorTest.testUniformSubscriptionTransferOwnershipListIsRight: rack-misaligned owned
    partitions move, and each appears once in partitionsTransferringOwnership."""
    h = _h(None)
    h.setup.replication_factor, h.setup.num_broker_racks, h.setup.has_consumer_rack = 1, 2, True
    counts = {T1: h.partitions(T1, 4)}
    h.subs = {"c0": h.v2([T1], [(T1, 0), (T1, 1)], GEN, 0), "c1": h.v2([T1], [(T1, 2), (T1, 3)], GEN, 1)}
    h.assign(counts)
    assert h.transferring is not None and len(h.transferring) == 2
