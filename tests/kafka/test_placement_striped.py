"""Conformance: metadata's StripedReplicaPlacerTest (and the placement parts of ReplicationControlManagerTest)
against engine.placement's StripedReplicaPlacer port (KRaft mode's placement).

Kafka: metadata/src/test/java/org/apache/kafka/metadata/placement/StripedReplicaPlacerTest.java. Inputs and the
exact expected replica lists are copied; they depend on every random draw, so the placer here is driven by
`MockRandom` (tests/kafka/_placement_helpers.py), a stand-in for Kafka's MockRandom with java.util.Random's
nextInt(bound) on top. Adaptations: Java's Optional.empty() rack is None; `TopicAssignment` is a list of replica
lists; `PlacementSpec(startPartition, numPartitions, rf)` becomes `striped_place(brokers, numPartitions, rf, rnd)`
(the placer ignores the start partition). ReplicationControlManagerTest's cases are ported only as far as the
placer sees them: the usable brokers its heartbeat manager reports, in order, and one MockRandom across requests.
"""

from __future__ import annotations

import pytest
from _placement_helpers import MockRandom

from engine.errors import InvalidReplicationFactorError
from engine.placement import BrokerList, RackList, UsableBroker, striped_place


def ub(broker_id: int, rack: str | None, fenced: bool) -> UsableBroker:
    return UsableBroker(broker_id, rack, fenced)


def test_broker_list():
    # StripedReplicaPlacerTest.testBrokerList
    empty = BrokerList()
    assert empty.size() == 0
    assert empty.next(1) == -1
    brokers = BrokerList().add(0).add(1).add(2).add(3)
    assert brokers.size() == 4
    assert [brokers.next(0) for _ in range(6)] == [0, 1, 2, 3, -1, -1]
    assert [brokers.next(1) for _ in range(5)] == [1, 2, 3, 0, -1]


def test_avoid_fenced_replica_if_possible_on_single_rack():
    # StripedReplicaPlacerTest.testAvoidFencedReplicaIfPossibleOnSingleRack
    rack_list = RackList(
        MockRandom(),
        [ub(3, None, False), ub(1, None, True), ub(0, None, False), ub(4, None, False), ub(2, None, False)],
    )
    assert rack_list.num_total_brokers == 5
    assert rack_list.num_unfenced_brokers == 4
    assert rack_list.rack_names == [None]
    with pytest.raises(InvalidReplicationFactorError):
        rack_list.place(0)
    with pytest.raises(InvalidReplicationFactorError):
        rack_list.place(-1)
    assert rack_list.place(4) == [3, 4, 0, 2]
    assert rack_list.place(4) == [4, 0, 2, 3]
    assert rack_list.place(4) == [0, 2, 3, 4]
    assert rack_list.place(4) == [2, 3, 4, 0]
    assert rack_list.place(4) == [0, 4, 3, 2]


def test_multi_partition_topic_placement_on_single_unfenced_broker():
    # StripedReplicaPlacerTest.testMultiPartitionTopicPlacementOnSingleUnfencedBroker
    got = striped_place([ub(0, None, False), ub(1, None, True)], 3, 1, MockRandom())
    assert got == [[0], [0], [0]]


def test_placement_on_fenced_replica_on_single_rack():
    # StripedReplicaPlacerTest.testPlacementOnFencedReplicaOnSingleRack
    rack_list = RackList(MockRandom(), [ub(3, None, False), ub(1, None, True), ub(2, None, False)])
    assert rack_list.num_total_brokers == 3
    assert rack_list.num_unfenced_brokers == 2
    assert rack_list.rack_names == [None]
    assert rack_list.place(3) == [3, 2, 1]
    assert rack_list.place(3) == [2, 3, 1]
    assert rack_list.place(3) == [3, 2, 1]
    assert rack_list.place(3) == [2, 3, 1]


def test_rack_list_with_multiple_racks():
    # StripedReplicaPlacerTest.testRackListWithMultipleRacks
    rack_list = RackList(
        MockRandom(),
        [
            ub(11, "1", False),
            ub(10, "1", False),
            ub(30, "3", False),
            ub(31, "3", False),
            ub(21, "2", False),
            ub(20, "2", True),
        ],
    )
    assert rack_list.num_total_brokers == 6
    assert rack_list.num_unfenced_brokers == 5
    assert rack_list.rack_names == ["1", "2", "3"]
    assert rack_list.place(4) == [11, 21, 31, 10]
    assert rack_list.place(4) == [21, 30, 10, 20]
    assert rack_list.place(4) == [31, 11, 21, 30]


def test_rack_list_with_invalid_racks():
    # StripedReplicaPlacerTest.testRackListWithInvalidRacks
    rack_list = RackList(
        MockRandom(),
        [
            ub(11, "1", False),
            ub(10, "1", False),
            ub(30, "3", True),
            ub(31, "3", True),
            ub(20, "2", True),
            ub(21, "2", True),
            ub(41, "4", False),
            ub(40, "4", True),
        ],
    )
    assert rack_list.num_total_brokers == 8
    assert rack_list.num_unfenced_brokers == 3
    assert rack_list.rack_names == ["1", "2", "3", "4"]
    assert rack_list.place(4) == [41, 11, 21, 30]
    assert rack_list.place(4) == [10, 20, 31, 41]
    assert rack_list.place(4) == [41, 21, 30, 11]


def test_all_brokers_fenced():
    # StripedReplicaPlacerTest.testAllBrokersFenced
    with pytest.raises(InvalidReplicationFactorError) as e:
        striped_place([ub(11, "1", True), ub(10, "1", True)], 1, 1, MockRandom())
    assert str(e.value) == "All brokers are currently fenced."


def test_not_enough_brokers():
    # StripedReplicaPlacerTest.testNotEnoughBrokers
    with pytest.raises(InvalidReplicationFactorError) as e:
        striped_place([ub(11, "1", False), ub(10, "1", False)], 1, 3, MockRandom())
    assert (
        str(e.value)
        == "The target replication factor of 3 cannot be reached because only 2 broker(s) are registered."
    )


def test_non_positive_replication_factor():
    # StripedReplicaPlacerTest.testNonPositiveReplicationFactor
    with pytest.raises(InvalidReplicationFactorError) as e:
        striped_place([ub(11, "1", False), ub(10, "1", False)], 1, 0, MockRandom())
    assert str(e.value) == "Invalid replication factor 0: the replication factor must be positive."


def test_successful_placement():
    # StripedReplicaPlacerTest.testSuccessfulPlacement
    got = striped_place(
        [ub(0, None, False), ub(3, None, False), ub(2, None, False), ub(1, None, False)], 5, 3, MockRandom()
    )
    assert got == [[2, 3, 0], [3, 0, 1], [0, 1, 2], [1, 2, 3], [1, 0, 2]]


def test_even_distribution():
    # StripedReplicaPlacerTest.testEvenDistribution
    got = striped_place([ub(b, None, False) for b in range(4)], 200, 2, MockRandom())
    counts: dict[tuple[int, ...], int] = {}
    for replicas in got:
        counts[tuple(replicas)] = counts.get(tuple(replicas), 0) + 1
    assert counts == {
        (0, 1): 14,
        (0, 2): 22,
        (0, 3): 14,
        (1, 0): 17,
        (1, 2): 17,
        (1, 3): 16,
        (2, 0): 13,
        (2, 1): 17,
        (2, 3): 20,
        (3, 0): 20,
        (3, 1): 19,
        (3, 2): 11,
    }


def test_rack_list_all_brokers_fenced():
    # StripedReplicaPlacerTest.testRackListAllBrokersFenced
    rack_list = RackList(MockRandom(), [ub(0, None, True), ub(1, None, True), ub(2, None, True)])
    assert rack_list.num_total_brokers == 3
    assert rack_list.num_unfenced_brokers == 0
    assert rack_list.rack_names == [None]
    with pytest.raises(InvalidReplicationFactorError, match=r"^All brokers are currently fenced\.$"):
        rack_list.place(3)


def test_rack_list_not_enough_brokers():
    # StripedReplicaPlacerTest.testRackListNotEnoughBrokers
    rack_list = RackList(MockRandom(), [ub(11, "1", False), ub(10, "1", False)])
    with pytest.raises(InvalidReplicationFactorError) as e:
        rack_list.place(3)
    assert (
        str(e.value)
        == "The target replication factor of 3 cannot be reached because only 2 broker(s) are registered."
    )


def test_rack_list_non_positive_replication_factor():
    # StripedReplicaPlacerTest.testRackListNonPositiveReplicationFactor
    rack_list = RackList(MockRandom(), [ub(11, "1", False), ub(10, "1", False)])
    with pytest.raises(InvalidReplicationFactorError) as e:
        rack_list.place(-1)
    assert str(e.value) == "Invalid replication factor -1: the replication factor must be positive."


def test_replication_control_create_topics_placement():
    # ReplicationControlManagerTest.testCreateTopics: three CreateTopics of foo (1 partition, RF 3) on one
    # MockRandom. 1: no brokers registered. 2: brokers 0-2 registered, only 0 unfenced (its controlled shutdown
    # is a registration change the heartbeat manager does not see, so the placer draws; the controller then
    # refuses the empty ISR). 3: all three unfenced: replicas [1, 2, 0].
    rnd = MockRandom()
    with pytest.raises(InvalidReplicationFactorError, match="All brokers are currently fenced"):
        striped_place([], 1, 3, rnd)
    assert striped_place([ub(0, None, False), ub(1, None, True), ub(2, None, True)], 1, 3, rnd)[0][0] == 0
    assert striped_place([ub(0, None, False), ub(1, None, False), ub(2, None, False)], 1, 3, rnd) == [
        [1, 2, 0]
    ]


def test_replication_control_create_topics_isr_invariants_placement():
    # ReplicationControlManagerTest.testCreateTopicsISRInvariants: brokers 0 and 1 unfenced, 2 fenced: [1, 0, 2]
    got = striped_place([ub(0, None, False), ub(1, None, False), ub(2, None, True)], 1, 3, MockRandom())
    assert got == [[1, 0, 2]]


def test_replication_control_create_partitions_isr_invariants_placement():
    # ReplicationControlManagerTest.testCreatePartitionsISRInvariants: create foo (1 partition, RF 3), then
    # CreatePartitions to 2 on the same MockRandom: partition 1 gets [0, 1, 2]
    rnd = MockRandom()
    brokers = [ub(0, None, False), ub(1, None, False), ub(2, None, True)]
    striped_place(brokers, 1, 3, rnd)
    assert striped_place(brokers, 1, 3, rnd) == [[0, 1, 2]]
