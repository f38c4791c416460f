"""A compare may lose the same message in both runs (`drop_next`), and the notebook export does the same."""

from __future__ import annotations

from engine.scenario import Scenario
from lessons.comparison import run_compare
from lessons.model import CompareOp, DropNextOp, parse_lesson_command
from lessons.notebook import _compare_code

SCENARIO = {
    "name": "drop in both",
    "seed": 3,
    "brokers": 3,
    "topics": [{"name": "orders", "partitions": 1, "replication_factor": 3}],
    "producers": [
        {
            "id": "p1",
            "topic": "orders",
            "rate_per_s": 0,
            "config": {"linger.ms": 0, "request.timeout.ms": 2000, "delivery.timeout.ms": 20000},
        }
    ],
}
COMMANDS = [
    {"op": "produce", "producer": "p1", "key": "k", "value": "warm"},
    {"run_for_ms": 500},
    {"drop_next": "Produce"},
    {"op": "produce", "producer": "p1", "key": "k", "value": "lost once"},
    {"run_for_ms": 5000},
]


def _op() -> CompareOp:
    op = parse_lesson_command(
        {
            "compare": {
                "scenario": SCENARIO,
                "left": ["producer.acks=1"],
                "right": ["producer.acks=all"],
                "commands": COMMANDS,
            }
        }
    )
    assert isinstance(op, CompareOp)
    return op


def test_drop_next_inside_a_compare_hits_both_runs():
    op = _op()
    assert any(isinstance(c, DropNextOp) for c in op.parsed_commands())
    res = run_compare(op, Scenario.model_validate(SCENARIO))
    for c in (res.pair.left, res.pair.right):
        kinds = [e.kind for e in c.events.events]
        assert "message_dropped" in kinds and "batch_retried" in kinds
        assert c.producers["p1"].acked == 2  # the lost request was retried in each run
    code = "\n".join(_compare_code(op))
    assert (
        "pair.left.drop_messages('Produce', 1)" in code and "pair.right.drop_messages('Produce', 1)" in code
    )
