"""Build a `ClusterSnapshot` (plain immutable data) from the live engine objects."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .partitioner import coordinator_partition
from .snapshot import (
    BatchView,
    BrokerView,
    ClusterSnapshot,
    ConsumerView,
    ControllerView,
    GroupView,
    InFlightView,
    MemberView,
    PartitionView,
    ProducerView,
    RecordView,
    ReplicaView,
    ShareGroupView,
    SharePartitionView,
    ShareRecordView,
    TopicView,
    TransactionView,
)
from .transactions import TXN_PARTITIONS, TXN_TOPIC, last_stable_offset

if TYPE_CHECKING:
    from .cluster import Cluster


def build_snapshot(c: Cluster, tail: int, include_internal: bool) -> ClusterSnapshot:
    ctl = c.controller
    now = c.now
    lost_all = c.losses.lost_records()
    lost_by_tp: dict[tuple[str, int], list] = {}
    for lr in lost_all:
        lost_by_tp.setdefault((lr.topic, lr.partition), []).append(lr)

    leaders_count: dict[int, int] = {}
    replicas_count: dict[int, int] = {}
    partitions = []
    for tp in sorted(ctl.partitions):
        topic = c.topics.get(tp[0])
        if topic is None or (topic.internal and not include_internal):
            ps = ctl.partitions[tp]
            for b in ps.replicas:
                replicas_count[b] = replicas_count.get(b, 0) + 1
            if ps.leader is not None:
                leaders_count[ps.leader] = leaders_count.get(ps.leader, 0) + 1
            continue
        partitions.append(_partition_view(c, tp, tail, lost_by_tp.get(tp, ()), leaders_count, replicas_count))

    brokers = tuple(
        BrokerView(
            id=b.id,
            alive=b.alive,
            isolated=b.isolated,
            controller=(ctl.active == b.id),
            fenced=b.alive and b.id not in ctl.live,
            extra_latency_ms=c.network.extra_ms.get(b.name, 0),
            leaders=leaders_count.get(b.id, 0),
            replicas=replicas_count.get(b.id, 0),
            rack=b.rack,
        )
        for b in c.brokers.values()
    )
    topics = tuple(
        TopicView(t.name, t.partitions, t.replication_factor, t.config.explicit(), t.internal)
        for t in c.topics.values()
        if include_internal or not t.internal
    )
    producers = tuple(_producer_view(p, now) for p in c.producers.values())
    consumers = tuple(
        ConsumerView(
            id=k.id,
            group_id=k.group_id,
            member_id=k.member_id or None,
            assignment=tuple(sorted(k.assignment)),
            positions=dict(k.positions),
            state=k.state,
            records_received=k.received,
            alive=k.alive,
            external=getattr(k, "external", False),
        )
        for k in c.consumers.values()
    )
    groups = build_group_views(c)
    in_flight = tuple(
        InFlightView(m.id, m.kind, m.src, m.dst, m.sent_ms, m.arrive_ms, m.topic, m.partition)
        for m in c.network.in_flight.values()
        if include_internal or (m.topic is None or not m.topic.startswith("__"))
    )
    controller = ControllerView(
        mode=ctl.mode,
        active=ctl.active,
        epoch=ctl.epoch,
        nodes=tuple(ctl.voters) if ctl.mode == "kraft" else (),
        metadata_offset=ctl.metadata_offset,
        registered_brokers=tuple(sorted(ctl.live)),
    )
    return ClusterSnapshot(
        time_ms=now,
        brokers=brokers,
        topics=topics,
        partitions=tuple(partitions),
        producers=producers,
        consumers=consumers,
        groups=groups,
        in_flight=in_flight,
        controller=controller,
        last_event_seq=c.events.seq,
        lost=tuple(lost_all),
        share_groups=tuple(_share_group_views(c)),
        transactions=tuple(_transaction_views(c)),
    )


def _transaction_views(c: Cluster):
    co = c.txn_coordinator
    for txn_id, tm in sorted(co.txns.items()):
        ps = c.controller.partitions.get((TXN_TOPIC, coordinator_partition(txn_id, TXN_PARTITIONS)))
        yield TransactionView(
            txn_id,
            tm.pid,
            tm.epoch,
            tm.state,
            tuple(sorted(tm.partitions)),
            ps.leader if ps is not None else None,
        )


def _share_group_views(c: Cluster):
    for gid, g in sorted(c.shares.groups.items()):
        parts = tuple(
            SharePartitionView(
                gid,
                tp[0],
                tp[1],
                sp.start_offset,
                sp.end_offset,
                tuple(
                    ShareRecordView(o, r.state, r.delivery_count, r.owner)
                    for o, r in sorted(sp.records.items())
                ),
                tuple(sp.archived),
            )
            for (g2, tp), sp in sorted(c.shares.partitions.items())
            if g2 == gid
        )
        yield ShareGroupView(
            gid, g.epoch, tuple(sorted(g.members)), {m: tuple(v) for m, v in g.assignment.items()}, parts
        )


def _partition_view(c: Cluster, tp, tail: int, lost, leaders_count, replicas_count) -> PartitionView:
    ps = c.controller.partitions[tp]
    for b in ps.replicas:
        replicas_count[b] = replicas_count.get(b, 0) + 1
    if ps.leader is not None:
        leaders_count[ps.leader] = leaders_count.get(ps.leader, 0) + 1
    states = []
    leader_rep = None
    best = None
    for bid in ps.replicas:
        broker = c.brokers[bid]
        r = broker.replicas.get(tp)
        if r is None:
            states.append(ReplicaView(bid, 0, 0, 0, False, bid in ps.isr, broker.online))
            continue
        if r.is_leader and broker.alive and bid == ps.leader:
            leader_rep = r
        if best is None or r.leo > best.leo:
            best = r
        states.append(
            ReplicaView(
                broker=bid,
                log_end_offset=r.leo,
                log_start_offset=r.log.log_start_offset,
                high_watermark=r.hw,
                is_leader=(bid == ps.leader and r.is_leader),
                in_isr=bid in ps.isr,
                online=broker.online,
                segments=len(r.log.segments),
            )
        )
    shown = leader_rep or best
    records: tuple[RecordView, ...] = ()
    if shown is not None and tail > 0:
        records = tuple(
            RecordView(
                tp[0],
                tp[1],
                off,
                b.keys[i],
                b.values[i],
                b.timestamps[i],
                b.leader_epoch,
                b.control,
                _txn_state(shown, b, off) if b.is_transactional else None,
            )
            for off, b, i in shown.log.tail(tail)
        )
    hw = leader_rep.hw if leader_rep is not None else (shown.hw if shown is not None else 0)
    return PartitionView(
        topic=tp[0],
        partition=tp[1],
        leader=ps.leader,
        leader_epoch=ps.leader_epoch,
        replicas=tuple(ps.replicas),
        isr=tuple(ps.isr),
        high_watermark=hw,
        log_start_offset=shown.log.log_start_offset if shown is not None else 0,
        log_end_offset=shown.leo if shown is not None else 0,
        replica_states=tuple(states),
        tail=records,
        lost=tuple(lost),
        offline=ps.leader is None,
        adding_replicas=tuple(ps.adding),
        removing_replicas=tuple(ps.removing),
        last_stable_offset=last_stable_offset(shown) if shown is not None else None,
    )


def _txn_state(r, b, offset: int) -> str | None:
    """A transactional record's fate from the replica's transaction index: open, committed or aborted."""
    if b.control is not None:
        return None
    first = r.ongoing_txns.get(b.producer_id)
    if first is not None and offset >= first:
        return "open"
    if any(pid == b.producer_id and start <= offset < marker for pid, start, marker in r.aborted_txns):
        return "aborted"
    return "committed"


def _producer_view(p, now: int) -> ProducerView:
    cfg = p.config
    batches = []
    for dq in p.batches.values():
        for b in dq:
            state = b.state
            batches.append(
                BatchView(
                    topic=b.tp[0],
                    partition=b.tp[1],
                    record_count=b.count,
                    size_bytes=b.size,
                    batch_size=cfg.batch_size,
                    age_ms=now - b.created_ms,
                    linger_ms=cfg.linger_ms,
                    state=state,
                    compressed_bytes=b.sealed.wire_bytes
                    if b.sealed is not None and cfg.compression_type != "none"
                    else None,
                    attempts=b.attempts,
                )
            )
    shown = {
        "acks": cfg.acks,
        "linger.ms": cfg.linger_ms,
        "batch.size": cfg.batch_size,
        "compression.type": cfg.compression_type,
        "enable.idempotence": cfg.enable_idempotence,
        "max.in.flight.requests.per.connection": cfg.max_in_flight,
    }
    txn = getattr(p, "txn", None)  # external (wire-protocol) producers have no transaction manager
    return ProducerView(
        id=p.id,
        config=shown,
        batches=tuple(batches),
        sent=p.sent,
        acked=p.acked,
        failed=p.failed,
        buffer_used=p.buffer_used,
        producer_id=p.pid if p.pid >= 0 else None,
        alive=p.alive,
        transactional_id=txn.txn_id if txn else None,
        txn_state=txn.state if txn else None,
        producer_epoch=p.producer_epoch if txn and p.pid >= 0 else None,
        external=getattr(p, "external", False),
    )


def build_group_views(c: Cluster) -> tuple[GroupView, ...]:
    """The consumer groups exactly as a snapshot lists them, without building the rest of the snapshot."""
    return tuple(_group_views(c))


def _group_views(c: Cluster):
    seen = set()
    for b in sorted(c.brokers.values(), key=lambda b: b.id):
        for gid, g848 in b.coordinator.kip848.groups.items():
            if c.coordinator_for(gid) == b.id and b.alive and gid not in seen:
                seen.add(gid)
                yield _group848_view(c, g848, b.coordinator.group(gid).offsets, b.id)
        for gid, g in b.coordinator.groups.items():
            co = c.coordinator_for(gid)
            if co != b.id or gid in seen or not b.alive:
                continue
            seen.add(gid)
            yield _group_view(c, g, co)
    # groups whose coordinator is down still show, from the consumers' side
    for k in c.consumers.values():
        kgid = k.group_id
        if kgid and kgid not in seen and k.subscription is not None:
            seen.add(kgid)
            yield GroupView(
                group_id=kgid,
                state="Unknown" if c.coordinator_for(kgid) is None else "Empty",
                generation=max(0, k.generation),
                protocol=k.protocol,
                leader=None,
                coordinator=c.coordinator_for(kgid),
                members=(),
                committed={},
                lag={},
            )


def _group848_view(c: Cluster, g, offsets, coordinator: int) -> GroupView:
    """A KIP-848 group: the group epoch stands where a classic group shows its generation."""
    members = tuple(
        MemberView(
            member_id=mid,
            client_id=m.consumer.id,
            assignment=tuple(sorted(m.assigned)),
            alive=m.consumer.alive,
            is_leader=False,
            member_epoch=m.epoch,
            rack=_client_rack(m.consumer),
        )
        for mid, m in g.members.items()
    )
    return GroupView(
        group_id=g.group_id,
        state=g.state,
        generation=g.epoch,
        protocol=g.assignor,
        leader=None,
        coordinator=coordinator,
        members=members,
        committed=dict(offsets),
        lag=_lag(c, {t for m in g.members.values() for t in m.topics}, offsets),
        rebalance="consumer (KIP-848)",
    )


def _client_rack(consumer) -> str | None:
    """A KIP-848 member's rack: the RackId its ConsumerGroupHeartbeat carries (the consumer's client.rack)."""
    cfg = getattr(consumer, "config", None)
    return getattr(cfg, "client_rack", None) or None


def _lag(c: Cluster, topics, offsets) -> dict:
    lag = {}
    for t in sorted(topics | {tp[0] for tp in offsets}):
        topic = c.topics.get(t)
        if topic is None:
            continue
        for p in range(topic.partitions):
            r = c.leader_replica((t, p))
            if r is None:
                continue
            committed = offsets.get((t, p))
            lag[(t, p)] = max(0, r.hw - (committed if committed is not None else r.log.log_start_offset))
    return lag


def _group_view(c: Cluster, g, coordinator: int) -> GroupView:
    members = []
    for mid, m in g.members.items():
        consumer = c.consumers.get(m.client_id)
        if consumer is not None and m.consumer is not consumer and hasattr(m.consumer, "alive"):
            consumer = m.consumer  # a restarted consumer's old process, not yet replaced in the group
        members.append(
            MemberView(
                member_id=mid,
                client_id=m.client_id,
                assignment=tuple(sorted(m.assignment)),
                alive=bool(consumer and consumer.alive),
                is_leader=(mid == g.leader),
                group_instance_id=m.group_instance_id,
                rack=m.rack_id,
            )
        )
    lag = _lag(c, {t for m in g.members.values() for t in m.topics}, g.offsets)
    protocol = g.protocol
    return GroupView(
        group_id=g.group_id,
        state=g.state,
        generation=g.generation,
        protocol=protocol,
        leader=g.leader,
        coordinator=coordinator,
        members=tuple(members),
        committed=dict(g.offsets),
        lag=lag,
        rebalance="cooperative" if protocol == "cooperative-sticky" else "eager",
    )
