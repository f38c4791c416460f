"""Issue 17, first contact: a malformed share link or scenario file gets a message naming the field and what
it must be, in plain words; never a Python exception name (JSONDecodeError, UnicodeDecodeError, ...), a
type name or a regular expression."""

from __future__ import annotations

import base64
import json
import re
import zlib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine.scenario import PRESETS, ScenarioError, parse_scenario

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
JARGON = re.compile(r"\w+(Error|Exception)\b|Traceback|\bgot (list|int|str|dict|NoneType)\b|\^\[|sys\.\w+")


def _pack(raw: bytes) -> str:
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


GOOD = json.dumps({"scenario": PRESETS["Default"].model_dump(), "commands": []}).encode()
LINKS = {
    "not JSON inside": {"state": _pack(b'{"scenario": '), "step": "0"},  # was "(JSONDecodeError)"
    "not UTF-8 inside": {"state": _pack(b"\xff\xfe{"), "step": "0"},  # was "(UnicodeDecodeError)"
    "not packed": {"state": "abcdEFGH", "step": "0"},  # was "(error)", zlib's exception class
    "cut short": {"state": _pack(GOOD)[:40], "step": "3"},
    "bad characters": {"state": "ab<>cdEFGH", "step": "1"},  # was the validator's regular expression
    "bad step": {"state": _pack(GOOD), "step": "x"},
}


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


@pytest.mark.parametrize("name", list(LINKS))
def test_a_malformed_share_link_names_the_parameter_in_plain_words(name):
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in LINKS[name].items():
        at.query_params[k] = v
    at.run()
    at.switch_page("ui/playground.py").run()
    assert not at.exception, at.exception
    errors = _errors(at)
    assert errors and errors[0].startswith("Link parameter '"), errors
    assert "Showing the Default scenario instead" in errors[0]
    assert not JARGON.search(errors[0]), errors[0]
    field = "step" if name == "bad step" else "state"
    assert f"'{field}'" in errors[0]


@pytest.mark.parametrize(
    "text,says",
    [
        ('{"brokers": ', "line 1, column"),
        ("brokers: [1,\n", "line 2, column"),
        ("- a\n- b\n", "the file holds a list"),
        ("5", "a single number"),
        ("brokers: " + "9" * 5000, "thousands of digits"),
        (b"\xff\x00", "not UTF-8"),
    ],
)
def test_a_malformed_scenario_file_says_what_is_wrong_without_python_names(text, says):
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text)
    assert says in str(err.value) and not JARGON.search(str(err.value)), str(err.value)


def test_the_scenario_editor_shows_the_plain_message_and_keeps_the_cluster():
    """The Playground's "Edit as JSON or YAML" goes through the same parser as an uploaded file."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("ui/playground.py").run()
    box = next(t for t in at.text_area if t.key and t.key.startswith("scenario_text_"))
    box.set_value('{"brokers": 3, "topics": [').run()
    at.button(key="apply_text").click().run()
    assert not at.exception, at.exception
    errors = _errors(at)
    assert errors and "neither valid JSON nor valid YAML: line 1, column" in errors[0], errors
    assert "The current cluster is unchanged" in errors[0] and not JARGON.search(errors[0])
