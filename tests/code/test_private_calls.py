"""Engine classes talk through named public methods: no module calls another object's underscore method
(`broker._wake_fetches(...)`) or hands one over as a callback (`scheduler.after(ms, ctl._send_heartbeat)`).
Such a call ties the caller to the callee's internals; its owner should name the operation instead
(`Broker.append_as_leader`, `Controller.send_heartbeat`). Issue 19, point 2."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# (module, "owner._method") pairs allowed on purpose; keep it short and say why
ALLOWED: set[tuple[str, str]] = set()


def _private(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
        and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
    )


def _foreign_private_uses(path: Path) -> list[str]:
    rel = path.relative_to(ROOT).as_posix()
    out = []
    for node in ast.walk(ast.parse(path.read_text(), filename=rel)):
        if not isinstance(node, ast.Call):
            continue
        for target in (node.func, *node.args):
            if _private(target) and (rel, ast.unparse(target)) not in ALLOWED:
                out.append(f"{rel}:{node.lineno}: {ast.unparse(target)}")
    return out


def test_engine_modules_use_no_other_objects_private_methods():
    found = [hit for p in sorted((ROOT / "engine").rglob("*.py")) for hit in _foreign_private_uses(p)]
    assert found == [], "name the operation as a public method of its owner:\n" + "\n".join(found)


def test_the_scan_sees_a_call_and_a_callback():
    """The check itself: both forms it must catch are caught, `self._x()` is not."""
    tree = ast.parse("def f(b, s, self):\n    b._wake(1)\n    s.after(5, b._beat)\n    self._ok()\n")
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    flagged = sorted(ast.unparse(t) for c in calls for t in (c.func, *c.args) if _private(t))
    assert flagged == ["b._beat", "b._wake"]
