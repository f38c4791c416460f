"""Kafka Classroom's Streamlit shell: pages, session state and the pure figure builders in `ui.figures`.

The shell is thin on purpose: every click becomes an `engine.commands` command applied through an
`engine.timeline.Timeline`, and every picture is drawn from `Cluster.snapshot()` by a pure function.
"""
