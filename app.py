"""Kafka Classroom: the Streamlit entry point (`streamlit run app.py`). Pages live in ui/."""

from __future__ import annotations

import streamlit as st

from ui import theme

st.set_page_config(page_title="Kafka Classroom", page_icon=":material/school:", layout="wide")
theme.apply()

# Every page has the short address a person would type: /playground, /lessons, /compare, /classroom.
pages = [
    st.Page("ui/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("ui/playground.py", title="Playground", icon=":material/science:", url_path="playground"),
    st.Page("ui/lessons_page.py", title="Lessons", icon=":material/menu_book:", url_path="lessons"),
    st.Page("ui/compare_page.py", title="Compare", icon=":material/compare:", url_path="compare"),
    st.Page("ui/room_page.py", title="Classroom", icon=":material/groups:", url_path="classroom"),
    st.Page("ui/old_lessons_link.py", title="Lessons", url_path="lessons_page", visibility="hidden"),
]
st.navigation(pages, position="top").run()
