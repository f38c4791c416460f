"""Hypothesis settings for the reliability suite: `default` for the test run, `soak` for bench/soak.py."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]


def profile() -> str:
    return os.environ.get("KC_RELIABILITY_PROFILE", "default")


def machine_settings() -> settings:
    """Fault-injection state machine: few, long examples (each step runs simulated seconds)."""
    if profile() == "soak":
        n = int(os.environ.get("KC_SOAK_EXAMPLES", "500"))
        return settings(
            max_examples=n,
            stateful_step_count=80,
            deadline=None,
            suppress_health_check=_SLOW_OK,
            print_blob=True,
            derandomize=False,
        )
    return settings(
        max_examples=int(os.environ.get("KC_MACHINE_EXAMPLES", "800")),
        stateful_step_count=50,
        deadline=None,
        suppress_health_check=_SLOW_OK,
        print_blob=True,
        derandomize=True,
    )


def fixed_settings(max_examples: int, steps: int, **extra) -> settings:
    """The same examples on every run (derandomized, no example database): for a test that must fail, or pass,
    on a known set of examples rather than on whatever this run happens to draw."""
    return settings(
        max_examples=max_examples,
        stateful_step_count=steps,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        **extra,
    )


def fuzz_settings(examples: int = 200) -> settings:
    """Input fuzzers: cheap examples, so many of them."""
    n = examples * 10 if profile() == "soak" else examples
    return settings(
        max_examples=n, deadline=None, suppress_health_check=_SLOW_OK, derandomize=profile() != "soak"
    )
