"""Pure views of a lesson step's results for the Lessons page: what happened, lost records, the sweep chart.

Snapshot / events / sweep rows in, plain data or a plotly figure out; no Streamlit here, so the page
stays thin and these are testable alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import plotly.graph_objects as go

from engine.events import Event
from engine.snapshot import ClusterSnapshot

# Most telling first: what a student should read about a step, in this order.
HEADLINE_KINDS = (
    "records_lost",
    "partition_offline",
    "leader_elected",
    "controller_elected",
    "broker_crashed",
    "broker_stopped",
    "controlled_shutdown",
    "broker_fenced",
    "produce_rejected",
    "truncated",
    "isr_shrink",
    "isr_expand",
    "member_expired",
    "consumer_crashed",
    "consumer_closed",
    "member_left",
    "rebalance_started",
    "partitions_revoked",
    "rebalance_completed",
    "assignment_received",
    "duplicate_batch",
    "batch_retried",
    "message_dropped",
    "offsets_committed",
    "segments_deleted",
    "log_compacted",
    "segment_rolled",
    "reassignment_started",
    "reassignment_completed",
    "broker_added",
    "broker_restarted",
    "broker_slowed",
    "topic_created",
    "partitions_added",
    "note",
)
QUIET = frozenset(
    {
        "batch_sent",
        "batch_appended",
        "batch_acked",
        "records_replicated",
        "high_watermark",
        "records_fetched",
        "records_polled",
        "offset_reset",
        "member_joined",
        "broker_unfenced",
        "cluster_created",
    }
)
SWEEP_LABELS = {
    "records_per_request": "records per Produce request",
    "requests_per_s": "Produce requests / s",
    "acked_per_s": "records acknowledged / s",
    "p50_latency_ms": "median time to ack (ms)",
    "p99_latency_ms": "p99 time to ack (ms)",
    "wire_kb": "KB on the wire",
    "compression_ratio": "compression ratio",
}


def headline_events(events: list[Event], limit: int = 6) -> list[Event]:
    """The events worth a sentence: important kinds first, one per distinct summary, at most `limit`."""
    rank = {k: i for i, k in enumerate(HEADLINE_KINDS)}
    seen: set[str] = set()
    picked: list[Event] = []
    for e in sorted((e for e in events if e.kind not in QUIET), key=lambda e: (rank.get(e.kind, 99), e.seq)):
        key = e.kind + e.summary.split(":")[0]
        if key in seen:
            continue
        seen.add(key)
        picked.append(e)
        if len(picked) >= limit:
            break
    return sorted(picked, key=lambda e: e.seq)


def traffic_summary(events: list[Event]) -> str:
    """One line for the routine traffic a step produced (appends, fetches, polls)."""
    appended = sum(e.data.get("records", 0) for e in events if e.kind == "batch_appended")
    polled = sum(e.data.get("records", 0) for e in events if e.kind == "records_polled")
    copied = sum(e.data.get("records", 0) for e in events if e.kind == "records_replicated")
    parts = []
    if appended:
        parts.append(f"{appended} record(s) appended")
    if copied:
        parts.append(f"{copied} copied by followers")
    if polled:
        parts.append(f"{polled} delivered to consumers")
    return ", ".join(parts)


def lost_rows(snap: ClusterSnapshot) -> list[dict[str, Any]]:
    """Acknowledged records that are gone, for a table in red."""

    def text(b: bytes | None) -> str:
        return "null" if b is None else b.decode("utf-8", "replace")

    return [
        {
            "partition": f"{r.topic}-{r.partition}",
            "offset": r.offset,
            "key": text(r.key),
            "value": text(r.value),
            "why it is gone": r.reason,
        }
        for r in snap.lost
    ]


def sweep_figure(
    sweep: dict[str, Any], x: str = "records_per_request", y: str = "p50_latency_ms"
) -> go.Figure:
    """Throughput against latency: one point per run, labelled with the swept value."""
    rows = sweep["rows"]
    fig = go.Figure(
        go.Scatter(
            x=[r[x] for r in rows],
            y=[r[y] for r in rows],
            mode="lines+markers+text",
            text=[f"{sweep['config']}={r['value']}" for r in rows],
            textposition=[
                "bottom right"
                if i == 0
                else "top center"
                if r[x] < 0.25 * max(q[x] for q in rows)
                else "top left"
                for i, r in enumerate(rows)
            ],
            marker=dict(size=14, color="#0072B2"),
            line=dict(color="#0072B2", width=2),
            hovertext=[
                f"{sweep['config']}={r['value']}: {r[x]} {SWEEP_LABELS[x]}, {r[y]} ms, {r['wire_kb']} KB on the "
                f"wire, {r['acked_per_s']:.0f} records/s acknowledged"
                for r in rows
            ],
            hoverinfo="text",
        )
    )
    fig.update_layout(
        height=420,
        margin=dict(l=60, r=30, t=50, b=60),
        paper_bgcolor="white",
        plot_bgcolor="white",
        font=dict(size=15, color="#1F2430"),
        title=dict(text=f"Bigger batches cost waiting time ({sweep['config']} swept)", x=0.01),
        xaxis=dict(
            title=SWEEP_LABELS[x] + " →  fewer, bigger requests",
            gridcolor="#D0D5DD",
            range=[0, max(r[x] for r in rows) * 1.1],
        ),
        yaxis=dict(
            title=SWEEP_LABELS[y],
            gridcolor="#D0D5DD",
            range=[-0.08 * max(r[y] for r in rows), max(r[y] for r in rows) * 1.15],
        ),
        dragmode=False,
    )
    return fig


def sweep_table(sweep: dict[str, Any]) -> list[dict[str, Any]]:
    cols = (
        "records_per_request",
        "requests_per_s",
        "acked_per_s",
        "p50_latency_ms",
        "wire_kb",
        "compression_ratio",
    )
    return [{sweep["config"]: r["value"], **{SWEEP_LABELS[c]: r[c] for c in cols}} for r in sweep["rows"]]


GROUP_PALETTE = ("#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#000000", "#F0E442")  # the app's group colours


def assignment_figure(
    snap: ClusterSnapshot, groups: list[str] | None = None, colour_of: Callable[[str], str] | None = None
) -> go.Figure:
    """Who reads which partition: one row per consumer, one column per partition, grouped by consumer group.

    The one picture that tells a queue from pub-sub: inside a group each partition has one reader; two
    groups each read every partition.
    """
    gids = sorted({k.group_id for k in snap.consumers if k.group_id}) if not groups else list(groups)
    colour_of = colour_of or (
        lambda g: GROUP_PALETTE[sorted(gids).index(g) % len(GROUP_PALETTE)] if g in gids else "#6B7280"
    )
    topics = sorted(
        {t for k in snap.consumers if k.group_id in gids for t, _ in k.assignment}
        | {p.topic for p in snap.partitions if not p.topic.startswith("__")}
    )
    parts = [
        f"{p.topic}-{p.partition}"
        for p in sorted(snap.partitions, key=lambda p: (p.topic, p.partition))
        if p.topic in topics
    ]
    rows: list[tuple[str, str, Any]] = []  # (group, consumer, view)
    for g in gids:
        in_group = sorted((k for k in snap.consumers if k.group_id == g), key=lambda k: (len(k.id), k.id))
        rows += [(g, k.id, k) for k in in_group]
    row_h, head_h = 38, 34
    ncol = max(1, len(parts))
    label_px, cell_px = 140, 118
    left = label_px / cell_px  # x unit = one partition column
    width = int(label_px + cell_px * ncol + 20)
    height = head_h + row_h * max(1, len(rows)) + 34 * len(gids) + 44
    shapes: list[dict] = []
    ann: list[dict] = []
    y = head_h
    for j, name in enumerate(parts):
        ann.append(
            dict(
                x=left + j + 0.5,
                y=head_h - 12,
                text=f"<b>{name}</b>",
                showarrow=False,
                xref="x",
                yref="y",
                font=dict(size=14),
            )
        )
    for g in gids:
        col = colour_of(g)
        members = [r for r in rows if r[0] == g]
        owned_in_group = {f"{t}-{n}" for _, _, k in members if k.alive for t, n in k.assignment}
        covered = sum(1 for name in parts if name in owned_in_group)
        note = (
            f"each of the {len(parts)} partitions has one reader in this group"
            if covered == len(parts)
            else f"{len(parts) - covered} of {len(parts)} partitions have no reader"
        )
        ann.append(
            dict(
                x=0,
                y=y + 12,
                text=f"<b>{g}</b>  <span style='color:#6B7280'>· {note}</span>",
                showarrow=False,
                xanchor="left",
                xref="x",
                yref="y",
                font=dict(size=14, color=col),
            )
        )
        y += 22
        for _, cid, k in members:
            owned = {f"{t}-{n}" for t, n in k.assignment}
            state = "" if k.alive and k.state == "stable" else f" ({k.state})"
            idle = " · idle" if k.alive and not owned and k.state == "stable" else ""
            ann.append(
                dict(
                    x=0.15,
                    y=y + row_h / 2,
                    text=f"{cid}{state}{idle}",
                    showarrow=False,
                    xanchor="left",
                    xref="x",
                    yref="y",
                    font=dict(size=14, color="#1F2430" if k.alive else "#D55E00"),
                )
            )
            for j, name in enumerate(parts):
                mine = name in owned
                x0, x1 = left + j + 0.06, left + j + 0.94
                fill = col if mine and k.alive else ("#FBE3D6" if mine else "#F2F4F7")
                shapes.append(
                    dict(
                        type="rect",
                        name=f"cell:{g}:{cid}:{name}",
                        x0=x0,
                        x1=x1,
                        y0=y + 4,
                        y1=y + row_h - 4,
                        xref="x",
                        yref="y",
                        fillcolor=fill,
                        line=dict(
                            color=col if mine else "#D0D5DD",
                            width=1.5,
                            dash="solid" if k.alive or not mine else "dash",
                        ),
                    )
                )
                if mine:
                    ann.append(
                        dict(
                            x=left + j + 0.5,
                            y=y + row_h / 2,
                            text="reads" if k.alive else "stuck",
                            showarrow=False,
                            xref="x",
                            yref="y",
                            font=dict(size=13, color="white" if k.alive else "#D55E00"),
                        )
                    )
                elif name not in owned_in_group and k is members[-1][2]:
                    ann.append(
                        dict(
                            x=left + j + 0.5,
                            y=y + row_h + 9,
                            text="nobody reads it",
                            showarrow=False,
                            xref="x",
                            yref="y",
                            font=dict(size=11, color="#D55E00"),
                        )
                    )
            y += row_h
        y += 10
    fig = go.Figure()
    fig.update_layout(
        shapes=shapes,
        annotations=ann,
        height=height,
        width=width,
        margin=dict(l=8, r=8, t=34, b=8),
        paper_bgcolor="white",
        plot_bgcolor="white",
        font=dict(size=14, color="#1F2430"),
        title=dict(text="Who reads which partition", x=0.01, font=dict(size=16)),
        xaxis=dict(range=[0, left + ncol + 0.05], visible=False, fixedrange=True),
        yaxis=dict(range=[y + 6, 0], visible=False, fixedrange=True),
        dragmode=False,
        showlegend=False,
    )
    return fig


__all__ = [
    "headline_events",
    "traffic_summary",
    "lost_rows",
    "sweep_figure",
    "sweep_table",
    "assignment_figure",
    "record_rows",
    "revoked_by_group",
]


def revoked_by_group(events: list[Event], groups: list[str]) -> dict[str, dict[str, list[str]]]:
    """Per group, per member: the partitions it gave up in rebalances (eager revokes all, cooperative only movers)."""
    out: dict[str, dict[str, list[str]]] = {g: {} for g in groups}
    for e in events:
        g = e.data.get("group")
        if e.kind != "partitions_revoked" or g not in out or e.data.get("lost"):
            continue
        member = e.actors[0] if e.actors else "?"
        out[g].setdefault(member, []).extend(f"{t}-{p}" for t, p in e.data.get("partitions", ()))
    return out


def record_rows(snap: ClusterSnapshot, topic: str | None) -> list[dict[str, Any]]:
    """The newest records of a topic's partitions, oldest first, with acknowledged-but-lost records in place.

    A table a student can read without the diagram: which record is where, and which are gone and why.
    """

    def text(b: bytes | None) -> str:
        return "null (tombstone)" if b is None else b.decode("utf-8", "replace")

    rows = []
    for p in sorted((p for p in snap.partitions if p.topic == topic), key=lambda p: p.partition):
        for r in p.tail:
            committed = r.offset < p.high_watermark
            why = "" if committed else "above the high watermark: not on every in-sync replica yet"
            if p.offline:
                why = "the partition is offline (no leader): unreadable until an in-sync replica returns"
            state = "committed" if committed else "not committed"
            if r.control is not None:  # transactions (KIP-98): a marker is a record, but no consumer gets it
                state, why = f"{r.control} marker", "a control record from the transaction coordinator"
            elif r.txn in ("aborted", "open"):
                state = f"{r.txn} transaction"
                why = (
                    "read_committed consumers skip it"
                    if r.txn == "aborted"
                    else "above the last stable offset: read_committed consumers wait"
                )
            rows.append(
                {
                    "partition": f"{p.topic}-{p.partition}",
                    "offset": r.offset,
                    "key": "—" if r.control else text(r.key),
                    "value": "—" if r.control else text(r.value),
                    "state": state,
                    "why": why,
                    "lost": False,
                }
            )
        for lr in p.lost:
            rows.append(
                {
                    "partition": f"{p.topic}-{p.partition}",
                    "offset": lr.offset,
                    "key": text(lr.key),
                    "value": text(lr.value),
                    "state": "LOST",
                    "why": lr.reason,
                    "lost": True,
                }
            )
    rows.sort(key=lambda r: (r["partition"], r["offset"], r["lost"]))
    return rows
