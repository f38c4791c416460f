"""Engine bugs found by the reliability state machine (tests/reliability/test_guarantees.py), one test each.

Each test says which shrunk example found the bug; the example is given as the machine printed it, where
`settle` restarts, heals and un-slows every broker and runs 40 s.
"""

from __future__ import annotations

import pytest

from engine import Cluster

SAFE = {"min.insync.replicas": 2}


def _leader_works(c: Cluster, topic: str, partition: int = 0) -> bool:
    r = c.leader_replica((topic, partition))
    return r is not None and r.is_leader


@pytest.mark.parametrize("mode", ["kraft", "zookeeper"])
def test_leader_restarted_before_its_session_expired_leads_or_hands_over(mode):
    # found by: produce(p_one, t1) / advance_time(6) / crash_leader(t1, 2) / settle -> the partition had no working
    # leader for ever: the controller still named the restarted broker, which no longer acted as leader
    c = Cluster(brokers=3, seed=3, controller=mode)
    c.create_topic("t", partitions=1, replication_factor=3, config=SAFE)
    c.run_for(100)
    leader = c.leaders_of("t")[0]
    c.crash_broker(leader)
    c.run_for(1000)  # well inside broker.session.timeout.ms / zookeeper.session.timeout.ms
    c.restart_broker(leader)
    c.run_for(30_000)
    assert _leader_works(c, "t")
    p = c.producer("p", {"delivery.timeout.ms": 10_000, "request.timeout.ms": 2000})
    f = p.send("t", value="x")
    p.flush()
    assert f.error is None


@pytest.mark.parametrize("mode", ["kraft", "zookeeper"])
def test_follower_restarted_before_its_session_expired_replicates_again(mode):
    # same bug, follower side: the restarted follower was never told to fetch again and stayed empty
    c = Cluster(brokers=3, seed=3, controller=mode)
    c.create_topic("t", partitions=1, replication_factor=3, config=SAFE)
    c.run_for(100)
    leader = c.leaders_of("t")[0]
    follower = next(b for b in (1, 2, 3) if b != leader and b != c.controller.active)
    c.crash_broker(follower)
    c.run_for(1000)
    c.restart_broker(follower)
    p = c.producer("p", {"delivery.timeout.ms": 10_000, "request.timeout.ms": 2000})
    for i in range(5):
        p.send("t", value=f"v{i}")
    p.flush()
    c.run_for(30_000)
    assert {b: c.brokers[b].replicas[("t", 0)].leo for b in (1, 2, 3)} == {1: 5, 2: 5, 3: 5}
    assert sorted(c.snapshot().partition("t", 0).isr) == [1, 2, 3]


def test_metadata_sent_to_a_previous_incarnation_is_ignored():
    # found by: produce(p_all, t1, keyed, 6) / advance_time(1) / crash_broker(2) / slow_broker(2, 2500) /
    # crash_broker(1) / settle -> invariant 1 failed: the loss ledger reported acks=all records lost. A
    # LeaderAndIsr the controller sent to crashed broker 2 arrived after it restarted and made it leader of an
    # old epoch. KIP-380: requests carry the broker epoch; a restarted broker ignores the old incarnation's.
    c = Cluster(brokers=3, seed=11, config={"replica.lag.time.max.ms": 3000})
    c.create_topic("t1", partitions=3, replication_factor=3, config=SAFE)
    p = c.producer(
        "p_all",
        {
            "acks": "all",
            "enable.idempotence": False,
            "request.timeout.ms": 3000,
            "delivery.timeout.ms": 20_000,
        },
    )
    futs = [p.send("t1", key=f"k{n % 7}", value=f"p_all-{n}") for n in range(6)]
    c.run_for(1)
    c.crash_broker(2)
    c.slow_broker(2, 2500)
    c.crash_broker(1)
    for b in (1, 2, 3):
        c.restart_broker(b)
        c.heal_broker(b)
        c.slow_broker(b, 0)
    c.run_for(40_000)
    assert all(f.error is None for f in futs)
    assert c.losses.lost_count == 0
    assert not any(e.kind == "records_lost" for e in c.events.events)
    for f in futs:
        log = c.leader_replica(("t1", f.partition)).log
        assert [b.values[f.offset - b.base_offset] for b in log.batches_at(f.offset)] == [f.value]


def test_follower_keeps_fetching_when_the_new_leader_has_not_heard_it_leads_yet():
    # found by: crash_broker(2) / produce(p_all, t1, 5) / produce(p_all, t1, keyed, 1) / slow_broker(3, 50) /
    # settle -> broker 2 stayed at LEO 0 for ever. Its first fetch reached broker 3 before broker 3's own
    # (slower) LeaderAndIsr, got NOT_LEADER_OR_FOLLOWER, and the follower gave the partition up instead of
    # backing off and retrying as Kafka's AbstractFetcherThread does.
    c = Cluster(brokers=3, seed=11, config={"replica.lag.time.max.ms": 3000})
    c.create_topic("t1", partitions=3, replication_factor=3, config=SAFE)
    p = c.producer(
        "p_all",
        {
            "acks": "all",
            "enable.idempotence": False,
            "request.timeout.ms": 3000,
            "delivery.timeout.ms": 20_000,
        },
    )
    c.crash_broker(2)
    for n in range(6):
        p.send("t1", key="k" if n == 5 else None, value=f"p_all-{n}")
    c.slow_broker(3, 50)
    for b in (1, 2, 3):
        c.restart_broker(b)
        c.heal_broker(b)
        c.slow_broker(b, 0)
    c.run_for(40_000)
    for part in range(3):
        leos = {b: c.brokers[b].replicas[("t1", part)].leo for b in (1, 2, 3)}
        assert len(set(leos.values())) == 1, (part, leos)


def test_a_partition_update_lost_on_the_network_is_sent_again():
    # found by: isolate_broker(1, clients_can_reach=False) / advance_time(1) / settle -> t1-0 had no working
    # leader for ever: the topic's LeaderAndIsr left the (isolated) controller and was dropped; real brokers
    # catch up on the KRaft metadata log (or ZooKeeper mode's controller channel resends)
    c = Cluster(brokers=3, seed=11)
    c.create_topic("t1", partitions=3, replication_factor=3)
    assert c.controller.active == 1
    c.isolate_broker(1, clients_can_reach=False)
    c.run_for(1)
    c.heal_broker(1)
    c.run_for(5000)
    for part in range(3):
        assert _leader_works(c, "t1", part)


def test_kraft_quorum_elects_a_controller_again_once_a_majority_is_back():
    # found by: isolate_broker(3, clients_can_reach=False) / wait(30000) / crash_leader(t1, 2) / wait(2000) /
    # settle -> no partition led 40 s after every broker was back: with broker 3 cut off and broker 1 (the
    # active controller) crashed, the voters lost their majority and never tried to elect a controller again
    c = Cluster(brokers=3, seed=11, config={"replica.lag.time.max.ms": 3000})
    c.create_topic("t1", partitions=3, replication_factor=3)
    c.isolate_broker(3, clients_can_reach=False)
    c.run_for(30_000)
    c.crash_broker(c.controller.active)
    c.run_for(2000)
    assert c.controller.active is None and any(
        "KRaft controllers are alive" in e.summary for e in c.events.events
    )
    for b in (1, 2, 3):
        c.restart_broker(b)
        c.heal_broker(b)
    c.run_for(20_000)
    assert c.controller.active is not None
    for part in range(3):
        assert _leader_works(c, "t1", part)


def test_a_replica_being_reassigned_away_can_still_be_elected_leader():
    # found by: add_broker() x2 / isolate_broker(3, clients_can_reach=False) / wait(30000) / crash_leader(t1, 1) /
    # reassign(t1-0 -> [5]) / wait(30000) / settle -> t1-0 offline for ever: its only live ISR member, broker 2,
    # was being removed by the reassignment, and elections skipped removing replicas (Kafka does not: they
    # serve until the new replicas are in sync)
    c = Cluster(brokers=3, seed=5)
    c.create_topic("t", partitions=1, replication_factor=1)
    old = c.leaders_of("t")[0]
    new = next(b for b in (1, 2, 3) if b != old and b != c.controller.active)
    assert c.controller.active not in (old, new)  # the controller stays up and decides
    c.crash_broker(new)
    c.reassign_partitions({("t", 0): [new]})  # the new replica cannot catch up while its broker is down
    c.crash_broker(old)
    c.run_for(15_000)
    assert c.snapshot().partition("t", 0).offline
    c.restart_broker(old)
    c.run_for(5_000)
    assert _leader_works(c, "t") and c.leaders_of("t") == [old]  # back online, still mid-reassignment
    c.restart_broker(new)
    c.run_for(15_000)
    assert c.leaders_of("t") == [new] and any(e.kind == "reassignment_completed" for e in c.events.events)


def test_a_second_reassignment_waits_for_the_replicas_the_first_was_still_adding():
    # found by: add_broker() x2 / reassign(t1-0 -> [5, 2]) / reassign(t1-0 -> [5]) / settle -> t1-0 offline with
    # every copy deleted: the second reassignment saw broker 5 as already a replica, so it had nothing to add,
    # "finished" at once and told the only brokers holding the data to delete it
    c = Cluster(brokers=3, seed=11)
    c.create_topic("t", partitions=1, replication_factor=3)
    p = c.producer("p", {"acks": "all"})
    futs = [p.send("t", value=f"v{i}") for i in range(10)]
    p.flush()
    new = c.add_broker()
    c.reassign_partitions({("t", 0): [new, 2]})
    c.reassign_partitions({("t", 0): [new]})
    c.run_for(10_000)
    pv = c.snapshot().partition("t", 0)
    assert pv.replicas == (new,) and pv.leader == new and not pv.offline
    log = c.leader_replica(("t", 0)).log
    assert [v for b in log.batches() for v in b.values] == [f.value for f in futs]
    assert c.losses.lost_count == 0


def test_a_reassignment_completes_only_when_every_target_replica_is_in_sync():
    # found by: add_broker() x2 / reassign(t2-0 -> [1, 2, 5]) / reassign(t2-0 -> [4]) / crash_broker(1) /
    # restart_broker(1) / reassign(t2-0 -> [1, 5]) / settle -> t2-0 offline, every copy deleted: completion was
    # judged on the "adding" list, which a chain of overriding reassignments had lost track of (broker 5 never
    # caught up, broker 1 had just left the ISR). Kafka completes once every target replica is in the ISR.
    c = Cluster(brokers=3, seed=11)
    c.create_topic("t", partitions=1, replication_factor=2)
    p = c.producer("p", {"acks": "all"})
    futs = [p.send("t", value=f"v{i}") for i in range(10)]
    p.flush()
    b4, b5 = c.add_broker(), c.add_broker()
    first = c.snapshot().partition("t", 0).replicas
    c.reassign_partitions({("t", 0): [*first, b5]})
    c.reassign_partitions({("t", 0): [b4]})
    c.crash_broker(first[0])
    c.restart_broker(first[0])
    c.reassign_partitions({("t", 0): [first[0], b5]})
    c.run_for(15_000)
    pv = c.snapshot().partition("t", 0)
    assert sorted(pv.replicas) == sorted([first[0], b5]) and not pv.offline
    log = c.leader_replica(("t", 0)).log
    assert [v for b in log.batches() for v in b.values] == [f.value for f in futs]
    assert c.losses.lost_count == 0


@pytest.mark.parametrize("bad", [True, [1, 2], "acks=all", 5])
def test_a_config_that_is_not_a_mapping_is_a_config_error(bad):
    # found by the hostile-input fuzzer: test_client_and_broker_configs_apply_or_fail_clearly(broker=True) ->
    # Cluster(config=True) raised TypeError from dict(True) instead of a ConfigError
    from engine.errors import ConfigError

    with pytest.raises(ConfigError, match="mapping"):
        Cluster(brokers=1, config=bad)
    c = Cluster(brokers=1)
    with pytest.raises(ConfigError, match="mapping"):
        c.producer("p", bad)
    with pytest.raises(ConfigError, match="mapping"):
        c.create_topic("t", config=bad)


def test_a_late_stop_replica_does_not_delete_a_replica_given_back_since():
    # found by: slow_broker(1, 50) / reassign(t1-1 -> [3]) / slow_broker(1, 0) / reassign(t1-1 -> [1, 3]) /
    # settle -> broker 1 never held t1-1 again: the first reassignment's StopReplica (slow) arrived after the
    # second one's LeaderAndIsr (fast) and deleted the new replica. KIP-570: a stale StopReplica is ignored.
    c = Cluster(brokers=3, seed=11)
    c.create_topic("t", partitions=1, replication_factor=3)
    p = c.producer("p", {"acks": "all"})
    futs = [p.send("t", value=f"v{i}") for i in range(5)]
    p.flush()
    keep = c.leaders_of("t")[0]
    back = next(b for b in (1, 2, 3) if b != keep)
    c.slow_broker(back, 50)
    c.reassign_partitions({("t", 0): [keep]})
    c.slow_broker(back, 0)
    c.reassign_partitions({("t", 0): [back, keep]})
    c.run_for(20_000)
    r = c.brokers[back].replicas.get(("t", 0))
    assert r is not None and r.leo == 5
    assert sorted(c.snapshot().partition("t", 0).isr) == sorted([back, keep])
    assert all(f.error is None for f in futs)


@pytest.mark.parametrize("bad", ["crash_broker", None, [{"op": "add_broker"}], 3])
def test_a_command_that_is_not_a_mapping_is_a_config_error(bad):
    # found by the hostile-input fuzzer (test_random_commands_parse_or_fail_naming_the_field): parse_command("str")
    # raised AttributeError ('str' object has no attribute 'get') from its own error path
    from engine.commands import parse_command
    from engine.errors import ConfigError

    with pytest.raises(ConfigError, match="mapping"):
        parse_command(bad)


@pytest.mark.parametrize("text", ['{"brokers": 1' + "0" * 5000 + "}", "brokers: 1" + "0" * 5000])
def test_a_scenario_with_a_giant_number_is_a_scenario_error(text):
    # found by the hostile-input fuzzer: an integer over Python's 4300-digit conversion limit escaped
    # parse_scenario as a bare ValueError from the YAML reader instead of a ScenarioError
    from engine.scenario import ScenarioError, parse_scenario

    with pytest.raises(ScenarioError, match="cannot be read"):
        parse_scenario(text)


@pytest.mark.timeout(30)
def test_url_state_command_step_is_bounded():
    # found while fuzzing Timeline.from_state: a command "at": 10**9 made from_state step for ever (only
    # position was bounded); both are now whole numbers from 0 to 100000, booleans refused
    from engine.timeline import Timeline

    for state in (
        {"scenario": {}, "commands": [{"at": 10**9, "op": "add_broker"}]},
        {"scenario": {}, "commands": [{"at": True, "op": "add_broker"}]},
        {"scenario": {}, "position": True},
    ):
        with pytest.raises(ValueError, match="0 to 100000"):
            Timeline.from_state(state)


def test_one_produce_command_is_bounded():
    # a produce command of 1,000,000 records (the old limit) took ~90 s and ~150 MB in one session: one click
    # or one shared link could freeze the hosted demo; the limit is now 10,000 per command
    from engine.commands import parse_command
    from engine.errors import ConfigError

    assert parse_command({"op": "produce", "producer": "p1", "count": 10_000}).count == 10_000
    with pytest.raises(ConfigError, match="count"):
        parse_command({"op": "produce", "producer": "p1", "count": 10_001})


def test_a_follower_whose_epoch_lookup_was_lost_asks_again():
    # found by: produce_then_crash_its_leader(p_zero, t2, after_ms=6) / wait(30000) /
    # produce_then_crash_its_leader(p_all, t1, after_ms=5) / crash_leader(t1, 0) / restart_broker(3) /
    # wait(30000) / settle -> broker 3 kept an unreplicated record of t2-1 for ever: it restarted as a follower of
    # a leader that had just crashed, its OffsetsForLeaderEpoch was lost, and nothing asked again (the leader
    # later came back under the same epoch, so no new LeaderAndIsr restarted it)
    c = Cluster(
        brokers=3,
        seed=11,
        config={
            "replica.lag.time.max.ms": 3000,
            "offsets.topic.num.partitions": 4,
            "group.initial.rebalance.delay.ms": 0,
            "leader.imbalance.check.interval.seconds": 20,
        },
    )
    c.create_topic("t1", partitions=3, replication_factor=3, config=SAFE)
    c.create_topic("t2", partitions=2, replication_factor=2)
    timeouts = {"linger.ms": 5, "request.timeout.ms": 3000, "delivery.timeout.ms": 20000}
    p0 = c.producer("p_zero", {"acks": "0", "enable.idempotence": False, **timeouts})
    pa = c.producer("p_all", {"acks": "all", "enable.idempotence": False, **timeouts})

    def produce_then_crash_its_leader(p, topic, after_ms):
        f = p.send(topic, key="k0", value="v")
        c.run_for(after_ms)
        c.crash_broker(c.controller.partitions[(topic, f.partition)].leader)
        return f.partition

    part = produce_then_crash_its_leader(p0, "t2", 6)
    c.run_for(30_000)
    produce_then_crash_its_leader(pa, "t1", 5)
    c.crash_broker(c.controller.partitions[("t1", 0)].leader)
    c.restart_broker(3)
    c.run_for(30_000)
    for b in sorted(c.brokers):
        c.restart_broker(b)
        c.heal_broker(b)
    c.run_for(40_000)
    leader = c.leader_replica(("t2", part))
    assert leader is not None
    leos = {
        b: c.brokers[b].replicas[("t2", part)].leo for b in c.controller.partitions[("t2", part)].replicas
    }
    assert set(leos.values()) == {leader.leo}, leos


def test_messages_on_one_link_never_overtake_each_other():
    # found by: add_broker() x2 / isolate_broker(4) / ... / restart_broker(3) / advance_time(6) / crash_broker(2) /
    # slow_broker(3, 2500) / produce_then_crash_its_leader(p_all, t1, 6) / settle -> invariant 1 failed (an
    # acks=all record "lost"): LeaderAndIsr messages sent to broker 3 while it was slow arrived after the
    # StopReplica sent once it was fast again, re-created the deleted replica and made it a leader with an empty
    # log. A link is one TCP connection: the network now keeps each link's messages in order.
    c = Cluster(brokers=3, seed=11)
    c.create_topic("t", partitions=1, replication_factor=3)
    leader = c.leaders_of("t")[0]
    slow = next(b for b in (1, 2, 3) if b != leader and b != c.controller.active)
    c.slow_broker(slow, 2500)
    c.crash_broker(leader)
    c.restart_broker(leader)  # a bounce: new leader, LeaderAndIsr to every replica (slowly to `slow`)
    c.slow_broker(slow, 0)
    keep = [b for b in (1, 2, 3) if b != slow]
    c.reassign_partitions({("t", 0): keep})  # completes at once: StopReplica to `slow`, now fast
    c.run_for(10_000)
    assert ("t", 0) not in c.brokers[slow].replicas  # the stale LeaderAndIsr did not bring it back
    order: list[str] = []
    net = c.network
    c.slow_broker(slow, 300)
    net.send("controller", f"broker-{slow}", "Test", order.append, "first")
    c.slow_broker(slow, 0)
    net.send("controller", f"broker-{slow}", "Test", order.append, "second")
    c.run_for(1000)
    assert order == ["first", "second"]


def test_the_event_log_is_bounded_and_since_still_works():
    # not a crash but a leak: the event log grew by one event per visible step for ever (10,000 steps ~ 10 MB
    # of a 60 MB session budget). It now keeps the newest MAX_EVENTS, trimmed with a note and a counter.
    from engine.events import MAX_EVENTS, EventLog

    log = EventLog(max_events=100)
    for i in range(1000):
        log.emit(i, "note", f"e{i}")
    assert len(log) <= 100 and log.trimmed == log.seq - len(log)
    assert [e.seq for e in log.since(log.seq - 3)] == [log.seq - 2, log.seq - 1, log.seq]
    assert any(e.data.get("events_trimmed") for e in log.events)
    assert Cluster(brokers=1).events.max_events == MAX_EVENTS
