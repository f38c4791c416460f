"""Admin commands of issue 16's lessons: kafka-consumer-groups.sh --reset-offsets, kafka-topics.sh --alter
--partitions, and auto.offset.reset=none reaching a polling application."""

from __future__ import annotations

import pytest

from engine import Cluster
from engine.commands import apply_command, parse_command
from engine.errors import ConfigError, InvalidPartitionsError
from engine.partitioner import partition_for_key

FAST = {"auto.offset.reset": "earliest", "session.timeout.ms": 10000}


def _cluster(partitions: int = 2) -> Cluster:
    c = Cluster(brokers=3, seed=4)
    c.create_topic("orders", partitions=partitions, replication_factor=3)
    p = c.producer("p1", {"linger.ms": 0})
    for i in range(10):
        p.send("orders", key=f"k{i}", value=f"v{i}")
    p.flush()
    return c


def _notes(c: Cluster) -> list[str]:
    return [e.summary for e in c.events.events if e.kind == "note" and e.data.get("refused")]


def test_reset_offsets_to_earliest_replays_an_inactive_group():
    """Issue 16 offsets: --reset-offsets --to-earliest --execute rewrites an Empty group's offsets to 0."""
    c = _cluster()
    k = c.consumer("c1", group_id="g", topics=["orders"], config=FAST)
    k.start(100)
    c.run_for(8000)
    assert sum(k.committed(("orders", p)) for p in range(2)) == 10
    apply_command(c, parse_command({"op": "close_consumer", "consumer": "c1"}))
    c.run_for(500)
    apply_command(
        c, parse_command({"op": "reset_offsets", "group": "g", "topic": "orders", "to": "earliest"})
    )
    g = c.group_state("g")
    assert g.offsets == {("orders", 0): 0, ("orders", 1): 0}
    again = c.consumer("c2", group_id="g", topics=["orders"], config=FAST)
    again.start(100)
    c.run_for(8000)
    assert again.received == 10  # every record read a second time


def test_reset_offsets_is_refused_while_the_group_has_members():
    c = _cluster()
    c.consumer("c1", group_id="g", topics=["orders"], config=FAST).start(100)
    c.run_for(8000)
    before = dict(c.group_state("g").offsets)
    msg = apply_command(c, parse_command({"op": "reset_offsets", "group": "g", "topic": "orders"}))
    assert (
        "Assignments can only be reset if the group 'g' is inactive, but the current state is Stable." in msg
    )
    assert c.group_state("g").offsets == before
    assert _notes(c) and "GroupNotEmptyException" in _notes(c)[0]


def test_reset_offsets_to_offset_is_clamped_and_validated():
    c = _cluster(partitions=1)
    apply_command(
        c,
        parse_command(
            {"op": "reset_offsets", "group": "new", "topic": "orders", "to": "offset", "offset": 500}
        ),
    )
    assert c.group_state("new").offsets == {("orders", 0): 10}  # clamped to the log end offset
    with pytest.raises(ConfigError, match="exactly when to is 'offset'"):
        apply_command(
            c, parse_command({"op": "reset_offsets", "group": "new", "topic": "orders", "offset": 3})
        )
    with pytest.raises(ConfigError, match="no topic"):
        apply_command(c, parse_command({"op": "reset_offsets", "group": "new", "topic": "nope"}))


def test_partitions_can_grow_but_never_shrink():
    """ReplicationControlManager.createPartitions: a decrease is InvalidPartitionsException."""
    c = _cluster(partitions=3)
    with pytest.raises(InvalidPartitionsError, match="The topic orders currently has 3 partition"):
        c.create_partitions("orders", 2)
    with pytest.raises(InvalidPartitionsError, match="already has 3"):
        c.create_partitions("orders", 3)
    msg = apply_command(c, parse_command({"op": "alter_partitions", "topic": "orders", "partitions": 2}))
    assert "2 would not be an increase" in msg and "InvalidPartitionsException" in msg
    assert c.topics["orders"].partitions == 3
    apply_command(c, parse_command({"op": "alter_partitions", "topic": "orders", "partitions": 5}))
    c.run_for(1000)
    assert c.topics["orders"].partitions == 5
    assert all(c.leader_replica(("orders", p)) is not None for p in range(5))


def test_after_adding_partitions_keys_move_and_the_group_rebalances():
    c = _cluster(partitions=2)
    k = c.consumer("c1", group_id="g", topics=["orders"], config=FAST)
    k.start(100)
    c.run_for(8000)
    assert sorted(k.assignment) == [("orders", 0), ("orders", 1)]
    c.create_partitions("orders", 3)
    c.run_for(3000)
    assert sorted(k.assignment) == [("orders", 0), ("orders", 1), ("orders", 2)]
    p = c.producers["p1"]
    moved = next(
        f"k{i}"
        for i in range(10)
        if partition_for_key(f"k{i}".encode(), 2) != partition_for_key(f"k{i}".encode(), 3)
    )
    fut = p.send("orders", key=moved, value="after")
    p.flush()
    assert fut.partition == partition_for_key(moved.encode(), 3)


def test_auto_offset_reset_none_stops_a_polling_application():
    """NoOffsetForPartitionException reaches the application's poll(); the simulated app closes its consumer."""
    c = _cluster()
    k = c.consumer(
        "c1",
        group_id="fresh",
        topics=["orders"],
        config={"auto.offset.reset": "none", "session.timeout.ms": 10000},
    )
    k.start(100)
    c.run_for(8000)  # raised out of the simulation before
    assert k.state == "closed"
    assert any(e.kind == "note" and "NoOffsetForPartitionException" in e.summary for e in c.events.events)


def test_auto_offset_reset_none_is_thrown_by_poll():
    """KafkaConsumer.poll() throws NoOffsetForPartitionException for a subscribed group with no offsets."""
    from engine.errors import NoOffsetForPartitionError

    c = _cluster()
    k = c.consumer("c1", group_id="fresh", topics=["orders"], config={"auto.offset.reset": "none"})
    with pytest.raises(NoOffsetForPartitionError, match="no committed offset"):
        for _ in range(10):
            k.poll(2000)
