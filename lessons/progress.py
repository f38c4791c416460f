"""A learner's progress (steps seen, answers given, the choice-order seed) as one small cookie value.

The Lessons page keeps progress in the browser: it writes this value into a cookie after every change and
reads it back (`st.context.cookies`) when a new session starts, so a reload or a return visit in the same
browser finds the course where the learner left it. Nothing is stored on the server.

The value is URL-safe base64 of compact JSON, so it needs no quoting in a cookie. Decoding is defensive: it
comes from the browser, so anything malformed, unknown (a lesson that was removed) or out of range (a step
or choice that no longer exists) is dropped, never trusted.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field

from .model import Lesson

COOKIE = "kc_lessons_progress"
MAX_COOKIE_CHARS = 3800  # browsers keep at least 4096 bytes per cookie, name and attributes included
VERSION = 1


@dataclass
class Progress:
    answers: dict[str, int] = field(
        default_factory=dict
    )  # "lesson-id/step" (0-based) -> choice index in the file
    seen: dict[str, set[int]] = field(default_factory=dict)  # lesson id -> 0-based steps seen
    seed: int | None = None


def encode(progress: Progress) -> str:
    """The cookie value; steps seen are a bit mask per lesson, to stay far below the cookie size limit."""
    body = {
        "v": VERSION,
        "a": progress.answers,
        "s": {lid: sum(1 << i for i in steps) for lid, steps in sorted(progress.seen.items()) if steps},
    }
    if progress.seed is not None:
        body["r"] = progress.seed
    text = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":"), sort_keys=True).encode()).decode()
    if len(text) > MAX_COOKIE_CHARS and progress.answers:  # keep what matters most: where the learner got to
        return encode(Progress({}, progress.seen, progress.seed))
    return text


def decode(value: str | None, lessons: list[Lesson]) -> Progress:
    """The progress in a cookie value, keeping only what the current course still has."""
    if not isinstance(value, str) or not value or len(value) > 2 * MAX_COOKIE_CHARS:
        return Progress()
    try:
        body = json.loads(base64.urlsafe_b64decode(value.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return Progress()
    if not isinstance(body, dict) or body.get("v") != VERSION:
        return Progress()
    steps = {x.id: x.steps for x in lessons}
    out = Progress()
    answers = body.get("a")
    for key, choice in answers.items() if isinstance(answers, dict) else ():
        lid, _, num = str(key).rpartition("/")
        if lid in steps and num.isdigit() and int(num) < len(steps[lid]) and isinstance(choice, int):
            p = steps[lid][int(num)].predict
            if p is not None and 0 <= choice < len(p.choices):
                out.answers[f"{lid}/{int(num)}"] = choice
    seen = body.get("s")
    for lid, mask in seen.items() if isinstance(seen, dict) else ():
        if lid in steps and isinstance(mask, int) and mask > 0:
            out.seen[lid] = {i for i in range(len(steps[lid])) if mask >> i & 1}
    seed = body.get("r")
    if isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < 2**32:
        out.seed = seed
    return out


def cookie_script(value: str) -> str:
    """The snippet that stores the value in the browser for a year (the page runs it with st.html)."""
    return f"<script>document.cookie = '{COOKIE}={value}; path=/; max-age=31536000; SameSite=Lax';</script>"


__all__ = ["COOKIE", "Progress", "encode", "decode", "cookie_script", "MAX_COOKIE_CHARS"]
