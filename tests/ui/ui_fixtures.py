"""Hand-made snapshots with exact states, for figure tests (no engine run needed)."""

from __future__ import annotations

from engine.snapshot import (
    BatchView,
    BrokerView,
    ClusterSnapshot,
    ConsumerView,
    ControllerView,
    GroupView,
    InFlightView,
    LostRecordView,
    MemberView,
    PartitionView,
    ProducerView,
    RecordView,
    ReplicaView,
    TopicView,
)


def make_snapshot(mode: str = "kraft") -> ClusterSnapshot:
    """Three brokers, broker 3 crashed. orders-0: leader 1, follower 2 in ISR, replica on 3 down.
    orders-1: leader 2, follower 1 OUT of the ISR, replica on 3 down. orders-2: offline (only on 3).
    Group g1 (Stable) has c1 (owns orders-0, orders-1) and c2 (crashed)."""
    brokers = (
        BrokerView(1, True, False, True),
        BrokerView(2, True, False, False),
        BrokerView(3, False, False, False),
    )
    recs = tuple(RecordView("orders", 0, o, f"k{o % 3}".encode(), b"v", o * 10) for o in range(6))
    p0 = PartitionView(
        "orders",
        0,
        1,
        2,
        (1, 2, 3),
        (1, 2),
        high_watermark=4,
        log_start_offset=0,
        log_end_offset=6,
        replica_states=(
            ReplicaView(1, 6, 0, 4, True, True, True),
            ReplicaView(2, 4, 0, 4, False, True, True),
            ReplicaView(3, 3, 0, 3, False, False, False),
        ),
        tail=recs,
        lost=(
            LostRecordView("orders", 0, 5, b"k2", b"v", "acks=1 leader crashed before followers fetched", 50),
        ),
    )
    p1 = PartitionView(
        "orders",
        1,
        2,
        1,
        (2, 1, 3),
        (2,),
        high_watermark=2,
        log_start_offset=0,
        log_end_offset=2,
        replica_states=(
            ReplicaView(2, 2, 0, 2, True, True, True),
            ReplicaView(1, 0, 0, 0, False, False, True),
            ReplicaView(3, 0, 0, 0, False, False, False),
        ),
        tail=(RecordView("orders", 1, 0, None, b"a", 1), RecordView("orders", 1, 1, None, b"b", 2)),
    )
    p2 = PartitionView(
        "orders",
        2,
        None,
        3,
        (3,),
        (3,),
        high_watermark=0,
        log_start_offset=0,
        log_end_offset=0,
        replica_states=(ReplicaView(3, 0, 0, 0, False, True, False),),
        tail=(),
        offline=True,
    )
    producer = ProducerView(
        "p1",
        {"acks": "all", "linger.ms": 5, "batch.size": 16384},
        batches=(
            BatchView("orders", 0, 3, 300, 16384, 2, 5, "open"),
            BatchView("orders", 1, 2, 200, 16384, 9, 5, "in_flight"),
        ),
        sent=10,
        acked=5,
        failed=0,
        buffer_used=500,
    )
    consumers = (
        ConsumerView(
            "c1",
            "g1",
            "c1-a",
            (("orders", 0), ("orders", 1)),
            {("orders", 0): 3, ("orders", 1): 2},
            "stable",
            5,
        ),
        ConsumerView("c2", "g1", "c2-b", (), {}, "crashed", 0, alive=False),
    )
    group = GroupView(
        "g1",
        "Stable",
        3,
        "range",
        "c1-a",
        1,
        (MemberView("c1-a", "c1", (("orders", 0), ("orders", 1)), True, True),),
        committed={("orders", 0): 2, ("orders", 1): 2},
        lag={("orders", 0): 2, ("orders", 1): 0},
    )
    flights = (
        InFlightView(1, "Produce", "p1", "broker-1", 100, 110, "orders", 0),
        InFlightView(2, "ReplicaFetch", "broker-2", "broker-1", 96, 106),
        InFlightView(3, "Heartbeat", "c1", "broker-1", 104, 106),
    )
    ctl = ControllerView(mode, 1, 4, nodes=(1, 2, 3) if mode == "kraft" else (), registered_brokers=(1, 2))
    return ClusterSnapshot(
        time_ms=105,
        brokers=brokers,
        topics=(TopicView("orders", 3, 3, {}),),
        partitions=(p0, p1, p2),
        producers=(producer,),
        consumers=consumers,
        groups=(group,),
        in_flight=flights,
        controller=ctl,
        last_event_seq=40,
        lost=p0.lost,
    )


def chart_specs(at) -> list[dict]:
    """Every figure an AppTest page drew, in page order: `st.plotly_chart`'s and ui/live_chart.py's (a
    `bidi_component` element carrying the figure)."""
    import json

    from ui.live_chart import figure_spec

    out = []
    for node in at:
        if node.type == "plotly_chart":
            out.append(json.loads(node.proto.spec))
        elif node.type == "bidi_component" and (spec := figure_spec(node)) is not None:
            out.append(spec)
    return out
