"""The actors (brokers, the controller, the coordinators, the clients) depend on the narrow `World`
protocol (engine/contracts.py), not on `Cluster`: none of their modules imports engine.cluster, not even for
type hints, so mypy (tests/code/test_types.py) proves they use only what `World` offers and the modules no
longer import each other in one circle through cluster.py. Issue 19, point 2."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ACTORS = (
    "broker",
    "controller",
    "group",
    "group848",
    "transactions",
    "share",
    "producer",
    "consumer",
    "shutdown",
    "retention",
    "load",
    "replica",
    "fetch_session",
)


def _imports_cluster(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            mod = ("." * node.level) + (node.module or "")
            if mod in (".cluster", "engine.cluster") or (
                mod == "." and any(a.name == "cluster" for a in node.names)
            ):
                lines.append(node.lineno)
        elif isinstance(node, ast.Import) and any(a.name == "engine.cluster" for a in node.names):
            lines.append(node.lineno)
    return lines


def test_actors_import_the_world_protocol_not_the_cluster():
    found = {m: _imports_cluster(ROOT / "engine" / f"{m}.py") for m in ACTORS}
    assert {m: ls for m, ls in found.items() if ls} == {}


def test_cluster_keeps_the_world_contract():
    """Cluster is what the actors get as their World (mypy checks the structure; here: the names)."""
    import engine.contracts as contracts
    from engine import Cluster

    members = [n for n in vars(contracts.World) if not n.startswith("_")]
    c = Cluster(brokers=1, seed=1)
    assert len(members) > 20
    assert [n for n in members if not hasattr(c, n)] == []
