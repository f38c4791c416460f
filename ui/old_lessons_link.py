"""/lessons_page, the Lessons page's address before it had a short one: a link shared then (with
?lesson=...&step=...) opens the same lesson step at /lessons."""

from __future__ import annotations

import streamlit as st

from ui.navigation import page

st.switch_page(page("lessons_page"), query_params={k: st.query_params[k] for k in st.query_params})
