"""Load, validate and check lesson files, reporting every problem as file + step + field + fix.

A teacher adds a lesson by dropping a YAML file into `lessons/course/`; the checker must tell them
exactly where a mistake is ("04-queue-vs-pubsub.yaml: step 3: checks[1].leader: ...") and what to do.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from engine.errors import UserInputError

from .checks import CheckError
from .model import CommandError, CompareOp, Lesson, NewClusterOp, check_side, parse_lesson_command
from .runner import LessonRun, StepFailed

COURSE_DIR = Path(__file__).parent / "course"
MAX_FILE_BYTES = 256 * 1024


@dataclass(frozen=True)
class Problem:
    file: str
    step: int | None  # 1-based, None for the lesson as a whole
    field: str
    message: str
    fix: str

    def __str__(self) -> str:
        where = f"step {self.step}: " if self.step is not None else ""
        return f"{self.file}: {where}{self.field}: {self.message}\n    fix: {self.fix}"


class LessonFileError(UserInputError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def lesson_files(paths: Sequence[str | Path] | None = None) -> list[Path]:
    """The YAML files to check: the given files, the YAML files in given folders, or the course."""
    out: list[Path] = []
    for p in [Path(x) for x in (paths or [COURSE_DIR])]:
        if p.is_dir():
            out += sorted([*p.glob("*.yaml"), *p.glob("*.yml")])
        else:
            out.append(p)
    return out


def _show_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _fix_for(err: Mapping[str, Any], field: str) -> str:
    t = err["type"]
    name = field.rsplit(".", 1)[-1]
    if t == "missing":
        return f"add '{name}' here"
    if t == "extra_forbidden":
        return f"remove '{name}' or fix its spelling (see lessons/README.md for the allowed fields)"
    if t.startswith("literal") or t == "enum":
        return "use one of the allowed values listed above"
    return f"change '{name}' as the message says"


def _pydantic_problems(file: str, exc: ValidationError) -> list[Problem]:
    out = []
    for err in exc.errors():
        loc = list(err["loc"])
        step = None
        if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
            step = loc[1] + 1
            loc = loc[2:]
        field = ".".join(str(x) for x in loc) or ("step" if step else "lesson")
        msg = err["msg"].removeprefix("Value error, ")
        ctx = err.get("ctx") or {}
        if "expected" in ctx:
            msg += f" (allowed: {ctx['expected']})"
        out.append(Problem(file, step, field, msg, _fix_for(err, field)))
    return out


def validate_file(path: str | Path) -> tuple[Lesson | None, list[Problem]]:
    """Parse and validate one lesson file without running it."""
    path = Path(path)
    file = _show_path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem(file, None, "file", f"cannot read it: {exc.strerror}", "check the path")]
    if len(raw) > MAX_FILE_BYTES:
        return None, [
            Problem(file, None, "file", f"{len(raw)} bytes is over the 256 KB limit", "split the lesson")
        ]
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return None, [Problem(file, None, "file", "not UTF-8 text", "save the file as UTF-8")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        return None, [
            Problem(
                file,
                None,
                f"yaml{line}",
                str(getattr(exc, "problem", exc)),
                "fix the YAML syntax: indentation, a missing ':' or an unclosed quote",
            )
        ]
    if not isinstance(data, dict):
        return None, [
            Problem(
                file,
                None,
                "lesson",
                f"a lesson file is a mapping (id, title, goal, minutes, "
                f"scenario, steps), got {type(data).__name__}",
                "start from an existing lesson in lessons/course/",
            )
        ]
    try:
        lesson = Lesson.model_validate(data)
    except ValidationError as exc:
        return None, _pydantic_problems(file, exc)
    problems: list[Problem] = []
    current = lesson.scenario  # the scenario of the cluster the lesson is on (new_cluster changes it)
    for si, step in enumerate(lesson.steps, start=1):
        extra_topics: set[str] = set()
        for ci, raw_cmd in enumerate(step.commands):
            try:
                cmd = parse_lesson_command(raw_cmd)
                if isinstance(cmd, NewClusterOp):
                    current = cmd.scenario
                if isinstance(cmd, CompareOp):
                    extra_topics |= {t.name for t in (cmd.scenario or current).topics}
                    if cmd.scenario is None:  # with its own scenario the model has built both sides already
                        check_side(current, cmd.left, "left")
                        check_side(current, cmd.right, "right")
            except CommandError as exc:
                field = f"commands[{ci}]" + (f".{exc.field}" if exc.field else "")
                problems.append(
                    Problem(
                        file,
                        si,
                        field,
                        str(exc),
                        "use an op listed above with its fields (lessons/README.md lists them)",
                    )
                )
        for ki, raw_check in enumerate(step.checks):
            from .checks import parse_check

            try:
                parse_check(raw_check)
            except CheckError as exc:
                field = f"checks[{ki}]" + (f".{exc.field}" if exc.field else "")
                problems.append(Problem(file, si, field, str(exc), "see 'Checks' in lessons/README.md"))
        names = {t.name for t in lesson.scenario.topics} | extra_topics
        for t in [step.focus.topic, *step.focus.topics]:
            if (
                t
                and t not in names
                and not any(isinstance(c, dict) and "new_cluster" in c for c in step.commands)
            ):
                problems.append(
                    Problem(
                        file,
                        si,
                        "focus.topic",
                        f"topic {t!r} is not in the scenario",
                        f"use one of {sorted(names)}",
                    )
                )
    return (None if problems else lesson), problems


def check_file(path: str | Path) -> tuple[Lesson | None, int, list[Problem]]:
    """Validate a lesson, then run every step headless on the engine and evaluate its checks."""
    lesson, problems = validate_file(path)
    if lesson is None:
        return None, 0, problems
    file = _show_path(Path(path))
    problems += question_problems(lesson, file)
    try:
        run = LessonRun(lesson)
    except Exception as exc:  # a scenario the engine refuses
        return (
            lesson,
            0,
            [Problem(file, None, "scenario", str(exc), "fix the scenario so the engine can build it")],
        )
    for si in range(len(lesson.steps)):
        try:
            res = run.run_next()
        except StepFailed as exc:
            problems.append(
                Problem(
                    file,
                    si + 1,
                    f"commands[{exc.command}]",
                    str(exc),
                    "check the ids (brokers, consumers, producers) exist at this point",
                )
            )
            break
        for ki, (_check, failures) in enumerate(res.checks):
            for f in failures:
                problems.append(
                    Problem(
                        file,
                        si + 1,
                        f"checks[{ki}].{f.field}",
                        f.message,
                        f"the engine gives {f.got}: change the expected value, or the step's "
                        f"commands so the cluster gets there",
                    )
                )
    return lesson, len(lesson.steps), problems


def question_problems(lesson: Lesson, file: str) -> list[Problem]:
    """Questions that can be gamed: right answers crowding one position, or spelled out before the reveal."""
    from .choices import crowded_position, giveaway, lesson_predicts

    out: list[Problem] = []
    predicts = lesson_predicts(lesson)
    crowded = crowded_position([p for _, p in predicts])
    if crowded is not None:
        pos, n = crowded
        out.append(
            Problem(
                file,
                None,
                "predict.answer",
                f"{n} of the lesson's {len(predicts)} right answers are "
                f"choice {pos} (counting from 0): a learner can guess the position",
                "reorder the choices so the right answers sit at different positions",
            )
        )
    for si, p in predicts:
        step = lesson.steps[si - 1]
        words = giveaway(p, [lesson.title, step.title, step.narration])
        if words is not None:
            out.append(
                Problem(
                    file,
                    si,
                    "predict.answer",
                    f"the right choice is spelled out before the question: "
                    f"{words!r} is in the lesson title, the step title or its narration",
                    "move that sentence after the reveal (into the explanation or the next step), "
                    "or ask a question the text does not answer",
                )
            )
    return out


def check_paths(paths: Sequence[str | Path] | None = None) -> tuple[int, int, list[Problem]]:
    """Check every lesson file; also that lesson ids are unique. Returns (lessons, steps, problems)."""
    files = lesson_files(paths)
    problems: list[Problem] = []
    if not files:
        return (
            0,
            0,
            [Problem(str(paths), None, "files", "no lesson files found", "give .yaml files or folders")],
        )
    n_lessons = n_steps = 0
    seen: dict[str, str] = {}
    checked: list[Lesson] = []
    for f in files:
        lesson, steps, probs = check_file(f)
        problems += probs
        if lesson is not None:
            n_lessons += 1
            n_steps += steps
            checked.append(lesson)
            if lesson.id in seen:
                problems.append(
                    Problem(
                        _show_path(f),
                        None,
                        "id",
                        f"lesson id {lesson.id!r} is also used by {seen[lesson.id]}",
                        "give each lesson its own id",
                    )
                )
            seen[lesson.id] = _show_path(f)
    problems += _course_position_problems(checked)
    return n_lessons, n_steps, problems


def _course_position_problems(lessons: list[Lesson]) -> list[Problem]:
    """Over the course too (one-question lessons count here): no position holds most right answers."""
    from .choices import crowded_position, lesson_predicts

    predicts = [p for lesson in lessons for _, p in lesson_predicts(lesson)]
    crowded = crowded_position(predicts) if len(lessons) > 1 else None
    if crowded is None:
        return []
    pos, n = crowded
    return [
        Problem(
            "course",
            None,
            "predict.answer",
            f"{n} of the course's {len(predicts)} right answers are choice {pos} (counting from 0)",
            "spread the right answers over the positions",
        )
    ]


def load_lesson(path: str | Path) -> Lesson:
    lesson, problems = validate_file(path)
    if lesson is None:
        raise LessonFileError(problems)
    return lesson


def _stamp(folder: str | Path) -> tuple[tuple[str, float], ...]:
    """Files and their modification times: a teacher's edit is picked up without restarting the app."""
    return tuple((str(f), f.stat().st_mtime) for f in lesson_files([folder]))


@functools.lru_cache(maxsize=8)
def _course(stamp: tuple[tuple[str, float], ...]) -> tuple[tuple[Lesson, ...], tuple[Problem, ...]]:
    lessons, problems = [], []
    for f, _ in stamp:
        lesson, probs = validate_file(f)
        if lesson is not None:
            lessons.append(lesson)
        problems += probs
    return tuple(lessons), tuple(problems)


def load_course(folder: str | Path = COURSE_DIR) -> list[Lesson]:
    """The course in file-name order (01-..., 02-...). Raises LessonFileError on a malformed file."""
    lessons, problems = _course(_stamp(folder))
    if problems:
        raise LessonFileError(list(problems))
    return list(lessons)


def load_course_lenient(folder: str | Path = COURSE_DIR) -> tuple[list[Lesson], list[Problem]]:
    """The valid lessons, and the problems of the others (the app shows both rather than failing)."""
    lessons, problems = _course(_stamp(folder))
    return list(lessons), list(problems)


def find_lesson(lesson_id: str, folder: str | Path = COURSE_DIR) -> Lesson:
    for lesson in load_course(folder):
        if lesson.id == lesson_id:
            return lesson
    ids = [x.id for x in load_course(folder)]
    raise KeyError(f"no lesson {lesson_id!r}; lessons are {', '.join(ids)}")


__all__ = [
    "Problem",
    "LessonFileError",
    "COURSE_DIR",
    "lesson_files",
    "validate_file",
    "check_file",
    "check_paths",
    "question_problems",
    "load_lesson",
    "load_course",
    "load_course_lenient",
    "find_lesson",
]
