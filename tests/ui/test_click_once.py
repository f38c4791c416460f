"""A click that reaches the server twice, once inside a fragment's timer rerun and once in its own message,
counts once (ui/click_once.py): the timer rerun loses its trigger values, every other value and every
non-timer rerun is queued as sent."""

from __future__ import annotations

from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.runtime.app_session import AppSession

from ui import click_once


def _state(auto: bool) -> ClientState:
    cs = ClientState(is_auto_rerun=auto, fragment_id="frag" if auto else "", query_string="room=ABC")
    ws = cs.widget_states.widgets
    ws.add(id="$$ID-step-step", trigger_value=True)
    ws.add(id="$$ID-speed-speed", string_value="3 steps/s")
    ws.add(id="$$ID-every-every_event", bool_value=True)
    return cs


def test_a_timer_rerun_loses_its_triggers_and_keeps_the_rest():
    sent = _state(auto=True)
    queued = click_once.without_triggers(sent)
    ids = {w.id: w.WhichOneof("value") for w in queued.widget_states.widgets}
    assert "$$ID-step-step" not in ids  # the Step press is left to the click's own message
    assert ids["$$ID-speed-speed"] == "string_value" and ids["$$ID-every-every_event"] == "bool_value"
    assert queued.is_auto_rerun and queued.fragment_id == "frag" and queued.query_string == "room=ABC"
    assert len(sent.widget_states.widgets) == 3  # the message as received is not changed


def test_a_click_rerun_is_queued_as_sent():
    sent = _state(auto=False)
    assert click_once.without_triggers(sent) is sent
    assert click_once.without_triggers(None) is None


def test_install_wraps_the_session_once():
    click_once.install()
    first = AppSession.request_rerun
    click_once.install()
    assert AppSession.request_rerun is first and getattr(first, "kc_click_once", False)
