"""Kafka Classroom: the Streamlit entry point (`streamlit run app.py`). Pages live in ui/."""

from __future__ import annotations

import streamlit as st

from ui import theme

st.set_page_config(page_title="Kafka Classroom", page_icon=":material/school:", layout="wide")
theme.apply()

pages = [
    st.Page("ui/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("ui/playground.py", title="Playground", icon=":material/science:"),
    st.Page("ui/lessons_page.py", title="Lessons", icon=":material/menu_book:"),
    st.Page("ui/compare_page.py", title="Compare", icon=":material/compare:", url_path="compare"),
    st.Page("ui/room_page.py", title="Classroom", icon=":material/groups:", url_path="classroom"),
]
st.navigation(pages, position="top").run()
