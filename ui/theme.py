"""A few CSS touches Streamlit's theme options cannot express (kept tiny: they may break on upgrades)."""

from __future__ import annotations

import streamlit as st

CSS = """
<style>
/* less empty space above the first element, under the top navigation */
[data-testid="stMainBlockContainer"] { padding-top: 4.4rem; padding-bottom: 3rem; }
/* the clickable step list reads like a list: left-aligned, compact */
.st-key-timeline button { justify-content: flex-start; text-align: left; min-height: 0; width: 100%;
                          padding-top: 0.15rem; padding-bottom: 0.15rem; }
.st-key-timeline button > div { justify-content: flex-start; width: 100%; }
.st-key-timeline button p { text-align: left; font-size: 0.92rem; margin: 0; }
.st-key-timeline [data-testid="stVerticalBlock"] { gap: 0.1rem; }
/* the narration headline: big enough for the back row, never huge */
.st-key-narration h4 { font-size: 1.45rem; line-height: 1.3; padding-top: 0.2rem; }
</style>
"""


def apply() -> None:
    st.html(CSS)
