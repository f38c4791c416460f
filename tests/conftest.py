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
