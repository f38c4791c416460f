"""Kafka's numeric error codes live in one table (engine.errors.ErrorCodes, Kafka's `Errors`): the exception
classes and the wire protocol take their numbers from it, so a real client reading a response sees the code
Kafka would send for the same error."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import engine.errors as errors
from engine.errors import ErrorCodes, KafkaError

ROOT = Path(__file__).resolve().parents[2]

# Kafka's Errors names for the few exceptions whose class `name` is the exception's, not the error's
_KAFKA_NAME = {"RECORD_TOO_LARGE": "MESSAGE_TOO_LARGE"}


def _error_classes() -> list[type[KafkaError]]:
    return [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, KafkaError)]


def test_every_error_with_a_code_has_kafkas_number_for_its_name():
    table = {k: v for k, v in vars(ErrorCodes).items() if k.isupper()}
    checked = 0
    for cls in _error_classes():
        if cls.code == ErrorCodes.UNKNOWN_SERVER_ERROR:
            continue  # client-side only (TimeoutException, CommitFailedException, ...): no wire code
        assert table[_KAFKA_NAME.get(cls.name, cls.name)] == cls.code, cls
        checked += 1
    assert checked >= 30


def test_the_group_coordinator_answers_with_kafka_errors_a_real_client_can_read():
    from engine.server.adapter import _code

    assert _code(errors.NotCoordinatorError("moved")) == 16  # Errors.NOT_COORDINATOR
    assert _code(errors.MemberIdRequiredError("join again")) == 79  # Errors.MEMBER_ID_REQUIRED (KIP-394)
    assert _code(errors.RebalanceInProgressError("rebalancing")) == 27
    assert _code(None) == 0


def _literal_error_codes(path: Path) -> list[str]:
    """`error_code=<int>` / `"error_code": <int>` / `code = <int>` with a number instead of a named code."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.keyword) and node.arg == "error_code":
            value = node.value
        elif isinstance(node, ast.Dict):
            value = next(
                (
                    v
                    for k, v in zip(node.keys, node.values, strict=True)
                    if isinstance(k, ast.Constant) and k.value == "error_code"
                ),
                None,
            )
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "code" for t in node.targets
        ):
            value = node.value
        else:
            continue
        if isinstance(value, ast.Constant) and isinstance(value.value, int) and value.value != 0:
            found.append(f"{path.name}:{node.lineno}")
    return found


def test_the_wire_protocol_takes_error_codes_from_the_table():
    found = [
        hit for p in sorted((ROOT / "engine" / "server").glob("*.py")) for hit in _literal_error_codes(p)
    ]
    assert found == []
