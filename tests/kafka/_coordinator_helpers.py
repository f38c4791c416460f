"""Shared helpers for the ported group-coordinator assignor tests (KIP-848 server-side assignors).

Kafka's tests identify topics by `Uuid`; ours by name (topic1 .. topic4). Where Kafka's result depends on the
iteration order of a `HashSet`/`HashMap` keyed by those Uuids (the homogeneous uniform builder walks its
subscribed topics and each member's `mkAssignment` that way), `java_hash_order` reproduces Java's order for the
test's fixed Uuids (`Uuid.hashCode`, `HashMap.hash`, 16 buckets), and the tests hand topics to our assignor in
that order. `mkOrderedAssignment` (a LinkedHashMap) keeps the order written in the test.
"""

from __future__ import annotations

import base64

from engine.server_assignors import MemberSpec, member

TP = tuple[str, int]

# the fixed topic ids of OptimizedUniformAssignmentBuilderTest / UniformHeterogeneousAssignmentBuilderTest
TOPIC_UUIDS = {
    "topic1": "T1-A4s3VTwiI5CTbEp6POw",
    "topic2": "T2-B4s3VTwiI5YHbPp6YUe",
    "topic3": "T3-CU8fVTLCz5YMkLoDQsa",
    "topic4": "T4-Tw9fVTLCz5HbPp6YQsa",
}


def _java_bucket(uuid: str, buckets: int = 16) -> int:
    """Bucket of a Kafka Uuid in a default-sized java.util.HashMap: (h ^ h >>> 16) & (n - 1)."""
    raw = base64.urlsafe_b64decode(uuid + "==")
    xor = (int.from_bytes(raw[:8], "big") ^ int.from_bytes(raw[8:], "big")) & 0xFFFF_FFFF_FFFF_FFFF
    h = ((xor >> 32) ^ xor) & 0xFFFF_FFFF  # Uuid.hashCode
    return (h ^ (h >> 16)) & (buckets - 1)


def java_hash_order(topics) -> list[str]:
    """The order a Java HashSet/HashMap of these topics' Uuids iterates them in (topic2, topic4, topic3, topic1)."""
    return sorted(topics, key=lambda t: _java_bucket(TOPIC_UUIDS[t]))


def hashed(**topic_parts: tuple[int, ...]) -> list[TP]:
    """Kafka's mkAssignment(mkTopicAssignment(...)): a HashMap of topic ids to HashSets of partitions."""
    return [(t, p) for t in java_hash_order(topic_parts) for p in sorted(topic_parts[t])]


def ordered(*entries: tuple[str, tuple[int, ...]]) -> list[TP]:
    """Kafka's mkOrderedAssignment: topics in the order written, partitions (HashSets of ints) ascending."""
    return [(t, p) for t, parts in entries for p in sorted(parts)]


def metadata(**counts: int) -> dict[str, int]:
    """SubscribedTopicDescriberImpl for the homogeneous builder: topics in Kafka's HashSet iteration order."""
    return {t: counts[t] for t in java_hash_order(counts)}


def spec(topics, assignment=(), instance_id: str | None = None) -> MemberSpec:
    return member(topics, assignment, instance_id)


def expected(**per_member: dict[str, tuple[int, ...]]) -> dict[str, list[TP]]:
    """Kafka's expectedAssignment map, flattened to sorted (topic, partition) lists."""
    return {m: sorted((t, p) for t, parts in a.items() for p in parts) for m, a in per_member.items()}


def check_validity_and_balance(members: dict[str, MemberSpec], computed: dict[str, list[TP]]) -> None:
    """OptimizedUniformAssignmentBuilderTest.checkValidityAndBalance: every assigned topic is subscribed,
    no partition has two owners, and assignment sizes differ by at most one."""
    owners: dict[TP, str] = {}
    for mid, tps in computed.items():
        for tp in tps:
            assert tp[0] in members[mid].topics, (
                f"{tp} assigned to {mid}, which does not subscribe to {tp[0]}"
            )
            assert tp not in owners, f"{tp} assigned to both {owners[tp]} and {mid}"
            owners[tp] = mid
    sizes = [len(v) for v in computed.values()]
    if sizes:
        assert max(sizes) - min(sizes) <= 1, f"unbalanced sizes {sizes}"
