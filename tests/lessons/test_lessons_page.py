"""The Lessons page in Streamlit's AppTest: walk lesson 4 answering its predictions, links, Open in Playground."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PAGE = "ui/lessons_page.py"


def _lessons_page(**params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _titles(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("### ")]


def _charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _right(at: AppTest, lesson_by_id) -> str:
    """The right choice's text for the step on screen (the page shows choices in a shuffled order)."""
    s = at.session_state["kc_lessons"]
    p = lesson_by_id[s.lesson_id].steps[s.step].predict
    return p.choices[p.answer]


def test_walk_lesson_four_answering_the_predictions(lesson_by_id):
    at = _lessons_page()
    at.button(key="open_lesson_queue-vs-pubsub").click().run()
    steps, answered = [], 0
    for _ in range(10):
        assert not at.exception, [e.value for e in at.exception]
        steps.append(_titles(at)[0])
        assert _charts(at), "every step draws pictures"
        radio = [r for r in at.radio if not r.disabled]
        if radio:
            assert at.button(key="lesson_next").disabled  # predict first, then reveal
            at.button(key="predict_check")  # exists before an answer is chosen
            radio[0].set_value(_right(at, lesson_by_id)).run()
            at.button(key="predict_check").click().run()
            assert any(s.value.startswith("**Right.**") for s in at.success)
            answered += 1
        nxt = at.button(key="lesson_next")
        if nxt.disabled:
            break
        nxt.click().run()
    assert steps == [
        "### One topic, two partitions",
        "### group-1: two consumers share the work",
        "### group-2: one consumer reads both",
        "### Queue and pub-sub in one picture",
    ]
    assert answered == 2
    assert dict(at.query_params) == {"lesson": "queue-vs-pubsub", "step": "4"}
    assert any("Lesson complete" in s.value for s in at.success)
    # the final picture: group-1 splits the partitions, group-2's c3 reads both
    spec = next(c for c in _charts(at) if "Who reads which partition" in json.dumps(c))
    cells = [s["name"] for s in spec["layout"]["shapes"] if s["fillcolor"] not in ("#F2F4F7",)]
    assert sorted(cells) == [
        "cell:group-1:c1:orders-0",
        "cell:group-1:c2:orders-1",
        "cell:group-2:c3:orders-0",
        "cell:group-2:c3:orders-1",
    ]
    # the choice is remembered: going back shows the answer, not the question again
    at.button(key="lesson_prev").click().run()
    assert at.radio[0].disabled and at.radio[0].value == _right(at, lesson_by_id)


def test_a_wrong_answer_is_explained():
    at = _lessons_page(lesson="idle-consumer", step="2")
    radio = next(r for r in at.radio if not r.disabled)
    radio.set_value("It takes over both partitions, as the newest member").run()
    at.button(key="predict_check").click().run()
    assert any("Not quite" in e.value and "Nothing; it stays idle" in e.value for e in at.error)


def test_a_shared_link_opens_that_step_unanswered(lesson_by_id):
    """Issue 16: a teacher's link must not spoil the question: it is asked, the answer comes only by answering."""
    at = _lessons_page(lesson="broker-failure-and-data-loss", step="5")
    assert _titles(at) == ["### The data-loss experiment: acks=1"]
    radio = [r for r in at.radio if not r.disabled]
    assert radio and radio[0].value is None
    assert at.button(key="lesson_next").disabled
    right = _right(at, lesson_by_id)
    page_text = " ".join(
        [m.value for m in at.markdown] + [i.value for i in at.info] + [s.value for s in at.success]
    )
    assert right not in page_text and "acknowledged record(s) lost" not in page_text
    radio[0].set_value(right).run()
    at.button(key="predict_check").click().run()
    assert any(s.value.startswith("**Right.**") for s in at.success)
    assert not at.button(key="lesson_next").disabled
    assert any("acknowledged record(s) lost" in m.value for m in at.markdown)


def test_the_choices_are_shuffled_per_session(lesson_by_id):
    """Issue 16: the right answer's position is not the file's: two sessions see their own orders."""
    p = lesson_by_id["broker-failure-and-data-loss"].steps[4].predict
    orders = set()
    for _ in range(4):
        at = _lessons_page(lesson="broker-failure-and-data-loss", step="5")
        radio = next(r for r in at.radio if not r.disabled)
        assert sorted(radio.options) == sorted(p.choices)
        orders.add(tuple(radio.options))
    assert len(orders) > 1


@pytest.mark.parametrize(
    "params",
    [
        {"lesson": "no-such-lesson", "step": "1"},
        {"lesson": "queue-vs-pubsub", "step": "99"},
        {"lesson": "queue-vs-pubsub", "step": "two"},
    ],
)
def test_a_bad_link_falls_back_to_the_first_lesson(params):
    at = _lessons_page(**params)
    assert any("could not be opened" in w.value for w in at.warning)
    assert _titles(at) == ["### A cluster of brokers"]


def test_open_in_playground_carries_the_exact_state(lesson_by_id):
    at = _lessons_page(lesson="queue-vs-pubsub", step="3")
    lessons_state = at.session_state["kc_lessons"]
    assert not [b for b in at.button if b.key == "open_playground"]  # not before the question is answered
    lessons_state.answers["queue-vs-pubsub/2"] = lesson_by_id["queue-vs-pubsub"].steps[2].predict.answer
    at.run()
    res = lessons_state.runs["queue-vs-pubsub"].results[2]
    at.button(key="open_playground").click().run()
    assert not at.exception, [e.value for e in at.exception]
    session = at.session_state["kc_playground"]
    assert session.position == res.state["position"]
    assert session.cluster.snapshot() == res.snapshot  # the same cluster, not an approximation
    assert at.session_state["timeline_state"]["scenario"]["name"] == "Queue vs pub-sub"


@pytest.mark.parametrize(
    "lesson_id",
    [
        "brokers-producers-consumers",
        "topics-partitions-offsets",
        "keys-and-partitioning",
        "idle-consumer",
        "rebalance-on-failure",
        "offsets-and-delivery",
        "replication",
        "broker-failure-and-data-loss",
        "the-controller",
        "producer-batching",
        "durability-on-disk",
        "scaling-online",
        "docker-to-simulator-and-back",
        "share-groups",
        "kip848-rebalance",
        "transactions-exactly-once",
    ],
)
def test_every_step_of_every_lesson_renders(lesson_id, lesson_by_id):
    """Every view of every step draws without an exception (every question answered)."""
    at = _lessons_page(lesson=lesson_id, step="1")
    steps = lesson_by_id[lesson_id].steps
    n = len(steps)
    at.session_state["kc_lessons"].answers.update(
        {f"{lesson_id}/{i}": s.predict.answer for i, s in enumerate(steps) if s.predict is not None}
    )
    at.run()
    for i in range(n):
        assert not at.exception, (lesson_id, i + 1, [e.value for e in at.exception])
        assert not at.error, (lesson_id, i + 1, [e.value for e in at.error])
        pictures = at.get("plotly_chart") + at.get("bidi_component")  # bidi_component: a live chart
        assert pictures or at.get("arrow_data_frame"), (lesson_id, i + 1)
        if i < n - 1:
            at.button(key="lesson_next").click().run()
    assert dict(at.query_params) == {"lesson": lesson_id, "step": str(n)}
    assert at.button(key="open_playground")
