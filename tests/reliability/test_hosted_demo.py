"""The hosted demo: many students share one Streamlit process, so sessions must never leak into each other.

- Two concurrent `AppTest` sessions of app.py each get their own cluster; a crash in one is not seen in the
  other (checked through `st.session_state`, whatever the page structure is).
- No engine object lives in a module global, and anything in `st.cache_resource` is immutable (or a
  deliberately shared, lock-guarded store that holds no engine object, like the classroom rooms).
- Memory per session: a small-step smoke run here; the 10,000-step measurement and the 30-session load test
  are `python bench/loadtest.py` (their figures go to bench/loadtest-result.json).
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import sys
import threading
import tracemalloc
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from engine import Cluster
from engine.scenario import PRESETS
from engine.timeline import Timeline

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
SESSION_BUDGET_MB = 60
sys.path.insert(0, str(ROOT))  # bench/ is importable as a package from the repo root

pytestmark = pytest.mark.skipif(not APP.exists(), reason="no app.py yet")
# AppTest runs a script on a process-wide bare-mode Runtime singleton: two runs overlapping in threads break
# it ("Runtime hasn't been created!", half-imported modules). So sessions live side by side in threads, but
# each rerun holds this lock - as if the server ran one script at a time. The sessions' state still interleaves.
APPTEST_LOCK = threading.Lock()


# -- finding a session's engine objects without knowing the page structure ------------------------------------------
def engine_objects(value: Any, depth: int = 0, seen: set[int] | None = None) -> list[Cluster]:
    """Every Cluster reachable from `value` through containers, dataclasses and timeline/session attributes."""
    seen = set() if seen is None else seen
    if depth > 5 or id(value) in seen or isinstance(value, str | bytes | int | float | bool | type(None)):
        return []
    seen.add(id(value))
    if isinstance(value, Cluster):
        return [value]
    if isinstance(value, Timeline):
        return [value.cluster]
    found: list[Cluster] = []
    if isinstance(value, dict):
        items = list(value.values())
    elif isinstance(value, list | tuple | set | frozenset):
        items = list(value)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = [getattr(value, f.name) for f in dataclasses.fields(value)]
    else:
        items = [getattr(value, a) for a in ("timeline", "cluster", "session", "state") if hasattr(value, a)]
    for item in items:
        found.extend(engine_objects(item, depth + 1, seen))
    return found


def session_clusters(at: AppTest) -> list[Cluster]:
    out: list[Cluster] = []
    for key in at.session_state._state.filtered_state:  # noqa: SLF001 - AppTest offers no public iteration
        out.extend(engine_objects(at.session_state[key]))
    unique = {id(c): c for c in out}
    return list(unique.values())


def rerun(at: AppTest) -> AppTest:
    with APPTEST_LOCK:
        at.run()
    assert not at.exception, at.exception
    return at


def open_app() -> AppTest:
    at = rerun(AppTest.from_file(str(APP), default_timeout=120))
    if (ROOT / "ui" / "playground.py").exists():
        at.switch_page("ui/playground.py")
        rerun(at)
    return at


def press(at: AppTest, key: str) -> bool:
    """Click a button if the page has it (the tests must not depend on the exact layout)."""
    if key not in {b.key for b in at.button}:
        return False
    at.button(key=key).click()
    rerun(at)
    return True


# -- per-session isolation -----------------------------------------------------------------------------------------------
@pytest.mark.timeout(300)
def test_two_concurrent_sessions_each_have_their_own_cluster():
    barrier = threading.Barrier(2)

    def student(crash: bool) -> tuple[AppTest, list[Cluster]]:
        at = open_app()
        barrier.wait(timeout=120)  # both sessions are alive at the same time from here on
        clusters = session_clusters(at)
        assert len(clusters) >= 1, "the session holds no cluster in st.session_state"
        if crash:
            if not press(at, "crash_b1"):
                clusters[0].crash_broker(1)
                rerun(at)
        for _ in range(5):
            if not press(at, "step"):
                clusters[0].step_event()
        barrier.wait(timeout=120)
        rerun(at)  # a rerun after the other session acted: its own state, untouched
        return at, session_clusters(at)

    with ThreadPoolExecutor(2) as pool:
        a_fut, b_fut = pool.submit(student, True), pool.submit(student, False)
        (_a, a_clusters), (_b, b_clusters) = a_fut.result(), b_fut.result()
    a, b = a_clusters[0], b_clusters[0]
    assert a is not b and not {id(c) for c in a_clusters} & {id(c) for c in b_clusters}
    assert a.events is not b.events and a.scheduler is not b.scheduler and a.brokers[1] is not b.brokers[1]
    assert not a.brokers[1].alive, "the crash did not reach session A's own cluster"
    assert all(c.brokers[1].alive for c in b_clusters), "session A's crash leaked into session B"
    assert any(e.kind == "broker_crashed" for e in a.events.events)
    assert not any(e.kind == "broker_crashed" for c in b_clusters for e in c.events.events)


@pytest.mark.timeout(300)
def test_no_engine_object_lives_in_a_module_global():
    """Module globals are shared by every session of the process: none may hold a cluster or a timeline."""
    open_app()
    leaks = []
    for name, mod in list(sys.modules.items()):
        if not (name == "app" or name.startswith(("ui", "lessons", "engine"))) or not isinstance(
            mod, types.ModuleType
        ):
            continue
        for attr, value in list(vars(mod).items()):
            if attr.startswith("__") or isinstance(value, types.ModuleType | type | types.FunctionType):
                continue
            if engine_objects(value):
                leaks.append(f"{name}.{attr}")
    assert not leaks, f"engine state in module globals (shared by every student): {leaks}"


# -- st.cache_resource ------------------------------------------------------------------------------------------------
def cache_resource_functions() -> list[tuple[str, str]]:
    """(module, function) for every function decorated with st.cache_resource in ui/ and app.py."""
    files = [APP, *sorted((ROOT / "ui").rglob("*.py"))]
    found = []
    for f in files:
        tree = ast.parse(f.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for d in node.decorator_list:
                    target = d.func if isinstance(d, ast.Call) else d
                    if isinstance(target, ast.Attribute) and target.attr == "cache_resource":
                        mod = ".".join(f.relative_to(ROOT).with_suffix("").parts)
                        found.append((mod, node.name))
    return found


def is_immutable(value: Any, depth: int = 0) -> bool:
    """Deeply immutable: scalars, tuples/frozensets of immutables, frozen dataclasses, read-only mappings."""
    if depth > 20:
        return False
    if isinstance(value, str | bytes | int | float | complex | bool | type(None) | range):
        return True
    if isinstance(value, tuple | frozenset):
        return all(is_immutable(v, depth + 1) for v in value)
    if isinstance(value, types.MappingProxyType):
        return all(is_immutable(k, depth + 1) and is_immutable(v, depth + 1) for k, v in value.items())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return type(value).__dataclass_params__.frozen and all(
            is_immutable(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)
        )
    return False


_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))


def holds_engine_state(value: Any, depth: int = 0, seen: set[int] | None = None) -> bool:
    """Any cluster, timeline or Playground session reachable from `value` (attributes, slots, containers)?"""
    seen = set() if seen is None else seen
    if depth > 8 or id(value) in seen or isinstance(value, str | bytes | int | float | bool | type(None)):
        return False
    seen.add(id(value))
    if isinstance(value, Cluster | Timeline) or type(value).__name__ == "PlaygroundSession":
        return True
    if isinstance(value, dict):
        children = [*value.keys(), *value.values()]
    elif isinstance(value, list | tuple | set | frozenset):
        children = list(value)
    else:
        names = list(getattr(value, "__dict__", {}))
        names += [n for cls in type(value).__mro__ for n in getattr(cls, "__slots__", ())]
        children = [getattr(value, n) for n in names if isinstance(n, str) and hasattr(value, n)]
    return any(holds_engine_state(ch, depth + 1, seen) for ch in children)


def is_guarded_shared_store(value: Any) -> bool:
    """The one kind of mutable value allowed in st.cache_resource: a store that is meant to be shared (the
    classroom rooms), guarded by a lock for Streamlit's per-session threads, and holding no engine state."""
    locks = (
        [v for v in vars(value).values() if isinstance(v, _LOCK_TYPES)] if hasattr(value, "__dict__") else []
    )
    return bool(locks) and not holds_engine_state(value)


def test_anything_in_cache_resource_is_immutable_or_a_guarded_store_without_engine_state():
    """st.cache_resource hands the SAME object to every session: it must not be something one session can
    change under another (a cluster, a timeline, a list, a dict). The only exception is a deliberately shared,
    lock-guarded store that holds no engine object (ui/rooms.py's RoomStore keeps recipes and answer counts).
    Cached functions taking arguments are checked on their return annotation; argument-less ones are called."""
    problems = []
    for mod_name, fn_name in cache_resource_functions():
        mod = importlib.import_module(mod_name if mod_name != "app" else "app")
        fn = getattr(mod, fn_name)
        wrapped = getattr(fn, "__wrapped__", fn)
        if wrapped.__code__.co_argcount == 0:
            value = fn()
            if not (is_immutable(value) or is_guarded_shared_store(value)):
                problems.append(f"{mod_name}.{fn_name} returns mutable {type(value).__name__}")
        else:
            ann = str(wrapped.__annotations__.get("return", ""))
            if not ann or not any(
                ann.startswith(t) for t in ("tuple", "frozenset", "str", "bytes", "int", "float")
            ):
                problems.append(
                    f"{mod_name}.{fn_name} takes arguments and is not annotated to return an immutable type"
                )
    assert not problems, problems


def test_the_immutability_check_itself():
    @dataclasses.dataclass(frozen=True)
    class Frozen:
        names: tuple[str, ...]

    @dataclasses.dataclass
    class Thawed:
        names: tuple[str, ...]

    assert is_immutable(("a", 1, frozenset({2.0}), Frozen(("x",)), types.MappingProxyType({"k": (1,)})))
    for bad in ([1], {"a": 1}, (1, [2]), Thawed(("x",)), Frozen(["x"]), Cluster(brokers=1), object()):
        assert not is_immutable(bad), bad

    @dataclasses.dataclass
    class Store:
        items: dict = dataclasses.field(default_factory=dict)
        _lock: Any = dataclasses.field(default_factory=threading.Lock)

    assert is_guarded_shared_store(Store())
    assert not is_guarded_shared_store(Store(items={"room": Timeline(PRESETS["Default"])}))
    assert not is_guarded_shared_store(Thawed(("x",)))


# -- memory per session ---------------------------------------------------------------------------------------------
@pytest.mark.timeout(300)
def test_session_memory_smoke():
    """A short version of bench/loadtest.py's 10,000-step measurement: build the Default scenario's timeline
    and step it; everything it allocates (checkpoints included) stays far inside the 60 MB session budget."""
    tracemalloc.start()
    try:
        tl = Timeline(PRESETS["Default"])
        tl.steps(400)
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"\nDefault scenario, 400 steps: {current / 1e6:.1f} MB now, {peak / 1e6:.1f} MB peak")
    assert peak / 1e6 <= SESSION_BUDGET_MB
    assert tl.position == 400


@pytest.mark.timeout(300)
def test_loadtest_smoke():
    """bench/loadtest.py with tiny sizes: the same code the real load test runs, in seconds."""
    from bench import loadtest

    result = loadtest.run(sessions=3, seconds=4.0, heavy_steps=50, apptest=2, out=None)
    assert result["errors"] == [] and result["cross_talk"] == []
    assert result["timeline"]["sessions"] == 3 and result["timeline"]["steps_total"] > 0
    assert result["apptest"]["sessions"] == 2 and result["apptest"]["reruns_total"] > 0
