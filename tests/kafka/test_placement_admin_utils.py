"""Conformance: core's AdminRackAwareTest (with RackAwareTest's checks) against engine.placement's AdminUtils port.

Kafka: core/src/test/scala/unit/kafka/admin/AdminRackAwareTest.scala and RackAwareTest.scala, testing
server-common's org.apache.kafka.admin.AdminUtils.assignReplicasToBrokers (ZooKeeper mode's placement).
Inputs and expected outputs are copied from those tests. Adaptations: Kafka's tests that leave the start index to
AdminUtils' static `Random` assert only properties; here each such property is checked for 25 seeds of the
engine's rng (EngineRandom), so the random path is exercised more than once. server-common has no AdminUtilsTest
of its own (the class is tested only through AdminRackAwareTest).
"""

from __future__ import annotations

import random

import pytest
from _placement_helpers import check_replica_distribution, replica_distribution

from engine.errors import InvalidPartitionsError, InvalidReplicationFactorError
from engine.placement import (
    AdminOperationError,
    BrokerMetadata,
    EngineRandom,
    assign_replicas_to_brokers,
    rack_alternated_broker_list,
)

SEEDS = range(25)


def to_broker_metadata(rack_map: dict[int, str | None]) -> list[BrokerMetadata]:
    """RackAwareTest.toBrokerMetadata: one BrokerMetadata per entry (a null rack is Optional.empty)."""
    return [BrokerMetadata(b, r) for b, r in rack_map.items()]


def assign(rack_map, n_partitions, rf, fixed_start_index=-1, start_partition_id=-1, seed=0):
    return assign_replicas_to_brokers(
        to_broker_metadata(rack_map),
        n_partitions,
        rf,
        EngineRandom(random.Random(seed)),
        fixed_start_index,
        start_partition_id,
    )


RACKS_6 = {0: "rack1", 1: "rack2", 2: "rack2", 3: "rack3", 4: "rack3", 5: "rack1"}


def test_get_rack_alternated_broker_list():
    # AdminRackAwareTest.testGetRackAlternatedBrokerListAndAssignReplicasToBrokers (the two broker lists)
    rack_map = {0: "rack1", 1: "rack3", 2: "rack3", 3: "rack2", 4: "rack2", 5: "rack1"}
    assert rack_alternated_broker_list(rack_map) == [0, 3, 1, 5, 4, 2]
    del rack_map[5]
    assert rack_alternated_broker_list(rack_map) == [0, 3, 1, 4, 2]


def test_get_rack_alternated_broker_list_and_assign_replicas_to_brokers():
    # AdminRackAwareTest.testGetRackAlternatedBrokerListAndAssignReplicasToBrokers (the assignment)
    rack_map = {0: "rack1", 1: "rack3", 2: "rack3", 3: "rack2", 4: "rack2", 5: "rack1"}
    assert assign(rack_map, 7, 3, 0, 0) == {
        0: [0, 3, 1],
        1: [3, 1, 5],
        2: [1, 5, 4],
        3: [5, 4, 2],
        4: [4, 2, 0],
        5: [2, 0, 3],
        6: [0, 4, 2],
    }


def test_assignment_with_rack_aware():
    # AdminRackAwareTest.testAssignmentWithRackAware
    assignment = assign(RACKS_6, 6, 3, 2, 0)
    check_replica_distribution(assignment, RACKS_6, len(RACKS_6), 6, 3)


def test_assignment_with_rack_aware_with_random_start_index():
    # AdminRackAwareTest.testAssignmentWithRackAwareWithRandomStartIndex
    for seed in SEEDS:  # Kafka draws the start index at random: check many draws
        assignment = assign(RACKS_6, 6, 3, seed=seed)
        check_replica_distribution(assignment, RACKS_6, len(RACKS_6), 6, 3)


def test_assignment_with_rack_aware_with_uneven_replicas():
    # AdminRackAwareTest.testAssignmentWithRackAwareWithUnevenReplicas
    assignment = assign(RACKS_6, 13, 3, 0, 0)
    check_replica_distribution(
        assignment,
        RACKS_6,
        len(RACKS_6),
        13,
        3,
        verify_leader_distribution=False,
        verify_replicas_distribution=False,
    )


def test_assignment_with_rack_aware_with_uneven_racks():
    # AdminRackAwareTest.testAssignmentWithRackAwareWithUnevenRacks
    for seed in SEEDS:  # Kafka draws the start index at random: check many draws
        racks = {0: "rack1", 1: "rack1", 2: "rack2", 3: "rack3", 4: "rack3", 5: "rack1"}
        assignment = assign(racks, 12, 3, seed=seed)
        check_replica_distribution(assignment, racks, len(racks), 12, 3, verify_replicas_distribution=False)


def test_assignment_with_2_replicas_rack_aware():
    # AdminRackAwareTest.testAssignmentWith2ReplicasRackAware
    for seed in SEEDS:  # Kafka draws the start index at random: check many draws
        assignment = assign(RACKS_6, 12, 2, seed=seed)
        check_replica_distribution(assignment, RACKS_6, len(RACKS_6), 12, 2)


def test_rack_aware_expansion():
    # AdminRackAwareTest.testRackAwareExpansion: 12 more partitions from partition id 12
    for seed in SEEDS:  # Kafka draws the start index at random: check many draws
        racks = {6: "rack1", 7: "rack2", 8: "rack2", 9: "rack3", 10: "rack3", 11: "rack1"}
        assignment = assign(racks, 12, 2, -1, 12, seed=seed)
        assert sorted(assignment) == list(range(12, 24))
        check_replica_distribution(assignment, racks, len(racks), 12, 2)


def test_assignment_with_2_replicas_rack_aware_with_6_partitions():
    # AdminRackAwareTest.testAssignmentWith2ReplicasRackAwareWith6Partitions
    for seed in SEEDS:  # Kafka draws the start index at random: check many draws
        assignment = assign(RACKS_6, 6, 2, seed=seed)
        check_replica_distribution(assignment, RACKS_6, len(RACKS_6), 6, 2)


def test_assignment_with_2_replicas_rack_aware_with_6_partitions_and_3_brokers():
    # AdminRackAwareTest.testAssignmentWith2ReplicasRackAwareWith6PartitionsAnd3Brokers
    for seed in SEEDS:  # Kafka draws the start index at random: check many draws
        racks = {0: "rack1", 1: "rack2", 4: "rack3"}
        assignment = assign(racks, 3, 2, seed=seed)
        check_replica_distribution(assignment, racks, len(racks), 3, 2)


def test_large_number_partitions_assignment():
    # AdminRackAwareTest.testLargeNumberPartitionsAssignment
    for seed in SEEDS:  # Kafka draws the start index at random: check many draws
        racks = {
            0: "rack1",
            1: "rack2",
            2: "rack2",
            3: "rack3",
            4: "rack3",
            5: "rack1",
            6: "rack1",
            7: "rack2",
            8: "rack2",
            9: "rack3",
            10: "rack1",
            11: "rack3",
        }
        assignment = assign(racks, 96, 3, seed=seed)
        check_replica_distribution(assignment, racks, len(racks), 96, 3)


def test_more_replicas_than_racks():
    # AdminRackAwareTest.testMoreReplicasThanRacks
    for seed in SEEDS:  # Kafka draws the start index at random: check many draws
        racks = {0: "rack1", 1: "rack2", 2: "rack2", 3: "rack3", 4: "rack3", 5: "rack2"}
        assignment = assign(racks, 6, 5, seed=seed)
        assert [len(rs) for rs in assignment.values()] == [5] * len(assignment)
        partition_racks, _, _ = replica_distribution(assignment, racks)
        for p in range(6):
            assert len(set(partition_racks[p])) == 3


def test_less_replicas_than_racks():
    # AdminRackAwareTest.testLessReplicasThanRacks
    for seed in SEEDS:  # Kafka draws the start index at random: check many draws
        racks = {0: "rack1", 1: "rack2", 2: "rack2", 3: "rack3", 4: "rack3", 5: "rack2"}
        assignment = assign(racks, 6, 2, seed=seed)
        assert [len(rs) for rs in assignment.values()] == [2] * len(assignment)
        partition_racks, _, _ = replica_distribution(assignment, racks)
        for p in range(6):
            assert len(set(partition_racks[p])) == 2


def test_single_rack():
    # AdminRackAwareTest.testSingleRack
    for seed in SEEDS:  # Kafka draws the start index at random: check many draws
        racks = dict.fromkeys(range(6), "rack1")
        assignment = assign(racks, 6, 3, seed=seed)
        assert [len(rs) for rs in assignment.values()] == [3] * len(assignment)
        partition_racks, leaders, _ = replica_distribution(assignment, racks)
        for p in range(6):
            assert len(set(partition_racks[p])) == 1
        for b in racks:
            assert leaders[b] == 1


def test_skip_broker_with_replica_already_assigned():
    # AdminRackAwareTest.testSkipBrokerWithReplicaAlreadyAssigned
    rack_info = {0: "a", 1: "b", 2: "c", 3: "a", 4: "a"}
    metadata = to_broker_metadata(rack_info)
    assert [b.id for b in metadata] == [0, 1, 2, 3, 4]
    assignment = assign(rack_info, 6, 4, 2, -1)
    check_replica_distribution(
        assignment,
        rack_info,
        5,
        6,
        4,
        verify_rack_aware=False,
        verify_leader_distribution=False,
        verify_replicas_distribution=False,
    )


NO_RACKS_5 = dict.fromkeys(range(5))


def test_replica_assignment_zero_replication_factor():
    # AdminRackAwareTest.testReplicaAssignment: "test 0 replication factor"
    with pytest.raises(InvalidReplicationFactorError):
        assign(NO_RACKS_5, 10, 0)


def test_replica_assignment_wrong_replication_factor():
    # AdminRackAwareTest.testReplicaAssignment: "test wrong replication factor"
    with pytest.raises(InvalidReplicationFactorError):
        assign(NO_RACKS_5, 10, 6)


def test_replica_assignment_correct_assignment():
    # AdminRackAwareTest.testReplicaAssignment: "correct assignment" (rack-unaware, fixed start index 0)
    assert assign(NO_RACKS_5, 10, 3, 0, -1) == {
        0: [0, 1, 2],
        1: [1, 2, 3],
        2: [2, 3, 4],
        3: [3, 4, 0],
        4: [4, 0, 1],
        5: [0, 2, 3],
        6: [1, 3, 4],
        7: [2, 4, 0],
        8: [3, 0, 1],
        9: [4, 1, 2],
    }


INVALID_RACKS = {0: "rack1", 1: "rack3", 2: "rack3", 3: "rack2", 4: None}


@pytest.mark.parametrize(
    "n_partitions, rf, error",
    [
        (0, 0, InvalidPartitionsError),  # "test 0 partition"
        (10, 0, InvalidReplicationFactorError),  # "test 0 replication factor"
        (10, len(INVALID_RACKS) + 1, InvalidReplicationFactorError),  # "test wrong replication factor"
        (10, len(INVALID_RACKS), AdminOperationError),  # "test wrong brokerMetadatas" (broker 4 has no rack)
    ],
)
def test_assign_replicas_to_brokers_with_invalid_parameters(n_partitions, rf, error):
    # AdminRackAwareTest.testAssignReplicasToBrokersWithInvalidParameters
    with pytest.raises(error):
        assign(INVALID_RACKS, n_partitions, rf, -1, -1)
