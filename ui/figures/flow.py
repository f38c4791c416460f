"""Play looks like data flowing: the cluster diagram's message dots glide along their edges between two steps.

Pure, like `cluster_diagram`: `animated(fig, before, after, tag)` takes the exact picture of the step just run
(`cluster_diagram(after)`) and the snapshots on both sides of it, and returns the same figure with plotly
animation frames. Each frame places every message that is on the wire at that simulated instant by linear
interpolation between its sender and its receiver (the diagram's own anchors and formula), so a message half
way through its flight is half way along its edge. The frames sit at the step's start, its end, and every send
and arrival in between (with the halves of those spans), so a 1 ms hop inside a 3 s step still shows; plotly's
linear transition fills in the motion. The first frame is the previous step's picture and the last frame is
exactly the step's picture. Only Play asks for this: Step and Back draw `cluster_diagram` alone (instant).

`st.plotly_chart` draws frames but never starts them, so the figure carries a small "replay" button
(`layout.updatemenus`, Plotly.animate over all frames) and `autoplay_script` returns a few lines of JavaScript
for `st.html` that press it once per step, as soon as the chart holds that step's frames.
"""

from __future__ import annotations

import json

import networkx as nx
import plotly.graph_objects as go

from engine.snapshot import ClusterSnapshot, InFlightView

from .diagram import _along, _message_route, _row_spans, diagram_layout, message_family
from .style import MESSAGE_FAMILIES

DURATION_MS = 250  # the whole glide: well inside the 350 ms between two steps at "3 steps/s"
MAX_FRAMES = 9
FLOW_PREFIX = "flow-"


def message_xy(g: nx.DiGraph, m: InFlightView, t: float) -> tuple[float, float] | None:
    """Where message `m` is drawn at simulated time `t`: the same point `cluster_diagram` draws at that time,
    along the same route through the gaps between boxes."""
    pts = _message_route(g, _row_spans(g), m)
    if not pts:
        return None
    span = m.arrive_ms - m.sent_ms
    f = 0.5 if span <= 0 else min(1.0, max(0.0, (t - m.sent_ms) / span))
    return _along(pts, f)


def frame_times(t0: int, t1: int, messages: list[InFlightView], max_frames: int = MAX_FRAMES) -> list[float]:
    """The instants to draw: the step's ends, each send and arrival inside it, and the middle of each span
    between them (evenly thinned to `max_frames`, always keeping both ends)."""
    keys = sorted({t0, t1} | {float(t) for m in messages for t in (m.sent_ms, m.arrive_ms) if t0 < t < t1})
    times = [keys[0]]
    for a, b in zip(keys, keys[1:], strict=False):
        times += [(a + b) / 2, b]
    if len(times) > max_frames:
        step = (len(times) - 1) / (max_frames - 1)
        times = [times[round(i * step)] for i in range(max_frames)]
    return [float(t) for t in times]


def _family_traces(g: nx.DiGraph, messages: list[InFlightView], t: float) -> dict[str, dict]:
    """One {x, y, ids, hovertext} per message family: the dots of the messages on the wire at `t`."""
    out = {fam: dict(x=[], y=[], ids=[], hovertext=[]) for fam in MESSAGE_FAMILIES}
    for m in messages:
        xy = message_xy(g, m, t)
        if xy is None:
            continue
        tr = out[message_family(m.kind)]
        tr["x"].append(xy[0])
        tr["y"].append(xy[1])
        tr["ids"].append(f"m{m.id}")
        tp = f" {m.topic}-{m.partition}" if m.topic is not None and m.partition is not None else ""
        tr["hovertext"].append(
            f"{m.kind}{tp}: {m.src} → {m.dst}<br>sent at {m.sent_ms} ms, arrives at {m.arrive_ms} ms"
        )
    for tr in out.values():  # an empty family keeps one invisible point, as in the diagram (its legend stays)
        if not tr["x"]:
            tr.update(x=[None], y=[None], ids=["none"], hovertext=[""])
    return out


def _on_wire(before: ClusterSnapshot, after: ClusterSnapshot, t: float) -> list[InFlightView]:
    """The messages drawn at `t`: exactly the snapshot's at either end, else those sent and not yet arrived."""
    if t <= before.time_ms:
        return list(before.in_flight)
    if t >= after.time_ms:
        return list(after.in_flight)
    seen: dict[int, InFlightView] = {m.id: m for m in before.in_flight}
    seen.update({m.id: m for m in after.in_flight})
    return [m for m in seen.values() if m.sent_ms <= t <= m.arrive_ms]


def message_trace_indices(fig: go.Figure) -> dict[str, int]:
    """The diagram's message traces (one per family, `meta` = family), by family."""
    return {
        tr.meta: i
        for i, tr in enumerate(fig.data)
        if tr.legendgroup == "messages" and tr.meta in MESSAGE_FAMILIES
    }


def flow_frames(fig: go.Figure, before: ClusterSnapshot, after: ClusterSnapshot, tag: str) -> list[dict]:
    """Plotly frames moving the message dots of `fig` from `before` to `after`; [] when nothing moves."""
    index = message_trace_indices(fig)
    union = {m.id: m for m in (*before.in_flight, *after.in_flight)}
    if after.time_ms <= before.time_ms or not union or not index:
        return []
    g = diagram_layout(after)
    fams = list(index)
    frames = []
    for i, t in enumerate(frame_times(before.time_ms, after.time_ms, list(union.values()))):
        per_fam = _family_traces(g, _on_wire(before, after, t), t)
        frames.append(
            dict(
                name=f"{FLOW_PREFIX}{tag}-{i}",
                traces=[index[f] for f in fams],
                data=[dict(type="scatter", **per_fam[f]) for f in fams],
            )
        )
    return frames


def play_args(n_frames: int, duration_ms: int = DURATION_MS) -> list:
    """Plotly.animate(gd, null, opts): every frame in order, linear glides, no full redraw."""
    each = max(1, duration_ms // max(1, n_frames - 1))
    return [
        None,
        dict(
            mode="immediate",
            fromcurrent=False,
            frame=dict(duration=each, redraw=False),
            transition=dict(duration=each, easing="linear"),
        ),
    ]


def animated(
    fig: go.Figure, before: ClusterSnapshot, after: ClusterSnapshot, tag: str, duration_ms: int = DURATION_MS
) -> go.Figure:
    """`fig` (the exact picture of `after`) with the frames of the step from `before`, starting drawn as the
    first frame (the previous picture's dots) and a "replay" button that plays them. No frames: `fig` itself."""
    frames = flow_frames(fig, before, after, tag)
    if not frames:
        return fig
    spec = fig.to_plotly_json()
    data = [dict(tr) for tr in spec["data"]]
    for i, tr in zip(frames[0]["traces"], frames[0]["data"], strict=True):
        data[i].update({k: v for k, v in tr.items() if k != "type"})
    menu = dict(
        type="buttons",
        name="flow",
        showactive=False,
        x=1,
        y=0,
        xanchor="right",
        yanchor="top",
        pad=dict(t=2, r=2),
        direction="left",
        font=dict(size=11),
        bgcolor="white",
        buttons=[dict(label="▶ replay step", method="animate", args=play_args(len(frames), duration_ms))],
    )
    layout = dict(spec["layout"], updatemenus=[*spec["layout"].get("updatemenus", ()), menu])
    return go.Figure(data=data, layout=layout, frames=frames, _validate=False)


def autoplay_script(fig: go.Figure) -> str:
    """JavaScript for `st.html(..., unsafe_allow_javascript=True)`: once the chart holds this step's frames,
    press its replay button (Streamlit never starts a figure's frames by itself). Empty when there are none."""
    if not fig.frames:
        return ""
    name = json.dumps(fig.frames[0].name)
    return (
        "<script>(() => { const name = " + name + ", t0 = Date.now();"
        " const press = gd => { const b = gd.querySelector('.updatemenu-button');"
        " if (b) b.dispatchEvent(new MouseEvent('click', {bubbles: true})); };"
        " const tick = () => { for (const gd of document.querySelectorAll('.js-plotly-plot')) {"
        " const fr = gd._transitionData && gd._transitionData._frames;"
        " if (!fr || !fr.length || fr[0].name !== name) continue;"
        " if (gd.__flowPlayed === name) return;"
        # Streamlit shows a new chart once it has measured its width (and redraws it at that width): glide after
        " if (getComputedStyle(gd).visibility !== 'visible' || !gd.offsetWidth) break;"
        " gd.__flowPlayed = name; requestAnimationFrame(() => requestAnimationFrame(() => press(gd))); return; }"
        " if (Date.now() - t0 < 5000) setTimeout(tick, 25); }; tick(); })();</script>"
    )
