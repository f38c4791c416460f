"""Kafka Classroom: the Streamlit entry point (`streamlit run app.py`). Pages live in ui/, listed in
ui/navigation.py (shared with `kafka-classroom app`, which runs the installed copy)."""

from __future__ import annotations

from ui.navigation import main

main()
