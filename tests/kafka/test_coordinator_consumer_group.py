"""Ported from Kafka's group-coordinator `ConsumerGroupTest`: the two cases about how a KIP-848 group picks its
server-side assignor and its subscription type (which chooses the uniform assignor's builder).

Adapted: Kafka asks a ConsumerGroup object after each updateMember/removeMember; we ask the same question of the
members' current choices and subscriptions. Kafka breaks a tie between assignors by HashMap order and its test
accepts either; ours breaks it by name.
"""

from __future__ import annotations

from engine.server_assignors import member, preferred_server_assignor, subscription_type


def test_preferred_server_assignor():
    # ConsumerGroupTest.testPreferredServerAssignor
    assert preferred_server_assignor([]) is None  # the group is empty
    assert preferred_server_assignor(["range"]) == "range"  # member1
    assert preferred_server_assignor(["range", "range"]) == "range"  # member1, member2
    assert preferred_server_assignor(["range", "range", "uniform"]) == "range"  # + member3
    assert preferred_server_assignor([None, "range", "uniform"]) in (
        "range",
        "uniform",
    )  # member1 drops its choice
    assert preferred_server_assignor([None, None, "uniform"]) == "uniform"  # member2 too
    assert preferred_server_assignor([None, None, None]) is None  # and member3


def test_update_subscribed_topic_names_and_subscription_type():
    # ConsumerGroupTest.testUpdateSubscribedTopicNamesAndSubscriptionType
    member1, member2, member3 = member(["foo"]), member(["bar", "foo"]), member(["bar", "foo"])
    assert subscription_type({}) == "homogeneous"  # homogeneous by default
    assert subscription_type({"member1": member1}) == "homogeneous"
    assert subscription_type({"member1": member1, "member2": member2}) == "heterogeneous"
    group = {"member1": member1, "member2": member2, "member3": member3}
    assert subscription_type(group) == "heterogeneous"
    del group["member1"]
    assert subscription_type(group) == "homogeneous"
    group["member2"] = member(["bar", "foo", "zar"])
    assert subscription_type(group) == "heterogeneous"
