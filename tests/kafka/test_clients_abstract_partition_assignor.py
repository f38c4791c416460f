"""Ports of Kafka's clients/.../consumer/internals/AbstractPartitionAssignorTest.java.

``MemberInfo`` ordering is ``engine.assignors.member_order`` (static members by group.instance.id first,
then dynamic ones by member id); ``useRackAwareAssignment`` is ``engine.sticky_assignor.use_rack_aware``.
"""

from __future__ import annotations

import random

from engine.assignors import member_order
from engine.sticky_assignor import use_rack_aware


def test_member_info_sorting_without_group_instance_id() -> None:
    """AbstractPartitionAssignorTest.testMemberInfoSortingWithoutGroupInstanceId"""
    assert member_order(["a", "b", "c"], {}) == ["a", "b", "c"]


def test_member_info_sorting_with_all_group_instance_id() -> None:
    """AbstractPartitionAssignorTest.testMemberInfoSortingWithAllGroupInstanceId"""
    assert member_order(["a", "b", "c"], {"a": "y", "b": "z", "c": "x"}) == ["c", "a", "b"]


def test_member_info_sorting_some_group_instance_id() -> None:
    """AbstractPartitionAssignorTest.testMemberInfoSortingSomeGroupInstanceId"""
    assert member_order(["a", "b", "c"], {"b": "y", "c": "x"}) == ["c", "b", "a"]


def test_merge_sort_many_member_info() -> None:
    """AbstractPartitionAssignorTest.testMergeSortManyMemberInfo (seeded)"""
    rand = random.Random(100)
    ids = [str(i + 100) for i in range(100)]
    instances = {m: m for m in ids if rand.randrange(2) < 1}
    expected = [m for m in ids if m in instances] + [m for m in ids if m not in instances]
    shuffled = list(ids)
    rand.shuffle(shuffled)
    assert member_order(shuffled, instances) == expected


def test_use_rack_aware_assignment() -> None:
    """AbstractPartitionAssignorTest.testUseRackAwareAssignment"""
    racks = ["a", "b", "c"]
    all_racks, two = set(racks), {"a", "b"}
    on_all = {("topic", i): set(all_racks) for i in range(10)}
    on_subset = {("topic", i): {racks[i % 3]} for i in range(10)}
    for prefer in (False, True):
        assert not use_rack_aware(set(), set(), on_all, prefer)
        assert not use_rack_aware(set(), all_racks, on_all, prefer)
        assert not use_rack_aware(all_racks, set(), {}, prefer)
        assert not use_rack_aware({"d"}, all_racks, on_all, prefer)
        assert use_rack_aware(all_racks, all_racks, on_subset, prefer)
        assert use_rack_aware(two, all_racks, on_subset, prefer)
    assert not use_rack_aware(all_racks, all_racks, on_all)
    assert not use_rack_aware(two, all_racks, on_all)
    assert not use_rack_aware({"a", "d"}, all_racks, on_all)
    assert use_rack_aware({"a", "d"}, all_racks, on_subset)
    assert use_rack_aware(all_racks, all_racks, on_all, True)
    assert use_rack_aware(two, all_racks, on_all, True)
