"""ui/live_chart.py in AppTest: the Playground's per-Step charts keep their identity across a Step (so the
browser redraws one plotly div in place instead of mounting a new chart), and a click on a record of the log
strip, sent as the browser component sends it, follows that record exactly as before.

AppTest cannot run the component's JavaScript, so `_click` sends what it sends for a plotly click: the
component's trigger ("selection", the clicked points with their customdata) with the next run."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest
from ui_fixtures import chart_specs

from ui.live_chart import NAME, figure_spec
from ui.trace_panel import FOLLOW_KEY, Followed

ROOT = Path(__file__).resolve().parents[2]


def _playground(run_ms: int = 6000) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("ui/playground.py").run()
    at.session_state["kc_playground"].timeline.apply({"op": "run_for", "ms": run_ms})
    at.session_state["panel"] = "Partition logs"
    at.run()
    assert not at.exception, at.exception
    return at


def _followed(at: AppTest) -> Followed | None:
    return at.session_state[FOLLOW_KEY] if FOLLOW_KEY in at.session_state else None


def _chart(at: AppTest, key: str):
    return next(n for n in at.get("bidi_component") if n.proto.component_name == NAME and n.key == key)


def _click(at: AppTest, key: str, points: list[dict]) -> AppTest:
    """One click on the keyed live chart: the component's trigger value, then the rerun."""
    states = at._tree.get_widget_states()
    w = states.widgets.add()
    w.id = f"$$STREAMLIT_INTERNAL_KEY_{_chart(at, key).proto.id}__events"
    w.json_trigger_value = json.dumps([{"event": "selection", "value": {"points": points}}])
    at._run(states)
    assert not at.exception, at.exception
    return at


def test_the_step_charts_keep_their_identity_across_a_step():
    at = _playground()
    ids = {k: _chart(at, k).proto.id for k in ("diagram", "logs")}
    before = {k: figure_spec(_chart(at, k)) for k in ids}
    at.button(key="step").click().run()
    assert not at.exception, at.exception
    assert {k: _chart(at, k).proto.id for k in ids} == ids  # the same element: redrawn in place
    assert {k: figure_spec(_chart(at, k)) for k in ids} != before  # ...with the new step's picture
    # the diagram, the log strips and their legend (drawn apart, redrawn only when it changes): nothing twice
    assert [k for k in (n.key for n in at.get("bidi_component")) if k in ids or k == "logs_legend"] == [
        "diagram",
        "logs",
        "logs_legend",
    ]
    assert len(chart_specs(at)) == 3


def test_a_click_on_a_record_in_the_log_strip_follows_it():
    at = _playground()
    strip = figure_spec(_chart(at, "logs"))
    records = next(t for t in strip["data"] if t.get("name") == "records")
    i = next(j for j, cd in enumerate(records["customdata"]) if cd[3] == "log" and cd[1] == 1)
    topic, partition, offset, _ = records["customdata"][i]
    assert _followed(at) is None

    _click(at, "logs", [{"x": 0, "y": 1}])  # a click that is not on a record changes nothing
    assert _followed(at) is None

    _click(
        at,
        "logs",
        [
            {
                "customdata": records["customdata"][i],
                "curve_number": strip["data"].index(records),
                "point_number": i,
                "point_index": i,
                "x": records["x"][i],
                "y": records["y"][i],
            }
        ],
    )
    assert _followed(at) == Followed(topic, partition, offset)
    label = f"{topic}-{partition} offset {offset}"
    assert any(f"Following {label}" in m.value for m in at.markdown)  # named above the diagram
    assert any(f"The life of {label}" in m.value for m in at.markdown)  # its life under the strip
    ringed = {sh.get("name") for sh in figure_spec(_chart(at, "logs"))["layout"].get("shapes", [])}
    assert f"followed:{topic}-{partition}@{offset}" in ringed
    route = {sh.get("name") for sh in figure_spec(_chart(at, "diagram"))["layout"].get("shapes", [])}
    assert "path:p1" in route
