"""Issue 20, a lecture hall: a follower's page run sends the room's shared figures as they are, without
copying each figure's dict or encoding its chart data again (ui/room_pictures.py SharedFigure, ui/live_chart.py
`_encoded`), and they look as plotly would draw them.
This leans on what ui/live_chart.py does with a figure (`plotly.io.to_json`, which takes `fig.to_dict()`): a
plotly that builds the JSON another way fails here, not silently in the bench."""

from __future__ import annotations

import json

import plotly.io as pio
from plotly.basedatatypes import BaseFigure
from room_apptest import run_page
from ui_fixtures import chart_specs

from ui import live_chart, room_page
from ui.room_pictures import SharedFigure

pio_to_json = pio.to_json


def _specs(at) -> list[dict]:
    return chart_specs(at)


def test_a_follower_sends_the_shared_figures_without_copying_them_and_they_look_the_same(monkeypatch):
    room_page.PICTURES.clear()
    teacher = run_page()
    teacher.button(key="room_start").click().run()
    code = teacher.session_state[room_page.TEACHER_KEY].code
    for _ in range(2):
        teacher.button(key="room_step").click().run()
    student = run_page({"room": code})  # builds the step's picture (once for the process)
    pic = student.session_state[room_page.STUDENT_KEY].picture
    assert isinstance(pic.diagram, SharedFigure) and isinstance(pic.logs, SharedFigure)

    copies: list[BaseFigure] = []
    deep_copy = BaseFigure.to_dict
    monkeypatch.setattr(BaseFigure, "to_dict", lambda fig: copies.append(fig) or deep_copy(fig))
    encoded: list = []
    monkeypatch.setattr(pio, "to_json", lambda *a, **k: encoded.append(a) or pio_to_json(*a, **k))
    built = live_chart._data
    monkeypatch.setattr(live_chart, "_data", lambda *a: encoded.append(a) or built(*a))
    student.run()  # the follower's next page run (as when the server wakes it)
    assert not student.exception
    assert copies == [], "drawing a shared figure copied its dict again"
    # and its chart data (the figure's JSON among it) was encoded once for the picture, not again for this run
    assert encoded == [], "a follower's run encoded the shared picture's chart data again"
    monkeypatch.undo()
    # the same picture as plotly's own to_dict of these figures gives
    plain = [json.loads(pio.to_json(deep_copy(f), validate=False)) for f in (pic.diagram, pic.logs)]
    assert _specs(student) == plain
    assert _specs(student) == _specs(teacher)


def test_followers_draw_the_teachers_own_picture_of_a_step_without_replaying_it():
    room_page.PICTURES.clear()
    teacher = run_page()
    teacher.button(key="room_start").click().run()
    teacher.button(key="room_step").click().run()
    t = teacher.session_state[room_page.TEACHER_KEY]
    builds = room_page.PICTURES.builds
    student = run_page({"room": t.code})
    assert room_page.PICTURES.builds == builds, "the follower replayed the run and drew the step again"
    assert student.session_state[room_page.STUDENT_KEY].picture is t.picture()
    assert _specs(student) == _specs(teacher)


def test_a_teachers_step_is_drawn_before_the_followers_are_told():
    from engine.scenario import PRESETS
    from engine.timeline import Timeline
    from ui.room_state import TeacherRoom
    from ui.rooms import RoomStore, recipe_json
    from ui.session import PlaygroundSession

    seen: list = []

    class Store(RoomStore):
        def update(self, code, token, state=None, step=None):  # followers are woken by the new version
            seen.append(room_page.PICTURES.peek(recipe_json(state), step))
            return super().update(code, token, state=state, step=step)

    room_page.PICTURES.clear()
    store = Store()
    tl = Timeline(next(iter(PRESETS.values())))
    code, token = store.create(tl.to_state(), tl.position)
    t = TeacherRoom(code, token, PlaygroundSession(tl))
    t.run.step()
    t.publish(store)
    assert seen and seen[0] is not None and seen[0].position == 1
