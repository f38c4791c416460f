"""A plotly chart that stays mounted across reruns: one plotly div, redrawn with `Plotly.react`.

`st.plotly_chart` derives its element id from the figure's JSON, so every Step that changes a figure mounts a
new chart in the browser (drawn hidden, measured, drawn again), and a stable key does not help: its frontend
reads the figure only at mount (bench/NOTES.md, issue 17 round 2). `live_chart` is a drop-in for the charts
that change on every Step (the cluster diagram, the partition log strips): a `st.components.v2` component
(JavaScript in the page, no iframe) keyed by the caller's key, whose one plotly div is updated in place.

* plotly.js, loaded once per page (`window.__kcPlotly`): the page's `window.Plotly` if Streamlit's own build
  is already there (a `st.plotly_chart` loaded it), else plotly.js's "basic" build of the same version
  (`ui/static/plotly-basic.min.js`, npm `plotly.js-basic-dist-min`, MIT: scatter, bar and pie traces with
  every layout feature: shapes, annotations, buttons, animation), served by Streamlit's component file route
  (`components.v1.declare_component(path=...)`, used only as a static file server; sent gzipped). It is a
  quarter of Streamlit's full build (1.2 vs 4.7 MB) and evaluates in a fraction of the time, which a shared
  link at step 1,000 waited for (bench/NOTES.md, issue 17 round 6). A figure with another trace type, or a
  page where the basic build cannot load, uses Streamlit's full build (the `PlotlyChart.<hash>.js` chunk its
  `st.plotly_chart` loads, found next to Streamlit's index script; it sets `window.Plotly`).
* The look is `st.plotly_chart`'s: its "streamlit" theme for this app's light theme (fonts, hover labels,
  margins' padding, axis colours), captured from Streamlit's own transform into `streamlit_plotly_theme.json`
  (recapture it if `.streamlit/config.toml`'s [theme] changes), and a bold title, as Streamlit draws it.
* Size: the page's width; the height is the figure's, or (`design_width`) grows with the width keeping the
  plot's aspect, as `theme.scaled_chart` does with CSS (never below the drawn height, at most 1.7 times it).
  The div keeps its height while plotly redraws, so nothing below it moves.
* `on_select`: a click on a point calls it, with `st.session_state[key]` = ``{"selection": {"points": [...]}}``
  (each point's customdata, curve_number, point_number, point_index, x, y): the shape `st.plotly_chart`'s
  selection state has, so `trace_panel.followed_from_selection` reads either.
* Play: a figure with frames keeps them (`autoplay_script` presses its replay button, as before).
* Redraw cost: `PlotSchema.findArrayAttributes`, which `Plotly.react` runs for every trace on every redraw (a
  crawl of the trace type's whole schema), is memoised per trace shape in the page (`memoArrayAttrs`; the same
  answers, ~1/6 of a log-strip redraw; bench/NOTES.md, issue 17 round 5).

In AppTest the component is a `bidi_component` element whose `data` JSON (bytes of JSON for a shared figure:
`_encoded`) holds the figure under "spec" (`figure_spec`, and tests/ui/ui_fixtures.py `chart_specs`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import plotly.io as pio
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

NAME = "kafka_classroom.live_chart"
ASSETS = "plotly_js"  # the static route for ui/static: /component/ui.live_chart.plotly_js/plotly-basic.min.js
STATIC = Path(__file__).resolve().parent / "static"
BASIC_JS = "plotly-basic.min.js"  # plotly.js "basic" build, the version Streamlit's plotly.js chunk has
BASIC_TRACES = frozenset({"scatter", "bar", "pie"})  # the trace types the basic build draws
THEME = Path(__file__).resolve().parent / "streamlit_plotly_theme.json"
MAX_GROWTH = 1.7  # as theme.scaled_chart: a scaled picture is at most this many times its drawn height

JS = r"""
const THEME = __THEME__;

async function streamlitPlotly(chunk) {  // Streamlit's own plotly.js chunk: cached by the browser, shared
  const index = [...document.querySelectorAll('script[src]')].map((s) => s.src)
    .find((u) => /\/static\/js\/index\.[^/]*\.js$/.test(u));
  if (!chunk || !index) throw new Error('no Streamlit plotly chunk');
  await import(new URL(chunk, index).href);  // it sets window.Plotly as it loads
  if (!window.Plotly) throw new Error('the Streamlit plotly chunk did not set window.Plotly');
  return window.Plotly;
}

function fullPlotly() {  // a Plotly that is Streamlit's full build, if the page has it
  return window.Plotly && !window.Plotly.__kcBasic ? window.Plotly : null;
}

// Plotly.react recomputes every trace's array attributes on every redraw (PlotSchema.findArrayAttributes, in
// Plots.doCalcdata: a crawl of the trace type's whole attribute schema, ~1/6 of a log-strip redraw). Its answer
// depends only on the trace's module and on which of its attributes hold arrays, so it is kept per that shape:
// the same list, computed once (checked against the original on 4,000 calls: identical).
function memoArrayAttrs(Plotly) {
  const schema = Plotly && Plotly.PlotSchema;
  if (!schema || typeof schema.findArrayAttributes !== 'function' || schema.__kcMemo) return;
  const find = schema.findArrayAttributes;
  const memo = new Map();
  const isArray = (v) => Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
  const isPlain = (v) => Object.prototype.toString.call(v) === '[object Object]'
    && Object.getPrototypeOf(v).hasOwnProperty('hasOwnProperty');
  const shape = (v, path, out, depth) => {
    if (depth > 10) { out.push(path + '…'); return out; }  // deeper than any plotly attribute (cycles)
    for (const k of Object.keys(v)) {
      if (k[0] === '_') continue;
      const x = v[k];
      if (isArray(x)) {
        out.push(path + k);
        if (Array.isArray(x) && x.some(isPlain)) {
          x.forEach((item, i) => { if (isPlain(item)) shape(item, path + k + '[' + i + '].', out, depth + 1); });
        }
      } else if (isPlain(x)) shape(x, path + k + '.', out, depth + 1);
    }
    return out;
  };
  schema.findArrayAttributes = function (trace) {
    if (!isPlain(trace)) return find.apply(this, arguments);
    const mod = trace._module;
    const key = (mod ? (mod.name || '?') : '-') + '|' + trace.type + '|' + shape(trace, '', [], 0).join(',');
    let hit = memo.get(key);
    if (hit === undefined || hit.mod !== mod) {
      if (memo.size > 500) memo.clear();
      hit = {mod, attrs: find.apply(this, arguments)};
      memo.set(key, hit);
    }
    return hit.attrs.slice();
  };
  schema.__kcMemo = true;
}

function loadPlotly(d) {
  const key = d.basic ? '__kcPlotly' : '__kcPlotlyFull';
  if (!window[key]) {
    const full = () => (fullPlotly() ? Promise.resolve(fullPlotly()) : streamlitPlotly(d.chunk));
    window[key] = d.basic && !fullPlotly() ? basicPlotly(d.src).catch(full) : full();
    window[key] = window[key].then((Plotly) => { memoArrayAttrs(Plotly); return Plotly; });
    window[key].catch(() => { window[key] = null; });
  }
  return window[key];
}

function basicPlotly(src) {  // plotly.js's basic build (ui/static): it sets window.Plotly as it loads
  return new Promise((resolve, reject) => {
    const prev = fullPlotly();
    const s = document.createElement('script');
    s.src = src;
    s.async = true;
    s.onload = () => {
      const P = window.Plotly;
      if (!P || P === prev) { reject(new Error('plotly.js did not load')); return; }
      P.__kcBasic = true;
      if (prev) window.Plotly = prev;  // window.Plotly stays Streamlit's full build where it was
      resolve(P);
    };
    s.onerror = () => reject(new Error('cannot load ' + src));
    document.head.appendChild(s);
  });
}

function size(gd, d) {
  const w = Math.max(50, Math.floor(gd.parentElement ? gd.parentElement.clientWidth : 0) || 700);
  let h = d.height;
  if (d.scale) {
    const s = d.scale;
    h = Math.min(Math.max(d.height, (w - s.sides) * s.plot + s.tb), s.max);
  }
  return [w, h];
}

function figure(d, w, h) {
  const fig = JSON.parse(d.spec);
  const layout = fig.layout || {};
  layout.template = THEME;
  const title = layout.title;
  if (title && typeof title === 'object' && typeof title.text === 'string' && title.text) {
    layout.title = Object.assign({}, title, {text: '<b>' + title.text + '</b>'});
  } else if (typeof title === 'string' && title) {
    layout.title = {text: '<b>' + title + '</b>'};
  }
  layout.width = w;
  layout.height = h;
  layout.autosize = false;
  return {data: fig.data || [], layout, frames: fig.frames || [], config: d.config || {}};
}

function settle(gd) {  // once the redraw is painted: bench/step_browser.py counts it in a click's time
  requestAnimationFrame(() => setTimeout(() => {
    if (!gd.__kcBusy) gd.removeAttribute('data-kc-pending');
    window.__kcLastDraw = performance.now();
  }, 0));
}

async function draw(gd) {
  if (gd.__kcBusy) { gd.__kcDirty = true; return; }
  gd.__kcBusy = true;
  try {
    do {
      gd.__kcDirty = false;
      const d = gd.__kcWant;
      const Plotly = await loadPlotly(d);
      if (!gd.isConnected) return;
      const [w, h] = size(gd, d);
      gd.style.height = h + 'px';
      await Plotly.react(gd, figure(d, w, h));
      gd.__kcDrawn = d.spec;
      gd.__kcSize = w + 'x' + h;
      gd.__kcPlotly = Plotly;
      if (!gd.__kcWired) wire(gd, Plotly);
    } while (gd.__kcDirty);
  } catch (err) {
    gd.textContent = 'This chart could not be drawn: ' + err.message;
  } finally {
    gd.__kcBusy = false;
    settle(gd);
  }
}

function wire(gd, Plotly) {
  gd.__kcWired = true;
  gd.on('plotly_click', (ev) => {
    const d = gd.__kcWant;
    if (!d || !d.selectable || !ev || !ev.points || !gd.__kcSend) return;
    const points = ev.points.map((p) => ({
      customdata: p.customdata === undefined ? null : p.customdata,
      curve_number: p.curveNumber,
      point_number: p.pointNumber,
      point_index: p.pointIndex,
      x: p.x,
      y: p.y,
    }));
    gd.__kcSend('selection', {points});
  });
  let queued = false;
  gd.__kcResize = new ResizeObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      const d = gd.__kcWant;
      if (!d || !gd.isConnected || gd.__kcBusy) return;
      const [w, h] = size(gd, d);
      if (gd.__kcSize === w + 'x' + h) return;
      gd.__kcSize = w + 'x' + h;
      gd.style.height = h + 'px';
      Plotly.relayout(gd, {width: w, height: h});
    });
  });
  gd.__kcResize.observe(gd.parentElement);
}

// A shared figure's data arrives as the bytes of its JSON (encoded once on the server for every session that
// draws it, ui/live_chart.py `_encoded`), any other figure's as the JSON object itself.
function payload(d) {
  if (d instanceof Uint8Array || d instanceof ArrayBuffer) return JSON.parse(new TextDecoder().decode(d));
  return d;
}

export default function (component) {
  const { parentElement, setTriggerValue } = component;
  const data = payload(component.data);
  let gd = parentElement.querySelector(':scope > .kc-live-chart');
  if (!gd) {
    gd = document.createElement('div');
    gd.className = 'kc-live-chart';
    gd.style.width = '100%';
    parentElement.appendChild(gd);
  }
  gd.__kcSend = setTriggerValue;
  gd.__kcWant = data;
  if (!gd.__kcDrawn) gd.style.height = size(gd, data)[1] + 'px';  // its place is kept before plotly loads
  if (gd.__kcDrawn !== data.spec || gd.__kcBusy) {
    gd.setAttribute('data-kc-pending', '1');
    draw(gd);
  }
  // Streamlit calls this at unmount, and also right away when new data arrived while it was loading this
  // script: only a chart that has left the page is taken down.
  return () => setTimeout(() => {
    if (parentElement.isConnected) return;
    if (gd.__kcResize) gd.__kcResize.disconnect();
    if (gd.__kcPlotly && gd.__kcWired) gd.__kcPlotly.purge(gd);
  }, 0);
}
"""


@lru_cache(maxsize=1)
def _mount() -> Callable[..., Any]:
    theme = json.loads(THEME.read_text())
    js = JS.replace("__THEME__", json.dumps(theme, separators=(",", ":")))
    return st.components.v2.component(
        NAME, js=js, isolate_styles=False
    )  # safe-html: JS and theme file from this package; figures arrive as data (JSON.parse), never as code


_ROUTED: list[Any] = [None]  # the Runtime the static route is registered on


def _plotly_src() -> str:
    """Where the page loads plotly.js's basic build from (registering the static route on this runtime first)."""
    import streamlit.components.v1 as components_v1
    from streamlit import runtime

    rt = runtime.get_instance() if runtime.exists() else None
    if rt is None or _ROUTED[0] is not rt:
        # idempotent, but not free (it inspects the caller's module on disk: a lecture hall's followers paid it
        # twice per step each), so once per Runtime
        components_v1.declare_component(ASSETS, path=str(STATIC))
        if rt is not None and get_script_run_ctx() is not None:  # (registered only with a script run context)
            _ROUTED[0] = rt
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return "/" + (f"{base}/" if base else "") + f"component/{__name__}.{ASSETS}/{BASIC_JS}"


@lru_cache(maxsize=1)
def _streamlit_chunk() -> str | None:
    """The file name of Streamlit's own plotly.js chunk (static/js/PlotlyChart.<hash>.js), or None."""
    found = sorted((Path(st.__file__).resolve().parent / "static" / "static" / "js").glob("PlotlyChart.*.js"))
    return found[0].name if len(found) == 1 else None


def _scale(layout: Any, height: float, design_width: float) -> dict[str, float]:
    """The height formula of `theme.scaled_chart`, for the browser to apply at the page's width."""
    margin = layout.margin
    top, bottom = (margin.t or 0), (margin.b or 0)
    sides = (margin.l or 0) + (margin.r or 0)
    return {
        "plot": (height - top - bottom) / (design_width - sides),
        "sides": sides,
        "tb": top + bottom,
        "max": round(height * MAX_GROWTH),
    }


def live_chart(
    fig: Any,
    key: str,
    config: dict | None = None,
    *,
    design_width: float | None = None,
    on_select: Callable[[], None] | None = None,
) -> None:
    """Draw `fig` (a go.Figure, not changed) under `key`; later runs with the same key redraw it in place.
    `design_width`: the figure was drawn for this width and grows with the page (the cluster diagram).
    `on_select`: called after a click on a point, with the click in `st.session_state[key]["selection"]`."""
    callbacks = {"on_selection_change": on_select} if on_select is not None else {}
    if callable(getattr(fig, "shared_json", None)):  # drawn unchanged by many sessions: its data encoded once
        data: dict | bytes = _encoded(fig, config, design_width, on_select is not None)
    else:
        data = _data(fig, pio.to_json(fig, validate=False), config, design_width, on_select is not None)
    _mount()(key=key, data=data, height="content", **callbacks)


def _encoded(fig: Any, config: dict | None, design_width: float | None, selectable: bool) -> bytes:
    """The component data of a shared figure (one that offers `shared_json()` and is never changed, ui/room_pictures.py
    `SharedFigure`) as the bytes of its JSON, kept on the figure. Streamlit passes bytes to the page as they are,
    where a dict is encoded twice per chart and session (the element's JSON and its identity hash): a lecture
    hall's followers each did that for both pictures on every step (bench/NOTES.md, lecture hall round four)."""
    key = json.dumps([config, design_width, selectable, _plotly_src()], sort_keys=True, default=str)
    kept = fig.__dict__.setdefault("_kc_live_data", {})
    if (raw := kept.get(key)) is None:
        raw = json.dumps(_data(fig, fig.shared_json(), config, design_width, selectable)).encode()
        if len(kept) > 8:  # (one or two ways of drawing a picture in practice)
            kept.clear()
        kept[key] = raw  # (two sessions encoding it at once store the same bytes)
    return raw


def _data(fig: Any, spec: str, config: dict | None, design_width: float | None, selectable: bool) -> dict:
    """The component data: the figure's JSON `spec`, and how the page draws it."""
    height = fig.layout.height or 450
    return {
        "spec": spec,
        "config": {**(config or {}), "responsive": False, "displaylogo": False},
        "height": height,
        "scale": _scale(fig.layout, height, design_width) if design_width else None,
        "selectable": selectable,
        "chunk": _streamlit_chunk(),
        "src": _plotly_src(),
        "basic": all((t.type or "scatter") in BASIC_TRACES for t in fig.data),
    }


def figure_spec(element: Any) -> dict | None:
    """The figure a live chart drew, from its AppTest element (`bidi_component`); None for another element."""
    proto = getattr(element, "proto", None)
    if getattr(proto, "component_name", None) != NAME:
        return None
    try:
        data = proto.bytes if proto.WhichOneof("data") == "bytes" else proto.json  # bytes: a shared figure
        return json.loads(json.loads(data)["spec"])
    except (ValueError, KeyError, TypeError):
        return None
