"""The `compare` lesson op: validated at load time, run deterministically, checked, exported, and drawn.

Lesson 9's "Side by side: acks=1 vs acks=all" step is the example: two runs of the Broker failure preset,
acks=1 on the left and acks=all on the right, the leader of payments-0 crashed in both.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lessons.checks import CheckContext, CheckError, parse_check
from lessons.comparison import compare_until, run_compare
from lessons.loader import check_file, validate_file
from lessons.model import (
    CommandError,
    CompareOp,
    CompareUntilOp,
    EngineOp,
    Lesson,
    Step,
    StepsOp,
    parse_lesson_command,
)
from lessons.notebook import build_notebook
from lessons.runner import LessonRun, StepFailed
from ui.trace_panel import md_escape

ROOT = Path(__file__).resolve().parents[2]
LESSON = "broker-failure-and-data-loss"
TITLE = "Side by side: acks=1 vs acks=all"
ACKS = {"left": ["producer.acks=1"], "right": ["producer.acks=all"]}


def _compare(**fields) -> dict:
    return {"compare": {**ACKS, **fields}}


def _error(raw) -> CommandError:
    with pytest.raises(CommandError) as info:
        parse_lesson_command(raw)
    return info.value


@pytest.fixture(scope="module")
def step_index(lesson_by_id) -> int:
    return next(i for i, s in enumerate(lesson_by_id[LESSON].steps) if s.title == TITLE)


@pytest.fixture(scope="module")
def lesson_run(lesson_by_id, step_index) -> LessonRun:
    run = LessonRun(lesson_by_id[LESSON])
    run.run_to(step_index)
    return run


# -- the model ---------------------------------------------------------------------------------------------------
def test_a_compare_parses_into_the_pairs_vocabulary():
    cmd = parse_lesson_command(
        {
            "compare": {
                "scenario": {"preset": "Broker failure"},
                "left": "producer.acks=1",
                "right": ["producer.acks=all"],
                "commands": [
                    {"run_for_ms": 400},
                    {"op": "crash_broker", "broker": 2},
                    {"run_until": "records_lost", "side": "left"},
                    {"steps": 3},
                ],
            }
        }
    )
    assert isinstance(cmd, CompareOp)
    assert (cmd.left, cmd.right) == (["producer.acks=1"], ["producer.acks=all"])  # one change may be a string
    assert cmd.scenario is not None and cmd.scenario.name == "Broker failure"
    inner = cmd.parsed_commands()
    assert [type(c) for c in inner] == [EngineOp, EngineOp, CompareUntilOp, StepsOp]
    assert inner[0].command.op == "run_for" and inner[2].side == "left"
    # a step with a compare shows it: the compare view by default, or added to the views given
    assert Step(title="t", narration="n", commands=[_compare()]).focus.views == ["compare"]
    step = Step(title="t", narration="n", commands=[_compare()], focus={"views": ["diagram"]})
    assert step.focus.views == ["diagram", "compare"]


@pytest.mark.parametrize(
    "raw, field, words",
    [
        (
            _compare(left=["produce.acks=1"]),
            "left",
            ["scope must be one of producer, consumer, topic, broker"],
        ),
        (_compare(left=["acks=1"]), "left", ["scope.config=value", "producer, consumer, topic, broker"]),
        (_compare(right=["producer.acks=1"], left=["producer.acks=1"]), "right", ["same as left"]),
        (
            _compare(scenario={"preset": "Broker failure"}, right=["producer.lingr.ms=50"]),
            "right",
            ["right run's settings", "Did you mean linger.ms?"],
        ),
        (
            _compare(scenario={"preset": "Broker failure"}, left=["producer.acks=2"]),
            "left",
            ["acks must be one of"],
        ),
        (_compare(scenario={"preset": "Nope"}), "scenario", ["unknown preset 'Nope'", "Broker failure"]),
        (_compare(colour="red"), "colour", ["not a field of compare", "left, right, commands"]),
        ({"compare": {"left": ["producer.acks=1"]}}, "right", ["Field required"]),
        (
            _compare(commands=[{"run_until": "records_lost", "side": "middle"}]),
            "commands[0].side",
            ["'either', 'left', 'right' or 'both'"],
        ),
        (
            _compare(commands=[{"sweep": {"config": "linger.ms", "values": [0, 5]}}]),
            "commands[0].op",
            ["cannot run inside a compare", "steps, run_until, run_for_ms"],
        ),
        (
            _compare(commands=[{"steps": 1}, {"op": "crash_broker", "brokr": 2}]),
            "commands[1].brokr",
            ["did you mean 'broker'?"],
        ),
        (
            {"run_until": {"compare": "left", "records_lost": 1}},
            "until",
            ["use it in checks after a compare"],
        ),
    ],
)
def test_a_bad_compare_names_the_field_and_what_is_allowed(raw, field, words):
    err = _error(raw)
    assert err.field == field, str(err)
    for w in words:
        assert w in str(err), str(err)


def test_step_rules_for_compare():
    with pytest.raises(ValueError, match="at most one compare"):
        Step(title="t", narration="n", commands=[_compare(), _compare()])
    with pytest.raises(ValueError, match="focus.views: 'compare' draws the step's compare command"):
        Step(title="t", narration="n", focus={"views": ["compare"]})


def test_compare_checks_parse_or_name_the_field():
    assert (
        parse_check({"compare": "left", "records_lost": {"gt": 0}}).describe()
        == "compare: the left run: records_lost > 0"
    )
    for raw, field in [
        ({"compare": "middle", "records_lost": 0}, "compare"),
        ({"compare": "left", "found": True}, "found"),
        ({"compare": "divergence", "records_lost": 0}, "records_lost"),
    ]:
        with pytest.raises(CheckError) as info:
            parse_check(raw)
        assert info.value.field == field, str(info.value)


def _lesson_file(tmp_path: Path, right: str, checks: str = "") -> Path:
    """A one-step lesson comparing on the lesson's own scenario (no scenario in the compare)."""
    f = tmp_path / "draft.yaml"
    f.write_text(
        textwrap.dedent(f"""\
        id: draft
        title: A draft
        goal: Compare two settings.
        minutes: 3
        scenario: {{preset: Broker failure}}
        steps:
          - title: Side by side
            narration: Left and right.
            commands:
              - compare:
                  left: [producer.acks=1]
                  right: [{right}]
                  commands:
                    - run_for_ms: 500
                    - {{op: crash_broker, broker: 2}}
                    - run_for_ms: 12000
            checks: {checks or "[]"}
        """)
    )
    return f


def test_the_loader_checks_each_side_against_the_lessons_scenario(tmp_path):
    lesson, problems = validate_file(_lesson_file(tmp_path, "producer.lingr.ms=5"))
    assert lesson is None and len(problems) == 1
    p = problems[0]
    assert (p.step, p.field) == (1, "commands[0].right") and "Did you mean linger.ms?" in p.message, str(p)


def test_a_check_that_does_not_hold_fails_with_the_engines_number(tmp_path):
    # both runs acks=all: nothing acknowledged is lost, so "the left run lost records" must fail
    f = _lesson_file(tmp_path, "producer.linger.ms=5", "[{compare: left, records_lost: {gte: 1}}]")
    f.write_text(f.read_text().replace("left: [producer.acks=1]", "left: [producer.acks=all]"))
    _, _, problems = check_file(f)
    assert [p.field for p in problems] == ["checks[0].records_lost"], [str(p) for p in problems]
    assert "should be ≥ 1 but the engine has 0" in problems[0].message


# -- the runner --------------------------------------------------------------------------------------------------
def test_acks1_loses_acknowledged_records_and_acks_all_does_not(lesson_run, step_index):
    res = lesson_run.results[step_index]
    assert res.passed, [f.message for _, fs in res.checks for f in fs]
    cmp = res.compare
    assert cmp is not None and cmp.labels == ("producer.acks=1", "producer.acks=all")
    left, right = cmp.pair.left, cmp.pair.right
    # the settings are the only difference, and the commands hit both runs
    assert {str(p.config.get("acks")) for p in left.snapshot().producers} == {"1"}
    assert {str(p.config.get("acks")) for p in right.snapshot().producers} == {"all"}
    crashed = {e.actors[0] for c in (left, right) for e in c.events.events if e.kind == "broker_crashed"}
    assert len(crashed) == 1
    leader = int(next(iter(crashed)).rsplit("-", 1)[-1])
    assert cmp.start.partition("payments", 0).leader == leader  # it was payments-0's leader
    assert not left.brokers[leader].alive and not right.brokers[leader].alive
    assert left.now == right.now  # aligned on simulated time
    # from the engine: the left run lost records it had acknowledged (acks=1), the right none
    lost = left.losses.lost_records()
    assert lost and all(r.topic == "payments" and "acks=1" in r.reason for r in lost)
    assert right.losses.lost_count == 0 and right.producers["p1"].acked > 0
    assert left.snapshot().partition("payments", 0).leader != leader  # a new leader was elected without them
    # the check subjects read the same numbers
    assert [o.records_lost for o in cmp.outcomes()] == [left.losses.lost_count, 0]
    d = cmp.divergence()
    assert d is not None and d.left is not None and d.right is not None and d.left != d.right
    # the lesson's own cluster is untouched by the comparison
    assert res.state == lesson_run.results[step_index - 1].state
    assert res.events == []


def test_the_comparison_is_deterministic(lesson_run, step_index, lesson_by_id):
    cmd = next(
        c for c in lesson_by_id[LESSON].steps[step_index].parsed_commands() if isinstance(c, CompareOp)
    )
    again = run_compare(cmd, lesson_by_id[LESSON].scenario)
    first = lesson_run.results[step_index].compare
    for a, b in ((first.pair.left, again.pair.left), (first.pair.right, again.pair.right)):
        assert [(e.time_ms, e.kind, e.summary) for e in a.events.events] == [
            (e.time_ms, e.kind, e.summary) for e in b.events.events
        ]


def test_compare_until_names_what_never_came():
    op = parse_lesson_command({"compare": {**ACKS, "scenario": {"preset": "Broker failure"}}})
    pair = run_compare(op, op.scenario).pair
    with pytest.raises(ValueError, match=r"run_until records_lost \(right run\): not reached after"):
        compare_until(pair, "records_lost", side="right", max_ms=3000)
    # in a lesson, the step fails with the command's index rather than hanging
    lesson = Lesson.model_validate(
        {
            "id": "x",
            "title": "xyz",
            "goal": "xyz",
            "minutes": 1,
            "scenario": {"preset": "Broker failure"},
            "steps": [
                {
                    "title": "t",
                    "narration": "n",
                    "commands": [
                        _compare(commands=[{"run_until": "records_lost", "side": "right", "max_ms": 2000}])
                    ],
                }
            ],
        }
    )
    with pytest.raises(StepFailed, match="compare: commands\\[0\\]") as info:
        LessonRun(lesson).run_next()
    assert info.value.command == 0


def test_a_compare_check_outside_a_compare_step_says_so(lesson_run):
    c = lesson_run.timeline.cluster
    failures = parse_check({"compare": "left", "records_lost": 0}).evaluate(
        CheckContext(c, None, [], c.events.events)
    )
    assert failures and "this step ran no compare" in failures[0].message


# -- the notebook export -----------------------------------------------------------------------------------------
def test_the_notebook_rebuilds_the_pair_and_its_asserts_hold(
    lesson_by_id, lesson_run, step_index, monkeypatch
):
    import plotly.graph_objects as go

    shown: list[go.Figure] = []
    monkeypatch.setattr(go.Figure, "show", lambda self, *a, **k: shown.append(self))
    nb = build_notebook(lesson_by_id[LESSON])
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    step_cell = next(i for i, s in enumerate(code) if s.startswith(f"# Step {step_index + 1}: {TITLE}"))
    assert "pair = ComparePair(" in code[step_cell] and "left=['producer.acks=1']" in code[step_cell]
    assert "pair.apply({'op': 'crash_broker', 'broker': 2})" in code[step_cell]
    asserts = code[step_cell + 1]
    assert "o_left.records_lost >= 1" in asserts and "o_right.records_lost == 0" in asserts
    ns: dict = {}
    for src in (
        code[0],
        code[1],
        code[step_cell],
        asserts,
    ):  # setup, the starting cluster, the step, its asserts
        exec(src, ns)  # noqa: S102 - the notebook's own cells
    pair, ours = ns["pair"], lesson_run.results[step_index].compare.pair
    assert pair.outcomes() == ours.outcomes() and pair.divergence() == ours.divergence()
    assert any(t.get("name") == "outcome:records_lost" for f in shown for t in f.to_dict()["data"])
    # a student's edit is caught: swap the sides, and the left run (now acks=all) loses nothing
    edited = code[step_cell].replace(
        "left=['producer.acks=1'], right=['producer.acks=all']",
        "left=['producer.acks=all'], right=['producer.acks=1']",
    )
    exec(edited.replace("side='left'", "side='right'"), ns)  # noqa: S102
    assert ns["pair"].outcomes()[1].records_lost > 0
    with pytest.raises(AssertionError):
        exec(asserts, ns)  # noqa: S102


# -- the Lessons page ----------------------------------------------------------------------------------------------
def _page(step: int) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["lesson"] = LESSON
    at.query_params["step"] = str(step)
    at.run()
    at.switch_page("ui/lessons_page.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _charts(at: AppTest) -> dict[str, dict]:
    """Every figure on the page by its key: `st.plotly_chart`'s and live charts' (ui/live_chart.py)."""
    from ui.live_chart import figure_spec

    out = {}
    for node in at:
        if node.type == "plotly_chart":
            out[node.key] = json.loads(node.proto.spec)
        elif node.type == "bidi_component" and (spec := figure_spec(node)) is not None:
            out[node.key] = spec
    return out


def _answered(at: AppTest, lesson, step_index: int) -> AppTest:
    """As if the student had answered the step's question rightly (a link alone reveals nothing)."""
    at.session_state["kc_lessons"].answers[f"{LESSON}/{step_index}"] = lesson.steps[step_index].predict.answer
    at.run()
    return at


def test_the_lessons_page_shows_both_panels_and_where_the_runs_part(lesson_run, step_index, lesson_by_id):
    at = _answered(_page(step_index + 1), lesson_by_id[LESSON], step_index)
    assert [m.value for m in at.markdown if m.value.startswith("### ")] == [f"### {TITLE}"]
    pair = lesson_run.results[step_index].compare.pair
    charts = _charts(at)
    for side in ("left", "right"):
        assert f"lesson_cmp_diagram_{side}" in charts and f"lesson_cmp_logs_{side}" in charts
    # the divergence line names the first event that differs, one line per run
    d = pair.first_difference()
    div = next(m.value for m in at.markdown if m.value.startswith("**Where the runs part:**"))
    assert f"t={d.time_ms} ms" in div
    assert md_escape(d.left.summary)[:60] in div and md_escape(d.right.summary)[:60] in div
    # the outcome rows: the left run lost acknowledged records, the right none (the engine's numbers)
    lost = [m.value for m in at.metric if m.label == "lost after ack"]
    assert lost == [str(pair.left.losses.lost_count), "0"] and int(lost[0]) > 0
    bar = next(t for t in charts["lesson_cmp_outcome"]["data"] if t["name"] == "outcome:records_lost")
    assert bar["y"][0] > 0 and bar["y"][1] == 0
    # each panel narrates its own run: a loss on the left, an election on the right
    panels = [m.value for m in at.markdown]
    assert any("acknowledged record" in m and "are gone" in m for m in panels)
    assert any("elected broker" in m for m in panels)
    assert any("What was done to both runs" in e.label for e in at.expander)


def test_before_the_answer_only_the_starting_cluster_is_shown(step_index, lesson_by_id):
    at = _page(step_index + 1)  # opened from a link: the question comes first
    charts = _charts(at)
    assert "lesson_cmp_start" in charts and "lesson_cmp_diagram_left" not in charts
    assert not any(m.value.startswith("**Where the runs part:**") for m in at.markdown)
    radio = next(r for r in at.radio if not r.disabled)
    p = lesson_by_id[LESSON].steps[step_index].predict
    radio.set_value(p.choices[p.answer]).run()
    at.button(key="predict_check").click().run()
    assert any(s.value.startswith("**Right.**") for s in at.success)
    charts = _charts(at)
    assert {"lesson_cmp_diagram_left", "lesson_cmp_diagram_right", "lesson_cmp_race"} <= set(charts)
