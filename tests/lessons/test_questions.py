"""Predict questions that cannot be gamed (issue 16): a per-seed shuffle, and the checker's two refusals."""

from __future__ import annotations

import textwrap
from pathlib import Path

from lessons.__main__ import main
from lessons.choices import choice_order, crowded_position, giveaway, normalise, shuffled
from lessons.loader import check_paths
from lessons.model import Predict

Q = Predict(
    question="Where does the sixth record go?",
    choices=["At the end", "At the start", "Nowhere", "Both"],
    answer=0,
    explanation="Append only.",
)


def test_the_order_is_a_permutation_fixed_by_the_seed():
    orders = {tuple(choice_order(Q, seed)) for seed in range(40)}
    assert all(sorted(o) == [0, 1, 2, 3] for o in orders)
    assert len(orders) > 6  # many orders over many sessions
    assert choice_order(Q, 7) == choice_order(Q, 7) and choice_order(Q, "K7MQ3R") == choice_order(Q, "K7MQ3R")


def test_the_right_answer_moves_with_the_shuffle():
    positions = {shuffled(Q, seed)[1] for seed in range(40)}
    assert positions == {0, 1, 2, 3}
    for seed in range(10):
        shown, right = shuffled(Q, seed)
        assert shown[right] == "At the end"


def test_two_questions_of_one_session_are_shuffled_differently():
    other = Q.model_copy(update={"question": "Where does the seventh record go?"})
    assert any(choice_order(Q, s) != choice_order(other, s) for s in range(5))


def test_crowded_positions():
    same = [Q, Q.model_copy(update={"question": "again?"})]
    assert crowded_position(same) == (0, 2)
    assert crowded_position([Q]) is None  # one question is always "at one position"
    spread = [Q, Q.model_copy(update={"answer": 1}), Q.model_copy(update={"answer": 2})]
    assert crowded_position(spread) is None
    half = [Q, Q.model_copy(update={"answer": 1})]
    assert crowded_position(half) is None  # half is not more than half


def test_giveaway_finds_the_right_choice_or_a_long_clause_of_it():
    p = Predict(
        question="What does c3 get?",
        choices=["Half a partition", "Nothing; it stays idle as a spare"],
        answer=1,
        explanation="xyz",
    )
    assert giveaway(p, ["A third consumer joins", "More load is coming."]) is None
    assert (
        giveaway(p, ["The new consumer: **it stays idle as a spare**, for now."])
        == "it stays idle as a spare"
    )
    assert giveaway(p, ["Nothing, it stays idle as a spare"]) == "nothing it stays idle as a spare"
    # short clauses are common words, not give-aways
    p2 = Predict(question="Which?", choices=["All three, taking turns", "One"], answer=0, explanation="xyz")
    assert giveaway(p2, ["all three brokers are up"]) is None
    assert normalise("`acks=all`, **Both**!") == "acks=all both"


LESSON = """\
id: tiny-questions
title: A tiny lesson
goal: Check the question checks.
minutes: 2
scenario:
  brokers: 1
  topics:
    - {name: orders, partitions: 1, replication_factor: 1}
  producers:
    - {id: p1, topic: orders, rate_per_s: 0, config: {linger.ms: 0}}
steps:
  - title: Write one record
    narration: "NARRATION1"
    predict:
      question: Where does the record go?
      choices: [orders-0, nowhere, a new topic]
      answer: ANSWER1
      explanation: There is one partition.
    commands:
      - {op: produce, producer: p1, key: k1, value: hello}
      - run_for_ms: 100
    checks:
      - {partition: orders-0, log_end_offset: 1}
  - title: Write another
    narration: And one more.
    predict:
      question: What is its offset?
      choices: ["0", "1", "2"]
      answer: 1
      explanation: The next one.
    commands:
      - {op: produce, producer: p1, key: k1, value: again}
      - run_for_ms: 100
    checks:
      - {partition: orders-0, log_end_offset: 2}
"""


def _write(tmp_path: Path, narration: str, answer: int) -> Path:
    p = tmp_path / "lesson.yaml"
    p.write_text(textwrap.dedent(LESSON).replace("NARRATION1", narration).replace("ANSWER1", str(answer)))
    return p


def test_a_lesson_with_spread_answers_and_no_giveaway_passes(tmp_path, capsys):
    assert main(["check", str(_write(tmp_path, "One record goes in.", 0))]) == 0
    assert capsys.readouterr().out.strip().endswith("all checks pass")


def test_right_answers_at_one_position_fail_the_check(tmp_path, capsys):
    # both right answers are choice 1 (so "orders-0" is marked wrong: the position check fires first)
    path = _write(tmp_path, "One record goes in.", 1)
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "lesson.yaml: predict.answer: 2 of the lesson's 2 right answers are choice 1" in out
    assert "fix: reorder the choices" in out


def test_a_right_answer_spelled_out_before_the_question_fails_the_check(tmp_path):
    path = _write(tmp_path, "One record goes in: it lands in **orders-0**.", 0)
    _, _, problems = check_paths([path])
    assert [(p.step, p.field) for p in problems] == [(1, "predict.answer")]
    assert "'orders-0' is in the lesson title, the step title or its narration" in problems[0].message


def test_the_course_has_no_gameable_question(course):
    from lessons.loader import question_problems

    assert [str(p) for lesson in course for p in question_problems(lesson, lesson.id)] == []
    assert crowded_position([s.predict for lesson in course for s in lesson.steps if s.predict]) is None


def test_repeated_choices_are_refused():
    """The page matches a shuffled choice by its text, so two equal choices could not be told apart."""
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="choices repeat"):
        Predict(question="Which?", choices=["a", "b", "a"], answer=0, explanation="xyz")
