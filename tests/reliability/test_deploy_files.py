"""Deploy files for Streamlit Community Cloud: requirements.txt lists what the app imports, in step with
pyproject.toml, with no editable install; the app imports from the repository root; docs/deploy.md exists."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REQS = ROOT / "requirements.txt"
IMPORT_TO_DIST = {"yaml": "pyyaml"}
# engine/server is the optional Kafka wire-protocol server (`python -m engine.server`), not part of the app
NOT_THE_APP = ("engine/server/",)


def _name(spec: str) -> str:
    return re.split(r"[<>=!~\[; ]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def requirements() -> list[str]:
    lines = [ln.split("#", 1)[0].strip() for ln in REQS.read_text(encoding="utf-8").splitlines()]
    return [ln for ln in lines if ln]


def test_requirements_are_plain_packages_without_an_editable_install():
    reqs = requirements()
    assert reqs, "requirements.txt is empty"
    for r in reqs:
        assert not r.startswith(("-e", "--editable", ".", "/", "git+", "-r")), (
            f"Community Cloud cannot use {r!r}"
        )
        assert re.match(r"^[A-Za-z0-9_.\-]+(\[[^\]]+\])?\s*([<>=!~]=?[^,\s]+\s*,?\s*)*$", r), r


def test_requirements_match_the_runtime_dependencies_of_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = {_name(d) for d in project["dependencies"]}
    have = {_name(r) for r in requirements()}
    assert wanted <= have, f"in pyproject.toml but not in requirements.txt: {sorted(wanted - have)}"
    assert "3.11" in project["requires-python"] or project["requires-python"].startswith(">=3.1")


def test_every_third_party_import_of_the_app_is_in_requirements():
    have = {_name(r) for r in requirements()}
    missing: dict[str, str] = {}
    files = [
        ROOT / "app.py",
        *(ROOT / "ui").rglob("*.py"),
        *(ROOT / "lessons").rglob("*.py"),
        *(ROOT / "engine").rglob("*.py"),
    ]
    for f in files:
        rel = f.relative_to(ROOT).as_posix()
        if rel.startswith(NOT_THE_APP):
            continue
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            mods = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module]
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
                else []
            )
            for m in mods:
                top = m.split(".")[0]
                if top in sys.stdlib_module_names or top in ("engine", "ui", "lessons", "__future__"):
                    continue
                if IMPORT_TO_DIST.get(top, top).lower().replace("_", "-") not in have:
                    missing.setdefault(top, rel)
    assert not missing, f"imported by the app but not in requirements.txt: {missing}"


def test_the_app_imports_from_the_repository_root_without_installing_it():
    """Community Cloud runs `streamlit run app.py` from a checkout: the packages must come from the root."""
    code = "import engine, ui, lessons, ui.session; print(engine.__file__); print(ui.__file__)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(ROOT)},
    )
    assert out.returncode == 0, out.stderr
    for line in out.stdout.split():
        assert Path(line).resolve().is_relative_to(ROOT), line


def test_deploy_your_own_section_exists():
    text = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert text.startswith("## Deploy your own")
    for must in (
        "app.py",
        "requirements.txt",
        "3.11",
        "Advanced settings",
        "bench/loadtest.py",
        "bench/soak.py",
    ):
        assert must in text, must
