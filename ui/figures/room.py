"""The room's answer histogram: how many students chose each answer (anonymous counts only).

Pure: `answer_histogram(choices, counts, answer=None, revealed=False) -> go.Figure`. Before the reveal every
bar is the same neutral blue, so the teacher's screen (often projected) does not give the answer away;
after it the right choice turns green and is marked with a check, so colour is never the only cue.
"""

from __future__ import annotations

import plotly.graph_objects as go

from . import style as S
from .diagram import fit


def answer_histogram(
    choices: tuple[str, ...] | list[str],
    counts: tuple[int, ...] | list[int],
    answer: int | None = None,
    revealed: bool = False,
) -> go.Figure:
    n = len(choices)
    counts = list(counts) + [0] * (n - len(counts))
    total = sum(counts)
    letters = [chr(ord("A") + i) for i in range(n)]
    right = revealed and answer is not None
    colours = [S.GREEN if right and i == answer else (S.GRID if right else S.BLUE) for i in range(n)]
    # Letters on the axis (the choices are listed next to the chart): it stays readable in a narrow sidebar.
    labels = [f"{'✓ ' if right and i == answer else ''}{letters[i]}" for i in range(n)]
    pct = [f"{c} ({round(100 * c / total)}%)" if total else "0" for c in counts]
    data = [
        dict(
            type="bar",
            orientation="h",
            y=labels,
            x=counts,
            marker=dict(color=colours),
            text=pct,
            textposition="outside",
            cliponaxis=False,
            textfont=dict(size=15, color=S.INK),
            name="answers",
            hovertext=[
                f"{letters[i]}. {fit(str(c), 400, 13)}: {p}"
                for i, (c, p) in enumerate(zip(choices, pct, strict=True))
            ],
            hoverinfo="text",
        )
    ]
    title = f"{total} answer{'s' * (total != 1)}" + ("" if revealed else "<br><sup>not revealed yet</sup>")
    layout = S.base_layout(
        height=100 + 40 * n,
        title=title,
        margin=dict(l=10, r=20, t=58, b=10),
        xaxis=dict(visible=False, range=[0, max(counts + [1]) * 1.7], fixedrange=True),
        yaxis=dict(autorange="reversed", fixedrange=True, automargin=True, tickfont=dict(size=15)),
        bargap=0.35,
    )
    return S.figure(data, layout)
