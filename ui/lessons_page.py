"""The Lessons page: a guided course, one step at a time: narration, predict, then see the engine do it.

Left: the course outline with progress. Right: the current lesson step: narration, a prediction question
(asked on the picture *before* the step, revealed with the picture *after* it), the diagram and log views
focused on what the step is about, and what the engine confirms. Every step is reproducible: the URL
(`?lesson=<id>&step=<n>`) reopens it, and "Open in Playground" carries the run's `Timeline.to_state()`.

State lives in `st.session_state` (one `LessonsState` per browser session): lesson runs are never shared
between users. The learner's progress (steps seen, answers, the choice-order seed) is also kept in a cookie
(`lessons.progress`), so a reload or a return visit in the same browser continues where it left off.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from engine.errors import KafkaError, UserInputError
from engine.snapshot import ClusterSnapshot
from lessons import progress
from lessons.choices import choice_order
from lessons.comparison import CompareResult
from lessons.loader import load_course_lenient
from lessons.model import Lesson, Step
from lessons.runner import LessonRun, StepFailed, StepResult
from lessons.views import (
    assignment_figure,
    headline_events,
    lost_rows,
    record_rows,
    revoked_by_group,
    sweep_figure,
    sweep_table,
    traffic_summary,
)
from ui import modern, theme
from ui.compare_view import code_span, render_difference, render_panels
from ui.figures import style
from ui.figures.diagram import cluster_diagram
from ui.figures.groups import group_ids, group_state_figure
from ui.figures.logs import log_strips
from ui.figures.producer import producer_panel
from ui.navigation import page
from ui.trace_panel import md_escape

SESSION_KEY = "kc_lessons"
PENDING_KEY = "kc_lessons_to_playground"
PLAYGROUND_PAGE = page("playground")
PLOTLY_CONFIG = {"displayModeBar": False, "scrollZoom": False, "responsive": True}
MAX_STEP_PARAM = 200


@dataclass
class LessonsState:
    """One browser session's place in the course: current lesson and step, answers, progress, cached runs."""

    lesson_id: str
    step: int = 0  # 0-based index of the step shown
    runs: dict[str, LessonRun] = field(default_factory=dict)
    answers: dict[str, int] = field(
        default_factory=dict
    )  # "lesson/step" -> chosen choice (index in the file)
    seed: int = field(default_factory=lambda: secrets.randbits(32))  # this session's order of the choices
    seen: dict[str, set[int]] = field(default_factory=dict)  # lesson id -> steps seen (0-based)
    link_note: str | None = None
    saved: str = ""  # the progress cookie value last written (written again only when it changes)

    def run(self, lesson: Lesson) -> LessonRun:
        r = self.runs.get(lesson.id)
        if r is None:
            r = self.runs[lesson.id] = LessonRun(lesson)
        return r

    def key(self, lesson_id: str | None = None, step: int | None = None) -> str:
        return f"{lesson_id or self.lesson_id}/{self.step if step is None else step}"

    def revealed(self, step: Step) -> bool:
        return step.predict is None or self.key() in self.answers

    def see(self) -> None:
        self.seen.setdefault(self.lesson_id, set()).add(self.step)

    def furthest(self, lesson_id: str) -> int:
        return max(self.seen.get(lesson_id, {0}))


def course() -> list[Lesson]:
    return load_course_lenient()[0]


def parse_link(params: dict[str, str], lessons: list[Lesson]) -> tuple[str, int] | str:
    """`?lesson=<id>&step=<n>` -> (lesson id, 0-based step), or a sentence saying what is wrong with it."""
    lesson_id = params.get("lesson")
    if lesson_id is None:
        return "no lesson in the link"
    ids = [x.id for x in lessons]
    if lesson_id not in ids:
        return f"the link names lesson {lesson_id[:60]!r}, which does not exist"
    n = len(lessons[ids.index(lesson_id)].steps)
    raw = params.get("step", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= min(n, MAX_STEP_PARAM):
        return f"the link asks for step {raw[:10]!r}, but this lesson has steps 1 to {n}"
    return lesson_id, int(raw) - 1


def get_state(lessons: list[Lesson]) -> LessonsState:
    s = st.session_state.get(SESSION_KEY)
    if s is None:
        params = {k: st.query_params[k] for k in st.query_params}
        s = LessonsState(lessons[0].id)
        _restore(s, lessons)
        if "lesson" in params or "step" in params:
            got = parse_link(params, lessons)
            if isinstance(got, str):
                s.link_note = f"This link could not be opened ({got}); here is the first lesson instead."
            else:
                s.lesson_id, s.step = got  # a link opens the step unanswered: it must not spoil the question
        st.session_state[SESSION_KEY] = s
    return s


def _cookie() -> str | None:
    try:
        value = st.context.cookies.get(progress.COOKIE)
    except (AttributeError, RuntimeError, KeyError):
        return None
    return value if isinstance(value, str) else None


def _restore(s: LessonsState, lessons: list[Lesson]) -> None:
    """A new session picks up the progress this browser saved (a reload, a return visit)."""
    saved = progress.decode(_cookie(), lessons)
    s.answers.update(saved.answers)
    for lid, steps in saved.seen.items():
        s.seen.setdefault(lid, set()).update(steps)
    if saved.seed is not None:
        s.seed = saved.seed
    if saved.seen:  # open the lesson the learner was in last (the furthest in course order)
        last = max((i for i, x in enumerate(lessons) if x.id in saved.seen), default=0)
        s.lesson_id = lessons[last].id
        s.step = s.furthest(s.lesson_id)


def _save(s: LessonsState) -> None:
    """Write the progress cookie when it changed (JavaScript in the page itself: st.html is not iframed)."""
    value = progress.encode(progress.Progress(s.answers, s.seen, s.seed))
    if value != s.saved:
        st.html(progress.cookie_script(value), unsafe_allow_javascript=True)  # safe-html: URL-safe base64
        s.saved = value


# -- callbacks ---------------------------------------------------------------------------------------------------
def _open_lesson(s: LessonsState, lesson_id: str) -> None:
    if lesson_id != s.lesson_id:
        s.lesson_id = lesson_id
        s.step = s.furthest(lesson_id)


def _move(s: LessonsState, delta: int, n: int) -> None:
    s.step = max(0, min(n - 1, s.step + delta))


def _answer(s: LessonsState, key: str, widget: str, choices: list[str]) -> None:
    """Remember the choice as its index in the lesson file, whatever order it was shown in."""
    choice = st.session_state.get(widget)
    if choice in choices:
        s.answers[key] = choices.index(choice)


def _to_playground(state: dict[str, Any]) -> None:
    """Remember the run's state; the page body hands it to the Playground (with a spinner: it replays)."""
    st.session_state[PENDING_KEY] = {
        k: v for k, v in state.items() if k in ("v", "scenario", "position", "commands", "moves")
    }


def _open_playground(body: dict[str, Any]) -> None:
    """Put the lesson's run where the Playground reads it (its session object) and switch to it.

    `Timeline.from_state` replays the scenario and commands exactly; the link parameters carry the same
    state, so the Playground's URL is shareable at once.
    """
    from engine.timeline import Timeline
    from ui.session import SESSION_KEY as PLAYGROUND_KEY
    from ui.session import PlaygroundSession
    from ui.share import encode_state

    with st.spinner("Opening the Playground at this step (replaying the run)..."):
        session = PlaygroundSession(Timeline.from_state(body))
        record = getattr(session, "_record", None)
        if callable(record):
            record()  # the Playground's bookkeeping for "this step" (as PlaygroundSession.new does)
    session.flash.append(
        (
            "success",
            f"Opened from the lesson at step {session.position} of its run. Everything "
            f"you do here is yours to break.",
        )
    )
    st.session_state[PLAYGROUND_KEY] = session
    st.session_state["timeline_state"] = body  # the same state, for anything else that wants it
    params = encode_state(body)
    st.switch_page(PLAYGROUND_PAGE, query_params=params if len(params.get("state", "")) <= 8000 else None)


# -- drawing -----------------------------------------------------------------------------------------------------
def _highlight(step: Step, snap: ClusterSnapshot) -> tuple[str, ...]:
    """Actor names to halo: the step's focus, with a group id expanded to its members."""
    out: list[str] = []
    for name in step.focus.highlight:
        members = [k.id for k in snap.consumers if k.group_id == name]
        out += members or [name]
    return tuple(out)


def _outline(s: LessonsState, lessons: list[Lesson]) -> None:
    done = sum(1 for x in lessons if len(s.seen.get(x.id, ())) >= len(x.steps))
    st.markdown(f"**Course** · {done} of {len(lessons)} done")
    st.progress(done / len(lessons))
    for i, x in enumerate(lessons, start=1):
        seen = len(s.seen.get(x.id, ()))
        n = len(x.steps)
        mark = "✓ " if seen >= n else ("◐ " if seen else "")
        current = x.id == s.lesson_id
        st.button(
            f"{mark}{i}. {x.title}",
            key=f"open_lesson_{x.id}",
            type="primary" if current else "tertiary",
            on_click=_open_lesson,
            args=(s, x.id),
            width="stretch",
            help=f"{x.goal} ({x.minutes} min, {n} steps{f', {seen} seen' if seen else ''})",
        )


def _predict(s: LessonsState, step: Step) -> bool:
    """The question (before) or the answer (after). Returns whether the step's result may be shown."""
    p = step.predict
    if p is None:
        return True
    key = s.key()
    widget = f"predict_{key}"
    shown = [
        p.choices[i] for i in choice_order(p, s.seed)
    ]  # shuffled per session: positions give nothing away
    with st.container(border=True, key="predict_box"):
        st.markdown(f"**Predict:** {p.question}")
        if key in s.answers:
            chosen = s.answers[key]
            st.radio(
                "Your answer",
                shown,
                index=shown.index(p.choices[chosen]),
                key=f"{widget}_done",
                disabled=True,
                label_visibility="collapsed",
            )
            if chosen == p.answer:
                st.success(f"**Right.** {p.explanation}")
            else:
                st.error(f"**Not quite.** The answer is: *{p.choices[p.answer]}*. {p.explanation}")
            return True
        st.radio("Your answer", shown, index=None, key=widget, label_visibility="collapsed")
        st.button(
            "Check my answer",
            key="predict_check",
            type="primary",
            on_click=_answer,
            args=(s, key, widget, p.choices),
            disabled=st.session_state.get(widget) is None,
        )
        st.caption("The picture below is the cluster *before* this step. Answer to run the step and see.")
        return False


def _colours(snap: ClusterSnapshot):
    """Group -> colour, the same as in the diagram (ranked among all groups, share groups too)."""
    ids = tuple(style.colour_group_ids(snap))
    return lambda g: style.group_colour(ids, g)


def _focus_groups(step: Step, snap: ClusterSnapshot) -> list[str]:
    named = [g for g in step.focus.groups if g in group_ids(snap)]
    if named:
        return named
    lit = [
        g
        for g in group_ids(snap)
        if g in step.focus.highlight
        or any(k.group_id == g and k.id in step.focus.highlight for k in snap.consumers)
    ]
    return lit or group_ids(snap)


def _figures(
    step: Step,
    lesson: Lesson,
    snap: ClusterSnapshot,
    res: StepResult | None,
    compare: CompareResult | None = None,
) -> None:
    topic = step.focus.topic or next((t.name for t in snap.topics if not t.internal), None)
    if step.focus.caption:
        if res is not None:
            st.markdown(f"**In the picture:** {step.focus.caption}")
        else:
            st.markdown("**The picture shows the cluster before this step.** Make your prediction above.")
    for view in step.focus.views:
        if view == "diagram":
            theme.scaled_chart(
                cluster_diagram(snap, highlight=_highlight(step, snap)), "lesson_diagram", PLOTLY_CONFIG
            )
        elif view == "assignment":
            st.plotly_chart(
                assignment_figure(snap, _focus_groups(step, snap), _colours(snap)),
                key="lesson_assignment",
                config=PLOTLY_CONFIG,
                width="content",
            )
        elif view == "group_state":
            for gid in _focus_groups(step, snap):
                st.plotly_chart(
                    group_state_figure(snap, gid), key=f"lesson_group_state_{gid}", config=PLOTLY_CONFIG
                )
        elif view == "log":
            st.markdown(
                f"**Partition log{'s' if len([p for p in snap.partitions if p.topic == topic]) > 1 else ''} "
                f"of `{topic}`** — each cell is a record (colour = key); hatched cells are above the high "
                f"watermark"
            )
            st.plotly_chart(log_strips(snap, topic), key="lesson_log", config=PLOTLY_CONFIG)
        elif view == "producer":
            pid = step.focus.producer or (snap.producers[0].id if snap.producers else None)
            ptopic = next((p.topic for p in lesson.scenario.producers if p.id == pid), topic)
            st.markdown(f"**Inside producer `{pid}`** — its batches per partition")
            st.plotly_chart(producer_panel(snap, pid, ptopic), key="lesson_producer", config=PLOTLY_CONFIG)
        elif view == "revoked" and res is not None:
            _revoked(step, snap, res)
        elif view == "records":
            for t in step.focus.topics or [topic]:
                _records(snap, t)
        elif view == "lost" and res is not None:
            rows = lost_rows(snap)
            if rows:
                st.markdown(f"**:red[Acknowledged records lost: {len(rows)}]**")
                st.dataframe(rows, hide_index=True, width="stretch", key="lesson_lost")
        elif view == "sweep" and res is not None and res.sweep:
            st.plotly_chart(sweep_figure(res.sweep), key="lesson_sweep", config=PLOTLY_CONFIG)
            st.dataframe(sweep_table(res.sweep), hide_index=True, width="stretch", key="lesson_sweep_table")
        elif view == "events" and res is not None:
            _happened(res, expanded=True)
        elif view == "compare" and compare is not None:
            _compare(step, compare, after=res is not None)
        elif view in modern.LESSON_VIEWS:  # share groups, KIP-848 member epochs, transactions
            modern.lesson_view(view, snap, _focus_groups(step, snap))


def _compare(step: Step, cmp: CompareResult, after: bool) -> None:
    """The step's two runs, drawn as the Compare page draws them (ui.compare_view); before the reveal, only
    the cluster both runs start from."""
    left, right = (code_span(x) for x in cmp.labels)
    start = cmp.start
    topic = step.focus.topic or (
        next((t.name for t in start.topics if not t.internal), None) if start else None
    )
    if not after:
        st.markdown(f"**Two runs of this cluster, the same seed:** left {left} vs right {right}.")
        if start is not None:
            st.plotly_chart(cluster_diagram(start), key="lesson_cmp_start", config=PLOTLY_CONFIG)
        return
    st.markdown(
        f"**Side by side** (as on the Compare page): the same scenario and seed twice, left {left} vs "
        f"right {right}; every command below went to both runs at the same moment."
    )
    with st.expander(f"What was done to both runs ({len(cmp.messages)} commands)"):
        for m in cmp.messages:
            st.markdown(f"- {md_escape(m)}")
    render_difference(cmp.pair, cmp.labels, key="lesson_cmp")
    render_panels(
        cmp.pair,
        cmp.labels,
        cmp.events_now(),
        topic,
        key="lesson_cmp",
        quiet_text="Nothing visible happened in this run after the last command.",
    )


def _revoked(step: Step, snap: ClusterSnapshot, res: StepResult) -> None:
    """How much each group's rebalances disturbed its members: partitions given up, per group."""
    groups = _focus_groups(step, snap)
    revoked = revoked_by_group(res.all_events, groups)
    st.markdown("**Partitions revoked by the surviving members during rebalances** (each one pauses reading)")
    cols = st.columns(len(groups))
    for col, g in zip(cols, groups, strict=True):
        members = revoked[g]
        total = sum(len(v) for v in members.values())
        detail = "; ".join(f"{m}: {', '.join(v)}" for m, v in sorted(members.items())) or "nothing moved away"
        col.metric(f"group {g}", f"{total} revoked", help=detail)
        col.caption(detail)


def _records(snap: ClusterSnapshot, topic: str | None) -> None:
    rows = record_rows(snap, topic)
    if not rows:
        return
    lost = sum(r["lost"] for r in rows)
    st.markdown(
        f"**Records of `{topic}`**" + (f" — :red[{lost} acknowledged record(s) lost]" if lost else "")
    )
    drop = {"lost"}
    if not any(r["why"] for r in rows):
        drop.add("why")
    if len({r["partition"] for r in rows}) == 1:
        drop.add("partition")
    table = [{k: v for k, v in r.items() if k not in drop} for r in rows]
    try:
        import pandas as pd

        styled = pd.DataFrame(table).style.apply(
            lambda row: ["color: #D55E00; font-weight: 600" if rows[row.name]["lost"] else "" for _ in row],
            axis=1,
        )
        st.dataframe(styled, hide_index=True, width="stretch", key=f"lesson_records_{topic}")
    except ImportError:
        st.dataframe(table, hide_index=True, width="stretch", key=f"lesson_records_{topic}")


def _happened(res: StepResult, expanded: bool = False) -> None:
    heads = headline_events(res.events)
    traffic = traffic_summary(res.events)
    with st.expander(f"What happened in this step ({len(res.events)} events)", expanded=expanded):
        for e in heads:
            st.markdown(f"- `{e.time_ms / 1000:.3f} s` {e.summary}")
        if traffic:
            st.markdown(f"- and routine traffic: {traffic}")
        if not heads and not traffic:
            st.markdown("- nothing visible: time passed")


def _checks(res: StepResult) -> None:
    if not res.checks:
        return
    ok = res.passed
    with st.expander("What the engine confirms" + ("" if ok else " (a check failed!)"), expanded=not ok):
        for check, failures in res.checks:
            if failures:
                st.markdown(f"- :red[✗ {check.describe()}] — {failures[0].message}")
            else:
                st.markdown(f"- ✓ {check.describe()}")


def _share(s: LessonsState) -> None:
    step = str(s.step + 1)
    if st.query_params.get("lesson") != s.lesson_id or st.query_params.get("step") != step:
        st.query_params.from_dict({"lesson": s.lesson_id, "step": step})
    base = ""
    try:
        url = st.context.url
        base = url.split("?")[0] if url else ""
    except (AttributeError, RuntimeError):
        base = ""
    if base.endswith("/lessons_page"):  # opened from an old link: share the page's own address
        base = base.removesuffix("_page")
    st.caption("Link to this step (share it or bookmark it):")
    st.code(f"{base}?lesson={s.lesson_id}&step={step}", language=None)


def _run_to(run: LessonRun, index: int) -> StepResult:
    """Run the lesson up to this step; a sweep shows a progress bar while its clusters run."""
    if index < run.done:
        return run.results[index]
    bar = st.empty()

    def progress(i: int, n: int, what: str) -> None:
        bar.progress(i / max(n, 1), text=f"Bulk experiment: run {min(i + 1, n)} of {n} ({what})")

    run.progress = progress
    try:
        with st.spinner("Running the simulation to this step..."):
            return run.run_to(index)
    finally:
        run.progress = None
        bar.empty()


def render() -> None:
    lessons, problems = load_course_lenient()
    if problems:
        st.error(
            "Some lesson files have problems and are left out (run `python -m lessons check`):\n\n"
            + "\n".join(f"- {p}" for p in problems[:8])
        )
    if not lessons:
        st.stop()
    s = get_state(lessons)
    pending = st.session_state.pop(PENDING_KEY, None)
    if pending is not None:
        _open_playground(pending)
    ids = [x.id for x in lessons]
    if s.lesson_id not in ids:
        s.lesson_id, s.step = ids[0], 0
    li = ids.index(s.lesson_id)
    lesson = lessons[li]
    n = len(lesson.steps)
    s.step = max(0, min(n - 1, s.step))
    step = lesson.steps[s.step]
    s.see()

    with st.sidebar:
        _outline(s, lessons)
    if s.link_note:
        st.warning(s.link_note)
        s.link_note = None
    st.markdown(f"## {li + 1}. {lesson.title}")
    st.progress((s.step + 1) / n, text=f"Step {s.step + 1} of {n} · {lesson.goal}")
    st.markdown(f"### {step.title}")
    st.markdown(step.narration)
    run = s.run(lesson)
    try:
        res = _run_to(run, s.step)
    except (KafkaError, UserInputError, StepFailed) as exc:
        st.error(f"This step could not run on the engine: {exc}")
        res = None
    show_after = _predict(s, step)
    if step.try_it and show_after:
        st.info(f"**Try it:** {step.try_it}")
    _nav(s, lesson, res, show_after)
    if res is not None:
        snap = res.snapshot if show_after else run.snapshot_before(s.step)
        _figures(step, lesson, snap, res if show_after else None, res.compare)
        if show_after:
            if "events" not in step.focus.views and (res.events or res.compare is None):
                _happened(res)
            _checks(res)
    _share(s)
    _save(s)


def _nav(s: LessonsState, lesson: Lesson, res: StepResult | None, show_after: bool) -> None:
    n = len(lesson.steps)
    with st.container(horizontal=True, key="lesson_nav"):
        st.button("← Previous", key="lesson_prev", disabled=s.step == 0, on_click=_move, args=(s, -1, n))
        st.button(
            "Next →",
            key="lesson_next",
            type="primary",
            disabled=s.step >= n - 1 or not show_after,
            on_click=_move,
            args=(s, 1, n),
            help=None if show_after else "Answer the question first.",
        )
        if res is not None and show_after:
            st.button(
                "Open in Playground",
                key="open_playground",
                on_click=_to_playground,
                args=(res.state,),
                help="Continue from exactly this state in the Playground, with every control.",
            )
    if res is not None and show_after and not res.replayable:
        st.caption(
            "This lesson injected a network fault (a lost message) that the Playground does not replay: "
            "there the run continues as if the message had arrived."
        )
    if s.step == n - 1 and show_after:
        ids = [x.id for x in course()]
        i = ids.index(lesson.id)
        if i + 1 < len(ids):
            st.success("Lesson complete.")
            st.button(
                "Next lesson →",
                key="lesson_next_lesson",
                type="primary",
                on_click=_open_lesson,
                args=(s, ids[i + 1]),
            )
        else:
            st.success("Course complete. The Playground is yours.")


if __name__ == "__main__":
    render()
