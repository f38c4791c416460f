"""Export a lesson as a Jupyter notebook: real engine code a student can edit and rerun, not a dump of outputs.

Each step becomes a Markdown cell (narration, the predict question with a folded answer) and a code cell
that applies the step's commands to an `engine.timeline.Timeline` and draws the same figures as the app
(`ui.figures`, or a plain table when the app's figures are not importable). A final cell asserts the
lesson's last checks, so "Run all" proves the notebook still tells the truth about the engine.
"""

from __future__ import annotations

import pprint
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from .checks import Check, parse_check
from .model import (
    CompareOp,
    CompareUntilOp,
    DropNextOp,
    EngineOp,
    Lesson,
    LessonOp,
    NewClusterOp,
    RunUntilOp,
    Step,
    StepsOp,
    SweepOp,
    command_to_dict,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
IMPORTANT = (
    "records_lost",
    "partition_offline",
    "leader_elected",
    "controller_elected",
    "broker_crashed",
    "broker_stopped",
    "controlled_shutdown",
    "broker_fenced",
    "isr_shrink",
    "isr_expand",
    "rebalance_started",
    "rebalance_completed",
    "assignment_received",
    "member_expired",
    "member_left",
    "consumer_crashed",
    "produce_rejected",
    "duplicate_batch",
    "batch_retried",
    "truncated",
    "segments_deleted",
    "log_compacted",
    "reassignment_completed",
    "offsets_committed",
    "note",
    "partitions_added",
    "batch_failed",
)

SETUP = '''\
import sys
from pathlib import Path

# Find the Kafka Classroom folder (the one holding engine/), wherever Jupyter was started.
for _p in [Path.cwd(), *Path.cwd().parents, Path(ROOT)]:
    if (_p / "engine").is_dir():
        sys.path.insert(0, str(_p))
        break

from engine.events import ELECTION_KINDS, REBALANCE_KINDS
from engine.scenario import Scenario, build_cluster
from engine.timeline import Timeline

try:  # the app's own figures; a plain table otherwise
    from ui.figures.compare import moments_of, outcome_figure, race_figure
    from ui.figures.diagram import cluster_diagram
    from ui.figures.logs import log_strips
except ImportError:
    cluster_diagram = log_strips = moments_of = outcome_figure = race_figure = None

IMPORTANT = {important}


def run_until(tl, kinds, max_steps=4000, where=lambda e: True):
    """Step until an event of one of `kinds` happens (the app's "Next rebalance" / "Next election")."""
    kinds = {{kinds}} if isinstance(kinds, str) else set(kinds)
    for _ in range(max_steps):
        events = tl.step()
        if any(e.kind in kinds and where(e) for e in events):
            return
        if not events:
            break
    raise RuntimeError(f"no {{sorted(kinds)}} event within {{max_steps}} steps")


def run_until_true(tl, condition, max_steps=4000):
    """Step until condition(snapshot) holds, e.g. lambda s: s.group("g1").state == "Stable"."""
    for _ in range(max_steps + 1):
        if condition(tl.cluster.snapshot(tail=0)):
            return
        if not tl.step():
            break
    raise RuntimeError(f"the condition is still false after {{max_steps}} steps")


def run_until_idle(tl, max_steps=4000):
    """Step until nothing is in progress (no unacknowledged batch, no rebalance, no follower behind)."""
    run_until_true(tl, lambda s: not tl.cluster.busy(), max_steps)


def run_until_stable(tl, max_steps=4000):
    """Step until every consumer group is Stable (or Empty)."""
    run_until_true(tl, lambda s: all(g.state in ("Stable", "Empty") for g in s.groups)
                   and all(k.state == "stable" for k in s.consumers if k.alive and k.group_id), max_steps)


def happened(tl, since):
    """Print the important events since event number `since`: what this step did, one sentence each."""
    events = [e for e in tl.cluster.events.since(since) if e.kind in IMPORTANT]
    for e in events[:12]:
        print(f"{{e.time_ms / 1000:8.3f}} s  {{e.summary}}")
    if len(events) > 12:
        print(f"... and {{len(events) - 12}} more")


def show(tl, topic=None, highlight=()):
    """The cluster diagram and the partition logs, as in the app's Lessons page."""
    snap = tl.cluster.snapshot()
    if cluster_diagram is not None:
        cluster_diagram(snap, highlight=tuple(highlight)).show()
        log_strips(snap, topic).show()
        return
    import plotly.graph_objects as go  # fallback: the same facts as a table

    rows = [(f"{{p.topic}}-{{p.partition}}", p.leader, list(p.isr), p.high_watermark, p.log_end_offset, len(p.lost))
            for p in snap.partitions]
    cols = list(zip(*rows)) if rows else [[]] * 6
    go.Figure(go.Table(header=dict(values=["partition", "leader", "ISR", "HW", "LEO", "lost"]),
                       cells=dict(values=cols))).show()
    for g in snap.groups:
        print(g.group_id, g.state, "generation", g.generation,
              {{m.client_id: [f"{{t}}-{{n}}" for t, n in m.assignment] for m in g.members}})


def show_compare(pair, topic=None):
    """Two runs side by side, as on the app's Compare page: where they part, each run's outcome, both clusters."""
    print(pair.divergence() or "The two runs are identical so far.")
    for side, o in zip(("left", "right"), pair.outcomes()):
        print(f"{{side:>5}} run: {{o.records_acked}} acknowledged, {{o.records_lost}} lost after ack, "
              f"{{o.duplicates}} duplicates, ack p50 {{o.ack_latency_p50_ms}} ms, p99 {{o.ack_latency_p99_ms}} ms")
    if outcome_figure is None:
        return
    lost = [sorted({{r.time_ms for r in c.losses.lost_records()}}) for c in (pair.left, pair.right)]
    race_figure(pair.left.metrics.series(), pair.right.metrics.series(), lost[0], lost[1], pair.left.now,
                moments=moments_of(pair.left.events.events)).show()
    outcome_figure(*pair.outcomes()).show()
    for c in (pair.left, pair.right):
        snap = c.snapshot()
        cluster_diagram(snap).show()
        log_strips(snap, topic).show()


def check(tl, mapping, since=0):
    """Evaluate one of the lesson's declarative checks (lessons/checks.py) and fail loudly if it is false."""
    from lessons.checks import CheckContext, parse_check

    c = tl.cluster
    failures = parse_check(mapping).evaluate(CheckContext(c, None, c.events.since(since), c.events.events))
    assert not failures, [f.message for f in failures]
'''


def _py(value: Any) -> str:
    """A Python literal for a YAML value (json-ish, but with True/False/None)."""
    return repr(value)


def _scenario_literal(scenario: Any) -> str:
    """The scenario as a Python dict literal (only what differs from the defaults, so it stays readable)."""
    return pprint.pformat(scenario.model_dump(exclude_defaults=True), indent=1, width=100, sort_dicts=False)


def _kv(mapping: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k!r}: {_py(v)}" for k, v in mapping.items()) + "}"


def _condition(check: Check) -> str | None:
    """A lambda over a snapshot for a state check, or None when it needs events or the full log."""
    parts = check.python_parts()
    if parts is None or check.subject in ("event", "record", "sweep"):
        return None
    setup, conds = parts
    expr = " and ".join(f"({c})" for c, _ in conds)
    if setup:
        var, _, value = setup.partition(" = ")
        # bind the setup expression to its name inside the lambda: (lambda var: ...)(value)
        return f"lambda snap: (lambda {var}: {expr})({value})"
    return f"lambda snap: {expr}"


def _event_filter(check: Check) -> str:
    o = check.options
    parts = []
    if "topic" in o:
        parts.append(f"e.topic == {o['topic']!r}")
    if "partition" in o:
        parts.append(f"f'{{e.topic}}-{{e.partition}}' == {o['partition']!r}")
    if "group" in o:
        parts.append(f"e.data.get('group') == {o['group']!r}")
    if "actor" in o:
        parts.append(f"{str(o['actor'])!r} in e.actors")
    if "contains" in o:
        parts.append(f"{str(o['contains']).lower()!r} in e.summary.lower()")
    for k, v in o.get("where", {}).items():
        parts.append(f"e.data.get({k!r}) == {v!r}")
    return "lambda e: " + (" and ".join(parts) if parts else "True")


def command_code(cmd: LessonOp) -> list[str]:
    """Python lines doing what one lesson command does, with the public engine API."""
    match cmd:
        case EngineOp():
            return [f"tl.apply({_kv(command_to_dict(cmd))})"]
        case StepsOp(n=n):
            return [f"tl.steps({n})"]
        case DropNextOp(message=kind, count=count):
            return [f"tl.cluster.drop_messages({kind!r}, {count})  # fault injection: lose the next {kind}"]
        case NewClusterOp(scenario=scenario):
            return [
                "# start over on another cluster",
                f"scenario = Scenario.model_validate({_scenario_literal(scenario)})",
                "tl = Timeline(scenario)",
                "_since = 0  # this step's events are counted on the new cluster",
            ]
        case RunUntilOp(until=until, max_steps=limit):
            if until == "rebalance":
                return [f"run_until(tl, REBALANCE_KINDS, max_steps={limit})"]
            if until == "election":
                return [f"run_until(tl, ELECTION_KINDS, max_steps={limit})"]
            if until == "idle":
                return [f"run_until_idle(tl, max_steps={limit})"]
            if until == "stable":
                return [f"run_until_stable(tl, max_steps={limit})"]
            if isinstance(until, str):
                return [f"run_until(tl, {until!r}, max_steps={limit})"]
            check = parse_check(until)
            if check.subject == "event" and "scope" not in check.options:
                return [
                    f"run_until(tl, {set(check.target)!r}, max_steps={limit}, where={_event_filter(check)})"
                ]
            cond = _condition(check)
            if cond is not None:
                return [f"run_until_true(tl, {cond}, max_steps={limit})  # until {check.describe()}"]
            return [
                "_since = tl.cluster.events.seq",
                f"for _ in range({limit}):  # until {check.describe()}",
                "    try:",
                f"        check(tl, {_kv(until)}, _since)",
                "        break",
                "    except AssertionError:",
                "        tl.step()",
            ]
        case SweepOp():
            return _sweep_code(cmd)
        case CompareOp():
            return _compare_code(cmd)
    raise ValueError(f"no notebook code for {cmd!r}")


def _compare_code(op: CompareOp) -> list[str]:
    """Rebuild the step's ComparePair and drive it with the calls the lesson runner makes (lessons.comparison)."""
    base = f"Scenario.model_validate({_scenario_literal(op.scenario)})" if op.scenario else "tl.scenario"
    out = [
        f"# Two runs side by side (the app's Compare page): the same scenario and seed, left {op.left} vs "
        f"right {op.right}.",
        "# Every command below goes to both runs at the same moment.",
        "from engine.compare import ComparePair",
        "from lessons.comparison import compare_until",
        "",
        f"pair = ComparePair({base}, left={op.left!r}, right={op.right!r})",
    ]
    for cmd in op.parsed_commands():
        match cmd:
            case EngineOp():
                out.append(f"pair.apply({_kv(command_to_dict(cmd))})")
            case StepsOp(n=n):
                out += [
                    f"for _ in range({n}):  # both runs to the next moment either has an event",
                    "    pair.step()",
                ]
            case CompareUntilOp(until=until, side=side, max_steps=limit, max_ms=max_ms):
                out.append(
                    f"compare_until(pair, {until!r}, side={side!r}, max_steps={limit}, max_ms={max_ms})"
                )
            case DropNextOp(message=kind, count=count):
                out += [
                    f"pair.left.drop_messages({kind!r}, {count})  # the same fault in both runs: lose the next "
                    f"{kind}",
                    f"pair.right.drop_messages({kind!r}, {count})",
                ]
    return out


def _sweep_code(op: SweepOp) -> list[str]:
    rate = f'\n            p["rate_per_s"] = {op.rate_per_s!r}' if op.rate_per_s is not None else ""
    return f'''# A bulk experiment: one fresh cluster per value of {op.config}, the same seed each time.
import plotly.graph_objects as go

rows = []
for value in {op.values!r}:
    data = scenario.model_dump()
    for p in data["producers"]:
        if p["id"] == {op.producer!r}:
            p["config"] = {{**p["config"], {op.config!r}: value}}{rate}
    c = build_cluster(Scenario.model_validate(data))
    c.run_for({op.run_ms})
    producer = c.producers[{op.producer!r}]
    topic = next(p["topic"] for p in data["producers"] if p["id"] == {op.producer!r})
    requests = sum(1 for e in c.events.events if e.kind == "batch_sent" and e.actors[0] == {op.producer!r})
    batches = [b for n in range(c.topics[topic].partitions) for b in c.leader_replica((topic, n)).log.batches()]
    seconds = {op.run_ms / 1000!r}
    rows.append({{"value": value,
                 "records_per_request": round(producer.acked / max(1, requests), 1),
                 "requests_per_s": round(requests / seconds, 1),
                 "acked_per_s": round(producer.acked / seconds, 1),
                 "p50_latency_ms": c.metrics.ack_percentile(0.5) or 0,
                 "p99_latency_ms": c.metrics.ack_percentile(0.99) or 0,
                 "wire_kb": round(sum(b.wire_bytes for b in batches) / 1024, 1),
                 "compression_ratio": round(sum(b.size_bytes for b in batches)
                                            / max(1, sum(b.wire_bytes for b in batches)), 2)}})
    print(rows[-1])

fig = go.Figure(go.Scatter(x=[r["records_per_request"] for r in rows], y=[r["p50_latency_ms"] for r in rows],
                           mode="lines+markers+text", text=[f"{op.config}={{r['value']}}" for r in rows],
                           textposition="top center"))
fig.update_layout(xaxis_title="records per Produce request (bigger batches)",
                  yaxis_title="median time to acknowledgement (ms)", height=420)
fig.show()'''.splitlines()


def _sweep_asserts(ch: Check) -> list[str]:
    m = ch.options["metric"]
    if "trend" in ch.options:
        op = {"increasing": ">", "decreasing": "<", "non-decreasing": ">=", "non-increasing": "<="}[
            ch.options["trend"]
        ]
        return [
            f"ys = [r[{m!r}] for r in rows]  # {ch.describe()}",
            f"assert all(b {op} a for a, b in zip(ys, ys[1:])), ys",
        ]
    return [
        f"row = next(r for r in rows if r['value'] == {ch.options['at']!r})  # {ch.describe()}",
        f"assert {ch.fields['expect'].python(f'row[{m!r}]')}, row",
    ]


def _predict_md(step: Step) -> str:
    p = step.predict
    assert p is not None
    letters = "abcdef"
    choices = "\n".join(f"- **({letters[i]})** {c}" for i, c in enumerate(p.choices))
    return (
        f"**Predict before you run the next cell.** {p.question}\n\n{choices}\n\n"
        f"<details><summary>Answer</summary>\n\n**({letters[p.answer]})** {p.choices[p.answer]}. "
        f"{p.explanation}\n\n</details>"
    )


def _assert_lines(checks: list[Check], since_var: str) -> list[str]:
    out: list[str] = ["snap = tl.cluster.snapshot()"]
    for ch in checks:
        lines = _sweep_asserts(ch) if ch.subject == "sweep" else ch.python()
        if lines is None:
            out.append(f"check(tl, {_kv(ch.raw)}, {since_var})  # {ch.describe()}")
        else:
            out.append(f"# {ch.describe()}")
            out += lines
    return out


def build_notebook(lesson: Lesson) -> nbformat.NotebookNode:
    """The lesson as a notebook object (nbformat v4)."""
    cells = []
    intro = f"# {lesson.title}\n\n**Goal:** {lesson.goal}\n\n"
    if lesson.notes_quote:
        intro += f"> {lesson.notes_quote}\n\n"
    intro += (
        "This notebook drives Kafka Classroom's simulated Kafka cluster (`engine/`) through the same steps "
        "as the app's lesson. Run the cells in order; then change a command or a config and run again. "
        "The simulation is deterministic: the same seed and commands always give the same result."
    )
    cells.append(new_markdown_cell(intro))
    important = "(" + ", ".join(repr(k) for k in IMPORTANT) + ")"
    cells.append(new_code_cell(f"ROOT = {str(REPO_ROOT)!r}\n\n" + SETUP.format(important=important)))
    data = _scenario_literal(lesson.scenario)
    cells.append(
        new_markdown_cell(
            "## The starting cluster\n\nThe scenario below is the lesson's starting point "
            "(the Playground's scenario format). `Timeline` records every command, so "
            "the run can be replayed or shared."
        )
    )
    cells.append(
        new_code_cell(f"scenario = Scenario.model_validate({data})\ntl = Timeline(scenario)\nshow(tl)")
    )
    for i, step in enumerate(lesson.steps, start=1):
        cells.append(new_markdown_cell(f"## Step {i}: {step.title}\n\n{step.narration.strip()}"))
        if step.predict is not None:
            cells.append(new_markdown_cell(_predict_md(step)))
        code = [f"# Step {i}: {step.title}", "_since = tl.cluster.events.seq"]
        for cmd in step.parsed_commands():
            code += command_code(cmd)
        code.append("happened(tl, _since)")
        views = step.focus.views
        if "diagram" in views or "log" in views or "lost" in views or "producer" in views:
            code.append(f"show(tl, topic={step.focus.topic!r}, highlight={step.focus.highlight!r})")
        if "compare" in views:
            code.append(f"show_compare(pair, topic={step.focus.topic!r})")
        cells.append(new_code_cell("\n".join(code)))
        checks = step.parsed_checks()
        if checks and i < len(lesson.steps):
            cells.append(
                new_code_cell(
                    "# What the lesson says is true now (edit the commands above and see "
                    "which still hold)\n" + "\n".join(_assert_lines(checks, "_since"))
                )
            )
        if step.try_it:
            cells.append(new_markdown_cell(f"**Try it:** {step.try_it}"))
    last = lesson.steps[-1].parsed_checks()
    cells.append(
        new_markdown_cell(
            "## Check\n\nThe last cell asserts what the lesson ends with. If you changed "
            "something above, it tells you whether the conclusion still holds."
        )
    )
    cells.append(
        new_code_cell(
            "# The lesson's final state\n"
            + "\n".join(_assert_lines(last, "_since"))
            + "\nprint('All of the lesson\\'s final checks hold.')"
        )
    )
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["kafka_classroom"] = {"lesson": lesson.id, "steps": len(lesson.steps)}
    return nb


def write_notebook(lesson: Lesson, path: str | Path) -> Path:
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    nb = build_notebook(lesson)
    nbformat.validate(nb)
    nbformat.write(nb, str(path))
    return path


__all__ = ["build_notebook", "write_notebook", "command_code"]
