"""Kafka's guarantees under random faults: a hypothesis state machine over the engine's public face.

Rules produce (acks 0/1/all, keyed or not, idempotent or not), poll and commit, add/crash/close consumers,
crash/restart/isolate/heal/slow brokers, add a broker and reassign, drop ProduceResponses and advance time.
After every step the invariants below hold (see `Checker`). Every rule is also recorded as a plain command
(`ACTIONS`), so teardown can replay the same commands on a fresh cluster and compare event logs (invariant 7).

A failing example prints as a readable list of `state.<rule>(<named args>)` lines; each rule's docstring
says which public call it makes.
"""

from __future__ import annotations

import re
import time
from typing import Any

import _profiles
import _stats
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from engine import Cluster
from engine.errors import KafkaError

NAME = "guarantees (state machine)"
SEED = 11
TOPICS = {"t1": (3, 3, 2), "t2": (2, 2, 1)}  # name -> partitions, replication factor, min.insync.replicas
GROUP = "g1"
BROKER_CONFIG = {
    "replica.lag.time.max.ms": 3000,
    "offsets.topic.num.partitions": 4,
    "group.initial.rebalance.delay.ms": 0,
    "leader.imbalance.check.interval.seconds": 20,
}
TIMEOUTS = {"linger.ms": 5, "request.timeout.ms": 3000, "delivery.timeout.ms": 20000, "retry.backoff.ms": 100}
PRODUCERS = {  # id -> config; the id says what it is, so a shrunk example reads on its own
    "p_all_idem": {"acks": "all", "enable.idempotence": True, **TIMEOUTS},
    "p_all": {"acks": "all", "enable.idempotence": False, **TIMEOUTS},
    "p_one": {"acks": "1", "enable.idempotence": False, **TIMEOUTS},
    "p_zero": {"acks": "0", "enable.idempotence": False, **TIMEOUTS},
}
CONSUMER_CONFIG = {
    "auto.offset.reset": "earliest",
    "session.timeout.ms": 10000,
    "heartbeat.interval.ms": 3000,
    "request.timeout.ms": 5000,
}
CONSUMERS = ("c1", "c2", "c3")
BROKERS = (1, 2, 3, 4, 5)
MAX_BROKERS_HERE = 5


# -- the commands, as plain functions of (cluster, **args): what the rules do and what replay re-does ---------
def new_cluster(seed: int = SEED) -> Cluster:
    c = Cluster(brokers=3, seed=seed, config=BROKER_CONFIG)
    for name, (parts, rf, min_isr) in TOPICS.items():
        c.create_topic(
            name,
            partitions=parts,
            replication_factor=rf,
            config={"min.insync.replicas": min_isr, "unclean.leader.election.enable": False},
        )
    for pid, cfg in PRODUCERS.items():
        c.producer(pid, cfg)
    return c


def do_produce(c: Cluster, producer: str, topic: str, keyed: bool, count: int) -> list:
    p = c.producers[producer]
    futures = []
    for _ in range(count):
        n = p.sent
        try:
            futures.append(p.send(topic, key=f"k{n % 7}" if keyed else None, value=f"{producer}-{n}"))
        except KafkaError:
            pass  # e.g. buffer.memory full while the leader is unreachable: send() refuses, nothing acknowledged
    return futures


def do_poll(c: Cluster, consumer: str, timeout_ms: int) -> None:
    k = c.consumers.get(consumer)
    if k is not None and k.alive:
        k.poll(timeout_ms)


def do_commit(c: Cluster, consumer: str) -> None:
    k = c.consumers.get(consumer)
    if k is not None and k.alive:
        try:
            k.commit()
        except KafkaError:
            pass  # CommitFailedError during a rebalance is Kafka's behaviour, not a failure of the guarantees


def do_add_consumer(c: Cluster, consumer: str, auto_poll: bool) -> None:
    if consumer in c.consumers:
        return
    k = c.consumer(consumer, group_id=GROUP, topics=sorted(TOPICS), config=CONSUMER_CONFIG)
    if auto_poll:
        k.start(100)


def do_crash_consumer(c: Cluster, consumer: str) -> None:
    if consumer in c.consumers:
        c.consumers[consumer].crash()


def do_close_consumer(c: Cluster, consumer: str) -> None:
    if consumer in c.consumers:
        c.consumers[consumer].close()


def _broker_op(name: str):
    def op(c: Cluster, broker: int, **kw: Any) -> None:
        if broker in c.brokers:
            getattr(c, name)(broker, **kw)

    op.__name__ = f"do_{name}"
    return op


def do_add_broker(c: Cluster) -> None:
    if len(c.brokers) < MAX_BROKERS_HERE:
        c.add_broker()


def do_reassign(c: Cluster, topic: str, partition: int, replicas: list[int]) -> None:
    if all(b in c.brokers for b in replicas):
        c.reassign_partitions({(topic, partition): list(replicas)})


def do_drop_produce_responses(c: Cluster, count: int) -> None:
    c.drop_messages("ProduceResponse", count)


def do_advance_time(c: Cluster, ms: int) -> None:
    c.run_for(ms)


def do_settle(c: Cluster) -> None:
    """Every fault repaired, then time to recover: restart, heal, un-slow every broker."""
    for b in sorted(c.brokers):
        c.restart_broker(b)
        c.heal_broker(b)
        c.slow_broker(b, 0)
    c.run_for(40_000)


ACTIONS = {
    "produce": do_produce,
    "poll": do_poll,
    "commit": do_commit,
    "add_consumer": do_add_consumer,
    "crash_consumer": do_crash_consumer,
    "close_consumer": do_close_consumer,
    "crash_broker": _broker_op("crash_broker"),
    "restart_broker": _broker_op("restart_broker"),
    "isolate_broker": _broker_op("isolate_broker"),
    "heal_broker": _broker_op("heal_broker"),
    "slow_broker": _broker_op("slow_broker"),
    "add_broker": do_add_broker,
    "reassign": do_reassign,
    "drop_produce_responses": do_drop_produce_responses,
    "advance_time": do_advance_time,
    "settle": do_settle,
}


def replay(trace: list[tuple[str, dict]], seed: int = SEED) -> Cluster:
    c = new_cluster(seed)
    for name, kw in trace:
        ACTIONS[name](c, **kw)
    return c


def event_log(c: Cluster) -> list[tuple]:
    return [
        (e.seq, e.time_ms, e.kind, e.summary, e.actors, e.topic, e.partition, e.data) for e in c.events.events
    ]


# -- the invariants ---------------------------------------------------------------------------------------------
def records_of(log) -> dict[int, bytes | None]:
    """offset -> value for one replica's log."""
    out: dict[int, bytes | None] = {}
    for b in log.batches():
        for i, o in enumerate(b.record_offsets()):
            out[o] = b.values[i]
    return out


class Checker:
    """What the test remembers between steps, and the invariants checked after every step.

    1. acks=all acknowledged records are never lost (unclean election is off): the loss ledger has no acks=all
       entry, and every one is in the current leader's log (an offline partition is allowed).
    2. No consumer receives a record at or above the high watermark; no record a consumer received disappears.
    3. Offsets strictly increase in every replica's log; every replica agrees with the leader below the
       high watermark (ISR members up to their LEO, others up to the HW they learnt from the leader: a stale
       replica's divergent suffix above that is real Kafka, truncated when it rejoins).
    4. A Stable group whose members are all alive (none crashed-but-not-expired) owns each subscribed
       partition exactly once; live consumers in the group's generation never share a partition.
    5. Committed offsets never exceed the high watermark (the highest any leader reached).
    6. With idempotence, no (producer id, producer epoch, sequence) appears twice in any log (a bumped epoch
       starts its sequences at 0 again: KIP-360, ProducerStateManager keeps sequences per epoch).
    7. (teardown) The same commands replay to the same event log.
    8, 9. Checked by `LogWitness` at the moment they happen, from the replicas' logs (not the engine's HW): what
       the HW covers, acks=all acknowledges or poll() returns is on every ISR member; nothing visible is truncated.
    """

    def __init__(self, c: Cluster) -> None:
        self.c = c
        self.pending: list[tuple[str, Any]] = []  # (producer, future) not done yet
        self.acked_all: dict[tuple[str, int, int], bytes] = {}  # (topic, partition, offset) -> value
        self.received: dict[tuple[str, int, int], bytes] = {}
        self.max_hw: dict[tuple[str, int], int] = {}
        self.event_seq = 0
        self.seen_by: dict[str, int] = {}
        self.witness = LogWitness(c)

    def track(self, producer: str, futures: list) -> None:
        self.pending.extend((producer, f) for f in futures)

    def check(self) -> None:
        assert self.witness.violation is None, self.witness.violation
        self._collect()
        self.check_logs()
        self.check_acked()
        self.check_received()
        self.check_group()
        self.check_committed()

    # -- bookkeeping -----------------------------------------------------------------------------------------
    def _collect(self) -> None:
        c = self.c
        still = []
        for pid, f in self.pending:
            if not f.done:
                still.append((pid, f))
            elif f.error is None and PRODUCERS[pid]["acks"] == "all":
                key = (f.topic, f.partition, f.offset)
                assert key not in self.acked_all or self.acked_all[key] == f.value, (
                    f"two acknowledged acks=all records at {key}: {self.acked_all[key]!r} and {f.value!r}"
                )
                self.acked_all[key] = f.value
        self.pending = still
        # high watermarks, in event order, then what consumers were handed (the same order)
        for e in c.events.since(self.event_seq):
            if e.kind == "high_watermark":
                tp = (e.topic, e.partition)
                self.max_hw[tp] = max(self.max_hw.get(tp, 0), e.data["hw"])
            elif e.kind == "records_polled":
                for name, (first, last) in e.data["ranges"].items():
                    topic, part = name.rsplit("-", 1)
                    hw = self.max_hw.get((topic, int(part)), 0)
                    assert last < hw, (
                        f"invariant 2: {e.actors[0]} received {name} offsets {first}..{last} but the "
                        f"high watermark was only {hw} (event {e.seq}: {e.summary})"
                    )
        self.event_seq = c.events.seq
        for k in c.consumers.values():
            new = k.received - self.seen_by.get(k.id, 0)
            self.seen_by[k.id] = k.received
            if new <= 0:
                continue
            hist = list(k.history)[-new:]
            for r in hist:
                key = (r.topic, r.partition, r.offset)
                prev = self.received.get(key)
                assert prev is None or prev == r.value, (
                    f"invariant 2: {k.id} received {r.topic}-{r.partition}@{r.offset}={r.value!r}, but that offset "
                    f"held {prev!r} when it was received before"
                )
                self.received[key] = r.value
        for tp in c.controller.partitions:
            r = c.leader_replica(tp)
            if r is not None and not tp[0].startswith("__"):
                self.max_hw[tp] = max(self.max_hw.get(tp, 0), r.hw)

    # -- invariants ----------------------------------------------------------------------------------------------
    def check_logs(self) -> None:
        """Invariants 3 and 6."""
        c = self.c
        for tp in c.controller.partitions:
            if tp[0].startswith("__"):
                continue
            leader = c.leader_replica(tp)
            lead_recs = records_of(leader.log) if leader is not None else None
            for b in c.brokers.values():
                r = b.replicas.get(tp)
                if r is None:
                    continue
                prev = -1
                seqs: set[tuple[int, int, int]] = set()
                for batch in r.log.batches():
                    for i, o in enumerate(batch.record_offsets()):
                        assert o > prev, (
                            f"invariant 3: broker {b.id}'s {tp[0]}-{tp[1]} has offset {o} after {prev}"
                        )
                        prev = o
                        if batch.producer_id >= 0:
                            s = (batch.producer_id, batch.producer_epoch, batch.base_sequence + i)
                            assert s not in seqs, (
                                f"invariant 6: broker {b.id}'s {tp[0]}-{tp[1]} holds producer id {s[0]} epoch "
                                f"{s[1]} sequence {s[2]} twice (the second at offset {o})"
                            )
                            seqs.add(s)
                if leader is None or r is leader:
                    continue
                upto = min(leader.hw, r.leo if b.id in leader.isr and b.alive else r.hw)
                mine = records_of(r.log)
                for o in range(max(r.log.log_start_offset, leader.log.log_start_offset), upto):
                    assert mine.get(o, "<missing>") == lead_recs.get(o, "<missing>"), (
                        f"invariant 3: {tp[0]}-{tp[1]} offset {o} is {mine.get(o, '<missing>')!r} on broker {b.id} "
                        f"but {lead_recs.get(o, '<missing>')!r} on the leader, broker {leader.broker_id} "
                        f"(HW {leader.hw}, ISR {leader.isr})"
                    )

    def check_acked(self) -> None:
        """Invariant 1."""
        c = self.c
        for tp, entries in c.losses.lost.items():
            for e in entries:
                assert e.acks != -1, (
                    f"invariant 1: the loss ledger lost acks=all records {tp[0]}-{tp[1]} "
                    f"{e.base}..{e.last} from {e.producer}: {e.lost_reason}"
                )
        logs: dict[tuple[str, int], dict] = {}
        for (topic, part, off), value in self.acked_all.items():
            tp = (topic, part)
            if tp not in logs:
                r = c.leader_replica(tp)
                logs[tp] = records_of(r.log) if r is not None else None
            recs = logs[tp]
            if recs is None:
                continue  # offline (or between leaders): allowed, as long as nothing is lost
            assert recs.get(off, "<missing>") == value, (
                f"invariant 1: acks=all record {topic}-{part}@{off}={value!r} was acknowledged but the leader "
                f"(broker {c.leader_replica(tp).broker_id}) has {recs.get(off, '<missing>')!r} there"
            )

    def check_received(self) -> None:
        """Invariant 2, second half (unclean election is off for every topic here)."""
        c = self.c
        logs: dict[tuple[str, int], dict] = {}
        for (topic, part, off), value in self.received.items():
            tp = (topic, part)
            if tp not in logs:
                r = c.leader_replica(tp)
                logs[tp] = records_of(r.log) if r is not None else None
            recs = logs[tp]
            if recs is None:
                continue
            assert recs.get(off, "<missing>") == value, (
                f"invariant 2: a consumer received {topic}-{part}@{off}={value!r}, but the leader now has "
                f"{recs.get(off, '<missing>')!r} there"
            )

    def check_group(self) -> None:
        """Invariant 4."""
        c = self.c
        g = c.group_state(GROUP)
        if g is None or g.state != "Stable":
            return
        wanted = sorted((t, p) for t, (n, _, _) in TOPICS.items() for p in range(n))
        live = [m for m in g.members.values() if m.consumer.alive and m.consumer.member_id == m.member_id]
        if len(live) != len(g.members):
            return  # a crashed (or replaced) member not yet expired still holds its partitions: allowed
        owned = sorted(tp for m in g.members.values() for tp in m.assignment)
        assert owned == wanted, (
            f"invariant 4: group {GROUP} is Stable (generation {g.generation}) but its members "
            f"own {owned}, not each of {wanted} exactly once: "
            f"{ {m.client_id: m.assignment for m in g.members.values()} }"
        )
        claimed: dict[tuple[str, int], str] = {}
        for k in c.consumers.values():
            if k.alive and k.group_id == GROUP and k.state == "stable" and k.generation == g.generation:
                for tp in k.assignment:
                    assert tp not in claimed, (
                        f"invariant 4: {claimed[tp]} and {k.id} both consume {tp[0]}-{tp[1]} "
                        f"in generation {g.generation}"
                    )
                    claimed[tp] = k.id

    def check_recovered(self) -> None:
        """After `settle` (every broker up, healed and fast for 40 s): every partition has a working leader and
        every replica caught up, i.e. no fault leaves the cluster stuck once it is repaired."""
        c = self.c
        for tp, ps in sorted(c.controller.partitions.items()):
            leader = c.leader_replica(tp)
            assert leader is not None, (
                f"recovery: {tp[0]}-{tp[1]} has no working leader 40 s after every broker "
                f"came back (controller says {ps.leader}, replicas {ps.replicas})"
            )
            if tp[0].startswith("__"):
                continue
            leos = {
                b: (r.leo if (r := c.brokers[b].replicas.get(tp)) is not None else None) for b in ps.replicas
            }
            behind = {b: leo for b, leo in leos.items() if leo != leader.leo}
            assert not behind, (
                f"recovery: replicas of {tp[0]}-{tp[1]} still behind the leader's LEO {leader.leo} "
                f"40 s after every broker came back: {behind}"
            )

    def check_committed(self) -> None:
        """Invariant 5."""
        g = self.c.group_state(GROUP)
        if g is None:
            return
        for tp, off in g.offsets.items():
            hw = self.max_hw.get(tp, 0)
            assert off <= hw, (
                f"invariant 5: group {GROUP} committed {tp[0]}-{tp[1]}@{off} above the high watermark {hw}"
            )


# -- invariants 8 and 9: computed from the replicas' own logs, at the moment it happens -----------------------
def record_at(log, offset: int) -> tuple[int, bytes | None] | None:
    """(leader epoch, value) of the record at `offset` in one replica's log, None if the log does not hold it."""
    for b in log.batches_at(offset):
        offs = b.record_offsets()  # a range, or a tuple once a batch was cut (truncation mid-batch)
        if offset in offs:
            return (b.leader_epoch, b.values[offs.index(offset)])
    return None


class LogWitness:
    """Watches the cluster through its own hooks (Cluster.on_high_watermark, on_acked, on_truncated and the
    records_polled event) and checks, at that moment, the replicas' logs themselves, not the engine's HW:

    8. When the leader moves the high watermark (which answers acks=all produces and lets consumers read),
       when a producer gets an acks=all acknowledgement, and when poll() hands a consumer records, every ISR
       member's log already holds those offsets, the same record on each (leader epoch and value). Kafka's
       design docs, Replication: a message is committed when all in-sync replicas have applied it to their log,
       and only committed messages are given out to consumers.
    9. A record once visible to consumers (below a leader's high watermark) is never truncated from any replica
       (unclean.leader.election.enable is off for every topic here).

    A violation is remembered, not raised inside the engine's call, and `Checker.check` raises it after the step.
    """

    def __init__(self, c: Cluster) -> None:
        self.c = c
        self.violation: str | None = None
        # tp -> offset -> (leader epoch, value) of each record a leader's HW has covered
        self.visible: dict[tuple[str, int], dict[int, tuple[int, bytes | None]]] = {}
        self._hw = c.on_high_watermark
        self._acked = c.on_acked
        self._truncated = c.on_truncated
        self._emit = c.emit
        c.on_high_watermark = self.on_high_watermark  # instance attributes: this cluster only
        c.on_acked = self.on_acked
        c.on_truncated = self.on_truncated
        c.emit = self.emit

    def _fail(self, text: str) -> None:
        if self.violation is None:
            self.violation = f"{text} (at {self.c.now} ms)"

    def _isr_holds(self, tp: tuple[str, int], isr: list[int], first: int, last: int, why: str) -> None:
        """Every broker in `isr` holds offsets first..last, the same record on each."""
        logs = {}
        for b in isr:
            broker = self.c.brokers.get(b)
            r = broker.replicas.get(tp) if broker is not None else None
            if r is None:
                self._fail(f"invariant 8: {why}, but ISR member broker {b} has no replica of {tp[0]}-{tp[1]}")
                return
            logs[b] = r.log
        for o in range(first, last + 1):
            held = {b: record_at(log, o) for b, log in logs.items() if o >= log.log_start_offset}
            if None in held.values() or len(set(held.values())) > 1:
                self._fail(
                    f"invariant 8: {why}, but the ISR {sorted(isr)} does not all hold {tp[0]}-{tp[1]}@{o}: "
                    f"(leader epoch, value) per broker {held}"
                )
                return

    def on_high_watermark(self, r, old: int) -> None:
        self._hw(r, old)
        if r.topic.startswith("__"):
            return
        why = f"broker {r.broker_id} moved the high watermark of {r.topic}-{r.partition} {old} -> {r.hw}"
        self._isr_holds(r.tp, r.isr, old, r.hw - 1, why)
        seen = self.visible.setdefault(r.tp, {})
        for o in range(max(old, r.log.log_start_offset), r.hw):
            rec = record_at(r.log, o)
            if rec is not None:
                seen[o] = rec

    def on_acked(self, producer, b) -> None:
        self._acked(producer, b)
        if producer.config.acks == "all" and not b.tp[0].startswith("__"):
            ps = self.c.controller.partitions.get(b.tp)
            if ps is not None:
                last = b.base_offset + b.count - 1
                why = f"{producer.id} got an acks=all acknowledgement for {b.tp[0]}-{b.tp[1]}@{b.base_offset}..{last}"
                self._isr_holds(b.tp, ps.isr, b.base_offset, last, why)

    def emit(self, kind: str, summary: str, **kw: Any):
        out = self._emit(kind, summary, **kw)
        if kind == "records_polled":
            for name, (first, last) in kw["ranges"].items():
                topic, part = name.rsplit("-", 1)
                tp = (topic, int(part))
                ps = self.c.controller.partitions.get(tp)
                if ps is not None:
                    why = f"{kw['actors'][0]} poll() returned {name}@{first}..{last}"
                    self._isr_holds(tp, ps.isr, first, last, why)
        return out

    def on_truncated(self, r, removed, leader_id: int) -> None:
        self._truncated(r, removed, leader_id)
        seen = self.visible.get(r.tp, {})
        for b in removed:
            for i, o in enumerate(b.record_offsets()):
                if seen.get(o) == (b.leader_epoch, b.values[i]):
                    self._fail(
                        f"invariant 9: broker {r.broker_id} truncated {r.topic}-{r.partition}@{o}={b.values[i]!r}, "
                        f"a record below a high watermark consumers could read (following broker {leader_id})"
                    )
                    return


# -- the state machine ---------------------------------------------------------------------------------------------
class KafkaGuarantees(RuleBasedStateMachine):
    """Random faults against a 3-broker cluster (topics t1: 3 partitions RF 3 min ISR 2; t2: 2 partitions RF 2)."""

    stat_name = NAME

    def __init__(self) -> None:
        super().__init__()
        self.seed = SEED
        self.c = new_cluster(self.seed)  # replaced by start(); rules only run after it
        self.checker = Checker(self.c)
        self.trace: list[tuple[str, dict]] = []
        _stats.count_example(self.stat_name)

    def _do(self, name: str, **kw: Any) -> Any:
        self.trace.append((name, kw))
        _stats.count_step(self.stat_name)
        out = ACTIONS[name](self.c, **kw)
        if name == "produce":
            self.checker.track(kw["producer"], out)
        self.checker.check()  # after every step (not an @invariant, so the printed example is just the commands)
        return out

    @initialize(seed=st.integers(0, 999), consumer=st.sampled_from(CONSUMERS), auto_poll=st.booleans())
    def start(self, seed: int, consumer: str, auto_poll: bool) -> None:
        """Cluster(brokers=3, seed=seed) with topics t1, t2 and the four producers, then
        c.consumer(id, group_id="g1", topics=["t1", "t2"]), polling on its own every 100 ms if auto_poll."""
        self.seed = seed
        self.c = new_cluster(seed)
        self.checker = Checker(self.c)
        self._do("add_consumer", consumer=consumer, auto_poll=auto_poll)

    @rule(
        producer=st.sampled_from(sorted(PRODUCERS)),
        topic=st.sampled_from(sorted(TOPICS)),
        keyed=st.booleans(),
        count=st.integers(1, 6),
    )
    def produce(self, producer: str, topic: str, keyed: bool, count: int) -> None:
        """producer.send(topic, key, value) `count` times; the producer id names its acks and idempotence."""
        self._do("produce", producer=producer, topic=topic, keyed=keyed, count=count)

    @rule(consumer=st.sampled_from(CONSUMERS), timeout_ms=st.sampled_from([0, 100, 1000]))
    def poll(self, consumer: str, timeout_ms: int) -> None:
        """consumer.poll(timeout_ms) (runs the cluster up to timeout_ms while it waits)."""
        self._do("poll", consumer=consumer, timeout_ms=timeout_ms)

    @rule(consumer=st.sampled_from(CONSUMERS))
    def commit(self, consumer: str) -> None:
        """consumer.commit() (commitSync of its positions)."""
        self._do("commit", consumer=consumer)

    @rule(consumer=st.sampled_from(CONSUMERS), auto_poll=st.booleans())
    def add_consumer(self, consumer: str, auto_poll: bool) -> None:
        self._do("add_consumer", consumer=consumer, auto_poll=auto_poll)

    @rule(consumer=st.sampled_from(CONSUMERS))
    def crash_consumer(self, consumer: str) -> None:
        self._do("crash_consumer", consumer=consumer)

    @rule(consumer=st.sampled_from(CONSUMERS))
    def close_consumer(self, consumer: str) -> None:
        self._do("close_consumer", consumer=consumer)

    @rule(broker=st.sampled_from(BROKERS))
    def crash_broker(self, broker: int) -> None:
        self._do("crash_broker", broker=broker)

    @rule(broker=st.sampled_from(BROKERS))
    def restart_broker(self, broker: int) -> None:
        self._do("restart_broker", broker=broker)

    @rule(broker=st.sampled_from(BROKERS), clients_can_reach=st.booleans())
    def isolate_broker(self, broker: int, clients_can_reach: bool) -> None:
        self._do("isolate_broker", broker=broker, clients_can_reach=clients_can_reach)

    @rule(broker=st.sampled_from(BROKERS))
    def heal_broker(self, broker: int) -> None:
        self._do("heal_broker", broker=broker)

    @rule(broker=st.sampled_from(BROKERS), extra_latency_ms=st.sampled_from([0, 50, 400, 2500]))
    def slow_broker(self, broker: int, extra_latency_ms: int) -> None:
        self._do("slow_broker", broker=broker, extra_latency_ms=extra_latency_ms)

    @precondition(lambda self: len(self.c.brokers) < MAX_BROKERS_HERE)
    @rule()
    def add_broker(self) -> None:
        """c.add_broker(): a new, empty broker (up to 5 here); only a reassignment gives it partitions."""
        self._do("add_broker")

    @rule(topic=st.sampled_from(sorted(TOPICS)), partition=st.integers(0, 2))
    def crash_leader(self, topic: str, partition: int) -> None:
        """c.crash_broker(<the current leader of topic-partition>), if it has one."""
        leader = self.c.controller.partitions.get((topic, partition))
        if leader is not None and leader.leader is not None:
            self._do("crash_broker", broker=leader.leader)

    @rule(
        topic=st.sampled_from(sorted(TOPICS)),
        partition=st.integers(0, 2),
        replicas=st.lists(st.sampled_from(BROKERS), min_size=1, max_size=3, unique=True),
    )
    def reassign(self, topic: str, partition: int, replicas: list[int]) -> None:
        """c.reassign_partitions({(topic, partition): replicas}) (skipped for a missing broker or partition)."""
        if partition < TOPICS[topic][0]:
            self._do("reassign", topic=topic, partition=partition, replicas=replicas)

    @rule(
        producer=st.sampled_from(sorted(PRODUCERS)),
        topic=st.sampled_from(sorted(TOPICS)),
        after_ms=st.sampled_from([5, 6, 7, 8]),
    )
    def produce_then_crash_its_leader(self, producer: str, topic: str, after_ms: int) -> None:
        """send() one keyed record, c.run_for(after_ms), crash the leader of its partition: the classic window
        where the leader has the batch and the followers may not (linger.ms=5, 1 ms network hops)."""
        futures = self._do("produce", producer=producer, topic=topic, keyed=True, count=1)
        self._do("advance_time", ms=after_ms)
        ps = self.c.controller.partitions.get((topic, futures[0].partition)) if futures else None
        if ps is not None and ps.leader is not None:
            self._do("crash_broker", broker=ps.leader)

    @rule(count=st.integers(1, 3))
    def drop_produce_responses(self, count: int) -> None:
        """c.drop_messages("ProduceResponse", count): the producer times out and retries."""
        self._do("drop_produce_responses", count=count)

    @rule(ms=st.sampled_from([1, 3, 6, 20, 100, 500]))
    def advance_time(self, ms: int) -> None:
        """c.run_for(ms): a few ms lets a batch reach the leader but not yet the followers."""
        self._do("advance_time", ms=ms)

    @rule(ms=st.sampled_from([2000, 10_000, 30_000]))
    def wait(self, ms: int) -> None:
        """c.run_for(ms): long enough for timeouts, fencing, elections and session expiry."""
        self._do("advance_time", ms=ms)

    def teardown(self) -> None:
        """Repair everything and recheck; then invariant 7: the same commands replay to the same event log."""
        self._do("settle")
        self._count_coverage()
        self.checker.check_recovered()
        again = replay(self.trace, self.seed)
        a, b = event_log(self.c), event_log(again)
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            assert x == y, f"invariant 7: replaying the same commands diverged at event {i}:\n  {x}\n  {y}"
        assert len(a) == len(b), f"invariant 7: replay produced {len(b)} events, the run {len(a)}"

    def _count_coverage(self) -> None:
        kinds = {e.kind for e in self.c.events.events}
        for k in (
            "leader_elected",
            "partition_offline",
            "truncated",
            "duplicate_batch",
            "isr_shrink",
            "reassignment_completed",
            "records_lost",
            "member_expired",
            "batch_retried",
        ):
            _stats.COVERAGE[f"runs with {k}"] += k in kinds
        _stats.COVERAGE["acks=all records checked"] += len(self.checker.acked_all)
        _stats.COVERAGE["consumed records checked"] += len(self.checker.received)


KafkaGuarantees.TestCase.settings = _profiles.machine_settings()

# What the fault injection must reach for the invariants to mean something: a run that never loses a record never
# checks that acks=1 plus an unclean election loses exactly what Kafka loses. The examples are derandomized, so an
# engine change can shift them; this says so instead of letting the coverage vanish silently.
MUST_EXERCISE = (
    "leader_elected",
    "partition_offline",
    "truncated",
    "isr_shrink",
    "records_lost",
    "batch_retried",
)


def test_kafka_guarantees():
    """The state machine: every invariant holds on every example, and the examples reach the faults they exist for."""
    before = {k: _stats.COVERAGE[f"runs with {k}"] for k in MUST_EXERCISE}
    run_state_machine_as_test(KafkaGuarantees, settings=_profiles.machine_settings())
    missing = [k for k in MUST_EXERCISE if _stats.COVERAGE[f"runs with {k}"] == before[k]]
    assert not missing, (
        f"no example of the fault-injection machine produced {missing}: the invariants were never checked against "
        "those events (the derandomized examples moved with an engine change); add or reweight a rule that reaches them"
    )


def run(settings=None) -> float:
    """Run the machine outside pytest (bench/soak.py). Returns the elapsed seconds; raises on a failure."""
    t0 = time.perf_counter()
    run_state_machine_as_test(KafkaGuarantees, settings=settings or _profiles.machine_settings())
    return time.perf_counter() - t0


class _BrokenOnPurpose(KafkaGuarantees):
    """The same machine with an invariant that fails as soon as a broker is down, to see how a failure reads."""

    stat_name = "guarantees: readable-failure check"

    def _do(self, name: str, **kw: Any) -> Any:
        out = super()._do(name, **kw)
        assert all(b.alive for b in self.c.brokers.values()), "a broker is down"
        return out

    def teardown(self) -> None:
        """Nothing to settle: this machine exists only to fail."""


def test_a_failing_example_prints_as_readable_commands():
    cfg = _profiles.fixed_settings(200, 12)
    with pytest.raises(AssertionError) as info:
        run_state_machine_as_test(_BrokenOnPurpose, settings=cfg)
    text = "\n".join(getattr(info.value, "__notes__", [])) + str(info.value)
    assert "state = _BrokenOnPurpose()" in text
    assert re.search(
        r"state\.(crash_broker\(broker=\d|crash_leader\(|produce_then_crash_its_leader\()", text
    ), text
    assert "state.teardown()" in text
