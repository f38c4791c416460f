from __future__ import annotations

import pytest

from engine import Cluster


@pytest.fixture
def cluster() -> Cluster:
    return Cluster(brokers=3, seed=7)
