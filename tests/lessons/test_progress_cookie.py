"""Lesson progress survives a reload (issue 16): encoded into a cookie, read back by a new session."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from lessons import progress
from lessons.progress import Progress, decode, encode

ROOT = Path(__file__).resolve().parents[2]


def test_round_trip_keeps_answers_seen_steps_and_seed(course):
    p = Progress({"queue-vs-pubsub/1": 0, "idle-consumer/1": 1}, {"queue-vs-pubsub": {0, 1, 3}}, 12345)
    got = decode(encode(p), course)
    assert got == p
    assert set(encode(p)) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")


@pytest.mark.parametrize("value", [None, "", "not base64 !", "e30=", "W10=", "x" * 10_000])
def test_malformed_values_give_no_progress(value, course):
    assert decode(value, course) == Progress()


def test_what_the_course_no_longer_has_is_dropped(course):
    p = Progress(
        {"queue-vs-pubsub/1": 9, "queue-vs-pubsub/0": 0, "gone-lesson/1": 0, "queue-vs-pubsub/99": 0},
        {"gone-lesson": {0}, "queue-vs-pubsub": {0, 40}},
        2**40,
    )
    got = decode(encode(p), course)
    # step 1 has only 4 choices, step 0 has no question, the others do not exist; the seed is out of range
    assert got == Progress({}, {"queue-vs-pubsub": {0}}, None)


def test_a_full_course_fits_in_one_cookie(course):
    p = Progress(
        {f"{x.id}/{i}": 0 for x in course for i, s in enumerate(x.steps) if s.predict},
        {x.id: set(range(len(x.steps))) for x in course},
        2**32 - 1,
    )
    assert len(encode(p)) < progress.MAX_COOKIE_CHARS


def _page(**params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    at.switch_page("ui/lessons_page.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _written(at: AppTest) -> str:
    scripts = [h.proto.body for h in at.get("html") if progress.COOKIE in h.proto.body]
    assert scripts, "the page writes the progress cookie"
    return scripts[-1].split(f"{progress.COOKIE}=", 1)[1].split(";", 1)[0]


def test_answering_writes_the_cookie_and_a_new_session_reads_it(course, lesson_by_id, monkeypatch):
    at = _page(lesson="idle-consumer", step="2")
    radio = next(r for r in at.radio if not r.disabled)
    radio.set_value("Nothing; it stays idle").run()
    at.button(key="predict_check").click().run()
    value = _written(at)
    saved = decode(value, course)
    assert saved.answers == {"idle-consumer/1": 1} and 1 in saved.seen["idle-consumer"]
    # a reload: a new session, no query parameters, the browser sends the cookie back
    monkeypatch.setattr(type(st.context), "cookies", property(lambda self: {progress.COOKIE: value}))
    again = _page()
    s = again.session_state["kc_lessons"]
    assert (s.lesson_id, s.step) == ("idle-consumer", 1)
    assert s.answers == {"idle-consumer/1": 1} and s.seed == saved.seed
    done = [r for r in again.radio if r.disabled]
    assert done and done[0].value == "Nothing; it stays idle"  # answered, not asked again
    assert not again.button(key="lesson_next").disabled
