"""Modern Kafka views (issue 11) on real engine snapshots: the share-partition strip, the KIP-848 member-epoch
view, transaction markers in the log strip; and the Playground panels that show them only when needed.

Shapes are named (``share:<group>:jobs-0@7``, ``member:c1``, ``marker:out-0@3``), so the tests read the
picture the way a student sees it: which cell has which state colour, who is at which epoch.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest
from ui_fixtures import chart_specs

from engine import Cluster
from engine.scenario import PRESETS, validate_scenario
from lessons.loader import find_lesson
from ui import kafka_cli
from ui.figures import style as S
from ui.figures.logs import log_strips
from ui.figures.member_epochs import RECONCILING, member_epochs_figure, member_rows
from ui.figures.share import STATE_STYLE, share_rows, share_strip
from ui.figures.transactions import has_transactions, producer_txn_rows, transaction_rows
from ui.modern import real_kafka
from ui.session import SESSION_KEY

ROOT = Path(__file__).resolve().parents[2]


def shapes(fig: go.Figure) -> dict[str, dict]:
    return {s.name: s.to_plotly_json() for s in fig.layout.shapes if s.name}


def texts(fig: go.Figure) -> list[str]:
    return [a.text for a in fig.layout.annotations]


# -- real snapshots --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def share_snap():
    """One partition, three share consumers: some records acquired, some acknowledged, one released (delivery
    count 2), and a poison record archived at group.share.delivery.count.limit=2."""
    c = Cluster(brokers=3, seed=5, config={"group.share.delivery.count.limit": 2})
    c.create_topic("jobs", partitions=1, replication_factor=3)
    p = c.producer("p1")
    p.send("jobs", key="poison", value="bad")
    for i in range(11):
        p.send("jobs", key=f"job-{i}", value=f"v{i}")
    p.flush()
    cfg = {
        "share.auto.offset.reset": "earliest",
        "share.acknowledgement.mode": "explicit",
        "max.poll.records": 3,
    }
    s1, s2, s3 = (c.share_consumer(f"s{i}", "workers", ["jobs"], cfg) for i in (1, 2, 3))
    for _ in range(2):  # the poison record (offset 0) is released twice: archived at the limit
        for r in s1.poll(2000):
            s1.acknowledge(r, "RELEASE" if r.key == b"poison" else "ACCEPT")
        s1.commit()
    got2 = s2.poll(2000)
    s2.acknowledge(got2[0], "RELEASE")  # back to Available with delivery count 1 ...
    s2.commit()
    c.run_for(100)
    s3.poll(2000)  # ... and acquired again by s3: delivery count 2
    s2.acknowledge(got2[1], "ACCEPT")
    s2.commit()
    c.run_for(100)
    return c.snapshot()


@pytest.fixture(scope="module")
def kip848_snaps():
    """A KIP-848 group of three while a fourth member joins (Reconciling), and once it settled (Stable)."""
    c = Cluster(brokers=3, seed=21)
    c.create_topic("orders", partitions=6, replication_factor=1)
    cfg = {"auto.offset.reset": "earliest", "group.protocol": "consumer"}
    for i in (1, 2, 3):
        c.consumer(f"c{i}", group_id="g", topics=["orders"], config=cfg).start(100)
    c.run_for(12_000)
    c.consumer("c4", group_id="g", topics=["orders"], config=cfg).start(100)
    for _ in range(500):
        c.step_event()
        if c.snapshot(tail=0).group("g").state == "Reconciling":
            break
    reconciling = c.snapshot()
    c.run_for(12_000)
    return reconciling, c.snapshot()


@pytest.fixture(scope="module")
def txn_snap():
    """out-0: a committed transaction, an aborted one, then an open one (the LSO stops before it)."""
    c = Cluster(brokers=3, seed=2)
    c.create_topic("out", partitions=1, replication_factor=3, config={"min.insync.replicas": 2})
    c.create_topic("plain", partitions=1, replication_factor=3)
    c.producer("p0").send("plain", value="x")
    p = c.producer("p", {"transactional.id": "t1"})
    p.init_transactions()
    for end in ("commit", "abort", "open"):
        p.begin_transaction() if end != "open" or p.txn.state == "Ready" else None
        for i in range(2):
            p.send("out", key=f"k{i}", value=f"{end}-{i}")
        p.flush()
        if end == "commit":
            p.commit_transaction()
        elif end == "abort":
            p.abort_transaction()
    c.run_for(500)
    return c.snapshot()


# -- the share-partition strip ---------------------------------------------------------------------------------------
def test_share_strip_has_one_cell_per_in_flight_record_in_its_state_colour(share_snap):
    (g,) = share_snap.share_groups
    (sp,) = g.partitions
    assert {r.state for r in sp.records} >= {"Acquired", "Acknowledged"}
    fig = share_strip(share_snap, "workers")
    sh = shapes(fig)
    cells = {n: s for n, s in sh.items() if n.startswith("share:workers:jobs-0@")}
    assert len(cells) == len(sp.records)
    for r in sp.records:
        cell = cells[f"share:workers:jobs-0@{r.offset}"]
        fill, line, _ = STATE_STYLE[r.state]
        assert cell["fillcolor"] == fill and cell["line"]["color"] == line
    # owners and delivery counts are written under the cells; the redelivered one says x2
    owned = [r for r in sp.records if r.owner]
    assert owned and all(r.owner in texts(fig) for r in owned)
    assert any(r.delivery_count == 2 for r in sp.records) and "×2" in texts(fig)
    assert "spso:workers:jobs-0" in sh and "speo:workers:jobs-0" in sh
    assert any("SPSO" in t for t in texts(fig))


def test_share_strip_shows_the_archived_poison_record_behind_the_spso(share_snap):
    sp = share_snap.share_groups[0].partitions[0]
    assert sp.archived == (0,) and sp.start_offset > 0
    fig = share_strip(share_snap, "workers")
    assert "<b>◀ archived 0</b>" in texts(fig)  # behind the window: said at its left edge
    # archived inside the window: a finished cell, red and crossed
    g = share_snap.share_groups[0]
    near = dataclasses.replace(sp, archived=(sp.start_offset - 1,))
    snap = dataclasses.replace(share_snap, share_groups=(dataclasses.replace(g, partitions=(near,)),))
    sh = shapes(share_strip(snap, "workers"))
    done = sh[f"done:workers:jobs-0@{sp.start_offset - 1}"]
    assert done["fillcolor"] == S.DOWN_FILL and done["line"]["color"] == S.VERMILLION
    assert f"archived-x:jobs-0@{sp.start_offset - 1}:0" in sh
    assert sh[f"done:workers:jobs-0@{sp.start_offset - 2}"]["fillcolor"] != S.DOWN_FILL
    rows = share_rows(share_snap, "workers")
    assert rows[0]["start offset (SPSO)"] == sp.start_offset and rows[0]["max delivery count"] == 2


def test_share_strip_without_share_groups_says_so(kip848_snaps):
    fig = share_strip(kip848_snaps[1])
    assert "No share group yet." in texts(fig) and not fig.layout.shapes


# -- the KIP-848 member-epoch view --------------------------------------------------------------------------------
def test_member_epoch_view_shows_every_member_with_its_epoch_and_highlights_reconciling_ones(kip848_snaps):
    reconciling, _ = kip848_snaps
    g = reconciling.group("g")
    assert g.state == "Reconciling" and g.rebalance == "consumer (KIP-848)"
    fig = member_epochs_figure(reconciling, "g")
    sh = shapes(fig)
    epochs = {t.name: t.text[0] for t in fig.data if (t.name or "").startswith("epoch:")}
    assert {m.client_id for m in g.members} == {n.split(":", 1)[1] for n in epochs}
    for m in g.members:
        assert epochs[f"epoch:{m.client_id}"] == f"<b>{m.member_epoch}</b>"
        row = sh[f"member:{m.client_id}"]
        behind = m.member_epoch != g.generation
        assert (row["line"]["color"] == RECONCILING and row["line"]["dash"] == "dash") is behind
        for t, p in m.assignment:
            assert f"tp:{m.client_id}:{t}-{p}" in sh
    assert any(m.member_epoch < g.generation for m in g.members)  # someone is behind the group epoch ...
    assert f"<b>group epoch {g.generation}</b>" in texts(fig) and "group-epoch" in sh
    assert any(t.startswith("reconciling:") for t in texts(fig))  # ... and the view says who


def test_member_epoch_view_once_settled_and_for_groups_without_kip848(kip848_snaps, txn_snap):
    _, stable = kip848_snaps
    g = stable.group("g")
    fig = member_epochs_figure(stable, "g")
    assert g.state == "Stable" and len(g.members) == 4
    assert all(sh["line"]["dash"] == "solid" for n, sh in shapes(fig).items() if n.startswith("member:"))
    rows = member_rows(stable, "g")
    assert [r["member"] for r in rows] == ["c1", "c2", "c3", "c4"]
    assert all(r["member epoch"] == g.generation and not r["reconciling"] for r in rows)
    assert any("group.protocol=consumer" in t for t in texts(member_epochs_figure(txn_snap)))


# -- transactions in the log strip --------------------------------------------------------------------------------
def test_log_strip_draws_commit_and_abort_markers_aborted_records_and_the_lso(txn_snap):
    p = txn_snap.partition("out", 0)
    fig = log_strips(txn_snap, "out")
    sh = shapes(fig)
    markers = {r.offset: r.control for r in p.tail if r.control}
    assert list(markers.values()) == ["COMMIT", "ABORT"]
    for off, kind in markers.items():
        cell = sh[f"marker:out-0@{off}"]
        assert cell["fillcolor"] == S.BLACK and cell["label"]["text"] in (
            f"<b>{kind}</b>",
            f"<b>{kind[0]}</b>",
        )
        assert f"cell:out-0@{off}" not in sh  # a marker is not drawn as a record
    aborted = [r.offset for r in p.tail if r.txn == "aborted"]
    assert len(aborted) == 2 and all(f"aborted-x:out-0@{o}" in sh for o in aborted)
    assert all(sh[f"cell:out-0@{o}"]["line"]["dash"] == "dot" for o in aborted)
    open_ = [r.offset for r in p.tail if r.txn == "open"]
    assert len(open_) == 2 and all(sh[f"cell:out-0@{o}"]["line"]["dash"] == "dash" for o in open_)
    assert p.last_stable_offset == open_[0] < p.high_watermark
    assert sh["lso:out-0"]["x0"] == p.last_stable_offset - 0.5  # the window starts at offset 0 here
    assert "<b>LSO</b>" in texts(fig)
    legend = {t.name for t in fig.data}
    assert {"COMMIT / ABORT marker", "aborted txn record"} <= legend
    plain = shapes(log_strips(txn_snap, "plain"))
    assert "lso:plain-0" not in plain and not any(n.startswith("marker:") for n in plain)


def test_transaction_tables(txn_snap):
    assert has_transactions(txn_snap)
    (row,) = transaction_rows(txn_snap)
    assert row["transactional.id"] == "t1" and row["state"] == "Ongoing" and row["partitions"] == "out-0"
    (prow,) = producer_txn_rows(txn_snap)
    # transaction.version=2 (KIP-890): the commit and the abort each bumped the epoch (0 -> 1 -> 2)
    assert prow["client state"] == "InTransaction" and prow["its epoch"] == 2


def test_every_modern_builder_output_passes_plotly_validation(share_snap, kip848_snaps, txn_snap):
    for fig in (
        share_strip(share_snap),
        share_strip(txn_snap),
        member_epochs_figure(kip848_snaps[0]),
        member_epochs_figure(kip848_snaps[1]),
        member_epochs_figure(share_snap),
        log_strips(txn_snap, "out"),
    ):
        go.Figure(fig.to_plotly_json())  # raises ValueError on any invalid property


def test_real_kafka_equivalents_of_the_modern_commands():
    share = kafka_cli.for_command({"op": "add_share_consumer", "group": "workers", "topics": ["jobs"]})
    assert (
        "kafka-console-share-consumer.sh" in share
        and "--group workers" in share
        and "share.version=1" in share
    )
    assert "initTransactions()" in kafka_cli.for_command({"op": "init_transactions", "producer": "app"})
    loop = real_kafka(
        {
            "op": "consume_transform_produce",
            "producer": "app",
            "group": "g",
            "to_topic": "out",
            "end": "abort",
        }
    )
    assert "sendOffsetsToTransaction" in loop and loop.rstrip().endswith("app.abortTransaction();")


# -- the Playground panels --------------------------------------------------------------------------------------
def _playground(scenario) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("ui/playground.py").run()
    at.session_state[SESSION_KEY].load(scenario)
    at.run()
    assert not at.exception, at.exception
    return at


def _charts(at: AppTest) -> list[dict]:
    return chart_specs(at)


def _names(spec: dict) -> list[str]:
    return [sh.get("name") or "" for sh in spec["layout"].get("shapes", [])]


def _panel(at: AppTest, label: str) -> None:
    at.session_state["panel"] = label  # lazy tabs: only the open one runs
    at.run()
    assert not at.exception, at.exception


def test_playground_adds_a_share_group_and_shows_its_strip_only_then():
    at = _playground(PRESETS["Share group (KIP-932)"])
    _panel(at, "Consumer groups")
    assert not any(
        any(n.startswith("lane:share") or n.startswith("share:") for n in _names(c)) for c in _charts(at)
    )
    at.button(key="add_share_group").click().run()
    assert not at.exception, at.exception
    s = at.session_state[SESSION_KEY]
    assert sorted(s.cluster.share_consumers) == ["s1", "s2", "s3"]
    assert s.timeline.commands[-1][1].op == "add_share_consumer"  # recorded: Back and links replay it
    for _ in range(3):
        at.button(key="skip_1s").click().run()
    strips = [c for c in _charts(at) if any(n.startswith("lane:share-1:") for n in _names(c))]
    assert len(strips) == 1 and any(n.startswith("share:share-1:jobs-0@") for n in _names(strips[0]))
    assert any("kafka-share-groups.sh" in m.value for m in at.markdown)


def test_playground_transaction_buttons_markers_and_kip848_view():
    at = _playground(PRESETS["Transactions"])
    _panel(at, "Producers")
    at.selectbox(key="producer_pick").select("billing-1").run()
    at.button(key="ctp_commit_billing-1").click().run()
    at.button(key="ctp_open_billing-1").click().run()
    at.selectbox(key="producer_pick").select("billing-2").run()
    at.button(key="init_transactions_billing-2").click().run()
    at.selectbox(key="producer_pick").select("billing-1").run()
    at.button(key="commit_transaction_billing-1").click().run()  # the zombie: a message, not a traceback
    assert not at.exception, at.exception
    assert any(
        "ProducerFencedError" in e.summary for e in at.session_state[SESSION_KEY].cluster.events.events
    )
    _panel(at, "Partition logs")
    at.selectbox(key="log_topic").select("receipts").run()
    logs = next(c for c in _charts(at) if any(n.startswith("lane:receipts-") for n in _names(c)))
    assert sum(n.startswith("marker:receipts-0@") for n in _names(logs)) == 2  # COMMIT, then ABORT
    assert any(n.startswith("aborted-x:receipts-0@") for n in _names(logs))
    assert len(at.dataframe) >= 3  # topic table + the coordinator's table + the producers' own view

    kip848 = validate_scenario(
        {
            "topics": [{"name": "orders", "partitions": 4, "replication_factor": 1}],
            "groups": [
                {
                    "group_id": "modern",
                    "topics": ["orders"],
                    "members": 2,
                    "config": {"group.protocol": "consumer"},
                }
            ],
        }
    )
    at.session_state[SESSION_KEY].load(kip848)
    at.session_state[SESSION_KEY].apply({"op": "run_for", "ms": 12000})
    _panel(at, "Consumer groups")
    charts = _charts(at)
    assert any("group-epoch" in _names(c) for c in charts)
    assert not any(any(n.startswith("state:") for n in _names(c)) for c in charts)  # not the classic machine


@pytest.mark.parametrize(
    "lesson, step, shape",
    [
        ("share-groups", "2", "share:workers:jobs-0@"),
        ("kip848-rebalance", "2", "group-epoch"),
        ("transactions-exactly-once", "3", "marker:receipts-0@"),
    ],
)
def test_lessons_page_draws_the_modern_views(lesson, step, shape):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["lesson"], at.query_params["step"] = lesson, step
    at.run()
    at.switch_page("ui/lessons_page.py").run()
    assert not at.exception, at.exception
    radio = [r for r in at.radio if not r.disabled]
    if radio:  # a link opens the step's question unanswered (issue 16): answer it to see the step's picture
        s = at.session_state["kc_lessons"]
        predict = find_lesson(s.lesson_id).steps[s.step].predict
        radio[0].set_value(predict.choices[predict.answer]).run()
        at.button(key="predict_check").click().run()
    assert any(any(n.startswith(shape) for n in _names(c)) for c in _charts(at))
    if lesson.startswith("transactions"):
        assert any("kafka-transactions.sh" in m.value for m in at.markdown)  # the coordinator's table
