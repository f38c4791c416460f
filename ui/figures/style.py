"""Shared colours, fonts and small helpers for every figure (one look across the app).

Colours that carry a meaning come from `palette` (one meaning, one colour, checked by a test); the
Okabe-Ito names below are for decoration and the other figures. State is never shown by colour alone
(fill vs outline vs dash carry it too).
"""

from __future__ import annotations

import re

import plotly.graph_objects as go

from . import palette as P

# Okabe & Ito (2008), "Color Universal Design".
BLACK = "#000000"
ORANGE = "#E69F00"
SKY = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"

INK = "#1F2430"  # text, matches .streamlit/config.toml
MUTED = "#6B7280"  # secondary text
GRID = "#D0D5DD"
PANEL = "#F2F4F7"  # box fill, matches secondaryBackgroundColor
WHITE = "#FFFFFF"

# Colours that mean something live in `palette` (one meaning, one colour); the names below are the figures'.
DOWN_FILL = P.FAILURE_FILL  # a crashed broker / lost record background
LEADER = P.IN_SYNC
LEADER_ELECT = P.LEADER_ELECT
FOLLOWER = P.IN_SYNC
OUT_OF_ISR = P.OUT_OF_ISR
OFFLINE = P.FAILURE
HIGHLIGHT = P.HIGHLIGHT
HIGHLIGHT_FILL = P.HIGHLIGHT_FILL
GROUP_COLOURS = P.GROUP_COLOURS
KEY_COLOURS = P.KEY_COLOURS
NULL_KEY = P.NULL_KEY
NULL_KEY_LINE = P.NULL_KEY_LINE
OTHER_KEYS = P.OTHER_KEYS
MESSAGE_FAMILIES = P.MESSAGE_FAMILIES
key_colours = P.key_colours
colour_group_ids = P.colour_group_ids

FONT = dict(family="Inter, 'Source Sans Pro', 'Helvetica Neue', Arial, sans-serif", size=15, color=INK)
TITLE_SIZE = 18
SMALL = 12


def figure(data: list[dict], layout: dict) -> go.Figure:
    """One go.Figure built in a single step from plain dicts, skipping plotly's per-property validation
    and update machinery: ~8x faster for pictures of hundreds of shapes, which matters on every Step.
    tests/ui/test_figures.py re-validates every builder's output, so typos still fail a test."""
    return go.Figure(data=data, layout=layout, _validate=False)


def merge(base: dict, extra: dict) -> dict:
    """`base` updated with `extra`, nested dicts merged (like update_layout, without its cost)."""
    out = dict(base)
    for k, v in extra.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def group_colour(group_ids: list[str] | tuple[str, ...], group_id: str | None) -> str:
    """Colour of a group: by its rank among the sorted group ids, so it never changes with state."""
    return P.group_colour(group_ids, group_id, fallback=MUTED)


def key_colour(key: bytes | str | None) -> str:
    """Colour of one key on its own (a picture showing several keys uses `key_colours`, which never
    hands two of them the same colour)."""
    return P.key_colours([key])[P.key_text(key)]


def text_on(fill: str) -> str:
    """Black or white text, whichever reads better on `fill` (WCAG relative luminance)."""
    h = fill.lstrip("#")
    if len(h) != 6:
        return INK
    r, g, b = (int(h[i : i + 2], 16) / 255 for i in (0, 2, 4))

    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    lum = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
    return WHITE if lum < 0.35 else INK


PADDING = re.compile(r"^(.*-\d+)\.{2,}$")  # engine/load.py pads "p1-17" with dots up to value_bytes


def show(value: bytes | str | None, limit: int = 24) -> str:
    """Bytes for a human: decoded when they are text, elided when long. A generated value is shown as the
    producer wrote it ("p1-17"), without the dots that only pad it to the scenario's value size."""
    if value is None:
        return "null"
    s = value.decode("utf-8", "replace") if isinstance(value, bytes | bytearray) else str(value)
    if m := PADDING.match(s):
        s = m.group(1)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def show_value(value: bytes | str | None, limit: int = 28) -> str:
    """A record value with its size when it was padded: "p1-17 (20 bytes)"."""
    text = show(value, limit)
    size = len(value) if isinstance(value, bytes | bytearray) else None
    return (
        f"{text} ({size} bytes)"
        if size is not None and PADDING.match(value.decode("utf-8", "replace"))
        else text
    )


def base_layout(
    *, height: int, title: str | None = None, show_legend: bool = False, margin: dict | None = None, **extra
) -> dict:
    """The common frame: white background, projector-size font, no zoom or drag."""
    base = dict(
        height=height,
        font=FONT,
        paper_bgcolor=WHITE,
        plot_bgcolor=WHITE,
        showlegend=show_legend,
        dragmode=False,
        margin=margin or dict(l=10, r=10, t=48 if title else 10, b=10),
        hoverlabel=dict(font=dict(size=14), bgcolor=WHITE, bordercolor=GRID),
        legend=dict(
            orientation="h",
            yanchor="top",
            y=-0.02,
            xanchor="left",
            x=0,
            font=dict(size=13),
            itemclick=False,
            itemdoubleclick=False,
        ),
    )
    if title:
        base["title"] = dict(text=title, font=dict(size=TITLE_SIZE), x=0, xanchor="left")
    return merge(base, extra)


def hidden_axes(x_range: tuple[float, float], y_range: tuple[float, float]) -> dict:
    """Diagram axes: fixed ranges (nothing rescales between steps), no ticks, no zoom."""
    ax = dict(visible=False, fixedrange=True, showgrid=False, zeroline=False)
    return dict(xaxis=dict(range=list(x_range), **ax), yaxis=dict(range=list(y_range), **ax))


def empty_note(text: str) -> dict:
    return dict(
        text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font=dict(size=16, color=MUTED)
    )
