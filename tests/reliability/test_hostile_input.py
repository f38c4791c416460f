"""Hostile and mistaken input: every outside input is fuzzed, and the answer is always a clear error.

Outside inputs: scenario files (`parse_scenario`, JSON or YAML text or bytes), commands (`parse_command`,
from lessons and URLs), the URL state (`Timeline.from_state`), and topic names and configs through
`Cluster`. The only acceptable failures are `KafkaError` / `ValueError` with a message naming the field;
never another exception type, a hang (pytest-timeout) or a crash. Size limits and the bounds on what a
session retains are tested here too, and a static check keeps eval/exec/pickle, unsafe YAML loading and
`unsafe_allow_html` with user text out of engine/, ui/, lessons/ and app.py.
"""

from __future__ import annotations

import ast
import json
import math
import re
from pathlib import Path
from typing import Any

import _profiles
import _stats
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from engine import Cluster
from engine.cluster import MAX_BROKERS, MAX_PARTITIONS
from engine.commands import COMMAND_OPS, apply_command, parse_command
from engine.consumer import HISTORY
from engine.errors import KafkaError, SimulationLimitError
from engine.events import EventLog
from engine.scenario import (
    MAX_SCENARIO_BYTES,
    PRESETS,
    Scenario,
    ScenarioError,
    build_cluster,
    parse_scenario,
)
from engine.timeline import Timeline

ROOT = Path(__file__).resolve().parents[2]
OK_ERRORS = (KafkaError, ValueError)  # ScenarioError and ConfigError are both

# -- strategies ---------------------------------------------------------------------------------------------------
HUGE_INTS = st.sampled_from([2**31, 2**63, -(2**63), 10**100, -1, 0, 10**4299])
NUMBERS = st.one_of(
    st.integers(-(10**6), 10**6),
    HUGE_INTS,
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -0.0, 3.5]),
)
TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            "ü",
            "\u0000",
            "名前",
            "a" * 300,
            "../etc/passwd",
            "<script>alert(1)</script>",
            "'; DROP TABLE",
            "\U0001f600",
        ]
    ),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT)
JSONISH = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=20,
)


def count(name: str) -> None:
    _stats.count_example(f"hostile: {name}")


def assert_clear(exc: BaseException, *fields: str) -> None:
    """A clear error: one of ours, with a message; if fields are given, one of them is named in it."""
    assert isinstance(exc, OK_ERRORS), f"{type(exc).__name__}: {exc}"
    msg = str(exc)
    assert msg and len(msg) < 5000, f"unhelpful message: {msg[:200]!r}"
    if fields:
        assert any(f in msg for f in fields), f"message does not name any of {fields}: {msg}"


def try_parse(text: str | bytes) -> Scenario | None:
    try:
        return parse_scenario(text)
    except BaseException as exc:  # noqa: BLE001 - the point is to see every kind of failure
        assert_clear(exc)
        return None


# -- scenario files -------------------------------------------------------------------------------------------------
@pytest.mark.timeout(120)
@_profiles.fuzz_settings(300)
@given(text=st.one_of(st.text(max_size=400), st.binary(max_size=400).map(bytes)))
def test_random_text_is_a_scenario_or_a_clear_error(text):
    count("random scenario text")
    try_parse(text)


@pytest.mark.timeout(120)
@_profiles.fuzz_settings(300)
@given(value=JSONISH, as_yaml=st.booleans())
def test_random_json_and_yaml_documents_are_a_scenario_or_a_clear_error(value, as_yaml):
    count("random JSON/YAML documents")
    if as_yaml:
        try:
            text = yaml.safe_dump(value, allow_unicode=True)
        except (yaml.YAMLError, ValueError):
            return
    else:
        text = json.dumps(value)
    try_parse(text)


def _valid_scenario() -> dict:
    return json.loads(PRESETS["Default"].to_json())


def _paths(d: Any, prefix: tuple = ()) -> list[tuple]:
    out = []
    if isinstance(d, dict):
        for k, v in d.items():
            out.append(prefix + (k,))
            out.extend(_paths(v, prefix + (k,)))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            out.append(prefix + (i,))
            out.extend(_paths(v, prefix + (i,)))
    return out


SCENARIO_PATHS = _paths(_valid_scenario()) + [
    ("broker_config", "replica.lag.time.max.ms"),
    ("topics", 0, "config", "retention.ms"),
    ("producers", 0, "config", "linger.ms"),
    ("groups", 0, "config", "session.timeout.ms"),
]


def _set(d: Any, path: tuple, value: Any) -> None:
    for p in path[:-1]:
        d = d[p]
    d[path[-1]] = value


@pytest.mark.timeout(180)
@_profiles.fuzz_settings(250)
@given(path=st.sampled_from(SCENARIO_PATHS), value=JSONISH, as_yaml=st.booleans())
def test_a_wrong_value_anywhere_in_a_scenario_is_named_in_the_error(path, value, as_yaml):
    """One field of a valid scenario replaced by anything: the scenario is still valid, or the error names
    the field (or, for cross-field rules, the scenario part it is about). Valid ones build, or fail clearly."""
    count("mutated scenarios")
    data = _valid_scenario()
    _set(data, path, value)
    text = yaml.safe_dump(data, allow_unicode=True) if as_yaml else json.dumps(data)
    named = [str(p) for p in path if isinstance(p, str)]
    try:
        s = parse_scenario(text)
    except BaseException as exc:  # noqa: BLE001
        assert_clear(exc, *named, "scenario:", "JSON nor valid YAML", "cannot be read", "client ids")
        return
    try:
        build_cluster(s)
    except BaseException as exc:  # noqa: BLE001
        assert_clear(exc, *named, "Invalid scenario")


def test_scenario_size_limit_is_256_kb():
    big = b'{"name": "' + b"x" * MAX_SCENARIO_BYTES + b'"}'
    with pytest.raises(ScenarioError, match="256 KB"):
        parse_scenario(big)
    with pytest.raises(ScenarioError, match="256 KB"):
        parse_scenario(big.decode())
    assert MAX_SCENARIO_BYTES == 256 * 1024


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000,  # deep nesting within the size limit
        '{"a":' * 50_000 + "1" + "}" * 50_000,
        "- " * 20_000 + "x",
        '{"brokers": 1' + "0" * 5000 + "}",  # an integer over Python's 4300-digit conversion limit
        "brokers: 1" + "0" * 5000,
        "!!python/object/apply:os.system ['echo pwned']",  # a safe loader refuses to run code
        "!!python/name:os.system",
        "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
        "topics: &t [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n",  # "billion laughs": aliases are shared, never expanded
        '{"seed": NaN}',
        '{"brokers": Infinity}',
        '{"name": "\\ud800"}',
        "\ufeff{}",
        "",
        "null",
        "[]",
        "42",
    ],
    ids=lambda t: repr(t[:24]),
)
def test_pathological_documents_fail_fast_and_clearly(text):
    s = try_parse(text)
    assert s is None or isinstance(s, Scenario)


@pytest.mark.parametrize(
    "field, value, named",
    [
        ("brokers", MAX_BROKERS + 1, "brokers"),
        ("brokers", 0, "brokers"),
        ("seed", -1, "seed"),
        ("topics", [{"name": "t", "partitions": MAX_PARTITIONS + 1, "replication_factor": 1}], "partitions"),
        ("topics", [{"name": "bad name!", "replication_factor": 1}], "name"),
        ("topics", [{"name": "t", "replication_factor": 1}] * 2, "unique"),
        ("controller", "raft", "controller"),
        ("producers", [{"id": "p1", "topic": "nope"}], "nope"),
    ],
)
def test_scenario_limits_name_the_field(field, value, named):
    data = _valid_scenario()
    data[field] = value
    if field == "topics":
        data["producers"], data["groups"] = [], []
    with pytest.raises(ScenarioError) as info:
        parse_scenario(json.dumps(data))
    assert named in str(info.value)


def test_cluster_limits_brokers_and_partitions():
    with pytest.raises(KafkaError, match=str(MAX_BROKERS)):
        Cluster(brokers=MAX_BROKERS + 1)
    c = Cluster(brokers=MAX_BROKERS - 1)
    c.add_broker()
    with pytest.raises(KafkaError, match=str(MAX_BROKERS)):
        c.add_broker()
    with pytest.raises(KafkaError, match="partitions"):
        c.create_topic("t", partitions=MAX_PARTITIONS + 1)
    c.create_topic("t", partitions=MAX_PARTITIONS)


# -- commands -------------------------------------------------------------------------------------------------------
COMMAND_FIELDS = [
    "broker",
    "consumer",
    "group",
    "producer",
    "count",
    "key",
    "value",
    "topic",
    "ms",
    "partition",
    "replicas",
    "rate_per_s",
    "extra_latency_ms",
    "clients_can_reach",
    "poll_interval_ms",
    "tombstone",
]
COMMANDS = st.one_of(
    JSONISH,
    st.fixed_dictionaries(
        {"op": st.one_of(st.sampled_from(COMMAND_OPS), TEXT, NUMBERS)},
        optional={
            f: st.one_of(
                JSONISH, st.integers(-3, 20), st.sampled_from(["p1", "c1", "g1", "orders", "c9", "broker-1"])
            )
            for f in COMMAND_FIELDS
        },
    ),
)


@pytest.mark.timeout(180)
@_profiles.fuzz_settings(400)
@given(data=COMMANDS)
def test_random_commands_parse_or_fail_naming_the_field(data):
    count("random commands")
    try:
        parse_command(data)
    except BaseException as exc:  # noqa: BLE001
        fields = [k for k in data if isinstance(k, str)] if isinstance(data, dict) else []
        assert_clear(exc, *fields, *COMMAND_FIELDS, "op", "mapping")  # a missing field is named too


@pytest.mark.timeout(240)
@_profiles.fuzz_settings(120)
@given(data=st.lists(COMMANDS, min_size=1, max_size=4))
def test_valid_commands_with_wrong_targets_apply_or_fail_clearly(data):
    """Parsed commands aimed at brokers, consumers or topics that do not exist fail with a clear error."""
    count("commands applied to a cluster")
    c = build_cluster(PRESETS["Default"])
    for d in data:
        try:
            cmd = parse_command(d)
        except OK_ERRORS:
            continue
        if getattr(cmd, "count", 1) > 200 or getattr(cmd, "ms", 0) > 20_000:
            continue  # big but legal: bounded, just slow for a fuzzer
        try:
            msg = apply_command(c, cmd)
        except BaseException as exc:  # noqa: BLE001
            assert_clear(exc)
        else:
            assert isinstance(msg, str) and msg


# -- the URL state --------------------------------------------------------------------------------------------------
TINY = Scenario(
    name="tiny",
    brokers=3,
    topics=[{"name": "orders", "partitions": 2, "replication_factor": 3}],
    producers=[{"id": "p1", "topic": "orders", "rate_per_s": 5}],
    groups=[
        {"group_id": "g1", "topics": ["orders"], "members": 1, "config": {"auto.offset.reset": "earliest"}}
    ],
)
STEPS = st.one_of(st.integers(0, 25), NUMBERS, st.booleans(), TEXT, st.none())
STATE_COMMANDS = st.lists(
    st.one_of(
        JSONISH,
        st.fixed_dictionaries(
            {"at": STEPS, "op": st.sampled_from(COMMAND_OPS)},
            optional={
                f: st.one_of(st.integers(-1, 6), st.sampled_from(["p1", "c1", "g1", "orders"]), JSONISH)
                for f in COMMAND_FIELDS
            },
        ),
    ),
    max_size=5,
)


@pytest.mark.timeout(240)
@_profiles.fuzz_settings(150)
@given(
    scenario=st.one_of(st.just(json.loads(TINY.to_json())), JSONISH),
    position=STEPS,
    commands=st.one_of(STATE_COMMANDS, JSONISH),
    extra=st.dictionaries(TEXT, JSONISH, max_size=2),
)
def test_url_state_rebuilds_or_fails_clearly(scenario, position, commands, extra):
    count("URL states")
    state = {**extra, "scenario": scenario, "position": position, "commands": commands}
    if _big(position, 200):
        return  # legal (up to 100000) but slow: what bounds it is tested in test_url_state_limits_name_the_field
    for cmd in commands if isinstance(commands, list) else []:
        if isinstance(cmd, dict) and (
            _big(cmd.get("count")) or _big(cmd.get("ms"), 20_000) or _big(cmd.get("at"), 200)
        ):
            return  # legal but slow: not what this fuzzer is about
    try:
        tl = Timeline.from_state(state)
    except BaseException as exc:  # noqa: BLE001
        assert_clear(exc)
    else:
        assert tl.position == position


def _big(v: Any, limit: int = 500) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int):  # compared as ints: math.isnan() cannot convert a huge int to a float
        return v > limit
    return isinstance(v, float) and not math.isnan(v) and v > limit


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "state, named",
    [
        ("not a mapping", "mapping"),
        ({"scenario": {}, "position": 10**9}, "position"),
        ({"scenario": {}, "position": -1}, "position"),
        ({"scenario": {}, "position": True}, "position"),
        ({"scenario": {}, "commands": [{"at": 10**9, "op": "add_broker"}]}, "at"),  # used to step for ever
        ({"scenario": {}, "commands": [{"at": -1, "op": "add_broker"}]}, "at"),
        ({"scenario": {}, "commands": [{"op": "crash_broker", "broker": 99}]}, "broker"),
        ({"scenario": {}, "commands": ["x"]}, "mapping"),
        ({"scenario": {}, "commands": [{"op": "add_broker"}] * 1001}, "1000"),
        ({"scenario": {"brokers": "many"}}, "brokers"),
    ],
)
def test_url_state_limits_name_the_field(state, named):
    with pytest.raises(OK_ERRORS) as info:
        Timeline.from_state(state)
    assert named in str(info.value)


# -- topic names and configs through the Cluster ---------------------------------------------------------------------
CONFIG_KEYS = st.one_of(
    TEXT,
    st.sampled_from(
        [
            "min.insync.replicas",
            "retention.ms",
            "cleanup.policy",
            "segment.bytes",
            "unclean.leader.election.enable",
            "acks",
            "linger.ms",
            "batch.size",
            "enable.idempotence",
            "session.timeout.ms",
            "auto.offset.reset",
            "partition.assignment.strategy",
            "replica.lag.time.max.ms",
            "simulator.network.latency.ms",
        ]
    ),
)
CONFIGS = st.one_of(st.none(), st.dictionaries(CONFIG_KEYS, st.one_of(SCALARS, JSONISH), max_size=3), JSONISH)


@pytest.mark.timeout(180)
@_profiles.fuzz_settings(300)
@given(
    name=st.one_of(TEXT, NUMBERS, st.none()),
    partitions=st.one_of(st.integers(-2, 200), NUMBERS, TEXT),
    rf=st.one_of(st.integers(-1, 5), NUMBERS, TEXT),
    config=CONFIGS,
)
def test_topic_names_and_configs_create_or_fail_clearly(name, partitions, rf, config):
    count("topics and configs")
    c = Cluster(brokers=3, seed=1)
    try:
        c.create_topic(name, partitions=partitions, replication_factor=rf, config=config)
    except BaseException as exc:  # noqa: BLE001
        assert_clear(exc)
    else:
        assert name in c.topics


@pytest.mark.timeout(180)
@_profiles.fuzz_settings(200)
@given(producer=CONFIGS, consumer=CONFIGS, broker=CONFIGS, client_id=st.one_of(TEXT, NUMBERS))
def test_client_and_broker_configs_apply_or_fail_clearly(producer, consumer, broker, client_id):
    count("client and broker configs")
    try:
        c = Cluster(brokers=1, seed=1, config=broker)
    except BaseException as exc:  # noqa: BLE001
        assert_clear(exc)
        return
    for make in (
        lambda: c.producer(client_id, producer),
        lambda: c.consumer(f"c-{client_id}", config=consumer),
    ):
        try:
            make()
        except BaseException as exc:  # noqa: BLE001
            assert_clear(exc)


# -- what a session retains is bounded --------------------------------------------------------------------------------
def test_event_log_keeps_the_newest_events_with_a_note_and_since_still_works():
    log = EventLog(max_events=50)
    for i in range(1000):
        log.emit(i, "batch_appended", f"event {i}")
        assert len(log) <= 50
    seqs = [e.seq for e in log.events]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # dense and increasing: since() is a slice
    assert log.seq == seqs[-1] and log.trimmed > 0
    notes = [e for e in log.events if e.kind == "note" and "trimmed" in e.summary]
    assert notes and notes[-1].data["events_trimmed"] == log.trimmed
    assert [e.seq for e in log.since(log.seq - 5)] == list(range(log.seq - 4, log.seq + 1))
    assert log.since(0) == log.events  # asking for trimmed history returns what is kept
    assert log.since(log.seq) == []


def test_a_long_session_stays_bounded_and_time_travel_still_works():
    tl = Timeline(TINY, checkpoint_every=10)
    tl.cluster.events.max_events = 200
    tl.steps(600)
    c = tl.cluster
    assert len(c.events) <= 200 and c.events.trimmed > 0
    assert any("trimmed" in e.summary for e in c.events.events)
    before = c.snapshot()
    tl.back()
    tl.step()
    assert tl.cluster.snapshot() == before  # Back then Step is exact even with a trimmed log
    for k in c.consumers.values():
        assert len(k.history) <= HISTORY


def test_consumer_history_is_bounded():
    c = Cluster(brokers=1, seed=1, config={"offsets.topic.replication.factor": 1})
    c.create_topic("t")
    p = c.producer("p", {"linger.ms": 50})
    k = c.consumer("c", config={"auto.offset.reset": "earliest"})
    k.assign([("t", 0)])
    for i in range(HISTORY + 500):
        p.send("t", value=f"v{i}")
    p.flush()
    while k.poll(500):
        pass
    assert k.received == HISTORY + 500 and len(k.history) == HISTORY


@pytest.mark.timeout(60)
def test_run_until_idle_is_bounded_on_a_cluster_that_is_never_idle():
    c = build_cluster(PRESETS["Default"])  # a steady producer: never idle
    with pytest.raises(SimulationLimitError, match="still busy"):
        c.run_until_idle(max_ms=5000)


# -- no code execution or HTML injection from user data ---------------------------------------------------------------
SCANNED = ["engine", "ui", "lessons", "app.py"]


def _python_files() -> list[Path]:
    out: list[Path] = []
    for name in SCANNED:
        p = ROOT / name
        out.extend([p] if p.is_file() else sorted(p.rglob("*.py")))
    return out


def _unsafe(path: Path) -> list[str]:
    """eval/exec, pickle-like modules, unsafe YAML loading, and unsafe_allow_html / st.html with non-literal text
    (a call may opt out with a `# safe-html: <why>` comment saying how the user text is escaped)."""
    src = path.read_text(encoding="utf-8")
    lines = src.splitlines()
    problems: list[str] = []
    where = lambda n: f"{path.relative_to(ROOT)}:{n.lineno}"  # noqa: E731
    tree = ast.parse(src)
    constants = {
        t.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for t in node.targets
        if isinstance(t, ast.Name)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            owner = f.value.id if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) else ""
            if isinstance(f, ast.Name) and name in ("eval", "exec", "__import__"):
                problems.append(f"{where(node)}: {name}()")
            if owner == "yaml" and name in (
                "load",
                "load_all",
                "unsafe_load",
                "full_load",
                "unsafe_load_all",
            ):
                loader = next(
                    (k.value for k in node.keywords if k.arg == "Loader"),
                    node.args[1] if len(node.args) > 1 else None,
                )
                if name.startswith(("unsafe", "full")) or not (
                    isinstance(loader, ast.Attribute) and loader.attr in ("SafeLoader", "CSafeLoader")
                ):
                    problems.append(f"{where(node)}: yaml.{name} without SafeLoader")
            html_kw = any(
                k.arg == "unsafe_allow_html"
                and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                for k in node.keywords
            )
            if html_kw or (name == "html" and owner in ("st", "components")):
                text = node.args[0] if node.args else None
                literal = (isinstance(text, ast.Constant) and isinstance(text.value, str)) or (
                    isinstance(text, ast.Name) and text.id in constants
                )  # a module-level string constant
                span = "\n".join(lines[node.lineno - 1 : (node.end_lineno or node.lineno)])
                if not literal and "safe-html:" not in span:
                    problems.append(
                        f"{where(node)}: HTML built from non-literal text without a '# safe-html:' note"
                    )
            v2 = isinstance(f, ast.Attribute) and isinstance(f.value, ast.Attribute) and f.value.attr == "v2"
            if v2 and name == "component":  # st.components.v2: its html/js/css run in the page as they are
                span = "\n".join(lines[node.lineno - 1 : (node.end_lineno or node.lineno)])
                for k in node.keywords:
                    code = k.value
                    literal = (
                        isinstance(code, ast.Constant) and isinstance(code.value, str | type(None))
                    ) or (isinstance(code, ast.Name) and code.id in constants)
                    if k.arg in ("html", "js", "css") and not literal and "safe-html:" not in span:
                        problems.append(
                            f"{where(node)}: component {k.arg} from non-literal text without a note"
                        )
        elif isinstance(node, ast.Import | ast.ImportFrom):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for m in mods:
                if m.split(".")[0] in ("pickle", "cPickle", "dill", "marshal", "shelve", "cloudpickle"):
                    problems.append(f"{where(node)}: imports {m}")
    return problems


def test_no_eval_pickle_unsafe_yaml_or_unescaped_html_in_app_code():
    files = _python_files()
    assert len(files) > 20  # the scan really covers the code
    problems = [p for f in files for p in _unsafe(f)]
    assert not problems, "unsafe handling of user data:\n" + "\n".join(problems)


def test_the_unsafe_code_scanner_catches_what_it_should(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import pickle\nimport yaml\nimport streamlit as st\nx = eval(input())\n"
        "yaml.load(open('f'))\nyaml.load(open('f'), Loader=yaml.Loader)\n"
        "st.markdown(f'<b>{name}</b>', unsafe_allow_html=True)\nst.html(user)\n"
        "st.markdown('<hr>', unsafe_allow_html=True)\nyaml.load(s, Loader=yaml.SafeLoader)\n"
        "CSS = '<style></style>'\nst.html(CSS)\n"
        "st.markdown(f'<b>{html.escape(n)}</b>', unsafe_allow_html=True)  # safe-html: escaped\n"
        "st.components.v2.component('c', js=user)\nst.components.v2.component('c', js=CSS)\n"
    )
    global ROOT
    old, ROOT = ROOT, tmp_path
    try:
        found = _unsafe(bad)
    finally:
        ROOT = old
    assert len(found) == 7, found
    assert re.search(r"bad.py:4: eval", "\n".join(found))
