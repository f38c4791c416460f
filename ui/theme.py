"""A few CSS touches Streamlit's theme options cannot express (kept tiny: they may break on upgrades)."""

from __future__ import annotations

import streamlit as st

CSS = """
<style>
/* less empty space above the first element, under the top navigation */
[data-testid="stMainBlockContainer"] { padding-top: 4.4rem; padding-bottom: 3rem; }
/* the narration headline: big enough for the back row, never huge */
.st-key-narration h4 { font-size: 1.45rem; line-height: 1.3; padding-top: 0.2rem; }
/* the first run's hidden elements that load plotly and widget code in the browser while the page works (ui/navigation.py) */
.st-key-kc_warm { display: none; }
</style>
"""


def apply() -> None:
    st.html(CSS)


def scaled_chart(fig, key: str, config: dict, design_width: float = 800) -> None:
    """A picture drawn for `design_width` px (the cluster diagram) that grows with the page instead of
    staying a strip: the plot area keeps its aspect ratio, sized by CSS container-query units (the server
    does not know the page width), never smaller than drawn. Fonts stay projector-size; boxes get room."""
    layout = fig.layout
    margin = layout.margin
    top, bottom = (margin.t or 0), (margin.b or 0)
    sides = (margin.l or 0) + (margin.r or 0)
    height = layout.height or 450
    plot = (height - top - bottom) / (design_width - sides)
    box = f"{key}_box"
    st.html(
        f"<style>.st-key-{box} {{ container-type: inline-size; }} .st-key-{box} [data-testid='stPlotlyChart'] "
        f"{{ height: min(max({height}px, calc((100cqw - {sides}px) * {plot:.4f} + {top + bottom}px)), "
        f"{height * 1.7:.0f}px); }}</style>"
    )  # safe-html: the caller's widget key and numbers, no user text
    drawn = layout.height
    fig.layout.height = None  # plotly fills the element, whose height the CSS above sets
    try:
        with st.container(key=box):
            st.plotly_chart(fig, key=key, config=config, height="stretch")
    finally:
        fig.layout.height = drawn  # the figure as it came: a cached one is drawn the same way next time
