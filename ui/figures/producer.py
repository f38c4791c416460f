"""The producer panel: each partition's batch filling towards batch.size, its linger timer, and what is in flight.

Pure: `producer_panel(snapshot, producer_id, topic) -> go.Figure`. One row per partition of the
producer's topic, always in the same place (so nothing jumps): the RecordAccumulator keeps one open
batch per partition, which leaves when it is full (batch.size) or old enough (linger.ms).
"""

from __future__ import annotations

import plotly.graph_objects as go

from engine.snapshot import BatchView, ClusterSnapshot, ProducerView

from . import style as S

STATE_COLOURS = {"open": S.SKY, "ready": S.GREEN, "in_flight": S.BLUE, "retrying": S.VERMILLION}
STATE_WORDS = {
    "open": "filling (open)",
    "ready": "ready to send",
    "in_flight": "in flight",
    "retrying": "retrying",
}
ROW_PX = 40


def _topic_of(snap: ClusterSnapshot, pv: ProducerView, topic: str | None) -> str | None:
    if topic:
        return topic
    seen = sorted({b.topic for b in pv.batches})
    if seen:
        return seen[0]
    user = [t.name for t in snap.topics if not t.internal]
    return user[0] if len(user) == 1 else None


def producer_panel(
    snap: ClusterSnapshot, producer_id: str | None = None, topic: str | None = None
) -> go.Figure:
    """Accumulator view of one producer (default: the first). `topic`: the topic it writes (scenario knows)."""
    pv = next(
        (p for p in snap.producers if p.id == producer_id), snap.producers[0] if snap.producers else None
    )
    if pv is None:
        return S.figure(
            [],
            S.base_layout(
                height=160,
                annotations=[S.empty_note("No producers in this scenario.")],
                **S.hidden_axes((0, 1), (1, 0)),
            ),
        )
    t = _topic_of(snap, pv, topic)
    n = next((tv.partitions for tv in snap.topics if tv.name == t), 0)
    by_part: dict[int, list[BatchView]] = {i: [] for i in range(n)}
    for b in pv.batches:
        if b.topic == t:
            by_part.setdefault(b.partition, []).append(b)
    labels = [f"{t}-{i}" for i in sorted(by_part)]
    linger = int(pv.config.get("linger.ms", 5))

    fill_x, fill_c, fill_t, fill_h = [], [], [], []
    age_x, age_t = [], []
    fly_x, fly_t = [], []
    for i in sorted(by_part):
        bs = by_part[i]
        open_b = next((b for b in bs if b.state in ("open", "ready")), None)
        flying = [b for b in bs if b.state in ("in_flight", "retrying")]
        if open_b is not None:
            pct = min(100.0, 100.0 * open_b.size_bytes / max(1, open_b.batch_size))
            fill_x.append(pct)
            fill_c.append(STATE_COLOURS[open_b.state])
            fill_t.append(f"{open_b.record_count} rec · {open_b.size_bytes} B · {STATE_WORDS[open_b.state]}")
            fill_h.append(
                f"{t}-{i}: open batch {STATE_WORDS[open_b.state]}<br>{open_b.record_count} record(s), "
                f"{open_b.size_bytes} of {open_b.batch_size} bytes"
            )
            lp = 100.0 if linger <= 0 else min(100.0, 100.0 * open_b.age_ms / linger)
            age_x.append(lp)
            age_t.append(f"{open_b.age_ms} / {linger} ms")
        else:
            fill_x.append(0)
            fill_c.append(S.GRID)
            fill_t.append("empty")
            fill_h.append(f"{t}-{i}: no open batch (the next record opens one)")
            age_x.append(0)
            age_t.append("")
        fly_x.append(len(flying))
        retry = sum(1 for b in flying if b.state == "retrying")
        recs = sum(b.record_count for b in flying)
        fly_t.append(
            f"{len(flying)} batch{'es' * (len(flying) != 1)} · {recs} rec"
            + (f" · {retry} retrying" if retry else "")
            if flying
            else ""
        )
    bar = dict(type="bar", orientation="h", y=labels, cliponaxis=False, showlegend=False, yaxis="y")
    data = [
        {
            **bar,
            "x": fill_x,
            "xaxis": "x",
            "marker": dict(color=fill_c),
            "text": fill_t,
            "textposition": "outside",
            "hovertext": fill_h,
            "hoverinfo": "text",
            "name": "batch fill",
        },
        {
            **bar,
            "x": age_x,
            "xaxis": "x2",
            "marker": dict(color=S.ORANGE),
            "text": age_t,
            "textposition": "outside",
            "hoverinfo": "skip",
            "name": "linger",
        },
        {
            **bar,
            "x": fly_x,
            "xaxis": "x3",
            "marker": dict(color=S.BLUE),
            "text": fly_t,
            "textposition": "outside",
            "hoverinfo": "skip",
            "name": "in flight",
        },
    ]
    top = max(5, max(fly_x, default=0))
    pct = dict(
        range=[0, 135],
        tickvals=[0, 50, 100],
        ticktext=["0%", "50%", "100%"],
        fixedrange=True,
        gridcolor=S.GRID,
        anchor="y",
    )
    domains = ((0.0, 0.44), (0.49, 0.78), (0.81, 1.0))
    titles = ("Batch fill: bytes / batch.size", "Linger: age / linger.ms", "Sent, not yet acked")
    ann = [
        dict(
            text=t,
            x=(d0 + d1) / 2,
            y=1.0,
            xref="paper",
            yref="paper",
            yanchor="bottom",
            showarrow=False,
            font=dict(size=13),
        )
        for t, (d0, d1) in zip(titles, domains, strict=True)
    ]
    limit = [
        dict(
            type="line",
            xref=ax,
            yref="paper",
            x0=100,
            x1=100,
            y0=0,
            y1=1,
            name=f"limit:{ax}",
            line=dict(color=S.INK, width=1.5, dash="dash"),
        )
        for ax in ("x", "x2")
    ]
    layout = S.base_layout(
        height=max(170, ROW_PX * len(labels) + 100),
        margin=dict(l=10, r=20, t=40, b=40),
        bargap=0.35,
        annotations=ann,
        shapes=limit,
        xaxis=dict(domain=domains[0], **pct),
        xaxis2=dict(domain=domains[1], **pct),
        xaxis3=dict(
            domain=domains[2],
            range=[0, top * 4],
            fixedrange=True,
            showticklabels=False,
            showgrid=False,
            anchor="y",
        ),
        yaxis=dict(autorange="reversed", fixedrange=True, tickfont=dict(size=13), automargin=True),
    )
    return S.figure(data, layout)


def producer_summary(pv: ProducerView) -> dict[str, int]:
    """Counters for st.metric: records handed to send(), acknowledged, failed, and buffer bytes in use."""
    return {
        "sent": pv.sent,
        "acked": pv.acked,
        "failed": pv.failed,
        "buffer bytes": pv.buffer_used,
        "in flight": sum(1 for b in pv.batches if b.state in ("in_flight", "retrying")),
    }
