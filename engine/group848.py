"""The new consumer rebalance protocol (KIP-848, `group.protocol=consumer`, GA in Kafka 4.0).

No JoinGroup/SyncGroup barrier: each member sends ConsumerGroupHeartbeat (every
`group.consumer.heartbeat.interval.ms`, default 5000, a broker config) with its subscription and the partitions
it owns; a member silent for the broker's `group.consumer.session.timeout.ms` (45000) is removed.
The coordinator bumps the *group epoch* when membership or subscriptions change, computes the *target
assignment* itself with a server-side assignor (engine/server_assignors.py: `uniform`, the default, or
`range`; the broker's `group.consumer.assignors`, a member may ask for one with `group.remote.assignor`;
like Kafka's ConsumerGroup.computePreferredServerAssignor the one most members ask for wins), and reconciles each
member on its own: first it asks the member to revoke partitions that move away (the member keeps its
epoch), then it moves the member to the new epoch and hands it the partitions once their previous owners
released them. Members whose partitions do not move are never interrupted.

Static members (`group.instance.id`, KIP-345 carried into KIP-848): a static member leaving with member epoch -2
keeps its assignment and causes no new group epoch; a new member id joining with the same instance id takes its
place, epoch and partitions (GroupMetadataManager.getOrMaybeSubscribeStaticConsumerGroupMember); if it does not
come back within the session timeout it is removed and the group epoch is bumped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from . import server_assignors
from .errors import (
    FencedInstanceIdError,
    FencedMemberEpochError,
    KafkaError,
    NotCoordinatorError,
    UnknownMemberIdError,
    UnreleasedInstanceIdError,
)

if TYPE_CHECKING:
    from .contracts import ConsumerGroupMember, World
    from .group import GroupCoordinator
    from .scheduler import Timer

TP = tuple[str, int]


class Member848:
    __slots__ = (
        "member_id",
        "consumer",
        "topics",
        "epoch",
        "assigned",
        "owned",
        "timer",
        "assignor",
        "instance_id",
    )

    def __init__(
        self,
        member_id: str,
        consumer,
        topics: list[str],
        assignor: str | None,
        instance_id: str | None = None,
    ) -> None:
        self.member_id = member_id
        self.instance_id = instance_id
        self.consumer = consumer
        self.topics = topics
        self.epoch = 0  # member epoch
        self.assigned: list[TP] = []  # what the coordinator last gave the member
        self.owned: list[TP] = []  # what the member says it owns
        self.timer: Timer | None = None
        self.assignor = assignor  # group.remote.assignor, or None for the broker's default


class Group848:
    def __init__(self, group_id: str) -> None:
        self.group_id = group_id
        self.epoch = 0  # group epoch
        self.target_epoch = 0  # the epoch of the target assignment
        self.target: dict[str, list[TP]] = {}
        self.members: dict[str, Member848] = {}
        self.assignor = "uniform"
        self.metadata: dict[
            str, int
        ] = {}  # partition counts of the subscribed topics the target was built on
        self.static: dict[str, str] = {}  # instance id -> member id
        self.announced_epoch: int | None = None  # the group epoch whose Stable assignment was last announced

    def first_stable_at_epoch(self) -> bool:
        """True the first time this is asked at the current group epoch (the Stable assignment is announced
        once per epoch, however often the group is seen Stable)."""
        if self.announced_epoch == self.epoch:
            return False
        self.announced_epoch = self.epoch
        return True

    @property
    def state(self) -> str:
        if not self.members:
            return "Empty"
        if any(
            m.epoch not in (self.target_epoch, -2) or sorted(m.assigned) != sorted(self.target.get(mid, []))
            for mid, m in self.members.items()
        ):  # a static member away (epoch -2) is not reconciling
            return "Reconciling"
        return "Stable"


class ConsumerProtocolCoordinator:
    """The KIP-848 half of a broker's group coordinator."""

    def __init__(self, coordinator: GroupCoordinator) -> None:
        self.coordinator = coordinator
        self.groups: dict[str, Group848] = {}

    @property
    def cluster(self) -> World:
        return self.coordinator.cluster

    def on_heartbeat(
        self,
        consumer: ConsumerGroupMember,
        group_id: str,
        member_id: str,
        member_epoch: int,
        topics: list[str],
        owned: list[TP],
        assignor: str | None,
        instance_id: str | None = None,
    ) -> None:
        """ConsumerGroupHeartbeat: join (epoch 0), leave (epoch -1; -2 for a static member that comes back), or
        report and get the next assignment."""
        c = self.cluster
        co = self.coordinator
        if not co.is_coordinator(group_id):
            self._reply(
                consumer,
                group_id,
                NotCoordinatorError("this broker is not the group's coordinator; find it again"),
                member_id,
                member_epoch,
                None,
            )
            return
        g = self.groups.setdefault(group_id, Group848(group_id))
        if instance_id is not None:
            err = self._static(g, consumer, member_id, member_epoch, instance_id)
            if err is not None:
                if isinstance(err, KafkaError):
                    self._reply(consumer, group_id, err, member_id, member_epoch, None)
                else:  # "LEFT": the answer to a static leave carries member epoch -2
                    self._reply(consumer, group_id, None, member_id, -2, None)
                return
        m = g.members.get(member_id)
        if member_epoch == -1:
            if m is not None:
                self._remove(g, m, f"{consumer.id} left the group")
            return
        if m is None:
            if member_epoch != 0:
                self._reply(
                    consumer,
                    group_id,
                    UnknownMemberIdError("the group does not know this member id"),
                    member_id,
                    member_epoch,
                    None,
                )
                return
            m = g.members[member_id] = Member848(member_id, consumer, list(topics), assignor, instance_id)
            if instance_id is not None:
                g.static[instance_id] = member_id
            c.emit(
                "member_joined",
                f"{consumer.id} joined group {group_id} with a ConsumerGroupHeartbeat (KIP-848): "
                f"no JoinGroup, no SyncGroup",
                actors=(co.broker.name, group_id, consumer.id),
                group=group_id,
                member=member_id,
            )
            self.bump_epoch(g, f"{consumer.id} joined")
        elif member_epoch not in (m.epoch, m.epoch - 1) and member_epoch != 0:
            self._reply(
                consumer,
                group_id,
                FencedMemberEpochError("the member epoch is neither the current nor the previous one"),
                member_id,
                member_epoch,
                None,
            )
            return
        elif sorted(topics) != sorted(m.topics):
            m.topics = list(topics)
            self.bump_epoch(g, f"{consumer.id} changed its subscription")
        if self._subscribed_partitions(g) != g.metadata:  # a subscribed topic was created or grew
            self.bump_epoch(g, "the partitions of its subscribed topics changed")
        m.owned = [(t, p) for t, p in owned]
        self._touch(g, m)
        self._reconcile(g, m)
        self._reply(consumer, group_id, None, member_id, m.epoch, list(m.assigned))

    def _static(
        self, g: Group848, consumer, member_id: str, member_epoch: int, instance_id: str
    ) -> KafkaError | Literal["LEFT"] | None:
        """The static-member checks and transitions of a heartbeat: an error, "LEFT", or None to go on."""
        existing_id = g.static.get(instance_id)
        existing = g.members.get(existing_id) if existing_id is not None else None
        if member_epoch == 0:
            if existing is None:
                return None  # a new static member: joins like any other
            if existing.epoch != -2:
                return UnreleasedInstanceIdError(
                    "the group.instance.id is still in use by a live member"
                )  # the instance id is still in use by a live member
            self._replace(g, existing, consumer, member_id)
            return None
        if existing is None:
            return UnknownMemberIdError("the group does not know this member id")
        if existing_id != member_id:
            return FencedInstanceIdError("another member joined with this group.instance.id")
        if member_epoch == -2:  # consumerGroupStaticMemberGroupLeave: keep the assignment, no new group epoch
            existing.epoch = -2
            self._touch(g, existing)
            self.cluster.emit(
                "member_left",
                f"{consumer.id} left group {g.group_id} for now as static member "
                f"{instance_id!r} (member epoch -2): it keeps {_fmt(existing.assigned)}, no new "
                f"group epoch, unless it stays away longer than the session timeout",
                actors=(g.group_id, consumer.id),
                group=g.group_id,
                member=member_id,
                static=True,
            )
            return "LEFT"
        return None

    def _replace(self, g: Group848, old: Member848, consumer, member_id: str) -> None:
        """A static member comes back with a new member id: it takes the old one's place and partitions."""
        if old.timer is not None:
            old.timer.cancel()
        m = Member848(member_id, consumer, list(old.topics), old.assignor, old.instance_id)
        m.assigned = list(old.assigned)
        g.members = {
            (member_id if mid == old.member_id else mid): (m if mid == old.member_id else mm)
            for mid, mm in g.members.items()
        }
        if old.member_id in g.target:
            g.target = {(member_id if mid == old.member_id else mid): tps for mid, tps in g.target.items()}
        assert old.instance_id is not None  # only a static member is replaced
        g.static[old.instance_id] = member_id
        self.cluster.emit(
            "static_member_rejoined",
            f"{consumer.id} came back as static member {old.instance_id!r} "
            f"within the session timeout: it keeps {_fmt(m.assigned)}, no new group epoch (KIP-848; "
            f"member {old.member_id} is replaced by {member_id})",
            actors=(self.coordinator.broker.name, g.group_id, consumer.id),
            group=g.group_id,
            member=member_id,
            old_member=old.member_id,
            group_instance_id=old.instance_id,
            assignment=list(m.assigned),
        )

    def bump_epoch(self, g: Group848, why: str) -> None:
        """A new group epoch and, computed by the broker itself, a new target assignment."""
        c = self.cluster
        g.epoch += 1
        g.assignor = self._preferred_assignor(g)
        counts = g.metadata = self._subscribed_partitions(g)
        specs = {
            mid: server_assignors.member([t for t in mm.topics if t in counts], g.target.get(mid, ()))
            for mid, mm in g.members.items()
        }
        target = server_assignors.assign(g.assignor, specs, counts)
        g.target = {mid: target.get(mid, []) for mid in g.members}
        g.target_epoch = g.epoch
        table = "; ".join(f"{g.members[mid].consumer.id}: {_fmt(tps)}" for mid, tps in g.target.items())
        c.emit(
            "rebalance_started",
            f"Group {g.group_id} epoch {g.epoch} ({why}): the coordinator's {g.assignor} "
            f"assignor set the target assignment {table or '(no members)'}; members that keep their partitions "
            f"carry on consuming",
            actors=(self.coordinator.broker.name, g.group_id),
            group=g.group_id,
            epoch=g.epoch,
            protocol="consumer",
            target={g.members[mid].consumer.id: list(v) for mid, v in g.target.items()},
        )

    def _subscribed_partitions(self, g: Group848) -> dict[str, int]:
        """Partition counts of the subscribed topics that exist, by name: a topic not (yet) created is ignored.
        Kafka's coordinator refreshes this subscription metadata on heartbeats and bumps the group epoch when
        it changes (GroupMetadataManager.consumerGroupHeartbeat)."""
        c = self.cluster
        names = sorted({t for m in g.members.values() for t in m.topics})
        return {t: c.topics[t].partitions for t in names if t in c.topics}

    def _preferred_assignor(self, g: Group848) -> str:
        """The server assignor most members ask for, else the first of the broker's group.consumer.assignors."""
        preferred = server_assignors.preferred_server_assignor(mm.assignor for mm in g.members.values())
        return preferred or self.cluster.broker_config.group_consumer_assignors[0]

    def _reconcile(self, g: Group848, m: Member848) -> None:
        """KIP-848 reconciliation for one member: revoke what moves away, then take what is free."""
        target = set(g.target.get(m.member_id, []))
        current = set(m.assigned)
        if current - target:  # step 1: the member must first give up partitions that move away
            m.assigned = sorted(current & target)
            return
        if set(m.owned) - target:
            return  # still waiting for the member to confirm the revocation
        owned_by_others = {
            tp for mid, o in g.members.items() if mid != m.member_id for tp in set(o.owned) | set(o.assigned)
        }
        m.epoch = g.target_epoch
        m.assigned = sorted(tp for tp in target if tp not in owned_by_others)
        if g.state == "Stable":
            table = "; ".join(f"{mm.consumer.id}: {_fmt(mm.assigned)}" for mm in g.members.values())
            if g.first_stable_at_epoch():
                self.cluster.emit(
                    "assignment_received",
                    f"Group {g.group_id} is Stable at epoch {g.epoch} (KIP-848). Assignment: {table}",
                    actors=(self.coordinator.broker.name, g.group_id),
                    group=g.group_id,
                    generation=g.epoch,
                    protocol="consumer",
                    assignment={mm.consumer.id: list(mm.assigned) for mm in g.members.values()},
                )

    def _touch(self, g: Group848, m: Member848) -> None:
        if m.timer is not None:
            m.timer.cancel()
        session_ms = (
            self.cluster.broker_config.group_consumer_session_timeout_ms
        )  # the broker's, not the member's
        m.timer = self.cluster.scheduler.after(
            session_ms, self._expired, g.group_id, m.member_id, self.coordinator.broker.epoch, timer=True
        )

    def _expired(self, group_id: str, member_id: str, epoch: int) -> None:
        g = self.groups.get(group_id)
        if g is None or epoch != self.coordinator.broker.epoch or member_id not in g.members:
            return
        m = g.members[member_id]
        self.cluster.emit(
            "member_expired",
            f"The coordinator heard no ConsumerGroupHeartbeat from {m.consumer.id} "
            f"within the session timeout: it is removed from group {group_id}",
            actors=(self.coordinator.broker.name, group_id, m.consumer.id),
            group=group_id,
            member=member_id,
        )
        self._remove(g, m, f"{m.consumer.id}'s session expired")

    def _remove(self, g: Group848, m: Member848, why: str) -> None:
        if m.timer is not None:
            m.timer.cancel()
        del g.members[m.member_id]
        if m.instance_id is not None and g.static.get(m.instance_id) == m.member_id:
            del g.static[m.instance_id]
        self.cluster.emit(
            "member_left",
            f"{m.consumer.id} is no longer a member of group {g.group_id}: {why}",
            actors=(g.group_id, m.consumer.id),
            group=g.group_id,
            member=m.member_id,
        )
        self.bump_epoch(g, why)

    def _reply(
        self,
        consumer,
        group_id: str,
        err: KafkaError | None,
        member_id: str,
        epoch: int,
        assignment: list[TP] | None,
    ) -> None:
        self.cluster.network.send(
            self.coordinator.broker.name,
            consumer.id,
            "ConsumerGroupHeartbeatResponse",
            consumer.on_cg_heartbeat_response,
            group_id,
            err,
            member_id,
            epoch,
            assignment,
            self.cluster.broker_config.group_consumer_heartbeat_interval_ms,
        )


def _fmt(tps) -> str:
    return "[" + ", ".join(f"{t}-{p}" for t, p in sorted(tps)) + "]" if tps else "nothing"
