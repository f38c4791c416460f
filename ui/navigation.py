"""The app's pages and how they are found, shared by both ways the app starts: `streamlit run app.py` in a
checkout (and Streamlit Community Cloud) and `kafka-classroom app` from an installed wheel, whose entry
script (kafka_classroom/app.py) lies elsewhere.

Streamlit resolves a page path given as text against the main script's folder; pages are therefore named
by absolute path (`page("playground")`), which points at this package wherever the main script is.
"""

from __future__ import annotations

from pathlib import Path

# pandas fully imported before any page run builds a figure: plotly looks for it with a bare sys.modules lookup
# (_plotly_utils.optional_imports.get_module(..., should_load=False)), so while another session's first run was
# still importing it (its warm-up st.dataframe), a figure saw the half-made module and the page showed
# "partially initialized module 'pandas' has no attribute 'Series'" (a fresh app process, students joining at
# once). Imported here, with this module, every session's thread waits until it is whole.
import pandas  # noqa: F401

UI = Path(__file__).resolve().parent
WARMED = "kc_plotly_warmed"  # st.session_state: this session's first run has sent the hidden warm-up chart
LIVE_CHART_PAGES = (
    "playground",
    "compare",
    "classroom",
)  # pages whose charts are all ui/live_chart.py's, no st.plotly_chart


def page(name: str) -> str:
    """The absolute path of ui/<name>.py, for st.Page, st.page_link and st.switch_page."""
    path = UI / f"{name}.py"
    if not path.is_file():
        raise ValueError(f"no page ui/{name}.py")
    return str(path)


def main() -> None:
    """Set up the page and run the selected page (called by the main script on every rerun)."""
    import streamlit as st

    from ui import click_once, theme

    click_once.install()  # a click delivered twice (once inside a timer rerun) counts once
    st.set_page_config(page_title="Kafka Classroom", page_icon=":material/school:", layout="wide")
    theme.apply()

    # Every page has the short address a person would type: /playground, /lessons, /compare, /classroom.
    pages = [
        st.Page(page("home"), title="Home", icon=":material/home:", default=True),
        st.Page(page("playground"), title="Playground", icon=":material/science:", url_path="playground"),
        st.Page(page("lessons_page"), title="Lessons", icon=":material/menu_book:", url_path="lessons"),
        st.Page(page("compare_page"), title="Compare", icon=":material/compare:", url_path="compare"),
        st.Page(page("room_page"), title="Classroom", icon=":material/groups:", url_path="classroom"),
        st.Page(page("old_lessons_link"), title="Lessons", url_path="lessons_page", visibility="hidden"),
    ]
    nav = st.navigation(pages, position="top")
    warm_up_charts(st.empty(), live_only=nav.url_path in LIVE_CHART_PAGES)
    nav.run()


def warm_up_charts(slot, live_only: bool = False) -> None:
    """On a session's first run, hidden elements in `slot`, sent before the page does its work: an empty chart
    of the kind the page draws (a `st.plotly_chart`, or on `live_only` pages an ui/live_chart.py chart) and one
    widget of each kind the pages use.

    The browser loads the code behind an element only when the first such element reaches it: plotly.js
    (Streamlit's full build is ~4.7 MB of JavaScript: fetched, then ~0.7-1.2 s of evaluation on a loaded 2-core
    machine; the live charts' basic build a quarter of that), the `st.components.v2` chunk that draws live
    charts (the cluster diagram), and a chunk per widget kind. Sent first, that happens while the server still
    replays a shared link or builds the page, not after it: the diagram is drawn as soon as it arrives, and the
    controls are usable with it (bench/NOTES.md, issue 17, rounds 4 and 6). A `live_only` page never loads
    Streamlit's full plotly.js. The slot is made on every run (empty after the first), so every element below
    it keeps its place and nothing remounts on the second run."""
    import streamlit as st

    if st.session_state.get(WARMED):
        return
    st.session_state[WARMED] = True
    with slot.container(key="kc_warm"):  # display: none (ui/theme.py)
        if live_only:
            import plotly.graph_objects as go

            from ui.live_chart import live_chart

            live_chart(go.Figure(), "kc_warm_live")
        else:
            st.plotly_chart(
                {"data": [{"type": "scatter", "x": [], "y": []}], "layout": {}},
                key="kc_warm_chart",
                config={"staticPlot": True},
            )
        _warm_widgets()


def _warm_widgets() -> None:
    """One inert widget of each kind the pages show first (in the hidden warm-up slot)."""
    import streamlit as st

    hidden = {"label_visibility": "collapsed"}
    st.button("warm-up", key="kc_warm_button")
    st.selectbox("warm-up", ["-"], key="kc_warm_select", **hidden)
    st.toggle("warm-up", key="kc_warm_toggle")
    st.slider("warm-up", 0, 1, key="kc_warm_slider", **hidden)
    st.number_input("warm-up", key="kc_warm_number", **hidden)
    st.radio("warm-up", ["-"], key="kc_warm_radio", **hidden)
    st.text_area("warm-up", key="kc_warm_text", **hidden)
    st.file_uploader("warm-up", key="kc_warm_file", **hidden)
    st.download_button("warm-up", "-", key="kc_warm_download", on_click="ignore")
    st.dataframe([{"-": "-"}], hide_index=True)
