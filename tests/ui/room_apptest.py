"""The Classroom page (ui/room_page.py) under Streamlit's AppTest, shared by the room page tests
(test_room_teacher.py, test_room_scale.py)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest
from ui_fixtures import chart_specs

PAGE = str(Path(__file__).resolve().parents[2] / "ui" / "room_page.py")


def run_page(params: dict[str, str] | None = None) -> AppTest:
    """The page run once with these query parameters; it raised nothing."""
    at = AppTest.from_file(PAGE, default_timeout=60)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def diagram_of(at: AppTest) -> dict:
    """The plotly spec of the cluster diagram on the page (the chart whose shapes include the brokers)."""
    for spec in chart_specs(at):
        if any((sh.get("name") or "").startswith("broker-") for sh in spec["layout"].get("shapes", [])):
            return spec
    raise AssertionError("no cluster diagram on the page")
