"""The app's pages and how they are found, shared by both ways the app starts: `streamlit run app.py` in a
checkout (and Streamlit Community Cloud) and `kafka-classroom app` from an installed wheel, whose entry
script (kafka_classroom/app.py) lies elsewhere.

Streamlit resolves a page path given as text against the main script's folder; pages are therefore named
by absolute path (`page("playground")`), which points at this package wherever the main script is.
"""

from __future__ import annotations

from pathlib import Path

UI = Path(__file__).resolve().parent
WARMED = "kc_plotly_warmed"  # st.session_state: this session's first run has sent the hidden warm-up chart


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
    warm_up_charts(st.empty())
    nav.run()


def warm_up_charts(slot) -> None:
    """On a session's first run, a hidden empty plotly chart in `slot`, sent before the page does its work.

    The browser loads Streamlit's plotly bundle (~4.7 MB of JavaScript: fetched, then ~0.7-1.2 s of
    evaluation on a loaded 2-core machine) only when the first chart reaches it. Sent first, that happens while
    the server still replays a shared link or builds the page, not after; the page's own charts then draw as
    soon as they arrive (bench/NOTES.md, issue 17, round 3). The slot is made on every run (empty after the
    first), so every element below it keeps its place and nothing remounts on the second run."""
    import streamlit as st

    if st.session_state.get(WARMED):
        return
    st.session_state[WARMED] = True
    with slot.container(key="kc_warm"):  # display: none (ui/theme.py)
        st.plotly_chart(
            {"data": [{"type": "scatter", "x": [], "y": []}], "layout": {}},
            key="kc_warm_chart",
            config={"staticPlot": True},
        )
