"""`python -m lessons check [PATH...]` and `python -m lessons export LESSON_ID -o out.ipynb`.

`check` validates every lesson file and runs every step on the real engine with its checks, so a lesson
can never drift from what the engine does; exit code 1 on any problem.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _check(paths: list[str]) -> int:
    from .loader import check_paths

    lessons, steps, problems = check_paths(paths or None)
    for p in problems:
        print(p)
    if problems:
        print(f"{lessons} lessons, {steps} steps, {len(problems)} problem(s)")
        return 1
    print(f"{lessons} lessons, {steps} steps, all checks pass")
    return 0


def _export(lesson_id: str, out: str, folder: str | None) -> int:
    from .loader import COURSE_DIR, LessonFileError, find_lesson, load_lesson
    from .notebook import write_notebook

    try:
        if lesson_id.endswith((".yaml", ".yml")) and Path(lesson_id).is_file():
            lesson = load_lesson(lesson_id)
        else:
            lesson = find_lesson(lesson_id, folder or COURSE_DIR)
    except (KeyError, LessonFileError) as exc:
        print(str(exc).strip("'\""), file=sys.stderr)
        return 1
    path = write_notebook(lesson, out)
    print(f"wrote {path} ({len(lesson.steps)} steps of lesson {lesson.id!r})")
    return 0


def _list(folder: str | None) -> int:
    from .loader import COURSE_DIR, load_course

    for i, lesson in enumerate(load_course(folder or COURSE_DIR), start=1):
        print(f"{i:2}. {lesson.id:28} {lesson.title} ({lesson.minutes} min, {len(lesson.steps)} steps)")
    return 0


def main(argv: list[str] | None = None, prog: str = "python -m lessons") -> int:
    ap = argparse.ArgumentParser(prog=prog, description="Kafka Classroom lessons: check, list and export.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="validate lessons and run every step's checks on the engine")
    c.add_argument("paths", nargs="*", help="lesson files or folders (default: lessons/course)")
    e = sub.add_parser("export", help="write a lesson as a Jupyter notebook")
    e.add_argument("lesson", help="lesson id (e.g. queue-vs-pubsub) or a lesson .yaml file")
    e.add_argument("-o", "--output", required=True, help="the .ipynb file to write")
    e.add_argument("--course", help="folder of lesson files (default: lessons/course)")
    ls = sub.add_parser("list", help="list the course")
    ls.add_argument("--course", help="folder of lesson files (default: lessons/course)")
    args = ap.parse_args(argv)
    if args.cmd == "check":
        return _check(args.paths)
    if args.cmd == "export":
        return _export(args.lesson, args.output, args.course)
    return _list(args.course)


if __name__ == "__main__":
    sys.exit(main())
