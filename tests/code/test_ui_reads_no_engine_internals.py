"""The UI reads the engine only through snapshots and the Cluster's public read-only queries (issue 19.1).

An AST scan of ui/ and app.py. A `Cluster` in UI code is recognised where the code says so: an attribute
named `cluster` (`s.cluster`, `timeline.cluster`, `run.cluster`), a compare pair's side (`pair.left`), a
name or attribute annotated `Cluster` (`c: Cluster`, `self.view: Cluster`), and local names assigned from
one of those (`c = self.cluster`). On such a cluster only `PUBLIC_QUERIES` may be read. Independently of
types, the UI must not import private engine names, touch names only the live engine has (the loss ledger,
the schedulers, the share and transaction coordinators), or use the live client/broker registries as
mappings (`.consumers[cid]`, `.producers.values()`; a snapshot's tuples are never indexed by id).

When this fails: give the UI what it needs as a snapshot field (engine/snapshot.py, snapshot_builder.py) or
as a read-only query method on `Cluster` and add that method to `PUBLIC_QUERIES`.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# What the UI may read on a Cluster: views, traces, the event log and metrics (append-only records), time,
# checkpoints, and the read-only queries.
PUBLIC_QUERIES = frozenset(
    {
        "snapshot",
        "trace",
        "now",
        "events",
        "metrics",
        "clone",
        "partition_count",
        "lost_records",
        "consumed_records",
        "acked_batches",
        "group_views",
    }
)
# Attributes only the live engine has (no snapshot, scenario or lesson model uses these names).
LIVE_ONLY = frozenset(
    {
        "losses",
        "share_consumers",
        "shares",
        "txn_coordinator",
        "load_generators",
        "scheduler",
        "retention",
        "isolated_clients_ok",
        "replicas_of",
        "coordinator_for",
        "group_state",
        "leader_replica",
    }
)
REGISTRIES = frozenset({"consumers", "producers", "brokers", "topics"})  # live dicts on Cluster
MAPPING_METHODS = frozenset({"get", "values", "items", "keys"})


def _ui_files() -> list[Path]:
    return sorted((ROOT / "ui").rglob("*.py")) + [ROOT / "app.py"]


def _annotated_cluster(node: ast.expr | None) -> bool:
    if node is None:
        return False
    text = ast.unparse(node)
    return text in ("Cluster", "'Cluster'", '"Cluster"') or text.startswith(("Cluster |", "Cluster|"))


class _Scan(ast.NodeVisitor):
    def __init__(self, rel: str, cluster_attrs: set[str]) -> None:
        self.rel = rel
        self.cluster_attrs = cluster_attrs  # attribute names annotated Cluster somewhere in ui/
        self.cluster_names: list[set[str]] = [set()]  # per function scope
        self.found: list[str] = []

    def _bad(self, node: ast.AST, why: str) -> None:
        self.found.append(f"{self.rel}:{node.lineno}: {ast.unparse(node)[:80]} — {why}")  # type: ignore[attr-defined]

    def is_cluster(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.cluster_names[-1]
        if isinstance(node, ast.Attribute):
            if node.attr == "cluster" or node.attr in self.cluster_attrs:
                return True
            base = ast.unparse(node.value)
            return node.attr in ("left", "right") and (base == "pair" or base.endswith(".pair"))
        return False

    # -- scopes: parameters annotated Cluster, locals assigned from a cluster ---------------------------------
    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        names = set(self.cluster_names[-1])
        args = node.args
        for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
            if _annotated_cluster(a.annotation):
                names.add(a.arg)
        self.cluster_names.append(names)
        self.generic_visit(node)
        self.cluster_names.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Assign(self, node: ast.Assign) -> None:
        if self.is_cluster(node.value):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    self.cluster_names[-1].add(t.id)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if isinstance(node.target, ast.Name) and _annotated_cluster(node.annotation):
            self.cluster_names[-1].add(node.target.id)
        self.generic_visit(node)

    # -- the rules ----------------------------------------------------------------------------------------------
    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if (node.module or "").split(".")[0] == "engine":
            for a in node.names:
                if a.name.startswith("_"):
                    self._bad(node, f"imports the engine's private {a.name}")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if self.is_cluster(node.value) and node.attr not in PUBLIC_QUERIES:
            self._bad(node, f"reads Cluster.{node.attr}, which is not a public read-only query")
        elif node.attr in LIVE_ONLY:
            self._bad(node, f"reads the live engine's {node.attr}")
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        v = node.value
        if isinstance(v, ast.Attribute) and v.attr in REGISTRIES:
            index = node.slice
            if not (isinstance(index, ast.Constant) and isinstance(index.value, int)) and not isinstance(
                index, ast.Slice
            ):
                self._bad(node, f"looks a live {v.attr} up by id (a snapshot holds tuples)")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        f = node.func
        if (
            isinstance(f, ast.Attribute)
            and f.attr in MAPPING_METHODS
            and isinstance(f.value, ast.Attribute)
            and f.value.attr in REGISTRIES
        ):
            self._bad(node, f"uses the live {f.value.attr} registry as a mapping")
        self.generic_visit(node)


def _cluster_attrs(trees: dict[str, ast.Module]) -> set[str]:
    out = set()
    for tree in trees.values():
        for n in ast.walk(tree):
            if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Attribute):
                if _annotated_cluster(n.annotation):
                    out.add(n.target.attr)
    return out


def scan(sources: dict[str, str]) -> list[str]:
    """Every read of engine internals in these sources ({path: code}), one line each."""
    trees = {rel: ast.parse(code) for rel, code in sources.items()}
    attrs = _cluster_attrs(trees)
    found: list[str] = []
    for rel, tree in trees.items():
        s = _Scan(rel, attrs)
        s.visit(tree)
        found += s.found
    return found


def test_the_ui_reads_only_snapshots_and_public_queries():
    sources = {str(p.relative_to(ROOT)): p.read_text() for p in _ui_files()}
    assert len(sources) > 20
    found = scan(sources)
    assert not found, "the UI reaches into live engine objects:\n" + "\n".join(found)


def test_the_scan_catches_each_kind_of_reach():
    """The rules fire on the reads the UI used to make, and stay quiet on snapshot reads that look alike."""
    bad = {
        "a.py": "def f(c: Cluster, cid):\n    return c.consumers.get(cid).history\n",
        "b.py": "def f(s):\n    return s.cluster.losses.acked\n",
        "c.py": "def f(pair):\n    return pair.left.brokers\n",
        "d.py": "class L:\n    def __init__(self, h):\n        self.view: Cluster = h\n"
        "    def g(self):\n        v = self.view\n        return v.producers\n",
        "e.py": "from engine.trace import _find_record\n",
        "f.py": "def f(k):\n    return [p for p in k.producers.values()]\n",
        "g.py": "def f(c):\n    return c.topics[name].partitions\n",
        "h.py": "def f(s):\n    c = s.cluster\n    return c._broker(1)\n",
    }
    found = scan(bad)
    assert {line.split(":")[0] for line in found} == set(bad), found
    good = {
        "ok.py": "def f(s, snap, sc):\n"
        "    c = s.cluster\n"
        "    c.snapshot(tail=0).brokers[0]\n"
        "    [p.id for p in snap.producers]\n"
        "    sc.topics[0].name\n"
        "    c.lost_records(('t', 0))\n"
        "    return s.cluster.events.since(3), s.pair.left.now, c.trace('t', 0, 1, lost=True)\n"
    }
    assert scan(good) == []
