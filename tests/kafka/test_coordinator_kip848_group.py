"""Issue 15 behaviours 5 and 10 on a running cluster: the KIP-848 group coordinator assigns with Kafka's
server-side assignors, and the configs a KIP-848 member or a share consumer may not set are the broker's."""

from __future__ import annotations

import pytest

from engine import Cluster, server_assignors
from engine.errors import ConfigError

KIP848 = {"auto.offset.reset": "earliest", "group.protocol": "consumer"}


def _group(c: Cluster, n: int, topics: list[str], config: dict | None = None, ms: int = 15_000):
    ks = [
        c.consumer(f"c{i}", group_id="g", topics=topics, config={**KIP848, **(config or {})})
        for i in range(1, n + 1)
    ]
    for k in ks:
        k.start(100)
    c.run_for(ms)
    return ks


def test_uniform_gives_a_new_group_of_two_contiguous_halves():
    """Issue 15 behaviour 5: UniformHomogeneousAssignmentBuilder gives 2 members of a new group {0,1} and {2,3}.

    Both members join before their topic exists; when it is created the coordinator sees the subscribed topic's
    metadata change, bumps the group epoch and assigns all 4 partitions to the two members at once."""
    c = Cluster(brokers=3, seed=4)
    ks = _group(c, 2, ["orders"], ms=5_000)
    assert [k.assignment for k in ks] == [[], []]
    c.create_topic("orders", partitions=4, replication_factor=3)
    c.run_for(15_000)
    assert sorted(sorted(p for _, p in k.assignment) for k in ks) == [[0, 1], [2, 3]]
    assert c.snapshot().group("g").state == "Stable"


def test_server_side_uniform_assignor_gives_a_new_group_of_two_contiguous_halves():
    # the same case on the assignor alone (the client-side sticky algorithm gives {0,2} and {1,3})
    members = {m: server_assignors.member(["orders"]) for m in ("m1", "m2")}
    assert server_assignors.assign("uniform", members, {"orders": 4}) == {
        "m1": [("orders", 0), ("orders", 1)],
        "m2": [("orders", 2), ("orders", 3)],
    }


def test_group_remote_assignor_range_picks_the_co_partitioned_range_assignor():
    """group.remote.assignor=range: Kafka's server RangeAssignor gives each member the same range of both topics,
    where uniform's homogeneous builder fills the first member from topic a first."""
    results = {}
    for name in ("uniform", "range"):
        c = Cluster(brokers=3, seed=4)
        for t in ("a", "b"):
            c.create_topic(t, partitions=3, replication_factor=3)
        ks = _group(c, 2, ["a", "b"], {"group.remote.assignor": name})
        results[name] = [sorted(k.assignment) for k in sorted(ks, key=lambda k: k.member_id)]
    assert results["range"] == [[("a", 0), ("a", 1), ("b", 0), ("b", 1)], [("a", 2), ("b", 2)]]
    assert results["uniform"] == [[("a", 0), ("a", 1), ("a", 2)], [("b", 0), ("b", 1), ("b", 2)]]


@pytest.mark.parametrize("key,value", [("session.timeout.ms", 10000), ("heartbeat.interval.ms", 3000)])
def test_a_kip848_member_may_not_set_its_session_timeout_or_heartbeat_interval(key, value):
    """Issue 15 behaviour 10: ConsumerConfig refuses them under group.protocol=consumer (the broker's apply)."""
    c = Cluster(brokers=1, seed=1)
    with pytest.raises(
        ConfigError,
        match=rf"{key} cannot be set when group.protocol=CONSUMER.*"
        rf"group\.consumer\.session\.timeout\.ms",
    ):
        c.consumer("c1", group_id="g", topics=[], config={**KIP848, key: value})


def test_a_kip848_member_may_not_choose_a_client_side_assignor():
    # ConsumerConfig.CONSUMER_PROTOCOL_UNSUPPORTED_CONFIGS also holds partition.assignment.strategy
    with pytest.raises(
        ConfigError, match="partition.assignment.strategy cannot be set when group.protocol=CONSUMER"
    ):
        Cluster(brokers=1).consumer("c1", config={**KIP848, "partition.assignment.strategy": "range"})


def test_a_classic_member_may_not_choose_a_server_side_assignor():
    # ConsumerConfig.checkGroupRemoteAssignor: group.remote.assignor cannot be set when group.protocol=CLASSIC
    with pytest.raises(ConfigError, match="group.remote.assignor cannot be set when group.protocol=CLASSIC"):
        Cluster(brokers=1).consumer("c1", config={"group.remote.assignor": "uniform"})


def test_a_crashed_kip848_member_expires_after_the_brokers_group_consumer_session_timeout():
    """Issue 15 behaviour 10: the coordinator times a KIP-848 member out with group.consumer.session.timeout.ms."""
    c = Cluster(brokers=3, seed=2, config={"group.consumer.session.timeout.ms": 55000})
    c.create_topic("orders", partitions=2, replication_factor=3)
    a, b = _group(c, 2, ["orders"])
    a.crash()
    crashed_at = c.now
    c.run_for(50_000)
    assert (
        len(c.snapshot().group("g").members) == 2
    )  # 50 s later: still a member (45 s is the client default)
    c.run_for(10_000)
    gone = [e for e in c.events.events if e.kind == "member_expired"]
    # 55 s after the last heartbeat, which was at most one group.consumer.heartbeat.interval.ms (5 s) before the crash
    assert gone and crashed_at + 50_000 <= gone[0].time_ms <= crashed_at + 55_100
    assert sorted(b.assignment) == [("orders", 0), ("orders", 1)]


def test_kip848_session_timeout_must_lie_within_the_brokers_bounds():
    # GroupCoordinatorConfig: group.consumer.session.timeout.ms within group.consumer.min/max.session.timeout.ms
    with pytest.raises(ConfigError, match=r"group.consumer.session.timeout.ms \(10000\).*45000\.\.60000"):
        Cluster(brokers=1, config={"group.consumer.session.timeout.ms": 10000})


def test_a_share_consumer_may_not_set_the_delivery_count_limit():
    """Issue 15 behaviour 10: the delivery-count limit is the broker's group.share.delivery.count.limit."""
    c = Cluster(brokers=1, seed=1)
    c.create_topic("jobs", partitions=1)
    with pytest.raises(
        ConfigError,
        match=r"cannot be set on a share consumer.*broker config "
        r"group\.share\.delivery\.count\.limit",
    ):
        c.share_consumer("s1", "workers", ["jobs"], {"group.share.delivery.count.limit": 3})


def test_the_brokers_delivery_count_limit_archives_a_poison_record():
    """Issue 15 behaviour 10: group.share.delivery.count.limit set on the broker caps deliveries for the group."""
    c = Cluster(brokers=3, seed=5, config={"group.share.delivery.count.limit": 2})
    c.create_topic("jobs", partitions=1, replication_factor=3)
    p = c.producer("p1")
    p.send("jobs", key="poison", value="bad")
    p.flush()
    k = c.share_consumer(
        "s1",
        "workers",
        ["jobs"],
        {"share.auto.offset.reset": "earliest", "share.acknowledgement.mode": "explicit"},
    )
    counts = []
    for _ in range(5):
        for r in k.poll(1000):
            counts.append(r.delivery_count)
            k.acknowledge(r, "RELEASE")
        k.commit()
    assert counts == [1, 2]


def test_a_share_consumer_refuses_consumer_group_configs():
    # ShareConsumerConfig.SHARE_GROUP_UNSUPPORTED_CONFIGS: "... cannot be set when using a share group."
    c = Cluster(brokers=1, seed=1)
    c.create_topic("jobs", partitions=1)
    with pytest.raises(ConfigError, match="session.timeout.ms cannot be set when using a share group"):
        c.share_consumer("s1", "workers", ["jobs"], {"session.timeout.ms": 10000})
