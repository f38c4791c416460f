"""The controller: broker liveness, partition leaders and ISRs, in ZooKeeper mode or KRaft mode.

Both modes keep the same partition state (replicas, leader, leader epoch, ISR, partition epoch) and make
the same decisions; they differ in how failures are noticed and who is in charge:

* **ZooKeeper mode** (removed in Kafka 4.0, taught because the classic notes use it): every broker keeps a
  ZooKeeper session alive; a session that misses `zookeeper.session.timeout.ms` expires and the broker's
  ephemeral `/brokers/ids/N` node disappears. The controller is the broker that created the ephemeral
  `/controller` node; when its session expires, the other brokers race to create it.
* **KRaft mode** (the only mode since 4.0): a Raft quorum of controllers keeps a metadata log. Brokers send
  BrokerHeartbeat every `broker.heartbeat.interval.ms` and are fenced after `broker.session.timeout.ms`
  without one. We run it in "combined" mode (process.roles=broker,controller on the first up-to-three
  brokers), as a laptop cluster does; production separates them. When the active controller's broker
  dies, the remaining voters elect a new one if a majority is alive.

Elections follow PartitionLeaderElectionAlgorithms: clean = the first replica in assignment order that is
alive and in the ISR; if none and `unclean.leader.election.enable=true`, the first alive replica.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import InvalidReplicationFactorError
from .placement import BrokerMetadata, EngineRandom, UsableBroker, assign_replicas_to_brokers, striped_place
from .shutdown import ControlledShutdown

if TYPE_CHECKING:
    from .contracts import World
    from .scheduler import Timer

TP = tuple[str, int]
METADATA_RETRY_MS = 1000  # how soon a partition update lost on the network is sent again


class PartitionState:
    __slots__ = ("replicas", "leader", "leader_epoch", "isr", "partition_epoch", "adding", "removing")

    def __init__(self, replicas: list[int]) -> None:
        self.replicas = list(replicas)
        self.leader: int | None = None
        self.leader_epoch = -1
        self.isr: list[int] = []
        self.partition_epoch = 0
        self.adding: list[int] = []
        self.removing: list[int] = []


class Controller:
    def __init__(self, cluster: World, mode: str) -> None:
        self.cluster = cluster
        self.mode = mode
        self.partitions: dict[TP, PartitionState] = {}
        self.live: set[int] = set()  # registered (ZooKeeper) / unfenced (KRaft) brokers
        self.active: int | None = None  # broker hosting the active controller
        self.epoch = 0  # controller epoch (ZooKeeper) / quorum leader epoch (KRaft)
        self.voters: list[int] = []  # KRaft quorum voters
        self.metadata_offset = 0  # KRaft: records in the metadata log
        self.sessions: dict[int, Timer] = {}  # broker id -> session expiry timer
        self.incarnation: dict[int, int] = {}  # broker id -> the broker epoch it registered with (KIP-380)
        self.election_pending = False
        self.quorum_lost = False  # KRaft: no majority of voters; they keep retrying until one is back
        self.shutdown = ControlledShutdown(cluster)  # brokers asked to stop cleanly (controlled shutdown)

    # -- set-up ----------------------------------------------------------------------------------------------
    def bootstrap(self, broker_ids: list[int]) -> None:
        c = self.cluster
        self.live = set(broker_ids)
        if self.mode == "kraft":
            self.voters = broker_ids[: min(3, len(broker_ids))]
        self.active = broker_ids[0]
        self.epoch = 1
        for b in broker_ids:
            self.incarnation[b] = c.brokers[b].epoch
            self.touch_session(b)
            c.scheduler.after(self.heartbeat_interval(), self.send_heartbeat, b, c.brokers[b].epoch)
        where = (
            f"the KRaft controller quorum {self.voters} elected broker {self.active} active controller"
            if self.mode == "kraft"
            else f"broker {self.active} created /controller in ZooKeeper first and became the controller"
        )
        c.emit(
            "controller_elected",
            f"Cluster started: {where} (epoch {self.epoch})",
            actors=("controller", f"broker-{self.active}"),
            broker=self.active,
            epoch=self.epoch,
        )

    @property
    def actor(self) -> str:
        return "zookeeper" if self.mode == "zookeeper" else "controller"

    def is_live(self, broker_id: int) -> bool:
        return broker_id in self.live

    def isr_eligible(self, broker_id: int) -> bool:
        """Partition.isReplicaIsrEligible: neither fenced nor in controlled shutdown (KIP-841)."""
        return broker_id in self.live and not self.shutdown.is_shutting_down(broker_id)

    def record_metadata(self, n: int = 1) -> None:
        self.metadata_offset += n

    # -- liveness: heartbeats (KRaft) / ZooKeeper sessions ----------------------------------------------------
    def heartbeat_interval(self) -> int:
        bc = self.cluster.broker_config
        return (
            bc.broker_heartbeat_interval_ms
            if self.mode == "kraft"
            else max(1, bc.zookeeper_session_timeout_ms // 3)
        )

    def _session_timeout(self) -> int:
        bc = self.cluster.broker_config
        return bc.broker_session_timeout_ms if self.mode == "kraft" else bc.zookeeper_session_timeout_ms

    def send_heartbeat(self, broker_id: int, epoch: int) -> None:
        c = self.cluster
        b = c.brokers[broker_id]
        if b.epoch != epoch or not b.alive:
            return
        kind = "BrokerHeartbeat" if self.mode == "kraft" else "ZooKeeperPing"
        c.network.send(b.name, self.actor, kind, self.on_heartbeat, broker_id, epoch)
        c.scheduler.after(self.heartbeat_interval(), self.send_heartbeat, broker_id, epoch)

    def register(self, broker_id: int) -> None:
        """A (re)started broker's first BrokerRegistration / ZooKeeper registration, sent at once. It needs someone
        to answer: KRaft's ClusterControlManager.registerBroker runs only on the active controller ("is not
        active" otherwise) and BrokerLifecycleManager retries until one answers, so with no controller (or none
        reachable) the broker stays fenced and gets no metadata; its heartbeats register it once one can."""
        b = self.cluster.brokers[broker_id]
        if self.cluster.reachable(b.name, self.actor):
            self.on_heartbeat(broker_id, b.epoch)

    def on_heartbeat(self, broker_id: int, epoch: int) -> None:
        c = self.cluster
        if c.brokers[broker_id].epoch != epoch:
            return
        if self.incarnation.get(broker_id, epoch) != epoch and broker_id in self.live:
            self.on_broker_bounced(
                broker_id
            )  # a new incarnation registers while the old one is still unfenced
        self.incarnation[broker_id] = epoch
        self.touch_session(broker_id)
        if broker_id not in self.live:
            self._broker_registered(broker_id)

    def touch_session(self, broker_id: int) -> None:
        t = self.sessions.get(broker_id)
        if t is not None:
            t.cancel()
        self.sessions[broker_id] = self.cluster.scheduler.after(
            self._session_timeout(), self._session_expired, broker_id, timer=True
        )

    def _session_expired(self, broker_id: int) -> None:
        if broker_id not in self.live:
            return
        if self.mode == "kraft" and self.active is None:
            return  # only an active controller fences; the next one gives every broker a fresh session
        c = self.cluster
        self.live.discard(broker_id)
        if self.mode == "kraft":
            c.emit(
                "broker_fenced",
                f"The controller got no heartbeat from broker {broker_id} for "
                f"broker.session.timeout.ms={self._session_timeout()} ms: broker {broker_id} is fenced",
                actors=("controller", f"broker-{broker_id}"),
                broker=broker_id,
            )
        else:
            c.emit(
                "broker_fenced",
                f"ZooKeeper expired broker {broker_id}'s session after zookeeper.session."
                f"timeout.ms={self._session_timeout()} ms: /brokers/ids/{broker_id} is gone",
                actors=("zookeeper", f"broker-{broker_id}"),
                broker=broker_id,
            )
        self.record_metadata()
        if broker_id == self.active:
            self.controller_lost()
        self._on_broker_failure(broker_id)

    def controller_lost(self) -> None:
        """The active controller is gone: ZooKeeper deletes /controller; KRaft voters start an election."""
        c = self.cluster
        self.active = None
        if self.mode == "zookeeper":
            candidates = [b for b in sorted(self.live) if c.brokers[b].online]
            if candidates:
                # every broker watches /controller and races to create it; the race is decided by chance
                self._become_active(
                    candidates[c.rng.randrange(len(candidates))],
                    "won the race to create the ephemeral /controller node",
                )
            return
        alive_voters = [v for v in self.voters if c.brokers[v].online]
        if len(alive_voters) * 2 <= len(self.voters):
            if not self.quorum_lost:
                c.emit(
                    "note",
                    f"Only {len(alive_voters)} of {len(self.voters)} KRaft controllers are alive: without "
                    f"a majority no controller can be elected and no leader elections happen",
                    actors=("controller",),
                )
                self.quorum_lost = True
                c.scheduler.after(c.broker_config.controller_quorum_fetch_timeout_ms, self._retry_quorum)
            self.election_pending = True
            return
        self.quorum_lost = False
        winner = alive_voters[c.rng.randrange(len(alive_voters))]
        bc = c.broker_config
        # the voters notice after controller.quorum.fetch.timeout.ms; the randomized vote takes up to
        # controller.quorum.election.timeout.ms more (QuorumConfig, KafkaRaftClient)
        delay = bc.controller_quorum_fetch_timeout_ms + c.rng.randrange(
            bc.controller_quorum_election_timeout_ms
        )
        self.election_pending = True
        c.scheduler.after(delay, self._finish_kraft_election, winner)

    def _retry_quorum(self) -> None:
        """Voters without a majority keep timing out and retrying; once enough are back one of them wins.
        (Without this a cluster that once lost its quorum never elected a controller again.)"""
        if not self.quorum_lost or self.active is not None:
            self.quorum_lost = False
            return
        c = self.cluster
        if sum(c.brokers[v].online for v in self.voters) * 2 <= len(self.voters):
            c.scheduler.after(c.broker_config.controller_quorum_fetch_timeout_ms, self._retry_quorum)
            return
        self.controller_lost()

    def _finish_kraft_election(self, winner: int) -> None:
        c = self.cluster
        if not c.brokers[winner].online:
            self.controller_lost()
            return
        self._become_active(winner, f"won the KRaft vote among voters {self.voters}")

    def _become_active(self, broker_id: int, how: str) -> None:
        c = self.cluster
        self.active = broker_id
        self.epoch += 1
        self.election_pending = False
        self.record_metadata()
        c.emit(
            "controller_elected",
            f"Broker {broker_id} {how}: it is the new controller (epoch {self.epoch})",
            actors=("controller", f"broker-{broker_id}"),
            broker=broker_id,
            epoch=self.epoch,
        )
        if self.mode == "kraft":
            # ClusterControlManager.activate: a new BrokerHeartbeatManager starts every registered broker's
            # session now, so brokers whose heartbeats went nowhere during the election are not fenced for it
            for b in sorted(self.live):
                self.touch_session(b)
        # the new controller re-checks every partition (ZooKeeper: it reads the state back from ZooKeeper)
        for b in list(self.live):
            if not c.brokers[b].online and b not in self.sessions:
                self._on_broker_failure(b)
        for tp, ps in self.partitions.items():
            if ps.leader is None or ps.leader not in self.live:
                self.elect(tp, "the new controller found it without a live leader")

    def _broker_registered(self, broker_id: int) -> None:
        c = self.cluster
        self.live.add(broker_id)
        self.record_metadata()
        kind = "unfenced" if self.mode == "kraft" else "registered in ZooKeeper (/brokers/ids)"
        c.emit(
            "broker_unfenced",
            f"Broker {broker_id} is {kind} again and gets its partitions' state",
            actors=(self.actor, f"broker-{broker_id}"),
            broker=broker_id,
        )
        if self.active is None or self.election_pending:
            if self.mode == "zookeeper" or self.election_pending:
                self.controller_lost() if self.active is None and not self.election_pending else None
        for tp, ps in self.partitions.items():
            if broker_id in ps.replicas:
                if ps.leader is None:
                    self.elect(tp, f"broker {broker_id} came back")
                else:
                    self.publish(tp)

    def fence_stopped(self, broker_id: int) -> None:
        """SHUTDOWN_NOW after a controlled shutdown (ReplicationControlManager.handleBrokerFenced): the broker is
        fenced at once, not after broker.session.timeout.ms; partitions it still held alone go offline."""
        if broker_id not in self.live:
            return
        self.live.discard(broker_id)
        t = self.sessions.pop(broker_id, None)
        if t is not None:
            t.cancel()
        self.record_metadata()
        self.cluster.emit(
            "broker_fenced",
            f"The controller fenced broker {broker_id}, which shut down in a controlled way",
            actors=(self.actor, f"broker-{broker_id}"),
            broker=broker_id,
            controlled=True,
        )
        if broker_id == self.active:
            self.controller_lost()  # combined mode: its controller stops with it; the other voters elect one
        self._on_broker_failure(broker_id)

    def on_broker_bounced(self, broker_id: int) -> None:
        """A broker restarted before its session expired. Its new incarnation's registration tells the controller
        the old one is gone (KRaft fences the old incarnation; ZooKeeper mode's KafkaController handles "bounced
        brokers" as a failure then a startup), so leadership moves away and the broker rejoins as a follower.
        Without this the controller would keep a leader that, having restarted, no longer acts as one."""
        self.live.discard(broker_id)
        self.record_metadata()
        self.cluster.emit(
            "broker_fenced",
            f"Broker {broker_id} registered again before its session expired: the "
            f"controller treats its previous incarnation as failed and moves its leaderships",
            actors=(self.actor, f"broker-{broker_id}"),
            broker=broker_id,
            bounced=True,
        )
        self._on_broker_failure(broker_id)

    def _on_broker_failure(self, broker_id: int) -> None:
        if self.active is None:
            return  # nothing decides until a controller is elected; it re-checks everything then
        for tp, ps in self.partitions.items():
            if broker_id not in ps.replicas:
                continue
            if ps.leader == broker_id:
                self.elect(tp, f"its leader, broker {broker_id}, is gone")
            elif broker_id in ps.isr and len(ps.isr) > 1:
                ps.isr = [b for b in ps.isr if b != broker_id]
                ps.partition_epoch += 1
                self.record_metadata()
                self.cluster.emit(
                    "isr_shrink",
                    f"The controller removed failed broker {broker_id} from the ISR of "
                    f"{tp[0]}-{tp[1]}: ISR is now {ps.isr}",
                    actors=(self.actor,),
                    topic=tp[0],
                    partition=tp[1],
                    isr=list(ps.isr),
                    removed=[broker_id],
                )
                self.publish(tp)

    # -- topics ------------------------------------------------------------------------------------------------
    def create_partitions(self, topic: str, partitions: int, rf: int, first_partition: int = 0) -> None:
        for i, replicas in enumerate(self.place_replicas(topic, partitions, rf, first_partition)):
            tp = (topic, first_partition + i)
            ps = self.partitions[tp] = PartitionState(replicas)
            ps.isr = [b for b in replicas if b in self.live]
            live = [b for b in replicas if b in self.live]
            ps.leader = live[0] if live else None
            ps.leader_epoch = 0
            self.record_metadata(2)
            self.publish(tp)

    def place_replicas(
        self, topic: str, partitions: int, rf: int, first_partition: int = 0
    ) -> list[list[int]]:
        """New partitions' replicas, drawn from the cluster's seeded rng (see engine.placement).

        KRaft: StripedReplicaPlacer over every registered broker, fenced ones included (ClusterControlManager.
        usableBrokers), a fenced broker never first. ZooKeeper: AdminUtils over the brokers registered in
        /brokers/ids (ZkAdminManager.createTopics: metadataCache.getAliveBrokers); for added partitions the
        start index is partition 0's first replica (AdminZkClient.createNewPartitionsAssignment)."""
        c = self.cluster
        rnd = EngineRandom(c.rng)
        if self.mode == "kraft":
            usable = [UsableBroker(b, c.brokers[b].rack, b not in self.live) for b in sorted(c.brokers)]
            self._check_rf(rf, len(usable), "registered")
            return striped_place(usable, partitions, rf, rnd)
        brokers = [BrokerMetadata(b, c.brokers[b].rack) for b in sorted(self.live)]
        self._check_rf(rf, len(brokers), "live (registered in ZooKeeper)")
        fixed = -1
        if first_partition > 0 and (topic, 0) in self.partitions:
            head = self.partitions[(topic, 0)].replicas[0]
            fixed = next((i for i, b in enumerate(brokers) if b.id >= head), 0)
        placed = assign_replicas_to_brokers(brokers, partitions, rf, rnd, fixed, first_partition)
        return [placed[p] for p in sorted(placed)]

    @staticmethod
    def _check_rf(rf: int, brokers: int, which: str) -> None:
        if rf > brokers:
            raise InvalidReplicationFactorError(
                f"Replication factor {rf} is larger than the {brokers} available broker(s) ({which}): a partition "
                f"can have at most one replica per broker. Use replication_factor <= {brokers} or add brokers."
            )

    def delete_topic(self, topic: str) -> None:
        for tp in [tp for tp in self.partitions if tp[0] == topic]:
            ps = self.partitions.pop(tp)
            for b in ps.replicas:
                br = self.cluster.brokers[b]
                self.cluster.network.send(
                    self.actor,
                    br.name,
                    self._update_kind(),
                    br.on_leader_and_isr,
                    tp,
                    None,
                    ps.leader_epoch + 1,
                    ps.replicas,
                    [],
                    ps.partition_epoch + 1,
                    True,
                )

    # -- elections ---------------------------------------------------------------------------------------------
    def elect(self, tp: TP, reason: str) -> None:
        c = self.cluster
        ps = self.partitions[tp]
        old = ps.leader
        # KIP-455: replicas a running reassignment will remove still count (replicas lists them last), or a
        # partition whose only live ISR member is leaving would stay offline and the reassignment never finish
        # ClusterControlManager.isActive: a broker in controlled shutdown is neither a leader nor an ISR member
        stopping = self.shutdown.shutting_down
        candidates = [b for b in ps.replicas if b in self.live and c.brokers[b].alive and b not in stopping]
        clean = [b for b in candidates if b in ps.isr]
        tcfg = c.topic_config(tp[0])
        if clean:
            new, unclean = clean[0], False
            new_isr = [b for b in ps.isr if b in self.live and b not in stopping]
        elif candidates and tcfg.unclean_leader_election_enable:
            new, unclean = candidates[0], True
            new_isr = [new]
        else:
            if ps.leader is not None:
                ps.leader = None
                ps.leader_epoch += 1
                ps.partition_epoch += 1
                # KRaft and ZooKeeper keep the last ISR member in the ISR while the partition is offline
                ps.isr = [b for b in ps.isr if b == old] or ps.isr[:1]
                self.record_metadata()
                self.publish(tp)
            why = (
                "no replica of the ISR "
                + str(sorted(ps.isr))
                + " is alive and unclean.leader.election.enable="
                "false: the partition stays offline (producers get errors, consumers wait) rather than lose data"
            )
            c.emit(
                "partition_offline",
                f"{tp[0]}-{tp[1]} is offline: {why}",
                actors=(self.actor,),
                topic=tp[0],
                partition=tp[1],
                isr=list(ps.isr),
            )
            return
        ps.leader = new
        ps.leader_epoch += 1
        ps.partition_epoch += 1
        ps.isr = new_isr
        self.record_metadata()
        kind = "UNCLEAN election of" if unclean else "elected"
        detail = (
            "from outside the ISR (unclean.leader.election.enable=true): records it never copied are lost"
            if unclean
            else f"from ISR {sorted(new_isr)}"
        )
        c.emit(
            "leader_elected",
            f"The controller {kind} broker {new} leader of {tp[0]}-{tp[1]} {detail} "
            f"({reason}; leader epoch {ps.leader_epoch})",
            actors=(self.actor, f"broker-{new}"),
            topic=tp[0],
            partition=tp[1],
            leader=new,
            previous=old,
            epoch=ps.leader_epoch,
            unclean=unclean,
            reason=reason,
        )
        if unclean:
            c.losses.note_unclean(tp, new)
        self.publish(tp)

    def start_leader_rebalance(self) -> None:
        bc = self.cluster.broker_config
        if bc.auto_leader_rebalance_enable:
            self.cluster.scheduler.after(
                bc.leader_imbalance_check_interval_seconds * 1000, self._leader_rebalance_tick
            )

    def _leader_rebalance_tick(self) -> None:
        """auto.leader.rebalance.enable: every leader.imbalance.check.interval.seconds, a broker whose share of
        partitions it prefers but does not lead is above leader.imbalance.per.broker.percentage gets them back."""
        c = self.cluster
        bc = c.broker_config
        if self.active is not None:
            for b in sorted(self.live):
                preferred = [tp for tp, ps in self.partitions.items() if ps.replicas and ps.replicas[0] == b]
                if not preferred:
                    continue
                not_led = [tp for tp in preferred if self.partitions[tp].leader != b]
                if len(not_led) * 100 > bc.leader_imbalance_per_broker_percentage * len(preferred):
                    for tp in sorted(not_led):
                        self.preferred_election(tp)
        c.scheduler.after(bc.leader_imbalance_check_interval_seconds * 1000, self._leader_rebalance_tick)

    def preferred_election(self, tp: TP) -> bool:
        """kafka-leader-election.sh --election-type PREFERRED: move leadership to replicas[0] if it is in the ISR."""
        ps = self.partitions[tp]
        pref = ps.replicas[0]
        if ps.leader == pref or pref not in ps.isr or pref not in self.live:
            return False
        old = ps.leader
        ps.leader = pref
        ps.leader_epoch += 1
        ps.partition_epoch += 1
        self.record_metadata()
        self.cluster.emit(
            "leader_elected",
            f"Preferred leader election: broker {pref} (the first replica) leads "
            f"{tp[0]}-{tp[1]} again instead of broker {old} (leader epoch {ps.leader_epoch})",
            actors=(self.actor, f"broker-{pref}"),
            topic=tp[0],
            partition=tp[1],
            leader=pref,
            previous=old,
            epoch=ps.leader_epoch,
            unclean=False,
            reason="preferred leader election",
        )
        self.publish(tp)
        return True

    # -- AlterPartition (ISR changes proposed by leaders) ------------------------------------------------------
    def on_alter_partition(
        self, broker_id: int, tp: TP, leader_epoch: int, partition_epoch: int, new_isr: list[int], reason: str
    ) -> None:
        c = self.cluster
        ps = self.partitions.get(tp)
        broker = c.brokers[broker_id]
        ok = (
            ps is not None
            and ps.leader == broker_id
            and ps.leader_epoch == leader_epoch
            and ps.partition_epoch == partition_epoch
            and self.active is not None
        )
        # KIP-841 (ReplicationControlManager.ineligibleReplicasForIsr): a new ISR naming a fenced or offline
        # broker is refused as a whole with INELIGIBLE_REPLICA; the leader goes back to the committed ISR
        # (and "shutting down": a broker in controlled shutdown)
        ineligible = (
            [
                b
                for b in new_isr
                if b != broker_id and (b not in self.live or self.shutdown.is_shutting_down(b))
            ]
            if ok
            else []
        )
        if ineligible:
            ok = False
            c.emit(
                "note",
                f"The controller rejected an ISR change from broker {broker_id} for {tp[0]}-{tp[1]}: "
                f"INELIGIBLE_REPLICA, broker(s) {ineligible} are fenced, offline or shutting down and cannot be in the ISR",
                actors=(self.actor, f"broker-{broker_id}"),
                topic=tp[0],
                partition=tp[1],
            )
        if ok and ps is not None:  # ok implies ps is not None
            added = [b for b in new_isr if b not in ps.isr]
            removed = [b for b in ps.isr if b not in new_isr]
            ps.isr = list(new_isr)
            ps.partition_epoch += 1
            self.record_metadata()
            if removed:
                c.emit(
                    "isr_shrink",
                    f"Leader broker {broker_id} shrank the ISR of {tp[0]}-{tp[1]} to {ps.isr}: "
                    f"broker(s) {removed} {reason}",
                    actors=(f"broker-{broker_id}", self.actor),
                    topic=tp[0],
                    partition=tp[1],
                    isr=list(ps.isr),
                    removed=removed,
                )
            if added:
                c.emit(
                    "isr_expand",
                    f"Broker(s) {added} rejoined the ISR of {tp[0]}-{tp[1]}: {reason}; ISR is now {ps.isr}",
                    actors=(f"broker-{broker_id}", self.actor),
                    topic=tp[0],
                    partition=tp[1],
                    isr=list(ps.isr),
                    added=added,
                )
            self._maybe_finish_reassignment(tp)
        elif ps is not None and ps.leader_epoch > leader_epoch:
            c.emit(
                "note",
                f"The controller rejected an ISR change from broker {broker_id} for {tp[0]}-{tp[1]}: its "
                f"leader epoch {leader_epoch} is stale (current {ps.leader_epoch}), so it is a fenced zombie "
                f"leader",
                actors=(self.actor, f"broker-{broker_id}"),
                topic=tp[0],
                partition=tp[1],
            )
        if ps is not None:
            c.network.send(
                self.actor,
                broker.name,
                "AlterPartitionResponse",
                broker.on_alter_partition_response,
                tp,
                ok,
                list(ps.isr),
                ps.partition_epoch,
                leader_epoch,
                topic=tp[0],
                partition=tp[1],
            )
            if not ok:
                self._publish_to(tp, broker_id)

    # -- publishing metadata ----------------------------------------------------------------------------------
    def _update_kind(self) -> str:
        return "MetadataUpdate" if self.mode == "kraft" else "LeaderAndIsr"

    def publish(self, tp: TP) -> None:
        """Tell the replicas' brokers (the controller skips brokers it knows are down; they catch up on return)."""
        ps = self.partitions[tp]
        for b in sorted(set(ps.replicas) | set(ps.adding)):
            if b in self.live:
                self._publish_to(tp, b)

    def on_metadata_dropped(self, msg) -> None:
        """A partition update to a live broker was lost (an isolated controller or broker, an injected fault).
        Real brokers never miss one for good: KRaft brokers catch up on the metadata log and ZooKeeper mode's
        controller channel resends. So the current state (or the deletion) goes out again after a backoff."""
        deleting = len(msg.args) > 6 and msg.args[6] is True
        self.cluster.scheduler.after(
            METADATA_RETRY_MS, self._republish, msg.args[0], int(msg.dst[7:]), deleting
        )

    def _republish(self, tp: TP, broker_id: int, deleting: bool) -> None:
        c = self.cluster
        br = c.brokers[broker_id]
        if broker_id not in self.live or not br.alive:
            return  # once it registers again it gets every partition's state anyway
        ps = self.partitions.get(tp)
        if deleting or ps is None or (broker_id not in ps.replicas and broker_id not in ps.adding):
            if tp in br.replicas and (ps is None or broker_id not in ps.replicas):
                r = br.replicas[tp]
                epoch, pe = (
                    (ps.leader_epoch, ps.partition_epoch)
                    if ps is not None
                    else (r.leader_epoch + 1, r.partition_epoch + 1)
                )
                c.network.send(
                    self.actor,
                    br.name,
                    self._update_kind(),
                    br.on_leader_and_isr,
                    tp,
                    None,
                    epoch,
                    list(ps.replicas) if ps is not None else [],
                    [],
                    pe,
                    True,
                    topic=tp[0],
                    partition=tp[1],
                )
            return
        self._publish_to(tp, broker_id)

    def _publish_to(self, tp: TP, broker_id: int) -> None:
        c = self.cluster
        ps = self.partitions[tp]
        br = c.brokers[broker_id]
        replicas = ps.replicas
        c.network.send(
            self.actor,
            br.name,
            self._update_kind(),
            br.on_leader_and_isr,
            tp,
            ps.leader,
            ps.leader_epoch,
            list(replicas),
            list(ps.isr),
            ps.partition_epoch,
            False,
            self.incarnation.get(broker_id, br.epoch),
            topic=tp[0],
            partition=tp[1],
        )  # the registered incarnation (KIP-380): one that restarted and has not registered again drops it

    # -- reassignment (kafka-reassign-partitions.sh) -----------------------------------------------------------
    def reassign(self, tp: TP, target: list[int]) -> None:
        """KIP-455: add the new replicas, let them catch up and join the ISR, move leadership, drop the old."""
        c = self.cluster
        ps = self.partitions[tp]
        for b in target:
            if b not in c.brokers:
                raise InvalidReplicationFactorError(
                    f"broker {b} does not exist (brokers: {sorted(c.brokers)})"
                )
        # a replica an earlier, unfinished reassignment is still adding has not caught up: it stays "adding"
        # (else a second reassignment could finish at once and delete every copy of the data)
        adding = [b for b in target if b not in ps.replicas or b in ps.adding or b in ps.removing]
        removing = [b for b in ps.replicas if b not in target]
        ps.adding, ps.removing = adding, removing
        ps.replicas = list(dict.fromkeys(target + ps.replicas))
        ps.partition_epoch += 1
        self.record_metadata()
        c.emit(
            "reassignment_started",
            f"Reassigning {tp[0]}-{tp[1]} to brokers {target}: adding {adding}, "
            f"removing {removing} once the new replicas are in sync",
            actors=(self.actor,),
            topic=tp[0],
            partition=tp[1],
            target=list(target),
            adding=adding,
            removing=removing,
        )
        self.publish(tp)
        self._maybe_finish_reassignment(tp)

    def _maybe_finish_reassignment(self, tp: TP) -> None:
        ps = self.partitions[tp]
        if not ps.adding and not ps.removing:
            return
        target = [b for b in ps.replicas if b not in ps.removing]
        if not all(b in ps.isr for b in target):
            return  # Kafka completes a reassignment once every target replica is in the ISR
        c = self.cluster
        removing = ps.removing
        ps.replicas = target
        ps.isr = [b for b in ps.isr if b in target]
        ps.adding, ps.removing = [], []
        ps.partition_epoch += 1
        self.record_metadata()
        if ps.leader not in target:
            ps.leader = None
            self.elect(tp, "reassignment moved it away from its old leader")
        else:
            self.publish(tp)
        for b in removing:
            br = c.brokers[b]
            c.network.send(
                self.actor,
                br.name,
                self._update_kind(),
                br.on_leader_and_isr,
                tp,
                None,
                ps.leader_epoch,
                list(target),
                [],
                ps.partition_epoch,
                True,
                topic=tp[0],
                partition=tp[1],
            )
        c.emit(
            "reassignment_completed",
            f"Reassignment of {tp[0]}-{tp[1]} done: replicas {target}, leader "
            f"{ps.leader}; brokers {removing} deleted their copies",
            actors=(self.actor,),
            topic=tp[0],
            partition=tp[1],
            replicas=list(target),
        )
