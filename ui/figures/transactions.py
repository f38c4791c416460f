"""The transaction coordinator's view (KIP-98), as rows for a table: what `kafka-transactions.sh` shows.

Pure: snapshot in, plain rows out. The markers themselves are drawn in the partition log strips
(`logs.py`); this table says, per transactional.id, which producer epoch owns it and in which state its
current transaction is, next to what each producer instance believes (a fenced zombie does not know yet).
"""

from __future__ import annotations

from engine.snapshot import ClusterSnapshot

STATE_HELP = {
    "Empty": "no transaction open",
    "Ongoing": "open: its records are in the logs, above the LSO",
    "PrepareCommit": "committing: markers being written",
    "PrepareAbort": "aborting: markers being written",
    "CompleteCommit": "last transaction committed",
    "CompleteAbort": "last transaction aborted",
}


def has_transactions(snap: ClusterSnapshot) -> bool:
    """Show the transaction views only where there is something transactional to see."""
    return (
        bool(snap.transactions)
        or any(p.transactional_id for p in snap.producers)
        or any(r.control is not None or r.txn is not None for p in snap.partitions for r in p.tail)
    )


def transaction_rows(snap: ClusterSnapshot) -> list[dict]:
    """One row per transactional.id, as the transaction coordinator (the broker leading its
    __transaction_state partition) knows it."""
    return [
        {
            "transactional.id": t.transactional_id,
            "producer id": t.producer_id,
            "epoch": t.producer_epoch,
            "state": t.state,
            "meaning": STATE_HELP.get(t.state, ""),
            "partitions": ", ".join(f"{tp}-{p}" for tp, p in t.partitions) or "—",
            "coordinator": f"broker {t.coordinator}" if t.coordinator is not None else "—",
        }
        for t in snap.transactions
    ]


def producer_txn_rows(snap: ClusterSnapshot) -> list[dict]:
    """Each transactional producer instance's own view: a zombie still thinks it is InTransaction."""
    epochs = {t.transactional_id: t.producer_epoch for t in snap.transactions}
    rows = []
    for p in snap.producers:
        if not p.transactional_id:
            continue
        current = epochs.get(p.transactional_id)
        zombie = p.producer_epoch is not None and current is not None and p.producer_epoch < current
        rows.append(
            {
                "producer": p.id,
                "transactional.id": p.transactional_id,
                "its epoch": p.producer_epoch,
                "client state": p.txn_state,
                "note": "fenced: a newer instance owns the id"
                if p.txn_state == "Fenced"
                else "zombie: a newer epoch exists; its next call fails"
                if zombie
                else "",
            }
        )
    return rows
