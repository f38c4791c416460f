"""A real client's JoinGroup subscription (ConsumerProtocolSubscription) carries GenerationId (v2) and RackId
(v3, KIP-881); the server adapter reads both so a simulated group leader's assignor sees them."""

from __future__ import annotations

from engine.server.groups import _encode, decode_subscription, decode_subscription_extras


def _sub(version: int, **extra) -> bytes:
    data = {
        "topics": ["orders"],
        "user_data": None,
        "owned_partitions": [{"topic": "orders", "partitions": [1]}],
        **extra,
    }
    return _encode("consumer_protocol_subscription", version, data)


def test_v3_subscription_gives_generation_and_rack():
    raw = _sub(3, generation_id=4, rack_id="az-b")
    assert decode_subscription(raw) == (["orders"], [("orders", 1)])
    assert decode_subscription_extras(raw) == (4, "az-b")


def test_older_subscriptions_use_the_protocol_defaults():
    assert decode_subscription_extras(_sub(1)) == (-1, None)
    assert decode_subscription_extras(_sub(2, generation_id=7)) == (7, None)
    assert decode_subscription_extras(b"\x00") == (-1, None)
