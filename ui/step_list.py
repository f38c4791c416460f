"""The Playground's "Recent steps" list as one element: a `st.components.v2` component that draws the rows as plain
buttons in the page and sends back the position clicked.

It used to be one `st.button` per step (up to 40): on every Step or Back, React re-rendered each of them (and
their styled wrappers), the new step's button mounted and every label shifted by one (bench/NOTES.md, issue 17
round 7). Here the list is one element whose data is the rows; its JavaScript updates the rows in place.

* `step_list(rows, current, key, on_goto)`: rows are `(position, label)`, newest first; the current position is
  drawn highlighted ("▶", bold, on blue) and is not a button; a click on another row calls `on_goto(position)`.
* The labels arrive as data and are set as text (never HTML), so a client id typed in the builder stays text.
* In AppTest the component is a `bidi_component` element; its `data` JSON holds the rows (`rows_of`), and a
  click is the trigger ``goto`` with the position (tests/ui/test_app.py sends it as the page does).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import streamlit as st

NAME = "kafka_classroom.step_list"

CSS = """
.kc-steps { display: flex; flex-direction: column; gap: 0.25rem; }
.kc-steps > .kc-step {
  all: unset; box-sizing: border-box; display: block; width: 100%; padding: 0.25rem 0.5rem;
  border-radius: 0.5rem; font-family: inherit; font-size: 0.875rem; line-height: 1.6; color: inherit;
  overflow-wrap: anywhere; cursor: pointer;
}
.kc-steps > button.kc-step:hover { color: #0072B2; background: #F2F4F7; }
.kc-steps > button.kc-step:focus-visible { outline: 2px solid #0072B2; outline-offset: -2px; }
.kc-steps > .kc-step.kc-now { cursor: default; font-weight: 600; background: rgba(0, 114, 178, 0.12); }
"""

JS = r"""
export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let box = parentElement.querySelector(':scope > .kc-steps');
  if (!box) {
    box = document.createElement('div');
    box.className = 'kc-steps';
    box.setAttribute('role', 'list');
    parentElement.appendChild(box);
    box.addEventListener('click', (ev) => {
      const b = ev.target.closest('button.kc-step');
      if (b && box.__kcSend) box.__kcSend('goto', Number(b.dataset.p));
    });
  }
  box.__kcSend = setTriggerValue;
  const rows = data.rows || [];
  const sig = JSON.stringify(rows) + '|' + data.current;
  if (box.__kcSig === sig) return;  // a rerun that did not step: nothing to redraw
  box.__kcSig = sig;
  const old = new Map([...box.children].map((el) => [el.dataset.p + '|' + el.__kcText, el]));
  const out = rows.map(([p, text]) => {
    const now = p === data.current;
    const label = now ? '▶ ' + text : text;
    let el = old.get(p + '|' + label);
    if (!el || el.classList.contains('kc-now') !== now) {
      el = document.createElement(now ? 'div' : 'button');
      el.className = now ? 'kc-step kc-now' : 'kc-step';
      if (!now) el.type = 'button';
      el.setAttribute('role', 'listitem');
      if (now) el.setAttribute('aria-current', 'step');
      el.dataset.p = String(p);
      el.textContent = label;
      el.__kcText = label;
    }
    return el;
  });
  box.replaceChildren(...out);
}
"""


@lru_cache(maxsize=1)
def _mount() -> Callable[..., Any]:
    return st.components.v2.component(
        NAME, css=CSS, js=JS, isolate_styles=False
    )  # safe-html: JS and CSS from this module; the rows arrive as data and are set as text


def step_list(rows: list[tuple[int, str]], current: int, key: str, on_goto: Callable[[int], None]) -> None:
    """Draw the rows (position, label), newest first, `current` highlighted; a click on another row calls
    `on_goto(position)` (a position that is not a listed row is ignored)."""
    listed = {p for p, _ in rows if p != current}

    def clicked() -> None:
        p = (st.session_state.get(key) or {}).get("goto")
        if isinstance(p, int | float) and not isinstance(p, bool) and int(p) == p and int(p) in listed:
            on_goto(int(p))

    _mount()(
        key=key,
        data={"rows": [[p, text] for p, text in rows], "current": current},
        height="content",
        on_goto_change=clicked,
    )


def rows_of(element: Any) -> dict | None:
    """The rows and current position a step list drew, from its AppTest element; None for another element."""
    proto = getattr(element, "proto", None)
    if getattr(proto, "component_name", None) != NAME:
        return None
    try:
        return json.loads(proto.json)
    except (ValueError, TypeError):
        return None
