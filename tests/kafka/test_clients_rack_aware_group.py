"""KIP-881 end to end in a classic group: `client.rack` travels in the JoinGroup subscription and the group
leader's assignor sees it, with every partition's replica racks from the leader's metadata.

What a member sends is ConsumerCoordinator.metadata(): a ConsumerProtocolSubscription (v3) with Topics,
OwnedPartitions, GenerationId and RackId (= `client.rack`); ConsumerCoordinator.onLeaderElected adds each
member's group.instance.id and runs the assignor on the leader's cluster metadata, where
AbstractPartitionAssignor / RangeAssignor read the racks of each partition's replicas (`Node.rack`).

Expected assignments are worked out by hand from RangeAssignor's rule (the rack cases of RangeAssignorTest,
e.g. testRackAwareAssignmentWithUniformSubscription): members sorted (static ones by group.instance.id first,
then by member id); if some member has a rack and not every partition has replicas on every rack, a first
pass gives each member, in order, up to its quota of the still-unassigned partitions that have a replica in its
rack, in partition order; a second pass fills the quotas with what is left, in partition order. The replica
placement each test starts from is asserted first, so the inputs are explicit.
"""

from __future__ import annotations

from engine import Cluster

RACKS = {1: "a", 2: "b", 3: "c"}


def _group(
    topic: str,
    partitions: int,
    rf: int,
    consumer_racks: dict[str, str | None],
    strategy: str = "range",
    instance_ids: dict[str, str] | None = None,
) -> Cluster:
    """A 3-broker cluster with broker.rack a/b/c (seed 1), one topic, and a group of consumers with the given
    client.rack (None: not set), run until the group is stable."""
    c = Cluster(brokers=3, seed=1, racks=RACKS)
    c.create_topic(topic, partitions=partitions, replication_factor=rf)
    for cid, rack in consumer_racks.items():
        cfg: dict = {"partition.assignment.strategy": strategy}
        if rack is not None:
            cfg["client.rack"] = rack
        if instance_ids and cid in instance_ids:
            cfg["group.instance.id"] = instance_ids[cid]
        c.consumer(cid, group_id="g", topics=[topic], config=cfg).start()
    c.run_for(10_000)
    return c


def _placement(c: Cluster, topic: str, n: int) -> list[list[int]]:
    return [list(c.controller.partitions[(topic, p)].replicas) for p in range(n)]


def _assigned(c: Cluster, topic: str) -> dict[str, list[int]]:
    return {cid: sorted(p for t, p in k.assignment if t == topic) for cid, k in sorted(c.consumers.items())}


def test_range_group_gets_rack_local_partitions_rf1():
    """Issue 15 (rack awareness, KIP-881): a range group of consumers in racks a/b/c gets the partitions whose
    only replica is in its own rack first; before the wiring the group ignored client.rack ({0,1},{2,3},{4,5})."""
    c = _group("orders", 6, 1, {"c1": "a", "c2": "b", "c3": "c"})
    # input: partition -> replica broker (rack): 0->1(a), 1->2(b), 2->3(c), 3->3(c), 4->3(c), 5->2(b)
    assert _placement(c, "orders", 6) == [[1], [2], [3], [3], [3], [2]]
    # quota 2 each. rack pass: c1(a) takes [0]; c2(b) takes [1, 5]; c3(c) takes [2, 3] (quota reached, 4 left);
    # fill pass: c1 takes 4
    assert _assigned(c, "orders") == {"c1": [0, 4], "c2": [1, 5], "c3": [2, 3]}


def test_range_group_gets_rack_local_partitions_rf2():
    """Issue 15 (rack awareness, KIP-881): with RF 2 each partition lives on two racks; consumers in racks c, b,
    a (sorted c1, c2, c3) each get a partition with a replica in their rack, not range's plain 0/1/2."""
    c = _group("pay", 3, 2, {"c1": "c", "c2": "b", "c3": "a"})
    # input: 0 -> brokers 1,2 (racks a,b); 1 -> 2,3 (b,c); 2 -> 3,1 (c,a)
    assert _placement(c, "pay", 3) == [[1, 2], [2, 3], [3, 1]]
    # quota 1 each. rack pass: c1(c): 1; c2(b): 0 (1 is taken); c3(a): 2
    assert _assigned(c, "pay") == {"c1": [1], "c2": [0], "c3": [2]}


def test_range_group_without_client_rack_is_plain_range():
    # AbstractPartitionAssignor.useRackAwareAssignment: no consumer rack -> rack-unaware range
    c = _group("orders", 6, 1, {"c1": None, "c2": None, "c3": None})
    assert _assigned(c, "orders") == {"c1": [0, 1], "c2": [2, 3], "c3": [4, 5]}


def test_range_group_one_consumer_in_a_rack_without_partitions():
    # RangeAssignorTest.testRackAwareAssignmentWithUniformSubscription ("one consumer on a rack with no
    # partitions"), scaled down: a rack no replica lives on matches nothing, that member is filled last
    c = _group("orders", 6, 1, {"c1": "x", "c2": "b", "c3": "c"})
    # rack pass: c1(x): none; c2(b): [1, 5]; c3(c): [2, 3]; fill pass: c1 takes 0 and 4
    assert _assigned(c, "orders") == {"c1": [0, 4], "c2": [1, 5], "c3": [2, 3]}


def test_range_group_static_member_sorts_before_dynamic_one():
    """Issue 15 (static members in the assignor): onLeaderElected gives the assignor each member's
    group.instance.id and RangeAssignor sorts static members first (MemberInfo.compareTo; as in
    RangeAssignorTest.testOneStaticConsumerAndOneDynamicConsumerTwoTopicsSixPartitions): static c2 ("z") comes
    before dynamic c1; before the wiring members sorted by member id only, so c1 came first."""
    c = _group("orders", 4, 1, {"c1": None, "c2": None}, instance_ids={"c2": "z"})
    assert _assigned(c, "orders") == {"c1": [2, 3], "c2": [0, 1]}


def test_join_group_subscription_carries_rack_and_generation():
    """Issue 15 (rack awareness): the coordinator keeps each member's RackId and GenerationId from its
    JoinGroup subscription (ConsumerProtocolSubscription v3), so the leader can hand them to the assignor."""
    c = _group("orders", 6, 1, {"c1": "a", "c2": "b", "c3": None})
    g = c.brokers[c.coordinator_for("g")].coordinator.groups["g"]
    by_client = {m.client_id: m for m in g.members.values()}
    assert {cid: m.rack_id for cid, m in by_client.items()} == {"c1": "a", "c2": "b", "c3": None}
    # a rebalance: the survivors rejoin with the generation their owned partitions come from
    c.consumers["c3"].crash()
    c.run_for(60_000)
    g = c.brokers[c.coordinator_for("g")].coordinator.groups["g"]
    assert sorted(m.client_id for m in g.members.values()) == ["c1", "c2"]
    assert all(m.generation_id == g.generation - 1 for m in g.members.values())


def test_cooperative_sticky_group_keeps_rack_local_partitions():
    # KIP-881 for the sticky assignors (AbstractStickyAssignor rack-aware path): with the RF-1 placement above,
    # rack b holds exactly 1 and 5, so a balanced rack-aware result gives c2(b) {1, 5}, c3(c) two of {2, 3, 4}
    # and c1(a) partition 0 plus the third partition of rack c
    c = _group("orders", 6, 1, {"c1": "a", "c2": "b", "c3": "c"}, strategy="cooperative-sticky")
    got = _assigned(c, "orders")
    assert got["c2"] == [1, 5]
    assert 0 in got["c1"] and len(got["c1"]) == 2
    assert set(got["c3"]) < {2, 3, 4} and len(got["c3"]) == 2


def test_snapshot_shows_member_racks_and_broker_racks():
    # what the UI reads: each member's client.rack (MemberView.rack) and each broker's broker.rack
    c = _group("orders", 6, 1, {"c1": "a", "c2": "b", "c3": None})
    (gv,) = [g for g in c.snapshot().groups if g.group_id == "g"]
    assert {m.client_id: m.rack for m in gv.members} == {"c1": "a", "c2": "b", "c3": None}
    assert {b.id: b.rack for b in c.snapshot().brokers} == RACKS


def test_kip848_member_view_shows_rack():
    # KIP-848: ConsumerGroupHeartbeatRequest carries RackId; the member view shows it too
    c = Cluster(brokers=3, seed=1, racks=RACKS)
    c.create_topic("orders", partitions=3, replication_factor=1)
    c.consumer(
        "c1", group_id="g", topics=["orders"], config={"group.protocol": "consumer", "client.rack": "b"}
    ).start()
    c.run_for(10_000)
    (gv,) = [g for g in c.snapshot().groups if g.group_id == "g"]
    assert [m.rack for m in gv.members] == ["b"]
