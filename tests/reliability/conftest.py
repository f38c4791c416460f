"""Hypothesis profiles for the reliability suite and a summary of how many examples each property ran.

Profiles (pick with KC_RELIABILITY_PROFILE, default "default"):
- default: runs in the normal test suite; the whole tests/reliability/ stays within a few minutes on 2 cores.
- soak: many more examples and longer command sequences, used by `python bench/soak.py`.
They are built explicitly (not loaded globally) so the rest of the suite keeps hypothesis' own defaults.
"""

from __future__ import annotations

import _stats


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines = _stats.summary_lines()
    if not lines:
        return
    terminalreporter.section("reliability: hypothesis examples run")
    for line in lines:
        terminalreporter.write_line(line)
