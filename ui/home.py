"""The Home page: what Kafka is for, in four pictures with one-line captions, and the way in."""

from __future__ import annotations

import streamlit as st

from engine.errors import UserInputError
from engine.scenario import PRESETS, build_cluster
from ui.figures.overview import fan_in_fan_out, latency_histogram, online_scaling, replicated_log
from ui.navigation import page

PLOTLY_CONFIG = {"displayModeBar": False, "scrollZoom": False}


@st.cache_data(show_spinner=False)
def latency_samples(warmup_s: int = 5, seconds: int = 10) -> list[int]:
    """End-to-end latencies of a Default run once its group is stable (the first join takes seconds).

    Cached as plain numbers: no engine object is shared between users.
    """
    c = build_cluster(PRESETS["Default"])
    c.run_for(warmup_s * 1000)
    skip = len(c.metrics.e2e_latencies)
    c.run_for(seconds * 1000)
    return list(c.metrics.e2e_latencies)[skip:]


def first_lesson() -> tuple[str, str, int] | None:
    """(id, title, minutes) of the course's first lesson, or None when the course cannot be read."""
    try:
        from lessons.loader import load_course_lenient

        lessons, _ = load_course_lenient()
    except (OSError, UserInputError):  # a broken course folder must not break the Home page
        return None
    return (lessons[0].id, lessons[0].title, lessons[0].minutes) if lessons else None


def where_to_start() -> None:
    """Three ways in, side by side, above everything else: a first lesson, a first experiment, a room."""
    first = first_lesson()
    learn, play, teach = st.columns(3, gap="medium")
    with learn, st.container(border=True, key="start_lesson", height="stretch"):
        st.markdown("**New to Kafka? Start with lesson 1**")
        if first is not None:
            lid, title, minutes = first
            st.caption(
                f"{title} · about {minutes} min: watch one record travel from a producer to a consumer."
            )
            st.page_link(
                page("lessons_page"),
                label="Start lesson 1",
                icon=":material/play_circle:",
                query_params={"lesson": lid, "step": "1"},
            )
        else:
            st.page_link(page("lessons_page"), label="Open the lessons", icon=":material/menu_book:")
    with play, st.container(border=True, key="start_experiment", height="stretch"):
        st.markdown("**First experiment: crash a broker**")
        st.caption(
            "In the Playground press Step until records flow, then under “Break something” crash "
            "Broker 1 and press Next election: watch another broker take over its partitions."
        )
        st.page_link(page("playground"), label="Open the Playground", icon=":material/science:")
    with teach, st.container(border=True, key="start_room", height="stretch"):
        st.markdown("**Teaching a class?**")
        st.caption(
            "Start a room: every student's screen follows your cluster, and they answer your questions "
            "anonymously."
        )
        st.page_link(page("room_page"), label="Open the Classroom", icon=":material/groups:")


def render() -> None:
    st.title("Kafka Classroom")
    st.markdown(
        "#### Apache Kafka moves streams of records between many programs — durably, at scale, fast. "
        "Here you watch it happen inside, one step at a time."
    )
    where_to_start()
    samples = latency_samples()
    med = sorted(samples)[len(samples) // 2] if samples else 0
    cards = (
        (
            "Many producers, many consumers",
            fan_in_fan_out(),
            "Applications append records to a **topic**. Every **consumer group** reads all of it, at its own pace, "
            "without taking records away from the others.",
        ),
        (
            "Durable, replicated logs on disk",
            replicated_log(),
            "Each partition is an append-only log file, copied to several brokers. A record is **committed** once "
            "every in-sync copy has it; losing one broker loses nothing.",
        ),
        (
            "Scale while it runs",
            online_scaling(),
            "Add brokers and move partitions to them while producers and consumers keep working: no downtime.",
        ),
        (
            "Fast",
            latency_histogram(samples),
            f"In a simulated run of 20 records/s, a record reaches its consumer in a median of **{med} ms** — "
            "well under a second from send() to poll().",
        ),
    )
    for row in range(0, len(cards), 2):
        cols = st.columns(2, gap="large")
        for col, (title, fig, caption) in zip(cols, cards[row : row + 2], strict=True):
            with col:
                st.subheader(title)
                st.plotly_chart(fig, config=PLOTLY_CONFIG, key=f"home_{title}")
                st.markdown(caption)
    st.divider()
    a, b, _ = st.columns([1, 1, 2])
    if a.button("Open the Playground", type="primary", key="go_playground", width="stretch"):
        st.switch_page(page("playground"))
    if b.button("Browse the lessons", key="go_lessons", width="stretch"):
        st.switch_page(page("lessons_page"))


if __name__ == "__main__":
    render()
