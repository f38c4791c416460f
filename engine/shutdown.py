"""Controlled shutdown: a broker asked to stop first has the controller move its leaderships away.

KRaft (BrokerServer.shutdown with `controlled.shutdown.enable=true`, the default): the broker's
BrokerLifecycleManager sends BrokerHeartbeat with wantShutDown=true. BrokerHeartbeatManager.calculateNextBrokerState
puts an unfenced broker that still leads partitions in CONTROLLED_SHUTDOWN, and
ReplicationControlManager.handleBrokerInControlledShutdown removes it from every ISR and elects a new leader from
the rest of the ISR for each partition it led (a broker in controlled shutdown is not an acceptable leader nor,
KIP-841, an ISR member). The reply says shouldShutDown=false; the broker heartbeats again 50 ms later, and once it
leads nothing the controller answers SHUTDOWN_NOW (handleBrokerFenced) and the broker stops. Clients see leaders
move (NOT_LEADER_OR_FOLLOWER, then a retry on the new leader), never an offline partition that has another ISR
member. A partition whose only ISR member is the stopping broker goes offline, as it would on a crash.

ZooKeeper mode does the same through ControlledShutdownRequest (KafkaController.doControlledShutdown).

Simplified: Kafka also waits until every active broker has replayed the metadata up to the shutdown records
(`controlledShutdownOffset <= lowestActiveOffset`); here the 50 ms before the next heartbeat stands for that. With
no active controller the broker gives up after SHUTDOWN_ATTEMPTS heartbeats and stops anyway (Kafka waits until
the shutdown's deadline).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .contracts import World

TP = tuple[str, int]
RETRY_SOON_MS = 50  # BrokerLifecycleManager: the heartbeat after the first "not yet" comes 50 ms later
SHUTDOWN_ATTEMPTS = 5


class ControlledShutdown:
    """The controller's side (which brokers are shutting down) and the broker's heartbeat loop while it waits."""

    def __init__(self, cluster: World) -> None:
        self.cluster = cluster
        self.shutting_down: set[int] = set()  # brokers in CONTROLLED_SHUTDOWN (not acceptable leaders or ISR)

    # -- the broker side ----------------------------------------------------------------------------------------
    def begin(self, broker_id: int) -> None:
        """BrokerLifecycleManager.beginControlledShutdown: ask at once (the first heartbeat with wantShutDown)."""
        c = self.cluster
        b = c.brokers[broker_id]
        how = (
            "BrokerHeartbeat with wantShutDown=true"
            if c.controller.mode == "kraft"
            else "ControlledShutdownRequest"
        )
        c.emit(
            "controlled_shutdown_requested",
            f"Broker {broker_id} is asked to stop: it sends the controller a "
            f"{how} and waits until its leaderships have moved (controlled.shutdown.enable=true)",
            actors=(b.name, c.controller.actor),
            broker=broker_id,
        )
        self._ask(broker_id, b.epoch, 1)

    def _ask(self, broker_id: int, epoch: int, attempt: int) -> None:
        c = self.cluster
        b = c.brokers[broker_id]
        if b.epoch != epoch or not b.alive:
            return
        kind = "BrokerHeartbeat" if c.controller.mode == "kraft" else "ControlledShutdown"
        c.network.send(b.name, c.controller.actor, kind, self.on_request, broker_id, epoch, attempt)

    def _on_reply(self, broker_id: int, epoch: int, attempt: int, should_shut_down: bool) -> None:
        c = self.cluster
        b = c.brokers[broker_id]
        if b.epoch != epoch or not b.alive:
            return
        if should_shut_down or attempt >= SHUTDOWN_ATTEMPTS:
            c.finish_broker_shutdown(broker_id, approved=should_shut_down)
            return
        delay = RETRY_SOON_MS if attempt == 1 else c.controller.heartbeat_interval()
        c.scheduler.after(delay, self._ask, broker_id, epoch, attempt + 1)

    # -- the controller side ------------------------------------------------------------------------------------
    def on_request(self, broker_id: int, epoch: int, attempt: int) -> None:
        """BrokerHeartbeatManager.calculateNextBrokerState for a heartbeat that wants to shut down."""
        c = self.cluster
        ctl = c.controller
        if c.brokers[broker_id].epoch != epoch:
            return
        should = False
        if ctl.active is not None and broker_id in ctl.live:
            ctl.touch_session(broker_id)
            if broker_id not in self.shutting_down and self.leaderships(broker_id):
                self.shutting_down.add(
                    broker_id
                )  # UNFENCED -> CONTROLLED_SHUTDOWN: not yet (shouldShutDown=false)
                self._move_off(broker_id)  # handleBrokerInControlledShutdown
            else:
                should = not self.leaderships(broker_id)  # SHUTDOWN_NOW once it leads nothing
        elif ctl.active is not None:
            should = True  # a fenced broker is granted an immediate shutdown
        kind = "BrokerHeartbeatResponse" if ctl.mode == "kraft" else "ControlledShutdownResponse"
        c.network.send(
            ctl.actor, c.brokers[broker_id].name, kind, self._on_reply, broker_id, epoch, attempt, should
        )

    def leaderships(self, broker_id: int) -> list[TP]:
        """BrokersToIsrs.hasLeaderships: partitions this broker leads."""
        return [tp for tp, ps in self.cluster.controller.partitions.items() if ps.leader == broker_id]

    def _move_off(self, broker_id: int) -> None:
        """generateLeaderAndIsrUpdates(brokerToRemove=broker_id) over the partitions whose ISR holds it: a new
        leader from the rest of the ISR where it led, a smaller ISR where it followed; the last ISR member stays
        (the partition goes offline), as PartitionChangeBuilder does without ELR."""
        c = self.cluster
        ctl = c.controller
        c.emit(
            "controlled_shutdown",
            f"The controller puts broker {broker_id} in controlled shutdown: it moves the "
            f"leadership of {len(self.leaderships(broker_id))} partition(s) to other ISR members and takes broker "
            f"{broker_id} out of every ISR",
            actors=(ctl.actor, f"broker-{broker_id}"),
            broker=broker_id,
        )
        for tp in sorted(tp for tp, ps in ctl.partitions.items() if broker_id in ps.isr):
            ps = ctl.partitions[tp]
            rest = [b for b in ps.isr if b != broker_id]
            if ps.leader == broker_id:
                ctl.elect(tp, f"broker {broker_id} is shutting down (controlled shutdown)")
            elif rest:
                ps.isr = rest
                ps.partition_epoch += 1
                ctl.record_metadata()
                c.emit(
                    "isr_shrink",
                    f"The controller removed broker {broker_id}, which is shutting down, from the "
                    f"ISR of {tp[0]}-{tp[1]}: ISR is now {ps.isr}",
                    actors=(ctl.actor,),
                    topic=tp[0],
                    partition=tp[1],
                    isr=list(ps.isr),
                    removed=[broker_id],
                )
                ctl.publish(tp)

    def is_shutting_down(self, broker_id: int) -> bool:
        return broker_id in self.shutting_down

    def stopped(self, broker_id: int) -> None:
        self.shutting_down.discard(broker_id)


__all__ = ["ControlledShutdown"]
