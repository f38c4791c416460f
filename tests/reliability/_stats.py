"""Example and step counters for the reliability suite, printed at the end of a pytest run (and by bench/soak.py).

Hypothesis only prints its own statistics with --hypothesis-show-statistics; the issue asks for the example
counts to be visible on every run, so each property test counts what it ran here.
"""

from __future__ import annotations

from collections import Counter

EXAMPLES: Counter[str] = Counter()
STEPS: Counter[str] = Counter()
COVERAGE: Counter[str] = Counter()  # what the fault-injection runs actually exercised (event kinds, checks)


def count_example(name: str) -> None:
    EXAMPLES[name] += 1


def count_step(name: str, n: int = 1) -> None:
    STEPS[name] += n


def summary_lines() -> list[str]:
    lines = []
    for name in sorted(EXAMPLES):
        steps = f", {STEPS[name]} steps" if STEPS[name] else ""
        lines.append(f"{name}: {EXAMPLES[name]} examples{steps}")
    if COVERAGE:
        lines.append("exercised: " + ", ".join(f"{k} {v}" for k, v in sorted(COVERAGE.items())))
    return lines


def reset() -> None:
    EXAMPLES.clear()
    STEPS.clear()
    COVERAGE.clear()
