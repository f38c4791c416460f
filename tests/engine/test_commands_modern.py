"""Commands for share groups and transactions: what a Playground button or lesson step applies, replayable.

Scenarios cannot describe share consumers or a transactional app's loop, so these are commands recorded in
the Timeline: Back, links and lessons must rebuild exactly the same run. Also the snapshot fields the views
draw (markers, aborted/open records, the LSO, the coordinator's view, archived share records).
"""

from __future__ import annotations

import pytest

from engine.commands import parse_command
from engine.errors import ConfigError
from engine.scenario import validate_scenario
from engine.timeline import Timeline

FAST = {"auto.offset.reset": "earliest", "session.timeout.ms": 10000}


def _share_timeline() -> Timeline:
    return Timeline(
        validate_scenario(
            {
                "seed": 3,
                "broker_config": {
                    "group.share.delivery.count.limit": 2
                },  # a share group setting, on the broker
                "topics": [{"name": "jobs", "partitions": 1, "replication_factor": 3}],
                "producers": [{"id": "p1", "topic": "jobs", "rate_per_s": 20}],
            }
        )
    )


def _txn_timeline() -> Timeline:
    safe = {"min.insync.replicas": 2}
    return Timeline(
        validate_scenario(
            {
                "seed": 5,
                "topics": [
                    {"name": "orders", "partitions": 1, "config": safe},
                    {"name": "receipts", "partitions": 1, "config": safe},
                ],
                "producers": [
                    {"id": "shop", "topic": "orders", "rate_per_s": 0},
                    {
                        "id": "app-1",
                        "topic": "receipts",
                        "rate_per_s": 0,
                        "config": {"transactional.id": "app"},
                    },
                    {
                        "id": "app-2",
                        "topic": "receipts",
                        "rate_per_s": 0,
                        "config": {"transactional.id": "app"},
                    },
                ],
                "groups": [
                    {
                        "group_id": "rc",
                        "topics": ["receipts"],
                        "members": 1,
                        "member_ids": ["rc1"],
                        "config": {**FAST, "isolation.level": "read_committed"},
                    },
                    {
                        "group_id": "ru",
                        "topics": ["receipts"],
                        "members": 1,
                        "member_ids": ["ru1"],
                        "config": FAST,
                    },
                ],
            }
        )
    )


def _round(producer: str, consumer: str, end: str) -> dict:
    return {
        "op": "consume_transform_produce",
        "producer": producer,
        "consumer": consumer,
        "group": "billing",
        "from_topic": "orders",
        "to_topic": "receipts",
        "max_records": 3,
        "end": end,
    }


def test_add_share_consumers_by_count_and_a_peer_copy():
    tl = _share_timeline()
    msg = tl.apply(
        {
            "op": "add_share_consumer",
            "group": "workers",
            "topics": ["jobs"],
            "count": 3,
            "config": {"share.auto.offset.reset": "earliest", "max.poll.records": 2},
            "poll_interval_ms": 500,
            "release_keys": ["poison"],
        }
    )
    assert "s1, s2, s3" in msg
    tl.apply({"op": "add_share_consumer", "group": "workers"})  # topics, config and release keys of its peers
    c = tl.cluster
    assert sorted(c.share_consumers) == ["s1", "s2", "s3", "s4"]
    assert c.share_consumers["s4"].topics == ["jobs"] and c.share_consumers["s4"].auto_release == {b"poison"}
    tl.apply({"op": "run_for", "ms": 3000})
    assert all(k.received > 0 for k in c.share_consumers.values())
    g = c.snapshot().share_groups[0]
    assert g.members == ("s1", "s2", "s3", "s4") and all(v == (("jobs", 0),) for v in g.assignment.values())
    tl.apply({"op": "crash_consumer", "consumer": "s2"})  # crash works for share consumers too
    assert not c.share_consumers["s2"].alive


def test_share_commands_replay_exactly_from_a_link_and_back():
    tl = _share_timeline()
    tl.steps(20)
    tl.apply(
        {
            "op": "add_share_consumer",
            "group": "workers",
            "topics": ["jobs"],
            "count": 2,
            "config": {"share.auto.offset.reset": "earliest"},
            "release_keys": ["poison"],
        }
    )
    tl.apply({"op": "produce", "producer": "p1", "key": "poison", "value": "bad"})
    tl.steps(200)
    snap = tl.cluster.snapshot()
    again = Timeline.from_state(tl.to_state())
    assert again.cluster.snapshot() == snap
    assert [e.summary for e in again.cluster.events.events] == [e.summary for e in tl.cluster.events.events]
    tl.goto(100)
    tl.goto(220)
    assert tl.cluster.snapshot() == snap
    archived = [
        e for e in tl.cluster.events.events if e.kind == "share_acknowledged" and e.data.get("archived")
    ]
    assert archived  # the poison record reached the limit of 2 deliveries
    sp = snap.share_groups[0].partitions[0]
    assert archived[0].data["archived"][0] in sp.archived  # remembered after the SPSO passed it


def test_add_share_consumer_input_errors():
    tl = _share_timeline()
    with pytest.raises(ConfigError, match="give its topics"):
        tl.apply({"op": "add_share_consumer", "group": "new"})
    with pytest.raises(ConfigError, match="no topic 'nope'"):
        tl.apply({"op": "add_share_consumer", "group": "new", "topics": ["nope"]})
    with pytest.raises(ConfigError, match="not both"):
        tl.apply(
            {"op": "add_share_consumer", "group": "new", "topics": ["jobs"], "consumer": "x", "count": 2}
        )
    with pytest.raises(ConfigError, match="count.*less than or equal to 12"):
        parse_command({"op": "add_share_consumer", "group": "g", "count": 50})
    assert tl.commands == []  # nothing recorded for a refused command


def test_consume_transform_produce_commit_open_and_a_fenced_zombie():
    tl = _txn_timeline()
    for i in range(5):
        tl.apply(
            {"op": "produce", "producer": "shop", "topic": "orders", "key": f"k{i}", "value": f"order-{i}"}
        )
    assert "committed" in tl.apply(_round("app-1", "in-1", "commit"))
    assert "left open" in tl.apply(_round("app-1", "in-1", "open"))
    tl.apply({"op": "run_for", "ms": 2000})
    p = tl.cluster.snapshot().partition("receipts", 0)
    assert [r.control for r in p.tail if r.control] == ["COMMIT"]
    assert [r.txn for r in p.tail if r.control is None] == ["committed"] * 3 + ["open"] * 2
    assert p.last_stable_offset == 4 < p.high_watermark == 6
    tl.apply({"op": "crash_consumer", "consumer": "in-1"})
    # transaction.version=2 (KIP-890, Kafka 4.x default): app-1's commit bumped the epoch to 1, init makes it 2
    assert "epoch 2" in tl.apply({"op": "init_transactions", "producer": "app-2"})
    msg = tl.apply({"op": "commit_transaction", "producer": "app-1"})  # the zombie: an outcome, not a crash
    assert "ProducerFencedError" in msg
    note = tl.cluster.events.events[-1]
    assert note.kind == "note" and note.data["fenced"] and note.actors == ("app-1",)
    tl.apply(_round("app-2", "in-2", "commit"))
    tl.apply({"op": "run_for", "ms": 3000})
    snap = tl.cluster.snapshot()
    p = snap.partition("receipts", 0)
    assert [r.control for r in p.tail if r.control] == ["COMMIT", "ABORT", "COMMIT"]
    assert sum(r.txn == "aborted" for r in p.tail) == 2 and p.last_stable_offset == p.high_watermark
    (t,) = snap.transactions
    assert (t.transactional_id, t.producer_epoch, t.state) == (
        "app",
        3,
        "CompleteCommit",
    )  # app-2's commit bumped it
    states = {x.id: (x.txn_state, x.producer_epoch) for x in snap.producers if x.transactional_id}
    assert states == {"app-1": ("Fenced", 1), "app-2": ("Ready", 3)}
    received = {k.id: k.records_received for k in snap.consumers}
    assert received["rc1"] == 5 and received["ru1"] == 7  # each order once vs. the aborted attempt too
    assert Timeline.from_state(tl.to_state()).cluster.snapshot() == snap  # the whole story replays


def test_transaction_commands_refuse_a_plain_producer_and_abort_works():
    tl = _txn_timeline()
    with pytest.raises(ConfigError, match="no transactional.id"):
        tl.apply({"op": "begin_transaction", "producer": "shop"})
    with pytest.raises(ConfigError, match="no producer 'ghost'"):
        tl.apply({"op": "init_transactions", "producer": "ghost"})
    tl.apply({"op": "init_transactions", "producer": "app-1"})
    tl.apply({"op": "begin_transaction", "producer": "app-1"})
    tl.apply({"op": "produce", "producer": "app-1", "count": 2})
    tl.apply({"op": "run_for", "ms": 500})  # in the log (acknowledged) before the abort
    assert "aborted" in tl.apply({"op": "abort_transaction", "producer": "app-1"})
    tl.apply({"op": "run_for", "ms": 1000})
    p = tl.cluster.snapshot().partition("receipts", 0)
    assert [r.control or r.txn for r in p.tail] == ["aborted", "aborted", "ABORT"]
