"""The lesson file format as pydantic models: a lesson is data a teacher writes, validated before it runs.

A lesson is one YAML file: id, title, goal, minutes, the starting scenario (the Playground's
`engine.scenario.Scenario`, or `preset: <name>` plus overrides) and steps. A step has short Markdown
narration, commands (engine commands from `engine.commands`, plus the lesson ops below), an optional
predict question, an optional "try it" hint, view focus, and checks (see `lessons.checks`).

Lesson ops, besides every engine op (`crash_broker`, `produce`, `run_for`, ...):

    - steps: 5                      # five visible steps (Timeline.step: to the next moment a student sees)
    - run_until: rebalance          # rebalance | election | idle | stable | <event kind> | {a check}
    - run_for_ms: 3000              # the engine's run_for command (recorded, so replayable)
    - drop_next: ProduceResponse    # fault injection: lose the next message of this kind
    - sweep: {config: linger.ms, values: [0, 5, 50], ...}   # bulk runs of fresh clusters (lesson 11)
    - new_cluster: {preset: Default, brokers: 1}            # start over on another cluster (a new Timeline)
    - compare:                      # two runs side by side (engine.compare.ComparePair), the page's Compare view
        scenario: {preset: Broker failure}     # optional; default: the scenario of the cluster the lesson is on
        left: [producer.acks=1]                # scope.config=value changes, the Compare page's vocabulary
        right: [producer.acks=all]
        commands:                              # applied to both runs at the same moment
          - run_for_ms: 400
          - {op: crash_broker, broker: 2}
          - run_until: records_lost            # side: either (default) | left | right | both
          - run_for_ms: 10000

A step has at most one `compare`; its checks can read it with `{compare: left|right, records_lost: ...}` and
`{compare: divergence, found: true}` (lessons.checks), and its pictures default to the `compare` view.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from engine.commands import COMMAND_OPS, Command
from engine.compare import SCOPES, apply_changes, parse_change
from engine.errors import ConfigError, KafkaError, UserInputError
from engine.events import KINDS
from engine.scenario import PRESETS, Scenario, build_cluster

_ID = r"^[a-z0-9][a-z0-9-]{0,59}$"
RUN_UNTIL_NAMES = ("rebalance", "election", "idle", "stable")
LESSON_OPS = ("steps", "run_until", "run_for_ms", "drop_next", "sweep", "new_cluster", "compare")
# One-key shorthands a teacher may write instead of the `op:` form, and the field their value fills.
SHORTHANDS = {
    "steps": "n",
    "run_until": "until",
    "run_for_ms": "ms",
    "drop_next": "message",
    "sweep": None,
    "new_cluster": "scenario",
    "compare": None,
}
# Inside a compare: every engine op (run_for_ms is the engine's run_for) plus these lesson ops, on both runs.
COMPARE_OPS = ("steps", "run_until", "run_for_ms", "drop_next")  # drop_next: the same fault in both runs
MESSAGE_KINDS = (
    "Produce",
    "ProduceResponse",
    "Fetch",
    "FetchResponse",
    "JoinGroup",
    "SyncGroup",
    "Heartbeat",
    "OffsetCommit",
    "OffsetCommitResponse",
    "LeaveGroup",
    "ReplicaFetch",
    "ReplicaFetchResponse",
)
SWEEP_METRICS = (
    "records_per_request",
    "requests_per_s",
    "acked_per_s",
    "p50_latency_ms",
    "p99_latency_ms",
    "wire_kb",
    "compression_ratio",
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- lesson ops ------------------------------------------------------------------------------------------------
class StepsOp(_Model):
    """Advance N visible steps (each runs to the next event a student would notice)."""

    op: Literal["steps"] = "steps"
    n: int = Field(ge=1, le=20_000)


class RunUntilOp(_Model):
    """Step until something happens: a named moment, an event kind, or a check that holds."""

    op: Literal["run_until"] = "run_until"
    until: str | dict[str, Any]
    max_steps: int = Field(4000, ge=1, le=50_000)
    max_ms: int = Field(120_000, ge=1, le=3_600_000, description="give up after this much simulated time")

    in_compare: ClassVar[bool] = False  # a {compare: ...} check can only stop a run inside a compare

    @field_validator("until")
    @classmethod
    def _known(cls, v: str | dict) -> str | dict:
        if isinstance(v, str) and v not in RUN_UNTIL_NAMES and v not in KINDS:
            raise ValueError(
                f"run_until {v!r} is not known: use one of {', '.join(RUN_UNTIL_NAMES)}, an event "
                f"kind (e.g. leader_elected, member_expired) or a check mapping"
            )
        if isinstance(v, dict):
            from .checks import parse_check  # a check as the stop condition

            if next(iter(v), None) == "compare" and not cls.in_compare:
                raise ValueError(
                    "a {compare: ...} check reads a comparison: use it in checks after a compare "
                    "command, or in a run_until inside the compare's commands"
                )
            parse_check(v)
        return v


class CompareUntilOp(RunUntilOp):
    """run_until inside a compare: the condition is looked for on `side` (either run, the default)."""

    in_compare: ClassVar[bool] = True
    side: Literal["either", "left", "right", "both"] = "either"


class DropNextOp(_Model):
    """Lose the next `count` network messages of one kind (engine `Cluster.drop_messages`)."""

    op: Literal["drop_next"] = "drop_next"
    message: str
    count: int = Field(1, ge=1, le=100)

    @field_validator("message")
    @classmethod
    def _kind(cls, v: str) -> str:
        if v not in MESSAGE_KINDS:
            raise ValueError(f"message {v!r} is not a message kind; use one of {', '.join(MESSAGE_KINDS)}")
        return v


class SweepOp(_Model):
    """Bulk experiment: rebuild the lesson's scenario once per value of a producer config and measure.

    Runs outside the step's timeline (fresh clusters), so it never changes what the diagram shows.
    """

    op: Literal["sweep"] = "sweep"
    producer: str = "p1"
    config: str = Field(description="a producer config name, e.g. linger.ms")
    values: list[int | float | str] = Field(min_length=2, max_length=12)
    run_ms: int = Field(3000, ge=100, le=60_000)
    rate_per_s: float | None = Field(
        None, ge=0, le=10_000, description="the producer's load during the sweep"
    )
    metrics: list[str] = Field(default_factory=lambda: list(SWEEP_METRICS))

    @field_validator("metrics")
    @classmethod
    def _metrics(cls, v: list[str]) -> list[str]:
        bad = [m for m in v if m not in SWEEP_METRICS]
        if bad:
            raise ValueError(f"unknown metric(s) {bad}; choose from {', '.join(SWEEP_METRICS)}")
        return v


class NewClusterOp(_Model):
    """Start over on another cluster (e.g. ZooKeeper mode, then KRaft): a fresh Timeline from here on."""

    op: Literal["new_cluster"] = "new_cluster"
    scenario: Scenario

    @field_validator("scenario", mode="before")
    @classmethod
    def _preset(cls, v: Any) -> Any:
        return resolve_scenario(v)


class EngineOp(_Model):
    """One of the engine's own commands (engine.commands), applied through the Timeline."""

    op: Literal["engine"] = "engine"
    command: Command


class CompareOp(_Model):
    """Two runs side by side, as on the Compare page (`engine.compare.ComparePair`): the same scenario and seed,
    differing only in `left` / `right` (`scope.config=value`, scope = producer, consumer, topic or broker), with
    `commands` applied to both at the same moment. Runs outside the step's timeline (two fresh clusters)."""

    op: Literal["compare"] = "compare"
    scenario: Scenario | None = Field(
        None, description="a scenario or {preset: ...}; default: the lesson's cluster"
    )
    left: list[str] = Field(
        min_length=1, max_length=8, description="the left run's changes, e.g. producer.acks=1"
    )
    right: list[str] = Field(min_length=1, max_length=8, description="the right run's changes")
    commands: list[Any] = Field(default_factory=list, max_length=60)

    @field_validator("scenario", mode="before")
    @classmethod
    def _preset(cls, v: Any) -> Any:
        return resolve_scenario(v)

    @field_validator("left", "right", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("left", "right")
    @classmethod
    def _changes(cls, v: list[str], info: ValidationInfo) -> list[str]:
        for ch in v:
            try:
                parse_change(ch)
            except ConfigError as exc:
                hint = "" if "scope must be" in str(exc) else f"; the scope is one of {', '.join(SCOPES)}"
                raise ValueError(f"{exc}{hint}") from None
        if info.field_name == "right" and sorted(v) == sorted(info.data.get("left") or []):
            raise ValueError(f"right {v} is the same as left: change at least one setting on one side")
        scenario = info.data.get("scenario")
        if scenario is not None:
            check_side(scenario, v, str(info.field_name))
        return v

    def parsed_commands(self) -> list[LessonOp]:
        """The commands for both runs; CommandError's field is `commands[i].<field>`."""
        out = []
        for i, raw in enumerate(self.commands):
            try:
                out.append(parse_compare_command(raw))
            except CommandError as exc:
                raise CommandError(
                    f"compare: commands[{i}]: {exc}",
                    f"commands[{i}]" + (f".{exc.field}" if exc.field else ""),
                ) from None
        return out


def check_side(scenario: Scenario, changes: list[str], side: str) -> None:
    """Build one side's cluster as the Compare page does: a config typo fails here, naming the side."""
    try:
        build_cluster(apply_changes(scenario, changes))
    except (KafkaError, ValueError) as exc:
        raise CommandError(
            f"the {side} run's settings {changes} do not build a cluster: {exc}", side
        ) from None


LessonOp = StepsOp | RunUntilOp | DropNextOp | SweepOp | NewClusterOp | CompareOp | EngineOp
_LESSON_ADAPTER: TypeAdapter[Any] = TypeAdapter(
    Annotated[
        StepsOp | RunUntilOp | DropNextOp | SweepOp | NewClusterOp | CompareOp, Field(discriminator="op")
    ]
)
_COMPARE_ADAPTER: TypeAdapter[Any] = TypeAdapter(
    Annotated[StepsOp | CompareUntilOp | DropNextOp, Field(discriminator="op")]
)
_ENGINE_ADAPTER: TypeAdapter[Any] = TypeAdapter(Command)


class CommandError(UserInputError):
    """A command in a lesson file that is not valid: `field` is the path inside the command."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def normalize_command(raw: Any) -> dict[str, Any]:
    """Shorthand (`run_until: rebalance`) -> the `op:` form; anything else is returned as a copy."""
    if not isinstance(raw, dict):
        raise CommandError(f"a command must be a mapping like {{op: crash_broker, broker: 2}}, got {raw!r}")
    if "op" in raw:
        return dict(raw)
    heads = [k for k in raw if k in SHORTHANDS]
    if len(heads) != 1:
        ops = ", ".join(COMMAND_OPS)
        raise CommandError(
            f"a command needs an 'op' (engine ops: {ops}; lesson ops: {', '.join(LESSON_OPS)}) "
            f"or one shorthand key ({', '.join(SHORTHANDS)}); got keys {sorted(raw)}",
            "op",
        )
    head = heads[0]
    rest = {k: v for k, v in raw.items() if k != head}
    if head == "run_for_ms":
        return {"op": "run_for", "ms": raw[head], **rest}
    if SHORTHANDS[head] is None:
        value = raw[head]
        if not isinstance(value, dict):
            raise CommandError(f"{head} takes a mapping of its settings, got {value!r}", head)
        return {"op": head, **value, **rest}
    return {"op": head, SHORTHANDS[head]: raw[head], **rest}


def parse_lesson_command(raw: Any) -> LessonOp:
    """Validate one step command; errors say which field is wrong and what is allowed."""
    data = normalize_command(raw)
    op = data.get("op")
    if op in LESSON_OPS:
        cmd = _validate(_LESSON_ADAPTER, data, op, CompareOp if op == "compare" else None)
        if isinstance(cmd, CompareOp):
            cmd.parsed_commands()  # the commands for both runs, checked now (errors name commands[i])
        return cmd
    return _engine_command(data, op, (*COMMAND_OPS, *LESSON_OPS))


def parse_compare_command(raw: Any) -> LessonOp:
    """One command of a compare (applied to both runs): an engine op, `steps`, `run_until` or `run_for_ms`."""
    data = normalize_command(raw)
    op = data.get("op")
    if op in LESSON_OPS and op not in COMPARE_OPS:
        raise CommandError(
            f"{op} cannot run inside a compare; there use an engine op or {', '.join(COMPARE_OPS)}", "op"
        )
    if op in COMPARE_OPS:
        models: dict[str, type[BaseModel]] = {"run_until": CompareUntilOp, "drop_next": DropNextOp}
        model = models.get(op, StepsOp)
        return _validate(_COMPARE_ADAPTER, data, op, model)
    return _engine_command(data, op, (*COMMAND_OPS, *COMPARE_OPS))


def _validate(adapter: TypeAdapter[Any], data: dict[str, Any], op: Any, model: type[BaseModel] | None) -> Any:
    """Validate a lesson op; `model` (when given) lists its fields for a misspelt one."""
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"][1:]) or "op"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden" and model is not None:
            msg = f"'{loc}' is not a field of {op} (its fields: {', '.join(f for f in model.model_fields if f != 'op')})"
        raise CommandError(f"{op}: field '{loc}': {msg}", loc) from None


def _engine_command(data: dict[str, Any], op: Any, allowed_ops: tuple[str, ...]) -> EngineOp:
    if op in COMMAND_OPS:
        try:
            return EngineOp(command=_ENGINE_ADAPTER.validate_python(data))
        except ValidationError as exc:
            errs = exc.errors()
            # a misspelt field shows up as "extra" plus "missing": the extra one is the teacher's typo
            err = next((e for e in errs if e["type"] == "extra_forbidden"), errs[0])
            loc = ".".join(str(x) for x in err["loc"][1:]) or "op"
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                import difflib

                known = [f for f in _command_fields(op) if f != "op"]
                near = difflib.get_close_matches(loc, known, n=1)
                msg = f"'{loc}' is not a field of {op}" + (
                    f"; did you mean '{near[0]}'?" if near else f" (its fields: {', '.join(known)})"
                )
            elif err["type"] == "missing":
                msg = f"{op} needs '{loc}'"
            raise CommandError(f"{op}: field '{loc}': {msg}", loc) from None
    raise CommandError(f"unknown command {op!r}; allowed ops are {', '.join(allowed_ops)}", "op")


def _command_fields(op: str) -> list[str]:
    """The fields of an engine command model, by its op name."""
    import engine.commands as ec

    for model in vars(ec).values():
        if (
            isinstance(model, type)
            and issubclass(model, BaseModel)
            and "op" in getattr(model, "model_fields", {})
        ):
            if model.model_fields["op"].default == op:
                return list(model.model_fields)
    return []


def command_to_dict(cmd: LessonOp) -> dict[str, Any]:
    """The `op:` form of a parsed command (what notebooks and reports show)."""
    if isinstance(cmd, EngineOp):
        return cmd.command.model_dump()
    if isinstance(cmd, CompareOp):  # name the scenario rather than print all of it
        return {
            **cmd.model_dump(exclude={"scenario"}),
            **({"scenario": cmd.scenario.name} if cmd.scenario else {}),
        }
    return cmd.model_dump()


# -- predict, focus, step, lesson -----------------------------------------------------------------------------
class Predict(_Model):
    """A multiple-choice question asked before the step runs and revealed after it."""

    question: str = Field(min_length=3, max_length=500)
    choices: list[str] = Field(min_length=2, max_length=6)
    answer: int = Field(ge=0, description="index of the right choice, counting from 0")
    explanation: str = Field(min_length=3, max_length=2000)

    @model_validator(mode="after")
    def _answer_in_range(self) -> Predict:
        if self.answer >= len(self.choices):
            raise ValueError(
                f"answer is {self.answer} but there are only {len(self.choices)} choices "
                f"(answers count from 0, so use 0..{len(self.choices) - 1})"
            )
        if len(set(self.choices)) != len(
            self.choices
        ):  # shown shuffled and matched by text: each must differ
            raise ValueError(f"choices repeat: {self.choices}; give each choice its own text")
        return self


VIEWS = (
    "diagram",
    "log",
    "records",
    "assignment",
    "group_state",
    "revoked",
    "producer",
    "events",
    "sweep",
    "lost",
    "share",
    "member_epochs",
    "transactions",
    "compare",
)
View = Literal[
    "diagram",
    "log",
    "records",
    "assignment",
    "group_state",
    "revoked",
    "producer",
    "events",
    "sweep",
    "lost",
    "share",
    "member_epochs",
    "transactions",
    "compare",
]
_DEFAULT_VIEWS: list[View] = ["diagram", "log"]


class Focus(_Model):
    """What the step's pictures put forward: which views, which topic's log, what to highlight."""

    views: list[View] = Field(default_factory=lambda: _DEFAULT_VIEWS.copy())
    groups: list[str] = Field(
        default_factory=list, description="groups for the assignment / group_state views"
    )
    topics: list[str] = Field(
        default_factory=list, description="topics for the records view (default: topic)"
    )
    topic: str | None = None
    producer: str | None = None
    highlight: list[str] = Field(default_factory=list, description="actor names: c1, p1, broker-2, group-1")
    caption: str | None = Field(None, max_length=300, description="one line under the diagram")


class Step(_Model):
    title: str = Field(min_length=1, max_length=80)
    narration: str = Field(min_length=1, max_length=3000)
    commands: list[Any] = Field(default_factory=list)
    predict: Predict | None = None
    try_it: str | None = Field(None, max_length=500)
    focus: Focus = Field(default_factory=Focus)
    checks: list[dict[str, Any]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _compare_view(self) -> Step:
        """A step with a compare shows it: the `compare` view by default, or added to the views given."""
        n = sum(
            1 for c in self.commands if isinstance(c, dict) and (c.get("op") == "compare" or "compare" in c)
        )
        if n > 1:
            raise ValueError(
                f"commands: a step runs at most one compare, this one has {n}; split it into steps"
            )
        if not n and "compare" in self.focus.views:
            raise ValueError(
                "focus.views: 'compare' draws the step's compare command, and this step has none; "
                "add a compare to its commands or remove the view"
            )
        if n and "compare" not in self.focus.views:
            given = "views" in self.focus.model_fields_set
            self.focus.views = [*self.focus.views, "compare"] if given else ["compare"]
        return self

    def parsed_commands(self) -> list[LessonOp]:
        return [parse_lesson_command(c) for c in self.commands]

    def parsed_checks(self) -> list[Any]:
        from .checks import parse_check

        return [parse_check(c) for c in self.checks]


class Lesson(_Model):
    id: str = Field(pattern=_ID, description="lowercase words joined by '-', e.g. queue-vs-pubsub")
    title: str = Field(min_length=3, max_length=100)
    goal: str = Field(min_length=3, max_length=500)
    minutes: int = Field(ge=1, le=120)
    scenario: Scenario
    steps: list[Step] = Field(min_length=1, max_length=60)
    notes_quote: str | None = Field(
        None, max_length=600, description="the line of the course notes it follows"
    )

    @field_validator("scenario", mode="before")
    @classmethod
    def _preset(cls, v: Any) -> Any:
        return resolve_scenario(v)


def resolve_scenario(v: Any) -> Any:
    """`{preset: "Queue vs pub-sub", seed: 3}` -> the preset's fields with the overrides applied."""
    if not isinstance(v, dict) or "preset" not in v:
        return v
    name = v["preset"]
    match = next((k for k in PRESETS if k.lower() == str(name).lower()), None)
    if match is None:
        raise ValueError(f"unknown preset {name!r}; presets are {', '.join(sorted(PRESETS))}")
    base = PRESETS[match].model_dump()
    for key, val in v.items():
        if key == "preset":
            continue
        if isinstance(val, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **val}
        else:
            base[key] = val
    return base


__all__ = [
    "Lesson",
    "Step",
    "Predict",
    "Focus",
    "LessonOp",
    "EngineOp",
    "StepsOp",
    "RunUntilOp",
    "DropNextOp",
    "SweepOp",
    "NewClusterOp",
    "CompareOp",
    "CompareUntilOp",
    "CommandError",
    "parse_lesson_command",
    "parse_compare_command",
    "check_side",
    "normalize_command",
    "command_to_dict",
    "resolve_scenario",
    "ConfigError",
    "LESSON_OPS",
    "COMPARE_OPS",
    "RUN_UNTIL_NAMES",
    "SWEEP_METRICS",
    "VIEWS",
]
