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


def test_walk_lesson_four_answering_the_predictions():
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
            radio[0].set_value(radio[0].options[1]).run()  # answer 1 is right in both of lesson 4's questions
            at.button(key="predict_check").click().run()
            assert any(s.value.startswith("**Right.**") for s in at.success)
            answered += 1
        nxt = at.button(key="lesson_next")
        if nxt.disabled:
            break
        nxt.click().run()
    assert steps == ["### One topic, two partitions", "### group-1: two consumers share the work",
                     "### group-2: one consumer reads both", "### Queue and pub-sub in one picture"]
    assert answered == 2
    assert dict(at.query_params) == {"lesson": "queue-vs-pubsub", "step": "4"}
    assert any("Lesson complete" in s.value for s in at.success)
    # the final picture: group-1 splits the partitions, group-2's c3 reads both
    spec = next(c for c in _charts(at) if "Who reads which partition" in json.dumps(c))
    cells = [s["name"] for s in spec["layout"]["shapes"] if s["fillcolor"] not in ("#F2F4F7",)]
    assert sorted(cells) == ["cell:group-1:c1:orders-0", "cell:group-1:c2:orders-1", "cell:group-2:c3:orders-0",
                             "cell:group-2:c3:orders-1"]
    # the choice is remembered: going back shows the answer, not the question again
    at.button(key="lesson_prev").click().run()
    assert at.radio[0].disabled and at.radio[0].value == at.radio[0].options[1]


def test_a_wrong_answer_is_explained():
    at = _lessons_page(lesson="idle-consumer", step="2")
    at.session_state["kc_lessons"].from_link.clear()  # as if walked here: ask the question
    at.run()
    radio = next(r for r in at.radio if not r.disabled)
    radio.set_value(radio.options[0]).run()
    at.button(key="predict_check").click().run()
    assert any("Not quite" in e.value and "Nothing; it stays idle" in e.value for e in at.error)


def test_a_shared_link_opens_that_step_revealed():
    at = _lessons_page(lesson="broker-failure-and-data-loss", step="5")
    assert _titles(at) == ["### The data-loss experiment: acks=1"]
    assert any("Opened from a link" in i.value for i in at.info)
    assert not at.button(key="lesson_next").disabled
    assert any("acknowledged record(s) lost" in m.value for m in at.markdown)


@pytest.mark.parametrize("params", [{"lesson": "no-such-lesson", "step": "1"},
                                    {"lesson": "queue-vs-pubsub", "step": "99"},
                                    {"lesson": "queue-vs-pubsub", "step": "two"}])
def test_a_bad_link_falls_back_to_the_first_lesson(params):
    at = _lessons_page(**params)
    assert any("could not be opened" in w.value for w in at.warning)
    assert _titles(at) == ["### A cluster of brokers"]


def test_open_in_playground_carries_the_exact_state():
    at = _lessons_page(lesson="queue-vs-pubsub", step="3")
    lessons_state = at.session_state["kc_lessons"]
    res = lessons_state.runs["queue-vs-pubsub"].results[2]
    at.button(key="open_playground").click().run()
    assert not at.exception, [e.value for e in at.exception]
    session = at.session_state["kc_playground"]
    assert session.position == res.state["position"]
    assert session.cluster.snapshot() == res.snapshot  # the same cluster, not an approximation
    assert at.session_state["timeline_state"]["scenario"]["name"] == "Queue vs pub-sub"


@pytest.mark.parametrize("lesson_id", ["brokers-producers-consumers", "topics-partitions-offsets",
                                       "keys-and-partitioning", "idle-consumer", "rebalance-on-failure",
                                       "offsets-and-delivery", "replication", "broker-failure-and-data-loss",
                                       "the-controller", "producer-batching", "durability-on-disk", "scaling-online",
                                       "docker-to-simulator-and-back", "share-groups", "kip848-rebalance",
                                       "transactions-exactly-once"])
def test_every_step_of_every_lesson_renders(lesson_id, lesson_by_id):
    """Every view of every step draws without an exception (answers revealed, as from a link)."""
    at = _lessons_page(lesson=lesson_id, step="1")
    n = len(lesson_by_id[lesson_id].steps)
    at.session_state["kc_lessons"].from_link.update(f"{lesson_id}/{i}" for i in range(n))
    for i in range(n):
        assert not at.exception, (lesson_id, i + 1, [e.value for e in at.exception])
        assert not at.error, (lesson_id, i + 1, [e.value for e in at.error])
        assert at.get("plotly_chart") or at.get("arrow_data_frame"), (lesson_id, i + 1)
        if i < n - 1:
            at.button(key="lesson_next").click().run()
    assert dict(at.query_params) == {"lesson": lesson_id, "step": str(n)}
    assert at.button(key="open_playground")
