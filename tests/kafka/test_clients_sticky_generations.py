"""Issue 15 behaviour 4: the sticky assignors settle double claims by generation (AbstractStickyAssignor
.allSubscriptionsEqual / GeneralAssignmentBuilder.prepopulateCurrentAssignments), not by load.

Inputs and expected assignments come from Kafka's StickyAssignorTest / CooperativeStickyAssignorTest /
AbstractStickyAssignorTest; these go through the original ``engine.assignors.assign`` entry point.
"""

from __future__ import annotations

from engine.assignors import assign

T, T2 = "topic", "topic2"
C1, C2, C3 = "consumer1", "consumer2", "consumer3"


def test_same_generation_double_claim_is_dropped_from_both_sticky() -> None:
    """Issue 15 behaviour 4: StickyAssignorTest.testAllConsumersHaveOwnedPartitionInvalidatedWhenClaimedByMultiple
    ConsumersInSameGenerationWithEqualPartitionsPerConsumer: topic-0, claimed by two members of one generation,
    stays with neither."""
    current = {C1: [(T, 0), (T, 1)], C2: [(T, 0), (T, 2)], C3: []}
    out = assign("sticky", {C1: [T], C2: [T], C3: [T]}, {T: 3}, current, generations={C1: 1, C2: 1, C3: 1})
    assert out == {C1: [(T, 1)], C2: [(T, 2)], C3: [(T, 0)]}


def test_same_generation_double_claim_without_generations_is_dropped_from_both() -> None:
    """Issue 15 behaviour 4: members that send no generation all have DEFAULT_GENERATION (-1), so a double claim
    is a same-generation one (the case above with Kafka's default generation)."""
    current = {C1: [(T, 0), (T, 1)], C2: [(T, 0), (T, 2)], C3: []}
    out = assign("sticky", {C1: [T], C2: [T], C3: [T]}, {T: 4}, current)
    assert out == {C1: [(T, 1), (T, 3)], C2: [(T, 2)], C3: [(T, 0)]}


def test_highest_generation_wins_a_double_claim() -> None:
    """Issue 15 behaviour 4: AbstractStickyAssignorTest.testOwnedPartitionsAreInvalidatedForConsumerWithStale
    Generation: the generation-10 member keeps all three partitions both claimed; the generation-9 one gets the
    rest."""
    owned = [(T, 0), (T, 2), (T2, 1)]
    for strategy in ("sticky", "cooperative-sticky"):
        out = assign(
            strategy,
            {C1: [T, T2], C2: [T, T2]},
            {T: 3, T2: 3},
            {C1: owned, C2: owned},
            generations={C1: 10, C2: 9},
        )
        assert out == {C1: sorted(owned), C2: [(T, 1), (T2, 0), (T2, 2)]}


def test_older_generation_owner_gets_partition_back_on_unequal_subscriptions() -> None:
    """Issue 15 behaviour 4: AbstractStickyAssignorTest.testEnsurePartitionsAssignedToHighestGeneration-style
    general path (StickyAssignorTest.testAssignmentWithConflictingPreviousGenerations, unequal subscriptions):
    a partition claimed by generations 1 and 2 stays with the generation-2 claimant."""
    every = [T, T2, "topic3"]
    counts = {t: 4 for t in every}
    c1_0 = [(T, 0), (T, 1), (T, 2), (T, 3)]
    c2_0 = [(T, 0), (T, 1), (T2, 0), (T2, 1), (T2, 2), (T2, 3)]
    c3_0 = [(T, 2), (T, 3), ("topic3", 0), ("topic3", 1), ("topic3", 2), ("topic3", 3)]
    subs = {C1: [T], C2: [T, T2], C3: every}
    out = assign("sticky", subs, counts, {C1: c1_0, C2: c2_0, C3: c3_0}, generations={C1: 1, C2: 2, C3: 2})
    assert [len(out[c]) for c in (C1, C2, C3)] == [4, 4, 4]
    assert set(out[C2]) <= set(c2_0) and set(out[C3]) <= set(c3_0)


def test_previous_generation_owner_gets_back_only_topics_it_still_subscribes_to() -> None:
    """A member of an older generation that owned t0-4 / t2-0 but no longer subscribes to t0 / t2 does not get
    them back. Kafka's GeneralAssignmentBuilder.performReassignments moves a partition back to its
    previous-generation owner without checking the subscription; here every partition goes to a subscriber."""
    subs = {
        "m0": ["t0", "t1", "t3"],
        "m1": ["t3", "t1"],
        "m2": ["t0", "t1", "t3", "t2"],
        "m3": ["t1", "t0", "t2", "t3"],
        "m4": ["t1", "t3"],
        "m5": ["t2", "t1", "t3"],
    }
    current = {
        "m0": [("t0", 0), ("t1", 0), ("t3", 1), ("t3", 0)],
        "m1": [("t0", 4), ("t2", 0), ("t3", 1), ("t3", 3)],
        "m2": [("t3", 2)],
        "m3": [],
        "m4": [("t3", 0), ("t2", 1), ("t2", 0)],
        "m5": [("t3", 2)],
    }
    generations = {"m0": 3, "m1": 2, "m2": 3, "m3": 2, "m4": -1, "m5": 2}
    racks = {"m0": None, "m1": "a", "m2": "b", "m3": "b", "m4": "b", "m5": "a"}
    out = assign("sticky", subs, {"t0": 5, "t1": 1, "t2": 2, "t3": 4}, current, generations=generations,
                 member_racks=racks)  # fmt: skip
    assert all(t in subs[m] for m, tps in out.items() for t, _ in tps)
    assert sorted(tp for tps in out.values() for tp in tps) == sorted(
        [("t0", p) for p in range(5)]
        + [("t1", 0)]
        + [("t2", p) for p in range(2)]
        + [("t3", p) for p in range(4)]
    )
