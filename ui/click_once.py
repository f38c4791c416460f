"""A click counts once, even when a fragment's timer rerun carries it too.

Streamlit 1.67's browser holds a clicked button's trigger and sends it on a `setTimeout(0)`. A fragment's
`run_every` timer (Play, a room follower's poll, a teacher's live answers) that fires in between sends every
widget state, the pending trigger included, as an automatic rerun, and the click's own message then sends
the same trigger again: the server ran the click twice (a Pause undone, a teacher's Step taken twice, two
brokers added for one "Add a broker"). A timer rerun never carries a click of its own, so the server drops
trigger values from automatic reruns before queueing them; the click's own message still delivers it once.
Measured and explained in bench/NOTES.md (issue 17, round 2).
"""

from __future__ import annotations

from typing import Any

# WidgetState's one-shot values: a button or form press, a chat message, a component's trigger
TRIGGERS = ("trigger_value", "string_trigger_value", "json_trigger_value")


def without_triggers(client_state: Any) -> Any:
    """The ClientState to queue: an automatic (timer) rerun loses its trigger values; anything else as sent."""
    if client_state is None or not client_state.is_auto_rerun or not client_state.HasField("widget_states"):
        return client_state
    widgets = client_state.widget_states.widgets
    if not any(w.WhichOneof("value") in TRIGGERS for w in widgets):
        return client_state
    out = type(client_state)()
    out.CopyFrom(client_state)
    del out.widget_states.widgets[:]
    out.widget_states.widgets.extend(w for w in widgets if w.WhichOneof("value") not in TRIGGERS)
    return out


def install() -> None:
    """Filter every session's rerun requests (idempotent; called by the app on each run)."""
    from streamlit.runtime.app_session import AppSession

    if getattr(AppSession.request_rerun, "kc_click_once", False):
        return
    original = AppSession.request_rerun

    def request_rerun(self: AppSession, client_state: Any) -> None:
        original(self, without_triggers(client_state))

    request_rerun.kc_click_once = True  # type: ignore[attr-defined]
    AppSession.request_rerun = request_rerun  # type: ignore[method-assign]
