"""Predict questions that cannot be gamed: a shuffled choice order, and the checker's give-away rules.

`choice_order` is a pure function of the question and a seed: the Lessons page seeds it per browser session
(so "the right answer is always the second" cannot be learned), a teacher's room seeds it with the room code
(every student sees the same letters as the teacher's histogram). `python -m lessons check` uses
`position_problem` and `giveaway_problem` to refuse lessons whose right answers sit at one position more
than half the time, or whose right answer is spelled out in the title or the text shown before the reveal.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter
from collections.abc import Sequence

from .model import Lesson, Predict

# A clause of a choice ("Nothing; it stays idle" -> "it stays idle") gives the answer away when it has at
# least this many words and appears in the text above the question; shorter ones ("all three") are common words.
MIN_CLAUSE_WORDS = 4


def choice_order(predict: Predict, seed: int | str) -> list[int]:
    """The order to show `predict.choices` in: a permutation of their indexes, the same for the same seed.

    The question's own text is mixed into the seed, so two questions of one session are shuffled differently.
    """
    digest = hashlib.sha256(f"{seed}\x00{predict.question}\x00{len(predict.choices)}".encode()).digest()
    order = list(range(len(predict.choices)))
    random.Random(int.from_bytes(digest[:8], "big")).shuffle(order)
    return order


def shuffled(predict: Predict, seed: int | str) -> tuple[list[str], int]:
    """(the choices in the seed's order, the index of the right one in that order)."""
    order = choice_order(predict, seed)
    return [predict.choices[i] for i in order], order.index(predict.answer)


def normalise(text: str) -> str:
    """Lower case, Markdown and punctuation out, single spaces: what "the same words" means here."""
    text = re.sub(r"[*_`\"“”‘’'()\[\]]", "", text.lower())
    text = re.sub(r"[^\w=.<>≤≥+-]+", " ", text)
    return " ".join(w.strip(".") for w in text.split() if w.strip("."))


def _clauses(choice: str) -> list[str]:
    parts = [choice, *re.split(r"[;:,—–]|\(|\)", choice)]
    out = []
    for i, part in enumerate(parts):
        norm = normalise(part)
        if norm and (i == 0 or len(norm.split()) >= MIN_CLAUSE_WORDS) and norm not in out:
            out.append(norm)
    return out


def giveaway(predict: Predict, shown: Sequence[str]) -> str | None:
    """The words of the right choice that the texts `shown` before the reveal already contain, or None."""
    haystack = f" {' | '.join(normalise(t) for t in shown)} "
    for clause in _clauses(predict.choices[predict.answer]):
        if f" {clause} " in haystack:
            return clause
    return None


def position_counts(predicts: Sequence[Predict]) -> Counter[int]:
    return Counter(p.answer for p in predicts)


def crowded_position(predicts: Sequence[Predict]) -> tuple[int, int] | None:
    """(position, count) when one position holds more than half of the right answers, else None.

    Needs two or more questions: one question's answer is always "at one position".
    """
    if len(predicts) < 2:
        return None
    pos, n = position_counts(predicts).most_common(1)[0]
    return (pos, n) if 2 * n > len(predicts) else None


def lesson_predicts(lesson: Lesson) -> list[tuple[int, Predict]]:
    """(1-based step, predict) for every question of the lesson."""
    return [(i, s.predict) for i, s in enumerate(lesson.steps, start=1) if s.predict is not None]


__all__ = [
    "choice_order",
    "shuffled",
    "normalise",
    "giveaway",
    "crowded_position",
    "position_counts",
    "lesson_predicts",
    "MIN_CLAUSE_WORDS",
]
