"""Issue 16's new lessons on the Lessons page (Streamlit AppTest): every step renders, and Open in Playground
rebuilds a state made by the new admin commands (alter_partitions, reset_offsets)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

NEW_LESSONS = [
    "consumer-lag-and-liveness",
    "ordering-under-retries",
    "poison-records",
    "offset-management",
    "choosing-partition-count",
]

ROOT = Path(__file__).resolve().parents[2]


def _lessons_page(**params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    at.switch_page("ui/lessons_page.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _answer(at: AppTest, step) -> None:
    """A step's question is asked before its picture (issue 16): answer it rightly, as a learner would."""
    radio = [r for r in at.radio if not r.disabled]
    if step.predict is not None and radio:
        radio[0].set_value(step.predict.choices[step.predict.answer]).run()
        at.button(key="predict_check").click().run()


@pytest.mark.parametrize("lesson_id", NEW_LESSONS)
def test_every_step_of_a_new_lesson_renders(lesson_id, lesson_by_id):
    at = _lessons_page(lesson=lesson_id, step="1")
    steps = lesson_by_id[lesson_id].steps
    n = len(steps)
    for i in range(n):
        _answer(at, steps[i])
        assert not at.exception, (lesson_id, i + 1, [e.value for e in at.exception])
        assert not at.error, (lesson_id, i + 1, [e.value for e in at.error])
        pictures = at.get("plotly_chart") + at.get("bidi_component")  # bidi_component: a live chart
        assert pictures or at.get("arrow_data_frame"), (lesson_id, i + 1)
        if i < n - 1:
            at.button(key="lesson_next").click().run()
    assert dict(at.query_params) == {"lesson": lesson_id, "step": str(n)}


@pytest.mark.parametrize(("lesson_id", "step"), [("choosing-partition-count", 3), ("offset-management", 3)])
def test_open_in_playground_after_an_admin_command(lesson_id, step, lesson_by_id):
    at = _lessons_page(lesson=lesson_id, step=str(step))
    _answer(at, lesson_by_id[lesson_id].steps[step - 1])
    res = at.session_state["kc_lessons"].runs[lesson_id].results[step - 1]
    at.button(key="open_playground").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state["kc_playground"].cluster.snapshot() == res.snapshot
