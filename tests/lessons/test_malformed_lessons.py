"""A teacher's mistakes: every problem names the file, the step and the field, and says how to fix it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from lessons.__main__ import main
from lessons.loader import check_file, check_paths, validate_file

GOOD = """\
id: tiny
title: A tiny lesson
goal: Check the checker.
minutes: 2
scenario:
  brokers: 1
  topics:
    - {name: orders, partitions: 1, replication_factor: 1}
  producers:
    - {id: p1, topic: orders, rate_per_s: 0, config: {linger.ms: 0}}
steps:
  - title: Write one record
    narration: One record goes in.
    commands:
      - {op: produce, producer: p1, key: k1, value: hello}
      - run_for_ms: 100
    checks:
      - {partition: orders-0, log_end_offset: 1}
  - title: Write another
    narration: And one more.
    commands:
      - {op: produce, producer: p1, key: k1, value: again}
      - run_for_ms: 100
    checks:
      - {record: {topic: orders, value: again}, present: true}
"""


def _write(tmp_path: Path, text: str, name: str = "lesson.yaml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def _one(problems):
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def test_a_good_file_passes(tmp_path, capsys):
    path = _write(tmp_path, GOOD)
    assert main(["check", str(path)]) == 0
    assert capsys.readouterr().out.strip() == "1 lessons, 2 steps, all checks pass"


def test_bad_field_names_file_step_and_field(tmp_path, capsys):
    path = _write(
        tmp_path,
        GOOD.replace("    narration: And one more.", "    narration: And one more.\n    naration: typo"),
    )
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "lesson.yaml: step 2: naration: Extra inputs are not permitted" in out
    assert "fix: remove 'naration'" in out
    assert out.strip().endswith("0 lessons, 0 steps, 1 problem(s)")


def test_wrong_type_and_out_of_range_answer(tmp_path):
    predict = (
        "    predict:\n      question: Which one?\n      choices: [a, b]\n      answer: 2\n"
        "      explanation: Because.\n"
    )
    text = GOOD.replace("minutes: 2", "minutes: lots").replace(
        "    checks:\n      - {record", predict + "    checks:\n      - {record"
    )
    _, problems = validate_file(_write(tmp_path, text))
    fields = {(p.step, p.field) for p in problems}
    assert (None, "minutes") in fields
    assert (2, "predict") in fields
    assert any("answers count from 0" in p.message for p in problems)


def test_unknown_command_lists_the_allowed_ops(tmp_path):
    path = _write(
        tmp_path,
        GOOD.replace(
            "      - run_for_ms: 100\n    checks:\n      - {record",
            "      - {op: explode, broker: 1}\n    checks:\n      - {record",
        ),
    )
    p = _one(validate_file(path)[1])
    assert (p.step, p.field) == (2, "commands[1].op")
    assert (
        "unknown command 'explode'" in p.message and "crash_broker" in p.message and "run_until" in p.message
    )
    assert p.file.endswith("lesson.yaml")


def test_bad_command_field(tmp_path):
    path = _write(
        tmp_path,
        GOOD.replace("{op: produce, producer: p1, key: k1, value: again}", "{op: crash_broker, brokr: 1}"),
    )
    p = _one(validate_file(path)[1])
    assert (p.step, p.field) == (2, "commands[0].brokr")
    assert "'brokr' is not a field of crash_broker; did you mean 'broker'?" in p.message


def test_failing_check_names_step_field_and_what_the_engine_has(tmp_path, capsys):
    path = _write(
        tmp_path,
        GOOD.replace("{partition: orders-0, log_end_offset: 1}", "{partition: orders-0, log_end_offset: 5}"),
    )
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert (
        "lesson.yaml: step 1: checks[0].log_end_offset: orders-0: log_end_offset should be = 5 but the engine "
        "has 1" in out
    )
    assert "fix: the engine gives 1: change the expected value" in out


def test_unknown_check_field_and_event_kind(tmp_path):
    text = GOOD.replace(
        "{partition: orders-0, log_end_offset: 1}", "{partition: orders-0, leeder: 1}"
    ).replace("{record: {topic: orders, value: again}, present: true}", "{event: leader_elect}")
    problems = validate_file(_write(tmp_path, text))[1]
    by_step = {p.step: p for p in problems}
    assert by_step[1].field == "checks[0].leeder" and "'leeder' is not one of them" in by_step[1].message
    assert by_step[2].field == "checks[0].event" and "Did you mean leader_elected?" in by_step[2].message


def test_a_command_that_fails_on_the_engine(tmp_path):
    path = _write(
        tmp_path,
        GOOD.replace(
            "{op: produce, producer: p1, key: k1, value: again}", "{op: crash_consumer, consumer: c9}"
        ),
    )
    p = _one(check_file(path)[2])
    assert (p.step, p.field) == (2, "commands[0]") and "there is no consumer 'c9'" in p.message


def test_run_until_that_never_happens_is_an_error_not_a_hang(tmp_path):
    path = _write(
        tmp_path,
        GOOD.replace(
            "      - run_for_ms: 100\n    checks:\n      - {record",
            "      - {run_until: leader_elected, max_ms: 5000}\n    checks:\n      - {record",
        ),
    )
    p = _one(check_file(path)[2])
    assert (p.step, p.field) == (2, "commands[1]") and "run_until leader_elected: not reached" in p.message


def test_yaml_syntax_error_has_a_line(tmp_path):
    p = _one(validate_file(_write(tmp_path, GOOD.replace("minutes: 2", "minutes: [2")))[1])
    assert p.field.startswith("yaml (line") and p.step is None


def test_unknown_preset_and_duplicate_ids(tmp_path):
    bad = _write(
        tmp_path, GOOD.replace("scenario:\n  brokers: 1", "scenario:\n  preset: Nope\n  brokers: 1"), "a.yaml"
    )
    p = _one(validate_file(bad)[1])
    assert p.field == "scenario" and "unknown preset 'Nope'" in p.message
    folder = tmp_path / "two"
    folder.mkdir()
    _write(folder, GOOD, "01.yaml")
    _write(folder, GOOD, "02.yaml")
    n, steps, problems = check_paths([folder])
    assert (n, steps) == (2, 4)
    assert _one(problems).field == "id" and "also used by" in problems[0].message


@pytest.mark.parametrize("text", ["just a string", "- a\n- list"])
def test_not_a_mapping(tmp_path, text):
    p = _one(validate_file(_write(tmp_path, text))[1])
    assert p.field == "lesson" and "a lesson file is a mapping" in p.message


def test_yaml_is_loaded_safely(tmp_path):
    path = _write(
        tmp_path, GOOD.replace("goal: Check the checker.", "goal: !!python/object/apply:os.system [echo]")
    )
    p = _one(validate_file(path)[1])
    assert p.field.startswith("yaml")  # yaml.safe_load refuses Python tags
