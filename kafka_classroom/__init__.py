"""Kafka Classroom as an installed tool (issue 22): the `kafka-classroom` command (`cli.py`), the pytest
plugin (`pytest_plugin.py`, registered through the `pytest11` entry point) and the installed app's Streamlit
entry script (`app.py`).

Nothing here is imported by the engine; importing this package loads neither the engine nor Streamlit.
"""

from __future__ import annotations

__all__: list[str] = []
