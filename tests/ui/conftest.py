"""Shared fixtures for the UI tests."""

from __future__ import annotations

import pytest
from ui_fixtures import make_snapshot

from engine.snapshot import ClusterSnapshot


@pytest.fixture
def snap() -> ClusterSnapshot:
    return make_snapshot()
