"""Follow a record from a table: a row of a consumer's output (Consumer groups tab) or of a producer's last
acknowledged batches (Producers tab) follows that record exactly as a click on its cell in the partition log
strip does (the same `Followed` in `st.session_state[FOLLOW_KEY]`), and a selection during Play does not step.

AppTest cannot click a table row, so `_select_row` sends what the browser sends for one: the table's widget
state, ``{"selection": {"rows": [i], ...}}``, with the next run; Streamlit then runs the table's on_select
callback first, as it does in the browser."""

from __future__ import annotations

import json
import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from engine import Cluster
from helpers import GROUP_FAST, acks1_loss
from ui.trace_panel import (
    FOLLOW_KEY,
    FOLLOW_MARK,
    Followed,
    acked_batch_rows,
    consumer_output_rows,
    followed_from_rows,
    followed_trace,
)

ROOT = Path(__file__).resolve().parents[2]


def _playground(panel: str, run_ms: int = 6000) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("ui/playground.py").run()
    at.session_state["kc_playground"].timeline.apply({"op": "run_for", "ms": run_ms})
    at.session_state["panel"] = panel
    at.run()
    assert not at.exception, at.exception
    return at


def _table(at: AppTest, key: str):
    """The record table `render_record_table(key=key)` drew (its widget key is `key` + "_" + a round number)."""
    return next(d for d in at.dataframe if re.fullmatch(rf"{re.escape(key)}_\d+", d.key or ""))


def _select_row(at: AppTest, key: str, row: int) -> AppTest:
    """One click on row `row` of the keyed table: the widget state the browser sends, then the rerun."""
    states = at._tree.get_widget_states()
    w = states.widgets.add()
    w.id = _table(at, key).proto.id
    w.string_value = json.dumps({"selection": {"rows": [row], "columns": [], "cells": []}})
    at._run(states)
    assert not at.exception, at.exception
    return at


def _live_consumer(s) -> str:
    return next(
        k.id
        for k in s.cluster.snapshot().consumers
        if k.alive and k.state not in ("closed", "crashed") and s.cluster.consumers[k.id].history
    )


def test_a_consumer_output_row_follows_the_record_that_consumer_received():
    at = _playground("Consumer groups")
    s = at.session_state["kc_playground"]
    cid = _live_consumer(s)
    got = list(s.cluster.consumers[cid].history)[-3]  # the engine's record: third newest poll() output
    assert any(f"Last records {cid} received" in m.value for m in at.markdown)
    table = _table(at, f"output_{cid}").value
    assert table["record"][2] == f"{got.topic}-{got.partition} @{got.offset}"
    assert FOLLOW_KEY not in at.session_state or at.session_state[FOLLOW_KEY] is None
    before_key = _table(at, f"output_{cid}").key
    _select_row(at, f"output_{cid}", 2)
    assert at.session_state[FOLLOW_KEY] == Followed(got.topic, got.partition, got.offset)
    tr = followed_trace(s.cluster, at.session_state[FOLLOW_KEY])
    assert (tr.key, tr.value) == (got.key, got.value)  # the very record the consumer got
    assert cid in [step.actor for step in tr.steps if step.kind == "polled"]
    label = f"{got.topic}-{got.partition} offset {got.offset}"
    assert any(f"Following {label}" in m.value for m in at.markdown)  # the follow bar above the diagram
    # the row is marked, and the table comes back as a new widget with no row ticked: the next tick is a fresh
    # selection, and no tick is left on a row that the next step fills with another record
    after = _table(at, f"output_{cid}")
    assert after.value["record"][2].startswith(FOLLOW_MARK)
    assert after.key != before_key and at.session_state[after.key]["selection"]["rows"] == []


def test_an_acknowledged_batch_row_follows_its_first_record():
    at = _playground("Producers")
    s = at.session_state["kc_playground"]
    pid = s.cluster.snapshot().producers[0].id
    # the engine's own word on the newest acknowledgement (the event log, not the ledger the table reads)
    acked = [e for e in s.cluster.events.events if e.kind == "batch_acked" and pid in e.actors]
    newest = max(acked, key=lambda e: e.seq)
    table = _table(at, f"acked_{pid}").value
    assert table["first record"][0] == f"{newest.topic}-{newest.partition} @{newest.data['base_offset']}"
    _select_row(at, f"acked_{pid}", 0)
    rec = at.session_state[FOLLOW_KEY]
    assert rec == Followed(newest.topic, newest.partition, newest.data["base_offset"])
    tr = followed_trace(s.cluster, rec)
    sent_by = {step.actor for step in tr.steps if step.kind in ("sent", "acked")}
    assert sent_by == {pid} and "appended" in tr.kinds()
    assert _table(at, f"acked_{pid}").value["first record"][0].startswith(FOLLOW_MARK)


def test_a_selection_during_play_follows_without_stepping():
    at = _playground("Consumer groups")
    s = at.session_state["kc_playground"]
    at.button(key="play").click().run()
    assert s.playing
    at.run()  # AppTest has no timer: a plain run is one Play tick, and it steps
    before = s.position
    at.run()
    assert s.position > before
    cid = _live_consumer(s)
    got = list(s.cluster.consumers[cid].history)[-1]
    before = s.position
    _select_row(at, f"output_{cid}", 0)
    assert at.session_state[FOLLOW_KEY] == Followed(got.topic, got.partition, got.offset)
    assert s.position == before  # the click followed a record; it did not also step
    at.run()
    assert s.position > before  # and Play goes on


def test_rows_name_the_engine_records_and_a_lost_batch_is_followed_as_lost():
    # acks=1 loss, then the new leader writes another record at the lost one's offset
    c, leader, kept, doomed = acks1_loss()
    after = c.producers["p1"].send("orders", key="carol", value="after")
    c.run_until(lambda: after.done, 5000)
    assert after.offset == doomed.offset
    rows = acked_batch_rows(c, "p1")
    assert [r for r, _ in rows] == [
        Followed("orders", 0, after.offset),
        Followed("orders", 0, doomed.offset, True),
        Followed("orders", 0, kept.offset),
    ]
    assert rows[1][1]["status"].startswith("LOST: acks=1")
    assert (
        followed_trace(c, rows[1][0]).value == b"doomed" and followed_trace(c, rows[0][0]).value == b"after"
    )
    assert acked_batch_rows(c, "nobody") == []
    # a consumer reads the log as it is now: the record at the reused offset is "after", not the lost one
    c.restart_broker(leader)  # (the group's coordinator was on it)
    c.run_for(15_000)
    k = c.consumer("c1", group_id="g1", topics=["orders"], config=GROUP_FAST)
    for _ in range(4):
        k.poll(2000)
    out = consumer_output_rows(c, "c1")
    assert [(r, row["value"]) for r, row in out] == [
        (Followed("orders", 0, after.offset), "after"),
        (Followed("orders", 0, kept.offset), "kept"),
    ]
    assert consumer_output_rows(c, "nobody") == []


def test_a_selection_names_a_drawn_row_or_nothing():
    recs = (Followed("orders", 0, 7), Followed("orders", 1, 3, True))
    assert followed_from_rows({"selection": {"rows": [1], "columns": [], "cells": []}}, recs) == recs[1]
    for junk in (
        None,
        {},
        {"selection": {"rows": []}},
        {"selection": {"rows": [2]}},
        {"selection": {"rows": [-1]}},
        {"selection": {"rows": ["0"]}},
        {"selection": {"cells": [[0, "record"]]}},
    ):
        assert followed_from_rows(junk, recs) is None, junk


def test_acks0_producers_have_no_offsets_to_follow():
    c = Cluster(brokers=1, seed=1)
    c.create_topic("t", partitions=1, replication_factor=1)
    p = c.producer("p0", {"acks": 0, "linger.ms": 0})
    f = p.send("t", key="k", value="v")
    c.run_until(lambda: f.done, 1000)
    assert f.offset == -1 and acked_batch_rows(c, "p0") == []
