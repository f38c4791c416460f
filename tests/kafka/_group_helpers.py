"""A thin harness for porting Kafka's classic group coordinator tests (GroupMetadataManagerTestContext).

Requests go straight into our `GroupCoordinator` as if they had just arrived; each request gets its own
`Pending` client stub, which plays the part of Kafka's response future (it is "done" once the coordinator's
answer has arrived). Network latency is 0 and `sleep(ms)` advances simulated time, so Kafka's timer-driven
steps (initial rebalance delay, rebalance and session timeouts) happen when the Java tests expect them.

Adaptations: assignments are lists of topic-partitions instead of opaque bytes (Kafka's `new byte[]{1}` for the
leader becomes `[("foo", 1)]`, `{2}` for the follower `[("foo", 2)]`); protocol metadata is the member's
subscription, so Kafka's "protocol superset" is the protocol list ["range", "roundrobin"].
"""

from __future__ import annotations

from dataclasses import dataclass

from engine import Cluster
from engine.errors import KafkaError

GROUP = "group-id"
TOPICS = ["foo"]
DEFAULT_PROTOCOLS = ["range"]  # JoinGroupRequestBuilder.withDefaultProtocolTypeAndProtocols
PROTOCOL_SUPERSET = ["range", "roundrobin"]  # withProtocolSuperset
LEADER_ASSIGNMENT = [("foo", 1)]
FOLLOWER_ASSIGNMENT = [("foo", 2)]


class Pending:
    """One request's client side: records the coordinator's answer (Kafka's response future)."""

    def __init__(self, name: str) -> None:
        self.id = name
        self.alive = True
        self.done = False
        self.error: str | None = None
        self.payload: dict | None = None  # JoinGroup answers
        self.generation: int | None = None  # SyncGroup answers
        self.assignment: list | None = None

    def _finish(self, err: KafkaError | None) -> None:
        assert not self.done, f"{self.id} was answered twice"
        assert err is None or isinstance(err, KafkaError), (
            f"the coordinator answered {err!r}, not a KafkaError"
        )
        self.done, self.error = True, None if err is None else err.name  # Kafka's tests compare Errors names

    def on_join_response(self, group_id: str, err: KafkaError | None, payload: dict | None) -> None:
        self._finish(err)
        self.payload = payload

    def on_sync_response(
        self, group_id: str, err: KafkaError | None, generation: int, assignment: list | None
    ) -> None:
        self._finish(err)
        self.generation, self.assignment = generation, assignment

    def on_heartbeat_response(self, group_id: str, err: KafkaError | None) -> None:
        self._finish(err)

    @property
    def member_id(self) -> str:
        return self.payload["member_id"]

    @property
    def generation_id(self) -> int:
        return self.payload["generation"]


@dataclass
class RebalanceResult:
    generation: int
    leader_id: str
    leader_assignment: list
    follower_id: str
    follower_assignment: list


class ClassicGroupHarness:
    """GroupMetadataManagerTestContext for one classic group on a one-broker cluster."""

    def __init__(
        self,
        initial_rebalance_delay_ms: int = 3000,
        min_session_timeout_ms: int = 10,
        max_session_timeout_ms: int = 10 * 60 * 1000,
    ) -> None:
        self.cluster = c = Cluster(
            brokers=1,
            seed=0,
            config={
                "offsets.topic.replication.factor": 1,
                "offsets.topic.num.partitions": 1,
                "group.initial.rebalance.delay.ms": initial_rebalance_delay_ms,
                "group.min.session.timeout.ms": min_session_timeout_ms,
                "group.max.session.timeout.ms": max_session_timeout_ms,
                "simulator.network.latency.ms": 0,
            },
        )
        c.ensure_offsets_topic()
        c.run_until(lambda: c.coordinator_for(GROUP) is not None, 10_000)
        self.coordinator = c.brokers[c.coordinator_for(GROUP)].coordinator
        self._n = 0

    @property
    def group(self):
        return self.coordinator.group(GROUP)

    def _stub(self) -> Pending:
        self._n += 1
        return Pending(f"request-{self._n}")

    def settle(self) -> None:
        self.cluster.run_for(0)

    def sleep(self, ms: int) -> None:
        self.cluster.run_for(ms)

    def sleep_until(self, done, ms: int) -> None:
        """Advance time until `done()` holds, at most `ms`. Kafka's MockCoordinatorTimer starts timers set during
        a sleep() from the end of that sleep, so a member that just got its JoinGroup answer is not expired by its
        500 ms session in the same sleep; here time is continuous, so such tests stop at the answer instead."""
        self.cluster.run_until(done, ms)

    def join(
        self,
        member_id: str = "",
        instance_id: str | None = None,
        protocols: list[str] = DEFAULT_PROTOCOLS,
        session_timeout_ms: int = 500,
        rebalance_timeout_ms: int = 500,
        topics: list[str] = TOPICS,
    ) -> Pending:
        """sendClassicGroupJoin (JoinGroupRequestBuilder defaults: session and rebalance timeout 500 ms)."""
        p = self._stub()
        self.coordinator.on_join(
            p,
            GROUP,
            member_id,
            list(topics),
            list(protocols),
            [],
            session_timeout_ms,
            rebalance_timeout_ms,
            instance_id,
        )
        self.settle()
        return p

    def join_dynamic(self, **kw) -> Pending:
        """A dynamic member's join: MEMBER_ID_REQUIRED, then the same JoinGroup with the given id (KIP-394).
        Kafka's tests often use an old JoinGroup version that skips the first round; our clients never do."""
        first = self.join(**kw)
        assert first.error == "MEMBER_ID_REQUIRED"
        return self.join(member_id=first.payload["member_id"], **kw)

    def sync(
        self,
        member_id: str,
        generation: int,
        instance_id: str | None = None,
        assignments: dict[str, list] | None = None,
    ) -> Pending:
        p = self._stub()
        self.coordinator.on_sync(p, GROUP, generation, member_id, assignments, instance_id)
        self.settle()
        return p

    def heartbeat(self, member_id: str, generation: int, instance_id: str | None = None) -> Pending:
        p = self._stub()
        self.coordinator.on_heartbeat(p, GROUP, generation, member_id, instance_id)
        self.settle()
        return p

    def leave(self, member_id: str, instance_id: str | None = None) -> str | None:
        err = self.coordinator.on_leave(self._stub(), GROUP, member_id, instance_id)
        self.settle()
        return None if err is None else err.name

    def join_and_complete(self, **kw) -> Pending:
        """joinClassicGroupAndCompleteJoin: join a new group and wait out the initial rebalance delay."""
        p = self.join(**kw)
        self.sleep(self.cluster.broker_config.group_initial_rebalance_delay_ms)
        assert p.done
        return p

    def static_members_join_and_rebalance(
        self,
        leader_instance: str = "leader-instance-id",
        follower_instance: str = "follower-instance-id",
        rebalance_timeout_ms: int = 10000,
        session_timeout_ms: int = 5000,
    ) -> RebalanceResult:
        """GroupMetadataManagerTestContext.staticMembersJoinAndRebalance (its assertions included)."""
        kw = {
            "protocols": PROTOCOL_SUPERSET,
            "rebalance_timeout_ms": rebalance_timeout_ms,
            "session_timeout_ms": session_timeout_ms,
        }
        leader = self.join(instance_id=leader_instance, **kw)
        follower = self.join(instance_id=follower_instance, **kw)
        assert not leader.done and not follower.done
        delay = self.cluster.broker_config.group_initial_rebalance_delay_ms
        self.sleep(delay)
        self.sleep(delay)
        assert leader.done and follower.done and leader.error is None and follower.error is None
        assert leader.generation_id == follower.generation_id == 1
        g = self.group
        assert len(g.members) == 2 and g.generation == 1 and g.state == "CompletingRebalance"
        lid, fid = leader.member_id, follower.member_id
        lsync = self.sync(lid, 1, leader_instance, {lid: LEADER_ASSIGNMENT, fid: FOLLOWER_ASSIGNMENT})
        assert lsync.done and lsync.error is None and g.state == "Stable"
        fsync = self.sync(fid, 1, follower_instance, {})
        assert fsync.done and fsync.error is None and g.state == "Stable"
        assert len(g.members) == 2 and g.generation == 1
        return RebalanceResult(1, lid, lsync.assignment, fid, fsync.assignment)


# -- KIP-848 (group.protocol=consumer) --------------------------------------------------------------------------
class _Config:
    session_timeout_ms = 45000  # the group's group.consumer.session.timeout.ms applies


class PendingHeartbeat:
    """One ConsumerGroupHeartbeat's client side: records the answer."""

    def __init__(self, name: str) -> None:
        self.id = name
        self.alive = True
        self.config = _Config()
        self.done = False
        self.error: str | None = None
        self.member_epoch: int | None = None
        self.assignment: list | None = None

    def on_cg_heartbeat_response(
        self,
        group_id: str,
        err: KafkaError | None,
        member_id: str,
        epoch: int,
        assignment: list | None,
        interval_ms: int,
    ) -> None:
        assert err is None or isinstance(err, KafkaError), (
            f"the coordinator answered {err!r}, not a KafkaError"
        )
        self.done, self.member_epoch, self.assignment = True, epoch, assignment
        self.error = None if err is None else err.name


class ConsumerGroupHarness(ClassicGroupHarness):
    """GroupMetadataManagerTestContext for a KIP-848 consumer group ("fooup") with topics foo (6) and bar (3)."""

    GROUP = "fooup"

    def __init__(self) -> None:
        super().__init__()
        self.cluster.create_topic("foo", partitions=6, replication_factor=1)
        self.cluster.create_topic("bar", partitions=3, replication_factor=1)
        self.kip848 = self.cluster.brokers[self.cluster.coordinator_for(self.GROUP)].coordinator.kip848

    def with_group(self, epoch: int, members: dict[str, list], topics: list[str] = ("foo", "bar")):
        """ConsumerGroupBuilder: static members (instance id = member id) at `epoch`, assigned and targeted."""
        from engine.group848 import Group848, Member848

        g = self.kip848.groups[self.GROUP] = Group848(self.GROUP)
        g.epoch = g.target_epoch = epoch
        g.assignor = "range"
        for mid, assigned in members.items():
            m = Member848(mid, PendingHeartbeat(mid), list(topics), "range", mid)
            m.epoch, m.assigned, m.owned = epoch, sorted(assigned), sorted(assigned)
            g.members[mid], g.target[mid], g.static[mid] = m, sorted(assigned), mid
        g.metadata = self.kip848._subscribed_partitions(g)  # the builder's subscription metadata is current
        return g

    def heartbeat848(
        self,
        member_id: str,
        instance_id: str | None,
        member_epoch: int,
        topics: list[str] = ("foo", "bar"),
        owned: list = (),
    ) -> PendingHeartbeat:
        p = PendingHeartbeat(f"request-{member_id}")
        self.kip848.on_heartbeat(
            p, self.GROUP, member_id, member_epoch, list(topics), list(owned), "range", instance_id
        )
        self.settle()
        return p
