"""The installed app's Streamlit entry script: `kafka-classroom app` runs `streamlit run` on this file. In a
checkout, app.py at the root does the same; both run ui.navigation.main()."""

from __future__ import annotations

from ui.navigation import main

main()
