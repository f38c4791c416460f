"""Declarative checks: what a lesson step claims about the cluster, tested against the real engine.

A check is a small mapping whose *subject* key says what it looks at, and whose other keys are the
fields to compare. Expected values are literals, or a comparison such as `{gte: 2}` (ops: eq, ne, gt,
gte, lt, lte, in, contains). Checks read only public things: `Cluster.snapshot()`, the event log,
and the results of a step's sweep, so a lesson can never drift from what the engine does.

    {partition: orders-1, leader: 3, isr: [1, 3]}
    {group: g1, state: Stable, generation: 2, assignment: {c1: [orders-0], c2: [orders-1]}}
    {consumer: c3, assignment: []}
    {broker: 2, alive: false}
    {producer: p1, acked: {gte: 10}}
    {record: {topic: orders, key: k7}, lost: true}
    {event: leader_elected, partition: orders-1, count: 1}      # events of this step (scope: lesson for all)
    {controller: zookeeper, active: 2}
    {topic: orders, partitions: 2}
    {cluster: {lost_records: 0}}
    {sweep: linger.ms, metric: records_per_request, trend: increasing}
    {record: {topic: orders, key: alice}, read_by: c1, read_in_order: true}   # c1 read them all, in offset order
    {consumer: m1, polled: {gte: 1}, between: [partitions_revoked, assignment_received]}  # polls inside a window
    {partition: logs-0, active_segment_base: 27, segment_bases: [0, 14, 27]}   # the leader's segment files
    {controller: kraft, voters_alive: [1, 2, 3]}
    {share_group: workers, members: 3, archived: 1}                # share groups (KIP-932)
    {share_consumer: s2, received: {gte: 1}}
    {transaction: billing-app, state: CompleteAbort, epoch: 1}     # the transaction coordinator's view
    {compare: left, records_lost: {gt: 0}}                         # the step's compare (engine.compare.Outcome)
    {compare: divergence, found: true, time_ms: {lt: 1000}}        # where its two runs part first

Each subject is one `Subject` record in `REGISTRY` (at the bottom): its fields, its parser, the reader that
takes its values from the cluster, its label and the plain Python a notebook gets. A new subject is one record.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.errors import UserInputError
from engine.events import KINDS, Event
from engine.snapshot import ClusterSnapshot

if TYPE_CHECKING:
    from engine.cluster import Cluster

OPS = {"eq", "ne", "gt", "gte", "lt", "lte", "in", "contains", "not_contains"}
# {compare: left|right, ...} reads engine.compare.Outcome's fields; {compare: divergence, ...} the first difference
COMPARE_OUTCOME = (
    "records_acked",
    "records_lost",
    "duplicates",
    "ack_latency_p50_ms",
    "ack_latency_p99_ms",
    "throughput_per_s",
)
COMPARE_DIVERGENCE = ("found", "time_ms", "text")


class CheckError(UserInputError):
    """A check mapping that cannot be understood; `field` names the key that is wrong."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


# -- comparisons ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Expect:
    """An expected value: a literal (equality) or one comparison such as {gte: 2}."""

    op: str
    value: Any

    def test(self, got: Any) -> bool:
        v, g = self.value, got
        try:
            match self.op:
                case "eq":
                    return _norm(g) == _norm(v)
                case "ne":
                    return _norm(g) != _norm(v)
                case "gt":
                    return g is not None and g > v
                case "gte":
                    return g is not None and g >= v
                case "lt":
                    return g is not None and g < v
                case "lte":
                    return g is not None and g <= v
                case "in":
                    return _norm(g) in [_norm(x) for x in v]
                case "contains":
                    return _contains(g, v)
                case "not_contains":
                    return not _contains(g, v)
        except TypeError:
            return False
        return False

    def describe(self) -> str:
        sym = {
            "eq": "=",
            "ne": "≠",
            "gt": ">",
            "gte": "≥",
            "lt": "<",
            "lte": "≤",
            "in": "in",
            "contains": "contains",
            "not_contains": "does not contain",
        }[self.op]
        return f"{sym} {_show(self.value)}"

    def python(self, expr: str) -> str:
        v = _py(_norm(self.value))
        if " " in expr and not expr.startswith(("sorted(", "len(", "sum(", "{", "next(")):
            expr = f"({expr})"  # `a is not None == False` would chain; `(a is not None) == False` does not
        match self.op:
            case "eq":
                return f"{expr} is None" if self.value is None else f"{expr} == {v}"
            case "ne":
                return f"{expr} is not None" if self.value is None else f"{expr} != {v}"
            case "in":
                return f"{expr} in {v}"
            case "contains":
                return f"{v} in {expr}"
            case "not_contains":
                return f"{v} not in {expr}"
        sym = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[self.op]
        return f"{expr} {sym} {v}"


def parse_expect(raw: Any, where: str) -> Expect:
    if isinstance(raw, dict) and raw and set(raw) <= OPS:
        if len(raw) != 1:
            raise CheckError(f"{where}: give one comparison, e.g. {{gte: 2}}, not {raw}", where)
        op, value = next(iter(raw.items()))
        if op in ("gt", "gte", "lt", "lte") and not isinstance(value, int | float):
            raise CheckError(f"{where}: {op} needs a number, got {value!r}", where)
        if op == "in" and not isinstance(value, list):
            raise CheckError(f"{where}: 'in' needs a list, got {value!r}", where)
        return Expect(op, value)
    return Expect("eq", raw)


def _norm(v: Any) -> Any:
    """Compare lists as sorted (ISR and assignments are sets to a student), bytes as text."""
    if isinstance(v, bytes):
        return v.decode(errors="replace")
    if isinstance(v, tuple | list):
        items = [_norm(x) for x in v]
        try:
            return sorted(items)
        except TypeError:
            return items
    if isinstance(v, dict):
        return {str(k): _norm(x) for k, x in v.items()}
    return v


def _contains(g: Any, v: Any) -> bool:
    if isinstance(g, str):
        return str(v) in g
    if isinstance(g, dict):
        return str(v) in g
    return _norm(v) in [_norm(x) for x in (g or [])]


def _show(v: Any) -> str:
    if isinstance(v, str):
        return v
    try:
        return json.dumps(_norm(v), default=str)
    except (TypeError, ValueError):
        return repr(v)


def _py(v: Any) -> str:
    return repr(v)


def parse_tp(s: Any, where: str) -> tuple[str, int]:
    """ "orders-1" -> ("orders", 1): Kafka's own way of naming a partition."""
    if isinstance(s, str) and "-" in s:
        topic, _, num = s.rpartition("-")
        if topic and num.isdigit():
            return topic, int(num)
    raise CheckError(f"{where}: a partition is written topic-number, like orders-1; got {s!r}", where)


def tp_name(tp: tuple[str, int] | list) -> str:
    return f"{tp[0]}-{tp[1]}"


# -- the context a check reads --------------------------------------------------------------------------------
@dataclass
class CheckContext:
    """What checks may look at after a step: the snapshot, this step's events and all events so far."""

    cluster: Cluster
    snap: ClusterSnapshot | None  # None: built on first use (run_until evaluates checks after every step)
    step_events: list[Event]
    all_events: list[Event]
    sweep: dict[str, Any] | None = None
    compare: Any = None  # the step's lessons.comparison.CompareResult, for {compare: ...} checks
    _full: ClusterSnapshot | None = field(default=None, repr=False)

    @property
    def snapshot(self) -> ClusterSnapshot:
        if self.snap is None:
            self.snap = self.cluster.snapshot(tail=0)
        return self.snap

    @property
    def full(self) -> ClusterSnapshot:
        """A snapshot whose partition tails hold the whole log (for record checks)."""
        if self._full is None:
            self._full = self.cluster.snapshot(tail=100_000)
        return self._full


@dataclass(frozen=True)
class Failure:
    field: str
    expected: str
    got: str
    message: str


# -- checks -----------------------------------------------------------------------------------------------------
@dataclass
class Check:
    subject: str  # a name in REGISTRY
    target: Any  # "orders-1" as ("orders", 1), a group id, a consumer id, a broker id, a record pattern, ...
    fields: dict[str, Expect]
    options: dict[str, Any]
    raw: dict[str, Any]

    # ---- describing -----------------------------------------------------------------------------------------
    def label(self) -> str:
        return REGISTRY[self.subject].label(self.target)

    def describe(self) -> str:
        """One line a student can read: "orders-1: leader = 3, ISR = [1, 3]"."""
        if self.subject == "event":
            n = self.fields.get("count", Expect("gte", 1))
            filt = ", ".join(f"{k} {_show(v)}" for k, v in self.options.items() if k not in ("scope",))
            when = "so far" if self.options.get("scope") == "lesson" else "in this step"
            return f"{self.label()}{' (' + filt + ')' if filt else ''}: count {n.describe()} {when}"
        if self.subject == "sweep":
            m = self.options.get("metric")
            if "trend" in self.options:
                return f"{self.label()}: {m} is {self.options['trend']}"
            return f"{self.label()}: {m} at {self.options.get('at')} {self.fields['expect'].describe()}"
        parts = [f"{k} {e.describe()}" for k, e in self.fields.items()]
        return f"{self.label()}: " + ", ".join(parts)

    # ---- evaluating -----------------------------------------------------------------------------------------
    def evaluate(self, ctx: CheckContext) -> list[Failure]:
        try:
            got = self.values(ctx)
        except KeyError as exc:
            msg = str(exc.args[0]) if exc.args else str(exc)
            return [Failure(self.subject, _show(self.target), "missing", msg)]
        out = []
        for name, exp in self.fields.items():
            g = got.get(name)
            if not exp.test(g):
                out.append(
                    Failure(
                        name,
                        exp.describe(),
                        _show(g),
                        f"{self.label()}: {name} should be {exp.describe()} but the engine has {_show(g)}",
                    )
                )
        return out

    def values(self, ctx: CheckContext) -> dict[str, Any]:
        return REGISTRY[self.subject].read(self, ctx)

    # ---- as Python, for notebooks ------------------------------------------------------------------------------
    def python_parts(self) -> tuple[str, list[tuple[str, str]]] | None:
        """(setup line, [(condition, value expression)]) over `snap`; None when a helper is needed."""
        exprs = REGISTRY[self.subject].python
        if exprs is None:
            return None
        setup, table = exprs(self)
        conds = []
        for name, exp in self.fields.items():
            expr = table.get(name)
            if expr is None:
                return None
            conds.append((exp.python(expr), expr))
        return setup, conds

    def python(self) -> list[str] | None:
        """Plain asserts on the snapshot a student can read and edit; None when a helper is needed."""
        parts = self.python_parts()
        if parts is None:
            return None
        setup, conds = parts
        return ([setup] if setup else []) + [f"assert {cond}, {expr}" for cond, expr in conds]


def parse_check(raw: Any) -> Check:
    """A check mapping -> Check, or CheckError naming the key that is wrong and what is allowed."""
    if not isinstance(raw, dict) or not raw:
        raise CheckError(f"a check is a mapping like {{partition: orders-1, leader: 3}}, got {raw!r}")
    subject = next(iter(raw))
    spec = REGISTRY.get(subject)
    if spec is None:
        raise CheckError(
            f"a check starts with its subject ({', '.join(SUBJECTS)}), e.g. {{partition: orders-1, "
            f"leader: 3}}; this one starts with {subject!r}",
            str(subject),
        )
    rest = {k: v for k, v in raw.items() if k != subject}
    for k in rest:
        if k not in spec.fields:
            raise CheckError(
                f"{subject} checks know the fields {', '.join(spec.fields)}; '{k}' is not one of them", k
            )
    target, fields, options = spec.parse(spec, raw[subject], rest)
    return Check(subject, target, fields, options, raw)


Parsed = tuple[Any, dict[str, Expect], dict[str, Any]]  # (target, fields, options) for a Check


def _parse_fields(spec: Subject, rest: dict[str, Any]) -> dict[str, Expect]:
    """The compared fields: each value a literal (normalised by the subject's `field_values`) or a comparison."""
    fields: dict[str, Expect] = {}
    for k, v in rest.items():
        norm = spec.field_values.get(k)
        if norm is not None and not _is_cmp(v):
            v = norm(v, k)
        fields[k] = parse_expect(v, k)
    if not fields:
        raise CheckError(
            f"{spec.name} check says nothing to compare; add a field such as {spec.fields[0]}", spec.name
        )
    return fields


def _parse_partition(spec: Subject, target: Any, rest: dict[str, Any]) -> Parsed:
    return parse_tp(target, "partition"), _parse_fields(spec, rest), {}


def _parse_broker(spec: Subject, target: Any, rest: dict[str, Any]) -> Parsed:
    if not isinstance(target, int):
        raise CheckError(f"broker: give the broker id as a number, got {target!r}", "broker")
    return target, _parse_fields(spec, rest), {}


def _parse_named(spec: Subject, target: Any, rest: dict[str, Any]) -> Parsed:
    """A group, consumer, producer, topic, share group or consumer, or transactional.id: named by its id."""
    if not isinstance(target, str) or not target:
        raise CheckError(f"{spec.name}: give its id as text, got {target!r}", spec.name)
    return target, _parse_fields(spec, rest), {}


def _parse_consumer(spec: Subject, target: Any, rest: dict[str, Any]) -> Parsed:
    options = {}
    if isinstance(target, str) and target and "between" in rest:
        options["between"] = _window(rest.pop("between"))
    target, fields, _ = _parse_named(spec, target, rest)
    return target, fields, options


def _parse_controller(spec: Subject, target: Any, rest: dict[str, Any]) -> Parsed:
    if target not in ("kraft", "zookeeper", "any"):
        raise CheckError(
            f"controller: write the mode, kraft or zookeeper (or any), got {target!r}", "controller"
        )
    return target, _parse_fields(spec, rest), {}


def _parse_cluster(spec: Subject, target: Any, rest: dict[str, Any]) -> Parsed:
    """`{cluster: {lost_records: 0}}`: the fields sit inside the subject's mapping."""
    if not isinstance(target, dict) or not target:
        raise CheckError("cluster: give a mapping of fields, e.g. {cluster: {lost_records: 0}}", "cluster")
    for k in target:
        if k not in spec.fields:
            raise CheckError(f"cluster checks know {', '.join(spec.fields)}; '{k}' is not one of them", k)
    return None, {k: parse_expect(v, k) for k, v in target.items()}, {}


def _parse_record(spec: Subject, target: Any, rest: dict[str, Any]) -> Parsed:
    if not isinstance(target, dict) or "topic" not in target:
        raise CheckError(
            "record: give a mapping with at least the topic, e.g. {topic: orders, key: k7}", "record"
        )
    bad = set(target) - {"topic", "key", "value", "partition", "offset"}
    if bad:
        raise CheckError(
            f"record: a record is matched by topic, key, value, partition, offset; not {sorted(bad)}",
            "record",
        )
    if not rest:
        raise CheckError("record: say what to check, e.g. lost: true or present: true", "record")
    if ("read_by" in rest) != ("read_in_order" in rest):
        raise CheckError(
            "record: read_in_order needs read_by (the consumer), e.g. read_by: c1, read_in_order: true",
            "read_by",
        )
    options = {}
    if "read_by" in rest:
        options["read_by"] = str(rest.pop("read_by"))
    return target, _parse_fields(spec, rest), options


def _parse_event(spec: Subject, target: Any, rest: dict[str, Any]) -> Parsed:
    """`{event: kind (or [kinds]), count: ..., <filters>}`: every field but count filters the events."""
    kinds = target if isinstance(target, list) else [target]
    for k in kinds:
        if k not in KINDS:
            import difflib

            near = difflib.get_close_matches(str(k), KINDS, n=1)
            hint = f" Did you mean {near[0]}?" if near else ""
            raise CheckError(f"event: {k!r} is not an event kind.{hint}", "event")
    fields: dict[str, Expect] = {}
    options: dict[str, Any] = {}
    for k, v in rest.items():
        if k == "count":
            fields["count"] = parse_expect(v, "count")
        elif k == "scope":
            if v not in ("step", "lesson"):
                raise CheckError("event: scope is step (this step's events, the default) or lesson", "scope")
            options[k] = v
        elif k == "partition":
            options[k] = tp_name(parse_tp(v, "partition"))
        elif k == "where":
            if not isinstance(v, dict):
                raise CheckError(
                    "event: where is a mapping of event data fields, e.g. {records: 1000}", "where"
                )
            options[k] = v
        else:
            options[k] = v
    fields.setdefault("count", Expect("gte", 1))
    return list(kinds), fields, options


def _parse_compare(spec: Subject, target: Any, rest: dict[str, Any]) -> Parsed:
    allowed_here = {"left": COMPARE_OUTCOME, "right": COMPARE_OUTCOME, "divergence": COMPARE_DIVERGENCE}
    if target not in allowed_here:
        raise CheckError(f"compare: write left, right or divergence, got {target!r}", "compare")
    for k in rest:
        if k not in allowed_here[target]:
            raise CheckError(
                f"compare: {target} checks know {', '.join(allowed_here[target])}; '{k}' is not one of them",
                k,
            )
    return target, _parse_fields(spec, rest), {}


def _parse_sweep(spec: Subject, target: Any, rest: dict[str, Any]) -> Parsed:
    if not isinstance(target, str):
        raise CheckError("sweep: name the swept config, e.g. sweep: linger.ms", "sweep")
    from .model import SWEEP_METRICS

    metric = rest.get("metric")
    if metric not in SWEEP_METRICS:
        raise CheckError(f"sweep: metric must be one of {', '.join(SWEEP_METRICS)}, got {metric!r}", "metric")
    fields: dict[str, Expect] = {}
    options: dict[str, Any] = {"metric": metric}
    if "trend" in rest:
        if rest["trend"] not in ("increasing", "decreasing", "non-increasing", "non-decreasing"):
            raise CheckError(
                "sweep: trend is increasing, decreasing, non-increasing or non-decreasing", "trend"
            )
        options["trend"] = rest["trend"]
    elif "at" in rest and "expect" in rest:
        options["at"] = rest["at"]
        fields["expect"] = parse_expect(rest["expect"], "expect")
    else:
        raise CheckError(
            "sweep: give trend: increasing|decreasing, or at: <value> with expect: <comparison>", "trend"
        )
    return target, fields, options


# literal field values a subject normalises before comparing (a comparison such as {gte: 1} is left alone)
def _broker_ids(v: Any, k: str) -> Any:
    if not isinstance(v, list):
        raise CheckError(f"{k}: give a list of broker ids, e.g. [1, 3]", k)
    return v


def _partition_list(example: str) -> Callable[[Any, str], list[str]]:
    def norm(v: Any, k: str) -> list[str]:
        if not isinstance(v, list):
            raise CheckError(f"{k}: give a list of partitions like {example}", k)
        return [tp_name(parse_tp(x, k)) for x in v]

    return norm


def _assignment_map(v: Any, k: str) -> dict[str, list[str]]:
    if not isinstance(v, dict):
        raise CheckError("assignment: give a mapping of consumer -> partitions, e.g. {c1: [orders-0]}", k)
    return {str(c): [tp_name(parse_tp(x, k)) for x in (tps or [])] for c, tps in v.items()}


def _window(v: Any) -> tuple[str, str]:
    """`between: [partitions_revoked, assignment_received]`: two event kinds bounding a window of the step."""
    if not (isinstance(v, list) and len(v) == 2 and all(k in KINDS for k in v)):
        raise CheckError(
            f"between: give two event kinds, e.g. [partitions_revoked, assignment_received]; got {v!r}",
            "between",
        )
    return v[0], v[1]


def _is_cmp(v: Any) -> bool:
    return isinstance(v, dict) and bool(v) and set(v) <= OPS


# -- reading values ---------------------------------------------------------------------------------------------
def _partition_values(ch: Check, ctx: CheckContext) -> dict[str, Any]:
    topic, num = ch.target
    try:
        p = ctx.snapshot.partition(topic, num)
    except KeyError:
        raise KeyError(
            f"there is no partition {topic}-{num}; partitions are "
            f"{[tp_name(q.key) for q in ctx.snapshot.partitions][:12]}"
        ) from None
    leader_state = next((r for r in p.replica_states if r.is_leader), None)
    out: dict[str, Any] = {
        "leader": p.leader,
        "leader_epoch": p.leader_epoch,
        "replicas": list(p.replicas),
        "isr": list(p.isr),
        "isr_size": len(p.isr),
        "high_watermark": p.high_watermark,
        "log_end_offset": p.log_end_offset,
        "uncommitted": p.log_end_offset - p.high_watermark,
        "log_start_offset": p.log_start_offset,
        "offline": p.offline,
        "lost": len(p.lost),
        "segments": leader_state.segments if leader_state else None,
        "adding_replicas": list(p.adding_replicas),
    }
    out["last_stable_offset"] = p.last_stable_offset
    if "replica_racks" in ch.fields:  # broker.rack of each replica (a replica on a broker without one: none)
        racks = {b.id: b.rack for b in ctx.snapshot.brokers}
        out["replica_racks"] = sorted({racks[r] for r in p.replicas if racks.get(r)})
    if {"active_segment_base", "segment_bases"} & set(ch.fields):
        bases = _segment_bases(ctx, topic, num, p.leader)
        out["segment_bases"] = bases
        out["active_segment_base"] = bases[-1] if bases else None
    if {"record_count", "keys", "markers", "aborted_records", "open_records"} & set(ch.fields):
        full = ctx.full.partition(topic, num)
        data = [r for r in full.tail if r.control is None]
        out["record_count"] = len(data)
        out["keys"] = sorted({r.key.decode(errors="replace") for r in data if r.key is not None})
        out["markers"] = [r.control for r in full.tail if r.control is not None]
        out["aborted_records"] = sum(r.txn == "aborted" for r in data)
        out["open_records"] = sum(r.txn == "open" for r in data)
    return out


def _segment_bases(ctx: CheckContext, topic: str, num: int, leader: int | None) -> list[int]:
    """The base offsets of the leader's segment files, oldest first (the last one is the active segment)."""
    broker = ctx.cluster.brokers.get(leader) if leader is not None else None
    replica = broker.replicas.get((topic, num)) if broker is not None else None
    return [] if replica is None else [seg.base_offset for seg in replica.log.segments]


def _group_values(ch: Check, ctx: CheckContext) -> dict[str, Any]:
    try:
        g = ctx.snapshot.group(ch.target)
    except KeyError:
        raise KeyError(
            f"there is no group {ch.target!r}; groups are {[x.group_id for x in ctx.snapshot.groups]}"
        ) from None
    out: dict[str, Any] = {
        "state": g.state,
        "generation": g.generation,
        "protocol": g.protocol,
        "members": len(g.members),
        "assignment": {m.client_id: [tp_name(tp) for tp in m.assignment] for m in g.members},
        "assignment_sizes": sorted(len(m.assignment) for m in g.members),
        "committed": {tp_name(tp): o for tp, o in g.committed.items()},
        "lag": sum(g.lag.values()),
        "coordinator": g.coordinator,
        "rebalance": g.rebalance,
        "member_epochs": {m.client_id: m.member_epoch for m in g.members if m.member_epoch is not None},
    }
    if "lag_column" in ch.fields:
        out["lag_column"] = lag_column(ctx.snapshot, g)
    if "redelivered" in ch.fields:
        out["redelivered"] = redelivered(ctx.all_events, ch.target)
    if "revoked" in ch.fields:
        out["revoked"] = sum(
            len(e.data.get("partitions", ()))
            for e in ctx.step_events
            if e.kind == "partitions_revoked" and e.data.get("group") == ch.target
        )
    return out


def lag_column(snap: ClusterSnapshot, g: Any) -> dict[str, int | str]:
    """The LAG column of `kafka-consumer-groups.sh --describe`: LOG-END-OFFSET (the high watermark) minus the
    group's committed offset, per partition a member owns or the group committed; "-" where nothing is committed
    (ConsumerGroupCommand prints MISSING_COLUMN_VALUE), whatever the consumer has read."""
    tps = sorted({tp for m in g.members for tp in m.assignment} | set(g.committed))
    return {
        tp_name(tp): max(0, snap.partition(*tp).high_watermark - g.committed[tp])
        if tp in g.committed
        else "-"
        for tp in tps
    }


def redelivered(events: list[Event], group: str) -> int:
    """Records the group's members received more than once (e.g. again after a rebalance): at-least-once."""
    seen: dict[str, set[int]] = {}
    again = 0
    for e in events:
        if e.kind != "records_polled" or e.data.get("group") != group:
            continue
        for tp, (a, b) in e.data.get("ranges", {}).items():
            s = seen.setdefault(tp, set())
            for off in range(a, b + 1):
                if off in s:
                    again += 1
                else:
                    s.add(off)
    return again


def _consumer_values(ch: Check, ctx: CheckContext) -> dict[str, Any]:
    k = next((c for c in ctx.snapshot.consumers if c.id == ch.target), None)
    if k is None:
        raise KeyError(
            f"there is no consumer {ch.target!r}; consumers are {[c.id for c in ctx.snapshot.consumers]}"
        )
    events = (
        _window_events(ctx.step_events, ch.options["between"], k.group_id)
        if "between" in ch.options
        else ctx.step_events
    )
    polled = [e for e in events if e.kind == "records_polled" and e.actors[:1] == (k.id,)]
    return {
        "assignment": [tp_name(tp) for tp in k.assignment],
        "state": k.state,
        "alive": k.alive,
        "received": k.records_received,
        "positions": {tp_name(tp): o for tp, o in k.positions.items()},
        "duplicates": sum(
            e.data.get("duplicates", 0)
            for e in ctx.all_events
            if e.kind == "records_polled" and e.actors[:1] == (k.id,)
        ),
        "polled": sum(e.data.get("records", 0) for e in polled),
    }


def _window_events(events: list[Event], kinds: tuple[str, str], group: str | None) -> list[Event]:
    """The step's events from the first `kinds[0]` of the group to the first `kinds[1]` of it after that."""
    start, end = kinds
    ours = [i for i, e in enumerate(events) if e.data.get("group") == group]
    i = next((i for i in ours if events[i].kind == start), None)
    if i is None:
        raise KeyError(
            f"no {start} event of group {group} in this step: the window between {start} and {end} "
            f"never opened"
        )
    j = next((j for j in ours if j > i and events[j].kind == end), None)
    if j is None:
        raise KeyError(
            f"no {end} event of group {group} after its {start} in this step: the window never closed"
        )
    return events[i : j + 1]


def _broker_values(ch: Check, ctx: CheckContext) -> dict[str, Any]:
    b = next((x for x in ctx.snapshot.brokers if x.id == ch.target), None)
    if b is None:
        return {"exists": False}
    return {
        "alive": b.alive,
        "controller": b.controller,
        "fenced": b.fenced,
        "isolated": b.isolated,
        "leaders": sum(1 for p in ctx.snapshot.partitions if p.leader == b.id),
        "replicas": sum(1 for p in ctx.snapshot.partitions if b.id in p.replicas),
        "exists": True,
    }


def _producer_values(ch: Check, ctx: CheckContext) -> dict[str, Any]:
    p = next((x for x in ctx.snapshot.producers if x.id == ch.target), None)
    if p is None:
        raise KeyError(
            f"there is no producer {ch.target!r}; producers are {[x.id for x in ctx.snapshot.producers]}"
        )
    return {
        "sent": p.sent,
        "acked": p.acked,
        "failed": p.failed,
        "buffer_used": p.buffer_used,
        "batches": len(p.batches),
        "idempotent": p.producer_id is not None,
        "acks": str(p.config.get("acks")),
        "transactional_id": p.transactional_id,
        "txn_state": p.txn_state,
        "epoch": p.producer_epoch,
    }


def _share_group_values(ch: Check, ctx: CheckContext) -> dict[str, Any]:
    """A share group (KIP-932): members, its share-partitions' offsets and record states, and from the event
    log what it delivered more than once and what it archived (finished records leave the snapshot)."""
    g = next((x for x in ctx.snapshot.share_groups if x.group_id == ch.target), None)
    if g is None:
        raise KeyError(
            f"there is no share group {ch.target!r}; share groups are "
            f"{[x.group_id for x in ctx.snapshot.share_groups]}"
        )
    recs = [r for sp in g.partitions for r in sp.records]
    states: dict[str, int] = {}
    for r in recs:
        states[r.state] = states.get(r.state, 0) + 1
    mine = [e for e in ctx.all_events if e.data.get("group") == ch.target]
    # archived so far: released at the limit (events), behind the SPSO now, or still in flight
    archived = {
        (e.topic, e.partition, o)
        for e in mine
        if e.kind == "share_acknowledged"
        for o in e.data.get("archived", ())
    }
    archived |= {(sp.topic, sp.partition, o) for sp in g.partitions for o in sp.archived}
    archived |= {
        (sp.topic, sp.partition, r.offset) for sp in g.partitions for r in sp.records if r.state == "Archived"
    }
    return {
        "members": len(g.members),
        "assignment": {m: [tp_name(tp) for tp in tps] for m, tps in g.assignment.items()},
        "start_offset": sum(sp.start_offset for sp in g.partitions),
        "end_offset": sum(sp.end_offset for sp in g.partitions),
        "in_flight": len(recs),
        "states": states,
        "max_delivery_count": max((r.delivery_count for r in recs), default=0),
        "redelivered": sum(
            n > 1 for e in mine if e.kind == "share_acquired" for n in e.data.get("delivery_counts", ())
        ),
        "archived": len(archived),
    }


def _share_consumer_values(ch: Check, ctx: CheckContext) -> dict[str, Any]:
    """A share consumer: what it acquired (from share_acquired events), so far and in this step."""
    g = next((x for x in ctx.snapshot.share_groups if ch.target in x.assignment), None)
    if g is None:
        names = sorted(m for x in ctx.snapshot.share_groups for m in x.assignment)
        raise KeyError(
            f"there is no share consumer {ch.target!r} in a share group; share consumers are {names}"
        )

    def got(events: list[Event]) -> list[int]:
        return [
            n
            for e in events
            if e.kind == "share_acquired" and e.actors[:1] == (ch.target,)
            for n in e.data.get("delivery_counts", ())
        ]

    every = got(ctx.all_events)
    return {
        "received": len(every),
        "polled": len(got(ctx.step_events)),
        "redelivered": sum(n > 1 for n in every),
        "assignment": [tp_name(tp) for tp in g.assignment[ch.target]],
        "member": ch.target in g.members,
    }


def _transaction_values(ch: Check, ctx: CheckContext) -> dict[str, Any]:
    t = next((x for x in ctx.snapshot.transactions if x.transactional_id == ch.target), None)
    if t is None:
        raise KeyError(
            f"the transaction coordinator knows no transactional.id {ch.target!r}; it knows "
            f"{[x.transactional_id for x in ctx.snapshot.transactions]}"
        )
    return {
        "state": t.state,
        "epoch": t.producer_epoch,
        "producer_id": t.producer_id,
        "partitions": [tp_name(tp) for tp in t.partitions],
        "coordinator": t.coordinator,
    }


def _topic_values(ch: Check, ctx: CheckContext) -> dict[str, Any]:
    t = next((x for x in ctx.snapshot.topics if x.name == ch.target), None)
    if t is None:
        full = ctx.cluster.snapshot(tail=0, include_internal=True)
        t = next((x for x in full.topics if x.name == ch.target), None)
    if t is None:
        return {"exists": False}
    return {
        "exists": True,
        "partitions": t.partitions,
        "replication_factor": t.replication_factor,
        "config": dict(t.config),
    }


def _controller_values(ch: Check, ctx: CheckContext) -> dict[str, Any]:
    c = ctx.snapshot.controller
    if ch.target != "any" and c.mode != ch.target:
        raise KeyError(f"the cluster runs a {c.mode} controller, not {ch.target}")
    voters = getattr(ctx.cluster.controller, "voters", [])
    alive = [v for v in voters if v in ctx.cluster.brokers and ctx.cluster.brokers[v].online]
    return {
        "active": c.active,
        "epoch": c.epoch,
        "registered_brokers": list(c.registered_brokers),
        "nodes": list(c.nodes),
        "metadata_offset": c.metadata_offset,
        "voters_alive": alive,
    }


def _cluster_values(ch: Check, ctx: CheckContext) -> dict[str, Any]:
    s = ctx.snapshot
    return {
        "lost_records": len(s.lost),
        "time_ms": s.time_ms,
        "brokers": len(s.brokers),
        "brokers_alive": sum(1 for b in s.brokers if b.alive),
        "in_flight": len(s.in_flight),
    }


def _record_matches(ch: Check, topic: str, partition: int, offset: int, key: Any, value: Any) -> bool:
    t = ch.target
    if topic != t["topic"]:
        return False
    if "partition" in t and partition != t["partition"]:
        return False
    if "offset" in t and offset != t["offset"]:
        return False
    if "key" in t and _text(key) != (None if t["key"] is None else str(t["key"])):
        return False
    if "value" in t and _text(value) != (None if t["value"] is None else str(t["value"])):
        return False
    return True


def _text(b: Any) -> str | None:
    if b is None:
        return None
    return b.decode(errors="replace") if isinstance(b, bytes) else str(b)


def _record_values(ch: Check, ctx: CheckContext) -> dict[str, Any]:
    lost = [
        r for r in ctx.snapshot.lost if _record_matches(ch, r.topic, r.partition, r.offset, r.key, r.value)
    ]
    out: dict[str, Any] = {"lost": bool(lost), "reason": lost[0].reason if lost else None}
    if {"present", "count", "in_partition"} & set(ch.fields):
        found = [
            r
            for p in ctx.full.partitions
            for r in p.tail
            if r.control is None and _record_matches(ch, r.topic, r.partition, r.offset, r.key, r.value)
        ]
        parts = sorted({r.partition for r in found})
        out.update(present=bool(found), count=len(found), in_partition=parts[0] if len(parts) == 1 else parts)
    if "read_by" in ch.options:
        out["read_in_order"] = _read_in_order(ch, ctx, ch.options["read_by"])
    return out


def _read_in_order(ch: Check, ctx: CheckContext, consumer: str) -> bool:
    """Did `consumer` receive every matching record, each for the first time in offset (= append) order?

    The records of one key sit in one partition, appended in the order the producer sent them, so this is
    "the consumer saw that key's records in the order they were sent". Polls come from the event log.
    """
    found = sorted(
        (r.partition, r.offset)
        for p in ctx.full.partitions
        for r in p.tail
        if r.control is None and _record_matches(ch, r.topic, r.partition, r.offset, r.key, r.value)
    )
    if not found:
        return False
    wanted = set(found)
    first_seen: list[tuple[int, int]] = []
    seen: set[tuple[int, int]] = set()
    topic = ch.target["topic"]
    for e in ctx.all_events:
        if e.kind != "records_polled" or e.actors[:1] != (consumer,):
            continue
        for tp, (a, b) in e.data.get("ranges", {}).items():
            t, _, num = tp.rpartition("-")
            if t != topic:
                continue
            for off in range(a, b + 1):
                key = (int(num), off)
                if key in wanted and key not in seen:
                    seen.add(key)
                    first_seen.append(key)
    per_partition = [[o for p, o in first_seen if p == part] for part in sorted({p for p, _ in found})]
    return seen == wanted and all(xs == sorted(xs) for xs in per_partition)


def _event_match(ch: Check, e: Event) -> bool:
    if e.kind not in ch.target:
        return False
    o = ch.options
    if "topic" in o and e.topic != o["topic"]:
        return False
    if "partition" in o and (e.topic is None or f"{e.topic}-{e.partition}" != o["partition"]):
        return False
    if "actor" in o and str(o["actor"]) not in e.actors:
        return False
    if "group" in o and e.data.get("group") != o["group"] and o["group"] not in e.actors:
        return False
    if "contains" in o and str(o["contains"]).lower() not in e.summary.lower():
        return False
    for k, v in o.get("where", {}).items():
        if _norm(e.data.get(k)) != _norm(v):
            return False
    return True


def _event_values(ch: Check, ctx: CheckContext) -> dict[str, Any]:
    events = ctx.all_events if ch.options.get("scope") == "lesson" else ctx.step_events
    return {"count": sum(1 for e in events if _event_match(ch, e))}


def _sweep_values(ch: Check, ctx: CheckContext) -> dict[str, Any]:
    sw = ctx.sweep
    if not sw or sw.get("config") != ch.target:
        raise KeyError(f"this step ran no sweep over {ch.target}; add a sweep command to the step")
    metric = ch.options["metric"]
    ys = [row[metric] for row in sw["rows"]]
    if "trend" in ch.options:
        trend = ch.options["trend"]
        pairs = list(zip(ys, ys[1:], strict=False))
        ok = {
            "increasing": all(b > a for a, b in pairs),
            "decreasing": all(b < a for a, b in pairs),
            "non-decreasing": all(b >= a for a, b in pairs),
            "non-increasing": all(b <= a for a, b in pairs),
        }[trend]
        if not ok:
            raise KeyError(f"{metric} is not {trend} over {ch.target} {sw['values']}: {ys}")
        return {}
    at = ch.options["at"]
    row = next((r for r in sw["rows"] if r["value"] == at), None)
    if row is None:
        raise KeyError(f"the sweep has no value {at!r}; it ran {sw['values']}")
    return {"expect": row[metric]}


def _compare_values(ch: Check, ctx: CheckContext) -> dict[str, Any]:
    cmp = ctx.compare
    if cmp is None:
        raise KeyError("this step ran no compare; put the check in the step whose commands have the compare")
    if ch.target == "divergence":
        d = cmp.divergence()
        return {
            "found": d is not None,
            "time_ms": None if d is None else d.time_ms,
            "text": "" if d is None else str(d),
        }
    o = cmp.outcomes()[0 if ch.target == "left" else 1]
    return {k: getattr(o, k) for k in COMPARE_OUTCOME}


# -- Python for notebooks -----------------------------------------------------------------------------------------
def _py_partition(ch: Check) -> tuple[str, dict[str, str]]:
    t, n = ch.target
    v = f"p_{t.replace('-', '_').replace('.', '_')}_{n}"
    return (
        f"{v} = snap.partition({t!r}, {n})",
        {
            "leader": f"{v}.leader",
            "leader_epoch": f"{v}.leader_epoch",
            "replicas": f"sorted({v}.replicas)",
            "isr": f"sorted({v}.isr)",
            "isr_size": f"len({v}.isr)",
            "high_watermark": f"{v}.high_watermark",
            "log_end_offset": f"{v}.log_end_offset",
            "uncommitted": f"{v}.log_end_offset - {v}.high_watermark",
            "log_start_offset": f"{v}.log_start_offset",
            "offline": f"{v}.offline",
            "lost": f"len({v}.lost)",
        },
    )


def _py_group(ch: Check) -> tuple[str, dict[str, str]]:
    v = "g_" + "".join(ch_ if ch_.isalnum() else "_" for ch_ in ch.target)
    return (
        f"{v} = snap.group({ch.target!r})",
        {
            "state": f"{v}.state",
            "generation": f"{v}.generation",
            "protocol": f"{v}.protocol",
            "members": f"len({v}.members)",
            "assignment": f"{{m.client_id: sorted(f'{{t}}-{{p}}' for t, p in m.assignment) for m in {v}.members}}",
            "assignment_sizes": f"sorted(len(m.assignment) for m in {v}.members)",
            "lag": f"sum({v}.lag.values())",
            "coordinator": f"{v}.coordinator",
            "rebalance": f"{v}.rebalance",
            "lag_column": f"{{f'{{t}}-{{p}}': max(0, snap.partition(t, p).high_watermark - {v}.committed[(t, p)]) "
            f"if (t, p) in {v}.committed else '-' for t, p in sorted({{tp for m in {v}.members "
            f"for tp in m.assignment}} | set({v}.committed))}}",
        },
    )


def _py_consumer(ch: Check) -> tuple[str, dict[str, str]]:
    v = "k_" + "".join(ch_ if ch_.isalnum() else "_" for ch_ in ch.target)
    return (
        f"{v} = next(k for k in snap.consumers if k.id == {ch.target!r})",
        {
            "assignment": f"sorted(f'{{t}}-{{p}}' for t, p in {v}.assignment)",
            "state": f"{v}.state",
            "alive": f"{v}.alive",
            "received": f"{v}.records_received",
        },
    )


def _py_broker(ch: Check) -> tuple[str, dict[str, str]]:
    v = f"b{ch.target}"
    return (
        f"{v} = next(b for b in snap.brokers if b.id == {ch.target})",
        {
            "alive": f"{v}.alive",
            "controller": f"{v}.controller",
            "fenced": f"{v}.fenced",
            "isolated": f"{v}.isolated",
            "leaders": f"sum(p.leader == {ch.target} for p in snap.partitions)",
            "replicas": f"sum({ch.target} in p.replicas for p in snap.partitions)",
        },
    )


def _py_producer(ch: Check) -> tuple[str, dict[str, str]]:
    v = "pr_" + "".join(ch_ if ch_.isalnum() else "_" for ch_ in ch.target)
    return (
        f"{v} = next(p for p in snap.producers if p.id == {ch.target!r})",
        {
            "sent": f"{v}.sent",
            "acked": f"{v}.acked",
            "failed": f"{v}.failed",
            "buffer_used": f"{v}.buffer_used",
            "batches": f"len({v}.batches)",
        },
    )


def _py_topic(ch: Check) -> tuple[str, dict[str, str]]:
    v = "t_" + "".join(ch_ if ch_.isalnum() else "_" for ch_ in ch.target)
    if ch.target.startswith("__"):  # internal topics only show in a snapshot that asks for them
        return (
            f"{v} = next((t for t in tl.cluster.snapshot(tail=0, include_internal=True).topics "
            f"if t.name == {ch.target!r}), None)",
            {
                "exists": f"{v} is not None",
                "partitions": f"{v}.partitions",
                "replication_factor": f"{v}.replication_factor",
            },
        )
    return (
        f"{v} = next((t for t in snap.topics if t.name == {ch.target!r}), None)",
        {
            "exists": f"{v} is not None",
            "partitions": f"{v}.partitions",
            "replication_factor": f"{v}.replication_factor",
        },
    )


def _py_cluster(ch: Check) -> tuple[str, dict[str, str]]:
    return (
        "",
        {
            "lost_records": "len(snap.lost)",
            "time_ms": "snap.time_ms",
            "brokers": "len(snap.brokers)",
            "brokers_alive": "sum(b.alive for b in snap.brokers)",
        },
    )


def _py_controller(ch: Check) -> tuple[str, dict[str, str]]:
    return (
        "",
        {
            "active": "snap.controller.active",
            "epoch": "snap.controller.epoch",
            "registered_brokers": "sorted(snap.controller.registered_brokers)",
        },
    )


def _py_compare(ch: Check) -> tuple[str, dict[str, str]]:
    """Over the notebook's `pair` (an engine.compare.ComparePair)."""
    if ch.target == "divergence":
        return (
            "d = pair.first_difference()",
            {"found": "d is not None", "time_ms": "d.time_ms", "text": "str(d)"},
        )
    v = f"o_{ch.target}"
    return (
        f"{v} = pair.outcomes()[{0 if ch.target == 'left' else 1}]",
        {k: f"{v}.{k}" for k in COMPARE_OUTCOME},
    )


# -- the registry: one record per check subject ---------------------------------------------------------------
@dataclass(frozen=True)
class Subject:
    """Everything about one check subject in one place: the fields a check may compare, how the mapping is
    parsed (target, fields, options), how the values are read from the cluster, how the check is labelled, and
    the plain Python a notebook gets for it (None: the notebook calls a helper instead)."""

    name: str
    fields: tuple[str, ...]
    parse: Callable[[Subject, Any, dict[str, Any]], Parsed]
    read: Callable[[Check, CheckContext], dict[str, Any]]
    label: Callable[[Any], str]
    python: Callable[[Check], tuple[str, dict[str, str]]] | None = None
    field_values: dict[str, Callable[[Any, str], Any]] = field(default_factory=dict)


def _record_label(t: dict[str, Any]) -> str:
    return "record " + ", ".join(f"{k}={'null' if v is None else v}" for k, v in t.items())


def _compare_label(t: str) -> str:
    return "compare: where the runs part" if t == "divergence" else f"compare: the {t} run"


REGISTRY: dict[str, Subject] = {
    s.name: s
    for s in (  # in the order error messages list them
        Subject(
            "event",
            ("count", "scope", "topic", "partition", "actor", "group", "contains", "where"),
            _parse_event,
            _event_values,
            lambda t: f"event {' or '.join(t)}",
        ),
        Subject(
            "record",
            ("lost", "present", "count", "in_partition", "reason", "read_by", "read_in_order"),
            _parse_record,
            _record_values,
            _record_label,
        ),
        Subject(
            "partition",
            (
                "leader",
                "leader_epoch",
                "replicas",
                "isr",
                "isr_size",
                "high_watermark",
                "log_end_offset",
                "uncommitted",
                "log_start_offset",
                "offline",
                "lost",
                "segments",
                "record_count",
                "keys",
                "adding_replicas",
                "last_stable_offset",
                "markers",
                "aborted_records",
                "open_records",
                "active_segment_base",
                "segment_bases",
                "replica_racks",
            ),
            _parse_partition,
            _partition_values,
            tp_name,
            _py_partition,
            {"replicas": _broker_ids, "isr": _broker_ids, "adding_replicas": _broker_ids},
        ),
        Subject(
            "group",
            (
                "state",
                "generation",
                "protocol",
                "members",
                "assignment",
                "assignment_sizes",
                "committed",
                "lag",
                "coordinator",
                "rebalance",
                "redelivered",
                "revoked",
                "member_epochs",
                "lag_column",
            ),
            _parse_named,
            _group_values,
            lambda t: f"group {t}",
            _py_group,
            {"assignment": _assignment_map},
        ),
        Subject(
            "consumer",
            ("assignment", "state", "alive", "received", "positions", "duplicates", "polled", "between"),
            _parse_consumer,
            _consumer_values,
            lambda t: f"consumer {t}",
            _py_consumer,
            {"assignment": _partition_list("[orders-0], or [] for none")},
        ),
        Subject(
            "broker",
            ("alive", "controller", "fenced", "isolated", "leaders", "replicas", "exists"),
            _parse_broker,
            _broker_values,
            lambda t: f"broker {t}",
            _py_broker,
        ),
        Subject(
            "producer",
            (
                "sent",
                "acked",
                "failed",
                "buffer_used",
                "batches",
                "idempotent",
                "acks",
                "transactional_id",
                "txn_state",
                "epoch",
            ),
            _parse_named,
            _producer_values,
            lambda t: f"producer {t}",
            _py_producer,
        ),
        Subject(
            "topic",
            ("exists", "partitions", "replication_factor", "config"),
            _parse_named,
            _topic_values,
            lambda t: f"topic {t}",
            _py_topic,
        ),
        Subject(
            "controller",
            ("active", "epoch", "registered_brokers", "nodes", "metadata_offset", "voters_alive"),
            _parse_controller,
            _controller_values,
            lambda t: f"{t} controller" if t else "controller",
            _py_controller,
        ),
        Subject(
            "cluster",
            ("lost_records", "time_ms", "brokers", "brokers_alive", "in_flight"),
            _parse_cluster,
            _cluster_values,
            lambda t: "cluster",
            _py_cluster,
        ),
        Subject(
            "sweep",
            ("metric", "trend", "at", "expect"),
            _parse_sweep,
            _sweep_values,
            lambda t: f"sweep over {t}",
        ),
        Subject(
            "share_group",
            (
                "members",
                "assignment",
                "start_offset",
                "end_offset",
                "in_flight",
                "states",
                "max_delivery_count",
                "redelivered",
                "archived",
            ),
            _parse_named,
            _share_group_values,
            lambda t: f"share group {t}",
            field_values={"assignment": _assignment_map},
        ),
        Subject(
            "share_consumer",
            ("received", "polled", "redelivered", "assignment", "member"),
            _parse_named,
            _share_consumer_values,
            lambda t: f"share consumer {t}",
            field_values={"assignment": _partition_list("[jobs-0]")},
        ),
        Subject(
            "transaction",
            ("state", "epoch", "producer_id", "partitions", "coordinator"),
            _parse_named,
            _transaction_values,
            lambda t: f"transactional.id {t}",
            field_values={"partitions": _partition_list("[receipts-0], or [] for none")},
        ),
        Subject(
            "compare",
            COMPARE_OUTCOME + COMPARE_DIVERGENCE,
            _parse_compare,
            _compare_values,
            _compare_label,
            _py_compare,
        ),
    )
}
SUBJECTS = tuple(REGISTRY)
FIELDS: dict[str, tuple[str, ...]] = {name: s.fields for name, s in REGISTRY.items()}


def run_checks(checks: list[Check], ctx: CheckContext) -> list[tuple[Check, list[Failure]]]:
    return [(ch, ch.evaluate(ctx)) for ch in checks]


def check_mapping(raw: dict[str, Any], ctx: CheckContext) -> list[Failure]:
    """Parse and evaluate one check mapping (what `run_until: {a check}` and notebooks use)."""
    return parse_check(raw).evaluate(ctx)


__all__ = [
    "Check",
    "CheckContext",
    "CheckError",
    "Expect",
    "Failure",
    "parse_check",
    "run_checks",
    "check_mapping",
    "parse_tp",
    "tp_name",
    "redelivered",
    "SUBJECTS",
    "FIELDS",
    "REGISTRY",
    "Subject",
]
