"""The layering the architecture promises, checked by importing for real: the engine loads no UI library (so a
notebook or the wire server runs without Streamlit, plotly or networkx installed), and the figure builders load
no Streamlit (so a notebook can draw the pictures). Each import runs in a fresh interpreter, since this test
process has long imported everything."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# imports every module of the given packages (pkgutil.walk_packages; engine.server.__main__ only runs under -m),
# then prints which top-level packages ended up loaded
PROBE = """
import importlib, json, pkgutil, sys
loaded = []
for name in sys.argv[1:]:
    pkg = importlib.import_module(name)
    loaded.append(name)
    for m in pkgutil.walk_packages(getattr(pkg, "__path__", []), prefix=name + "."):
        importlib.import_module(m.name)
        loaded.append(m.name)
print(json.dumps({"imported": loaded, "top": sorted({k.split(".")[0] for k in sys.modules})}))
"""


def _import(*packages: str) -> dict:
    r = subprocess.run(
        [sys.executable, "-c", PROBE, *packages], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_the_engine_loads_no_ui_library():
    out = _import("engine")
    assert "engine.server.server" in out["imported"] and "engine.cluster" in out["imported"], out["imported"]
    leaked = {"ui", "streamlit", "plotly", "networkx"} & set(out["top"])
    assert not leaked, f"importing engine (all {len(out['imported'])} modules) loaded {sorted(leaked)}"


def test_the_figure_builders_load_no_streamlit():
    out = _import("ui.figures")
    assert "ui.figures.diagram" in out["imported"], out["imported"]
    assert "plotly" in out["top"]  # the probe really imported the builders
    assert "streamlit" not in out["top"], "importing ui.figures (all its modules) loaded streamlit"
