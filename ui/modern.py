"""Playground panels for modern Kafka (issue 11): share groups, KIP-848 member epochs, transactions.

Each panel draws only when the snapshot has something to show, so classic scenarios look as before. The
buttons turn into engine commands (`add_share_consumer`, `init_transactions`, `consume_transform_produce`,
...) through the page's own command callback, so they are recorded in the timeline: Back, Reset and
shared links replay them like any other click. `real_kafka(cmd)` is what a real cluster needs instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.snapshot import ClusterSnapshot

from .figures.member_epochs import KIP848, member_epochs_figure, member_rows
from .figures.share import share_group_ids, share_rows, share_strip
from .figures.transactions import has_transactions, producer_txn_rows, transaction_rows

BOOTSTRAP = "--bootstrap-server localhost:9092"
MODERN_OPS = (
    "add_share_consumer",
    "init_transactions",
    "begin_transaction",
    "commit_transaction",
    "abort_transaction",
    "consume_transform_produce",
)
PLOTLY_CONFIG = {"displayModeBar": False, "scrollZoom": False, "responsive": True}
Command = Callable[[Any, dict], None]


def real_kafka(cmd: dict) -> str:
    """The real-Kafka equivalent of a modern command (Java client calls where no CLI exists)."""
    op = cmd.get("op")
    p = cmd.get("producer", "producer")
    if op == "add_share_consumer":
        topics = ",".join(cmd.get("topics") or ["<topic>"])
        return (
            f"# Kafka 4.1+: share groups must be enabled once per cluster\n"
            f"kafka-features.sh {BOOTSTRAP} upgrade --feature share.version=1\n"
            f"kafka-console-share-consumer.sh {BOOTSTRAP} --topic {topics} --group {cmd.get('group')}\n"
            f"kafka-share-groups.sh {BOOTSTRAP} --describe --group {cmd.get('group')}"
        )
    if op == "init_transactions":
        return (
            f"{p}.initTransactions();   // with transactional.id set: new epoch, older instances fenced\n"
            f"kafka-transactions.sh {BOOTSTRAP} list"
        )
    if op in ("begin_transaction", "commit_transaction", "abort_transaction"):
        call = {
            "begin_transaction": "beginTransaction",
            "commit_transaction": "commitTransaction",
            "abort_transaction": "abortTransaction",
        }[op]
        return f"{p}.{call}();"
    if op == "consume_transform_produce":
        end = {
            "commit": f"{p}.commitTransaction();",
            "abort": f"{p}.abortTransaction();",
            "open": "// (the app stops here: no commit, no abort)",
        }[cmd.get("end", "commit")]
        return (
            f"// consumer: group.id={cmd.get('group')}, isolation.level=read_committed, enable.auto.commit=false\n"
            f"var records = consumer.poll(Duration.ofSeconds(1));\n{p}.beginTransaction();\n"
            f'for (var r : records) {p}.send(new ProducerRecord<>("{cmd.get("to_topic")}", r.key(), '
            f"process(r.value())));\n"
            f"{p}.sendOffsetsToTransaction(nextOffsets(records), consumer.groupMetadata());\n{end}"
        )
    return f"# no direct equivalent for {op}"


def _fresh_share_group(snap: ClusterSnapshot) -> str:
    taken = set(share_group_ids(snap)) | {g.group_id for g in snap.groups}
    n = 1
    while f"share-{n}" in taken:
        n += 1
    return f"share-{n}"


def share_controls(s: Any, snap: ClusterSnapshot, command: Command) -> None:
    """'Add a share group of 3' on a topic (scenarios cannot describe share groups), and one more member."""
    import streamlit as st

    topics = [t.name for t in snap.topics if not t.internal]
    if not topics:
        return
    with st.container(border=True, key="share_ctl"):
        st.markdown(
            "**Share groups (KIP-932)** — queues: members share partitions, records are acknowledged one "
            "by one"
        )
        with st.container(horizontal=True, vertical_alignment="bottom"):
            topic = st.selectbox("Topic", topics, key="share_topic") if len(topics) > 1 else topics[0]
            add = {
                "op": "add_share_consumer",
                "group": _fresh_share_group(snap),
                "topics": [topic],
                "count": 3,
                "config": {"share.auto.offset.reset": "earliest"},
                "release_keys": ["poison"],
            }
            st.button(
                "Add a share group of 3",
                key="add_share_group",
                on_click=command,
                args=(s, add),
                help=real_kafka(add) + "\n# records with key 'poison' are RELEASEd: watch the delivery count",
            )
        for g in snap.share_groups:
            with st.container(horizontal=True, vertical_alignment="center"):
                st.markdown(f"**{g.group_id}**")
                for m in g.members:
                    crash = {"op": "crash_consumer", "consumer": m}
                    st.button(
                        f"Crash {m}",
                        key=f"crash_share_{m}",
                        on_click=command,
                        args=(s, crash),
                        help=f"kill -9 <pid of {m}>   # its acquired records come back when their "
                        f"locks expire (group.share.record.lock.duration.ms)",
                    )
                more = {"op": "add_share_consumer", "group": g.group_id}
                st.button(
                    "Add a member",
                    key=f"add_share_{g.group_id}",
                    on_click=command,
                    args=(s, more),
                    help=real_kafka({**more, "topics": topics[:1]}),
                )


def share_panel(snap: ClusterSnapshot) -> None:
    """The share-partition strip and the describe table, for each share group."""
    import streamlit as st

    from .live_chart import live_chart

    ids = share_group_ids(snap)
    if not ids:
        return
    st.markdown("#### Share groups (KIP-932)")
    gid = st.selectbox("Share group", ids, key="share_pick") if len(ids) > 1 else ids[0]
    st.caption(
        "Between the share-partition start offset (SPSO) and end offset (SPEO) each record has a state: "
        "Acquired by one member under a lock, Acknowledged, Available again after a RELEASE or an expired "
        "lock, or Archived at group.share.delivery.count.limit. Under each cell: its owner and ×delivery "
        "count."
    )
    live_chart(share_strip(snap, gid), "share_strip", PLOTLY_CONFIG)  # changes on every Step
    st.markdown(f"`kafka-share-groups.sh {BOOTSTRAP} --describe --group {gid}`")
    st.dataframe(_table(share_rows(snap, gid)), hide_index=True, width="stretch")


def member_epochs_panel(snap: ClusterSnapshot, group_id: str) -> bool:
    """For a group on group.protocol=consumer: the member-epoch view (True if drawn)."""
    import streamlit as st

    from .live_chart import live_chart

    g = next((x for x in snap.groups if x.group_id == group_id), None)
    if g is None or g.rebalance != KIP848:
        return False
    st.caption(
        "group.protocol=consumer (KIP-848): no JoinGroup/SyncGroup barrier. The broker bumps the group "
        "epoch and each member catches up in its own heartbeats; members behind it are reconciling, and "
        "everyone keeps consuming the partitions that do not move."
    )
    live_chart(member_epochs_figure(snap, group_id), f"member_epochs_{group_id}", PLOTLY_CONFIG)
    st.dataframe(_table(member_rows(snap, group_id)), hide_index=True, width="stretch")
    return True


def transactions_panel(snap: ClusterSnapshot) -> None:
    """The transaction coordinator's table and each transactional producer's own view."""
    import streamlit as st

    if not has_transactions(snap):
        return
    st.markdown("#### Transactions")
    st.caption(
        "Black cells in the logs are transaction markers (COMMIT / ABORT): control records the coordinator "
        "writes. Struck-through cells belong to aborted transactions: read_committed consumers skip them "
        "and never read past the LSO (last stable offset)."
    )
    rows = transaction_rows(snap)
    if rows:
        st.markdown(f"`kafka-transactions.sh {BOOTSTRAP} describe --transactional-id <id>`")
        st.dataframe(_table(rows), hide_index=True, width="stretch")
    prows = producer_txn_rows(snap)
    if prows:
        st.dataframe(_table(prows), hide_index=True, width="stretch")


def txn_controls(s: Any, snap: ClusterSnapshot, pid: str, command: Command) -> None:
    """Buttons for one transactional producer: the KafkaProducer calls, and one exactly-once loop round."""
    import streamlit as st

    p = next((x for x in snap.producers if x.id == pid), None)
    if p is None or not p.transactional_id:
        return
    st.markdown(
        f"**Transactions** — `{pid}` has transactional.id `{p.transactional_id}` (client state "
        f"{p.txn_state}, epoch {p.producer_epoch if p.producer_epoch is not None else '—'})"
    )
    with st.container(horizontal=True):
        for op, label in (
            ("init_transactions", "initTransactions()"),
            ("begin_transaction", "beginTransaction()"),
            ("commit_transaction", "commitTransaction()"),
            ("abort_transaction", "abortTransaction()"),
        ):
            cmd = {"op": op, "producer": pid}
            st.button(label, key=f"{op}_{pid}", on_click=command, args=(s, cmd), help=real_kafka(cmd))
    topics = [t.name for t in snap.topics if not t.internal]
    out = s.topic_of().get(pid)
    sources = [t for t in topics if t != out]
    if out and sources:
        st.caption(
            f"Consume-transform-produce: read {sources[0]}, write {out}, commit the offsets with the results."
        )
        with st.container(horizontal=True):
            for end, label in (
                ("commit", "…and commit"),
                ("abort", "…and abort"),
                ("open", "…and stop (leave open)"),
            ):
                cmd = {
                    "op": "consume_transform_produce",
                    "producer": pid,
                    "consumer": f"{pid}-in",
                    "group": f"{p.transactional_id}-app",
                    "from_topic": sources[0],
                    "to_topic": out,
                    "end": end,
                }
                st.button(
                    f"Process a batch {label}",
                    key=f"ctp_{end}_{pid}",
                    on_click=command,
                    args=(s, cmd),
                    help=real_kafka(cmd),
                )


def _table(rows: list[dict]) -> list[dict]:
    return [{k: "—" if v is None else str(v) for k, v in r.items()} for r in rows]


LESSON_VIEWS = ("share", "member_epochs", "transactions")


def lesson_view(view: str, snap: ClusterSnapshot, groups: list[str]) -> None:
    """The Lessons page's `share`, `member_epochs` and `transactions` views (lessons/README.md)."""
    import streamlit as st

    if view == "share":
        for gid in share_group_ids(snap):
            st.markdown(
                f"**Share group `{gid}`** — in-flight records between the SPSO and the SPEO, by state"
            )
            st.plotly_chart(share_strip(snap, gid), key=f"lesson_share_{gid}", config=PLOTLY_CONFIG)
    elif view == "member_epochs":
        ids = [g.group_id for g in snap.groups if g.rebalance == KIP848]
        for gid in [g for g in groups if g in ids] or ids:
            st.markdown(f"**Group `{gid}` (KIP-848)** — the group epoch against each member's epoch")
            st.plotly_chart(
                member_epochs_figure(snap, gid), key=f"lesson_member_epochs_{gid}", config=PLOTLY_CONFIG
            )
    elif view == "transactions":
        rows = transaction_rows(snap)
        if rows:
            st.markdown("**The transaction coordinator** (`kafka-transactions.sh describe`)")
            st.dataframe(_table(rows), hide_index=True, width="stretch", key="lesson_txn")
        prows = producer_txn_rows(snap)
        if prows:
            st.dataframe(_table(prows), hide_index=True, width="stretch", key="lesson_txn_producers")
