"""Ported from Apache Kafka's clients KafkaProducerTest: how `enable.idempotence` follows acks, retries,
max.in.flight.requests.per.connection and transactional.id (KIP-679: idempotence is the default since 3.0,
quietly turned off by a conflicting setting unless it was set explicitly; a conflict with an explicit
`enable.idempotence=true` or with a transactional.id is a ConfigException, our ConfigError).

Adapted: each block of Kafka's method (validProps, validProps2, ..., invalidProps3) is one pytest case, named
after it; bootstrap.servers and the serializers have no equivalent here and are left out.
"""

from __future__ import annotations

import pytest

from engine.config import ProducerConfig
from engine.errors import ConfigError

TXN = {"transactional.id": "transactionalId"}

# (Kafka method.block, props, expected enable.idempotence, expected (config attribute, value))
VALID = [
    (
        "testAcksAndIdempotenceForIdempotentProducers.validProps",
        {"acks": "0", "enable.idempotence": False},
        False,
        ("acks_int", 0),
    ),
    ("testAcksAndIdempotenceForIdempotentProducers.validProps2", TXN, True, ("acks_int", -1)),
    (
        "testAcksAndIdempotenceForIdempotentProducers.validProps3",
        {"acks": "all", "enable.idempotence": False},
        False,
        ("acks_int", -1),
    ),
    ("testAcksAndIdempotenceForIdempotentProducers.validProps4", {"acks": "0"}, False, ("acks_int", 0)),
    ("testAcksAndIdempotenceForIdempotentProducers.validProps5", {"acks": "1"}, False, ("acks_int", 1)),
    (
        "testRetriesAndIdempotenceForIdempotentProducers.validProps",
        {"retries": 0, "enable.idempotence": False},
        False,
        ("retries", 0),
    ),
    ("testRetriesAndIdempotenceForIdempotentProducers.validProps2", {"retries": 0}, False, ("retries", 0)),
    (
        "testInflightRequestsAndIdempotenceForIdempotentProducers.validProps",
        {"max.in.flight.requests.per.connection": 6, "enable.idempotence": False},
        False,
        ("max_in_flight", 6),
    ),
    (
        "testInflightRequestsAndIdempotenceForIdempotentProducers.validProps2",
        {"max.in.flight.requests.per.connection": 6},
        False,
        ("max_in_flight", 6),
    ),
    ("testOverwriteAcksAndRetriesForIdempotentProducers", TXN, True, ("retries", 2**31 - 1)),
]

INVALID = [
    (
        "testAcksAndIdempotenceForIdempotentProducers.invalidProps",
        {"acks": "0", "enable.idempotence": False, **TXN},
    ),  # a transactional.id needs idempotence
    ("testAcksAndIdempotenceForIdempotentProducers.invalidProps2", {"acks": "1", "enable.idempotence": True}),
    ("testAcksAndIdempotenceForIdempotentProducers.invalidProps3", {"acks": "0", **TXN}),
    (
        "testRetriesAndIdempotenceForIdempotentProducers.invalidProps",
        {"retries": 0, "enable.idempotence": False, **TXN},
    ),
    (
        "testRetriesAndIdempotenceForIdempotentProducers.invalidProps2",
        {"retries": 0, "enable.idempotence": True},
    ),
    ("testRetriesAndIdempotenceForIdempotentProducers.invalidProps3", {"retries": 0, **TXN}),
    (
        "testInflightRequestsAndIdempotenceForIdempotentProducers.invalidProps",
        {"max.in.flight.requests.per.connection": 5, "enable.idempotence": False, **TXN},
    ),
    (
        "testInflightRequestsAndIdempotenceForIdempotentProducers.invalidProps2",
        {"max.in.flight.requests.per.connection": 6, "enable.idempotence": True},
    ),
    (
        "testInflightRequestsAndIdempotenceForIdempotentProducers.invalidProps3",
        {"max.in.flight.requests.per.connection": 6, **TXN},
    ),
]


@pytest.mark.parametrize(("props", "idempotent", "field"), [c[1:] for c in VALID], ids=[c[0] for c in VALID])
def test_valid_idempotence_settings(props, idempotent, field):
    # KafkaProducerTest: the id names the method and the Properties block
    cfg = ProducerConfig.parse(props)
    assert cfg.enable_idempotence is idempotent
    name, value = field
    assert getattr(cfg, name) == value


@pytest.mark.parametrize("props", [c[1] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_idempotence_settings(props):
    # KafkaProducerTest: assertThrows(ConfigException.class, () -> new ProducerConfig(props))
    with pytest.raises(ConfigError):
        ProducerConfig.parse(props)
