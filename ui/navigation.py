"""The app's pages and how they are found, shared by both ways the app starts: `streamlit run app.py` in a
checkout (and Streamlit Community Cloud) and `kafka-classroom app` from an installed wheel, whose entry
script (kafka_classroom/app.py) lies elsewhere.

Streamlit resolves a page path given as text against the main script's folder; pages are therefore named
by absolute path (`page("playground")`), which points at this package wherever the main script is.
"""

from __future__ import annotations

from pathlib import Path

UI = Path(__file__).resolve().parent


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
    st.navigation(pages, position="top").run()
