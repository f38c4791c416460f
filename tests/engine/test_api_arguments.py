"""The engine's Python API, tried as a careless notebook user would: a wrong type, None or a negative number
for any argument of a public method gets the engine's own error (a KafkaError or a UserInputError) whose
message names the argument, never a TypeError or AttributeError from deep inside (issue 19.4). And every
"your input is wrong" error of the project shares one root, so the UI can catch exactly those."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import Cluster
from engine.compare import ComparePair
from engine.errors import ConfigError, KafkaError, UserInputError
from engine.scenario import PRESETS, ScenarioError
from engine.timeline import Timeline
from lessons.checks import CheckError
from lessons.loader import LessonFileError
from lessons.model import CommandError
from ui.compare_page import CompareError
from ui.rooms import RoomError
from ui.share import ShareError

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=-1),
    st.integers(min_value=0, max_value=3),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
    st.binary(max_size=4),
    st.lists(st.one_of(st.integers(-2, 2), st.text(max_size=2)), max_size=3),
    st.tuples(st.integers(-1, 2)),
    st.dictionaries(st.text(max_size=2), st.integers(-1, 2), max_size=2),
    st.builds(object),
)


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _whole(lo: int = 0, hi: float = math.inf) -> Callable[[Any], bool]:
    return lambda v: _int(v) and lo <= v <= hi


def _opt(ok: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: v is None or ok(v)


def _name(v: Any) -> bool:
    return isinstance(v, str) and v != ""


def _never(v: Any) -> bool:
    return False


def _pair(v: Any) -> bool:
    """A well-formed (topic, partition): the call then answers as Kafka would (an unassigned partition is
    IllegalStateError, an unknown one None), not with an argument error."""
    return isinstance(v, list | tuple) and len(v) == 2 and _name(v[0]) and _int(v[1]) and v[1] >= 0


def _serializable(v: Any) -> bool:  # what the ByteArray/String serializers take (bool is an int)
    return v is None or isinstance(v, bytes | bytearray | memoryview | str | int)


def _is(*ok: Any) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, str) and v in ok


def _new_topic(v: Any) -> bool:
    legal = isinstance(v, str) and re.fullmatch(r"[A-Za-z0-9._-]{1,249}", v) is not None
    return legal and v not in ("orders", ".", "..") and not v.startswith("__")


def _topics(v: Any) -> bool:
    return isinstance(v, list | tuple) and all(_name(t) for t in v)


def world() -> Cluster:
    c = Cluster(brokers=3, seed=5)
    c.create_topic("orders", partitions=2, replication_factor=3)
    c.producer("p1")
    c.consumer("c1", group_id="g1", topics=["orders"])
    c.consumer("m1").assign([("orders", 0)])
    c.share_consumer("s1", "sg", ["orders"])
    return c


# (what is called, the call with the argument under test set to v, the word(s) its error must contain (one of
#  them), which values are valid for it: those are not drawn)
CASES: list[tuple[str, Callable[[Cluster, Any], Any], str | tuple[str, ...], Callable[[Any], bool]]] = [
    ("Cluster(brokers)", lambda c, v: Cluster(brokers=v), "brokers", _whole(1, 12)),
    ("Cluster(seed)", lambda c, v: Cluster(seed=v), "seed", _whole()),
    ("Cluster(controller)", lambda c, v: Cluster(controller=v), "controller", _never),
    ("Cluster(config)", lambda c, v: Cluster(config=v), "config", lambda v: v is None or v == {}),
    ("Cluster(racks)", lambda c, v: Cluster(racks=v), "racks", lambda v: v is None or v == {}),
    ("create_topic(name)", lambda c, v: c.create_topic(v), ("name", "topic"), _new_topic),
    (
        "create_topic(partitions)",
        lambda c, v: c.create_topic("t2", partitions=v),
        "partitions",
        _whole(1, 128),
    ),
    (
        "create_topic(replication_factor)",
        lambda c, v: c.create_topic("t2", replication_factor=v),
        "replication_factor",
        _whole(1, 3),
    ),
    (
        "create_topic(config)",
        lambda c, v: c.create_topic("t2", config=v),
        "config",
        lambda v: v is None or v == {},
    ),
    ("create_partitions(name)", lambda c, v: c.create_partitions(v, 3), ("name", "topic"), _is("orders")),
    (
        "create_partitions(partitions)",
        lambda c, v: c.create_partitions("orders", v),
        "partition",
        _whole(3, 128),
    ),
    ("delete_topic(name)", lambda c, v: c.delete_topic(v), ("name", "topic"), _is("orders")),
    ("producer(producer_id)", lambda c, v: c.producer(v), "producer_id", lambda v: _name(v) and v != "p1"),
    ("producer(config)", lambda c, v: c.producer("p2", v), "config", lambda v: v is None or v == {}),
    ("send(topic)", lambda c, v: c.producers["p1"].send(v, b"x"), "topic", _name),
    ("send(key)", lambda c, v: c.producers["p1"].send("orders", b"x", key=v), "key", _serializable),
    ("send(value)", lambda c, v: c.producers["p1"].send("orders", v), "value", _serializable),
    (
        "send(partition)",
        lambda c, v: c.producers["p1"].send("orders", b"x", partition=v),
        "partition",
        _opt(_whole(0, 1)),
    ),
    (
        "send(timestamp_ms)",
        lambda c, v: c.producers["p1"].send("orders", b"x", timestamp_ms=v),
        "timestamp_ms",
        _opt(_whole()),
    ),
    (
        "send(headers)",
        lambda c, v: c.producers["p1"].send("orders", b"x", headers=v),
        "headers",
        lambda v: v is None or v in ([], (), {}, "", b"", 0, False),  # empty: no headers
    ),
    ("flush(timeout_ms)", lambda c, v: c.producers["p1"].flush(v), "timeout_ms", _opt(_whole())),
    (
        "consumer(consumer_id)",
        lambda c, v: c.consumer(v),
        "consumer_id",
        lambda v: _name(v) and v not in ("c1", "m1", "p1"),
    ),
    ("consumer(group_id)", lambda c, v: c.consumer("c2", group_id=v), "group_id", _opt(_name)),
    (
        "consumer(topics)",
        lambda c, v: c.consumer("c2", "g1", topics=v),
        "topics",
        _opt(_topics),
    ),
    (
        "consumer(config)",
        lambda c, v: c.consumer("c2", "g1", config=v),
        "config",
        lambda v: v is None or v == {},
    ),
    ("subscribe(topics)", lambda c, v: c.consumers["c1"].subscribe(v), "topics", _topics),
    ("assign(partitions)", lambda c, v: c.consumers["m1"].assign(v), "partitions", lambda v: v in ([], ())),
    ("poll(timeout_ms)", lambda c, v: c.consumers["c1"].poll(v), "timeout_ms", _whole(0, 3)),
    (
        "poll(max_records)",
        lambda c, v: c.consumers["c1"].poll(0, max_records=v),
        "max_records",
        _opt(_whole(1)),
    ),
    ("commit(offsets)", lambda c, v: c.consumers["c1"].commit(v), "offsets", lambda v: v is None or v == {}),
    ("seek(tp)", lambda c, v: c.consumers["m1"].seek(v, 0), "tp", _pair),
    ("seek(offset)", lambda c, v: c.consumers["m1"].seek(("orders", 0), v), "offset", _whole()),
    ("position(tp)", lambda c, v: c.consumers["m1"].position(v), "tp", _pair),
    ("committed(tp)", lambda c, v: c.consumers["c1"].committed(v), "tp", _pair),
    ("share_consumer(group_id)", lambda c, v: c.share_consumer("s2", v, ["orders"]), "group_id", _name),
    ("share_consumer(topics)", lambda c, v: c.share_consumer("s2", "sg", v), "topics", _topics),
    ("share poll(timeout_ms)", lambda c, v: c.share_consumers["s1"].poll(v), "timeout_ms", _whole(0, 3)),
    ("acknowledge(record)", lambda c, v: c.share_consumers["s1"].acknowledge(v), "record", _never),
    ("crash_broker(broker_id)", lambda c, v: c.crash_broker(v), "broker", _whole(1, 3)),
    ("restart_broker(broker_id)", lambda c, v: c.restart_broker(v), "broker", _whole(1, 3)),
    ("isolate_broker(broker_id)", lambda c, v: c.isolate_broker(v), "broker", _whole(1, 3)),
    ("shutdown_broker(broker_id)", lambda c, v: c.shutdown_broker(v), "broker", _whole(1, 3)),
    ("slow_broker(extra_latency_ms)", lambda c, v: c.slow_broker(1, v), "extra_latency_ms", _whole()),
    ("run_for(ms)", lambda c, v: c.run_for(v), "ms", _whole(0, 3)),
    ("run_until(predicate)", lambda c, v: c.run_until(v, 10), "predicate", callable),
    ("run_until(limit_ms)", lambda c, v: c.run_until(lambda: True, v), "limit_ms", _whole()),
    ("snapshot(tail)", lambda c, v: c.snapshot(tail=v), "tail", _whole()),
    ("trace(topic)", lambda c, v: c.trace(v, 0, 0), "topic", _is("orders")),
    ("trace(partition)", lambda c, v: c.trace("orders", v, 0), "partition", _whole(0, 1)),
    ("trace(offset)", lambda c, v: c.trace("orders", 0, v), "offset", _whole()),
    ("drop_messages(kind)", lambda c, v: c.drop_messages(v), "kind", _name),
    ("drop_messages(count)", lambda c, v: c.drop_messages("Fetch", v), "count", _whole(1)),
    (
        "add_broker(rack)",
        lambda c, v: c.add_broker(v),
        "rack",
        _opt(lambda v: isinstance(v, str) and v.strip()),
    ),
    (
        "reassign_partitions(assignment)",
        lambda c, v: c.reassign_partitions(v),
        "assignment",
        lambda v: v == {},
    ),
    ("preferred_leader_election(topic)", lambda c, v: c.preferred_leader_election(v), "topic", _opt(_name)),
]


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_a_wrong_argument_gets_the_engines_own_error_naming_it(data):
    what, call, words, valid = data.draw(st.sampled_from(CASES), label="call")
    v = data.draw(JUNK.filter(lambda x: not valid(x)), label=what)
    c = world()
    with pytest.raises((KafkaError, UserInputError)) as info:
        call(c, v)
    text = str(info.value).lower()
    assert any(w in text for w in ((words,) if isinstance(words, str) else words)), f"{what}, {v!r}: {text}"


def test_the_three_calls_from_the_issue():
    c = world()
    for call, word in (
        (lambda: c.consumers["c1"].poll(timeout_ms=None), "timeout_ms"),
        (lambda: c.producers["p1"].send(topic=None, value=b"x"), "topic"),
        (lambda: c.consumer("c9", "g1", topics=5), "topics"),
    ):
        with pytest.raises(ConfigError, match=word):
            call()
    # a topic name on its own is not read letter by letter
    with pytest.raises(ConfigError, match="list of topic names"):
        c.consumer("c9", "g1", topics="orders")


def test_every_input_error_shares_one_root():
    for cls in (
        CheckError,
        CommandError,
        LessonFileError,
        RoomError,
        ShareError,
        CompareError,
        ScenarioError,
        ConfigError,
    ):
        assert issubclass(cls, UserInputError) and issubclass(cls, ValueError), cls
    # the timeline's and compare's own checks of a link's state
    for bad in (
        lambda: Timeline.from_state({"scenario": PRESETS["Default"].model_dump(), "position": -1}),
        lambda: ComparePair.from_state({"v": 99}),
    ):
        with pytest.raises(UserInputError):
            bad()
