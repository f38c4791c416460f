from __future__ import annotations

import pytest

from engine import Cluster


@pytest.fixture
def cluster() -> Cluster:
    return Cluster(brokers=3, seed=7)


# -- real-browser tests (tests/e2e, tests/lessons): one Streamlit server and one Chromium per test module ----
@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """app.py served by Streamlit on a free port; its URL (see tests/browser.py)."""
    from browser import streamlit_app

    yield from streamlit_app(tmp_path_factory)


@pytest.fixture(scope="module")
def browser(server):
    """Debian's headless Chromium, launched once the server is up."""
    from browser import chromium_browser

    yield from chromium_browser()


# -- a real redis-server for the Redis room store (tests/ui/test_room_store.py, tests/e2e) --------------------
@pytest.fixture(scope="session")
def redis_srv(tmp_path_factory):
    """A redis-server on a free loopback port (skips with the reason when the binary is absent)."""
    from redis_server import redis_server

    yield from redis_server(tmp_path_factory)
