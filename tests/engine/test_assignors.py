"""Assignor behaviour a Kafka engineer would check: Kafka's own test cases plus invariants under hypothesis."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.assignors import KAFKA_CLASS_NAMES, STRATEGIES, assign, strategy_from_config

STICKY = ("sticky", "cooperative-sticky")
TOPICS = ("a", "b", "c", "t1", "t10", "t2")
# Deliberately includes ids whose string order differs from numeric order ("c10" < "c2").
MEMBER_IDS = ("c1", "c10", "c2", "c3", "consumer-0", "consumer-1", "m", "z")

# Applied per test so the rest of the suite keeps its own hypothesis settings.
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def tp(name: str) -> tuple[str, int]:
    """'t1-0' -> ('t1', 0): lets expectations read like Kafka's test names."""
    topic, _, partition = name.rpartition("-")
    return topic, int(partition)


def tps(*names: str) -> list[tuple[str, int]]:
    return [tp(n) for n in names]


# ---------------------------------------------------------------- Kafka's own examples


@pytest.mark.parametrize("strategy", ["range", "roundrobin"])
def test_kafka_example_unequal_subscriptions(strategy: str) -> None:
    # RangeAssignorTest / RoundRobinAssignorTest: testMultipleConsumersMixedTopics
    subs = {"c1": ["t1"], "c2": ["t1", "t2"], "c3": ["t1"]}
    result = assign(strategy, subs, {"t1": 3, "t2": 2})
    assert result == {"c1": tps("t1-0"), "c2": tps("t1-1", "t2-0", "t2-1"), "c3": tps("t1-2")}


def test_kafka_example_range_two_consumers_two_topics() -> None:
    # RangeAssignorTest.testTwoConsumersTwoTopicsSixPartitions
    subs = {"c1": ["t1", "t2"], "c2": ["t1", "t2"]}
    result = assign("range", subs, {"t1": 3, "t2": 3})
    assert result == {"c1": tps("t1-0", "t1-1", "t2-0", "t2-1"), "c2": tps("t1-2", "t2-2")}


def test_kafka_example_roundrobin_two_consumers_two_topics() -> None:
    # RoundRobinAssignorTest.testTwoConsumersTwoTopicsSixPartitions
    subs = {"c1": ["t1", "t2"], "c2": ["t1", "t2"]}
    result = assign("roundrobin", subs, {"t1": 3, "t2": 3})
    assert result == {"c1": tps("t1-0", "t1-2", "t2-1"), "c2": tps("t1-1", "t2-0", "t2-2")}


def test_range_more_consumers_than_partitions_leaves_last_member_idle() -> None:
    result = assign("range", {"c3": ["t"], "c1": ["t"], "c2": ["t"]}, {"t": 2})
    assert result == {"c1": tps("t-0"), "c2": tps("t-1"), "c3": []}


def test_range_first_members_get_the_remainder() -> None:
    result = assign("range", {"c1": ["t"], "c2": ["t"], "c3": ["t"]}, {"t": 7})
    assert result == {"c1": tps("t-0", "t-1", "t-2"), "c2": tps("t-3", "t-4"), "c3": tps("t-5", "t-6")}


@pytest.mark.parametrize("strategy", ["range", "roundrobin"])
def test_members_ordered_by_id_not_dict_insertion(strategy: str) -> None:
    # Java sorts member ids as strings: "c10" comes before "c2".
    forward = assign(strategy, {"c1": ["t"], "c10": ["t"], "c2": ["t"]}, {"t": 3})
    backward = assign(strategy, {"c2": ["t"], "c10": ["t"], "c1": ["t"]}, {"t": 3})
    assert forward == backward == {"c1": tps("t-0"), "c10": tps("t-1"), "c2": tps("t-2")}


def test_roundrobin_skips_unsubscribed_members_without_losing_its_place() -> None:
    subs = {"c1": ["a"], "c2": ["a", "b"], "c3": ["b"]}
    result = assign("roundrobin", subs, {"a": 2, "b": 3})
    assert result == {"c1": tps("a-0"), "c2": tps("a-1", "b-1"), "c3": tps("b-0", "b-2")}


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_topics_without_metadata_and_members_without_topics(strategy: str) -> None:
    subs = {"c1": ["t", "missing"], "c2": [], "c3": ["missing"]}
    result = assign(strategy, subs, {"t": 2, "unused": 4})
    assert result == {"c1": tps("t-0", "t-1"), "c2": [], "c3": []}


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_empty_group(strategy: str) -> None:
    assert assign(strategy, {}, {"t": 3}) == {}


# ---------------------------------------------------------------- sticky examples (KIP-54)


def test_kip54_sticky_keeps_survivors_where_roundrobin_reshuffles() -> None:
    subs = {"C0": ["t0", "t1", "t2", "t3"], "C1": ["t0", "t1", "t2", "t3"], "C2": ["t0", "t1", "t2", "t3"]}
    parts = {"t0": 2, "t1": 2, "t2": 2, "t3": 2}
    before = assign("roundrobin", subs, parts)
    assert before == {
        "C0": tps("t0-0", "t1-1", "t3-0"),
        "C1": tps("t0-1", "t2-0", "t3-1"),
        "C2": tps("t1-0", "t2-1"),
    }
    survivors = {m: subs[m] for m in ("C0", "C2")}
    sticky = assign("sticky", survivors, parts, current=before)
    for member in survivors:
        assert set(before[member]) <= set(sticky[member])
        assert len(sticky[member]) == 4
    roundrobin = assign("roundrobin", survivors, parts)
    moved = sum(len(set(before[m]) - set(roundrobin[m])) for m in survivors)
    assert moved > 0  # the point of KIP-54: round robin moves partitions that did not need to move


@pytest.mark.parametrize("strategy", STICKY)
def test_kip54_unequal_subscriptions(strategy: str) -> None:
    subs = {"C0": ["t0"], "C1": ["t0", "t1"], "C2": ["t0", "t1", "t2"]}
    parts = {"t0": 1, "t1": 2, "t2": 3}
    first = assign(strategy, subs, parts)
    assert first == {"C0": tps("t0-0"), "C1": tps("t1-0", "t1-1"), "C2": tps("t2-0", "t2-1", "t2-2")}
    # C0 leaves: only its partition moves, to the less loaded eligible member.
    second = assign(strategy, {"C1": subs["C1"], "C2": subs["C2"]}, parts, current=first)
    assert second == {"C1": tps("t0-0", "t1-0", "t1-1"), "C2": tps("t2-0", "t2-1", "t2-2")}


@pytest.mark.parametrize("strategy", STICKY)
def test_sticky_ignores_stale_ownership(strategy: str) -> None:
    current = {
        "gone": tps("t-0", "t-1"),  # member left the group
        # past the count, deleted topic, unsubscribed topic, negative
        "c1": [*tps("t-9", "deleted-0", "u-0"), ("t", -1)],
        "c2": tps("t-2"),
    }
    result = assign(strategy, {"c1": ["t"], "c2": ["t"]}, {"t": 4, "u": 1}, current=current)
    assert tp("t-2") in result["c2"]
    assert sorted(result["c1"] + result["c2"]) == tps("t-0", "t-1", "t-2", "t-3")
    assert [len(result["c1"]), len(result["c2"])] == [2, 2]


@pytest.mark.parametrize("strategy", STICKY)
def test_sticky_conflicting_claims_go_to_one_claimant(strategy: str) -> None:
    current = {"c1": tps("t-0", "t-1"), "c2": tps("t-1", "t-2")}
    result = assign(strategy, {"c1": ["t"], "c2": ["t"]}, {"t": 4}, current=current)
    assert tp("t-0") in result["c1"] and tp("t-2") in result["c2"]
    assert (tp("t-1") in result["c1"]) != (tp("t-1") in result["c2"])
    assert sorted(result["c1"] + result["c2"]) == tps("t-0", "t-1", "t-2", "t-3")
    assert [len(result["c1"]), len(result["c2"])] == [2, 2]


def test_sticky_from_scratch_spreads_topics_round_robin() -> None:
    subs = {"c1": ["t1", "t2"], "c2": ["t1", "t2"]}
    result = assign("sticky", subs, {"t1": 3, "t2": 3})
    assert result == {"c1": tps("t1-0", "t1-2", "t2-1"), "c2": tps("t1-1", "t2-0", "t2-2")}


def test_cooperative_sticky_returns_the_sticky_target() -> None:
    subs = {"c1": ["t"], "c2": ["t"], "c3": ["t"]}
    before = assign("cooperative-sticky", {"c1": ["t"], "c2": ["t"]}, {"t": 6})
    after = assign("cooperative-sticky", subs, {"t": 6}, current=before)
    assert after == assign("sticky", subs, {"t": 6}, current=before)
    assert sorted(len(v) for v in after.values()) == [2, 2, 2]
    for member in ("c1", "c2"):
        assert len(set(before[member]) & set(after[member])) == 2


# ---------------------------------------------------------------- configuration names


def test_unknown_strategy_names_the_allowed_values() -> None:
    with pytest.raises(ValueError) as excinfo:
        assign("uniform", {"c1": ["t"]}, {"t": 1})
    for name in STRATEGIES:
        assert name in str(excinfo.value)
    assert "uniform" in str(excinfo.value)


def test_strategy_constants() -> None:
    assert STRATEGIES == ("range", "roundrobin", "sticky", "cooperative-sticky")
    assert dict(KAFKA_CLASS_NAMES) == {
        "range": "org.apache.kafka.clients.consumer.RangeAssignor",
        "roundrobin": "org.apache.kafka.clients.consumer.RoundRobinAssignor",
        "sticky": "org.apache.kafka.clients.consumer.StickyAssignor",
        "cooperative-sticky": "org.apache.kafka.clients.consumer.CooperativeStickyAssignor",
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("range", "range"),
        ("cooperative-sticky", "cooperative-sticky"),
        ("org.apache.kafka.clients.consumer.RangeAssignor", "range"),
        ("org.apache.kafka.clients.consumer.RoundRobinAssignor", "roundrobin"),
        ("StickyAssignor", "sticky"),
        ("CooperativeStickyAssignor", "cooperative-sticky"),
        (" RoundRobinAssignor ", "roundrobin"),
    ],
)
def test_strategy_from_config(value: str, expected: str) -> None:
    assert strategy_from_config(value) == expected


@pytest.mark.parametrize("value", ["", "Range", "org.example.RangeAssignor", "uniform", "round-robin"])
def test_strategy_from_config_rejects_unknown(value: str) -> None:
    with pytest.raises(ValueError, match="roundrobin"):
        strategy_from_config(value)


# ---------------------------------------------------------------- properties

partition_counts = st.dictionaries(st.sampled_from(TOPICS), st.integers(0, 7), min_size=1, max_size=4)


@st.composite
def groups(draw: st.DrawFn, equal: bool = False) -> tuple[dict[str, list[str]], dict[str, int]]:
    """A group: (subscriptions, partition counts); subscriptions may name topics without metadata."""
    parts = draw(partition_counts)
    topic_pool = sorted(parts) + ["no-such-topic"]
    members = draw(st.lists(st.sampled_from(MEMBER_IDS), min_size=1, max_size=6, unique=True))
    if equal:
        topics = draw(st.lists(st.sampled_from(sorted(parts)), min_size=1, unique=True))
        return {m: list(topics) for m in members}, parts
    subs = {m: draw(st.lists(st.sampled_from(topic_pool), max_size=4, unique=True)) for m in members}
    return subs, parts


@st.composite
def previous_ownership(
    draw: st.DrawFn, subs: dict[str, list[str]], parts: dict[str, int], conflicts: bool
) -> dict[str, list[tuple[str, int]]]:
    """Random prior ownership including departed members and partitions that no longer exist."""
    owners = sorted(subs) + ["departed"]
    universe = [(t, p) for t in sorted(parts) for p in range(parts[t] + 1)] + [("deleted", 0)]
    current: dict[str, list[tuple[str, int]]] = {m: [] for m in owners}
    for item in universe:
        holders = draw(st.lists(st.sampled_from(owners), max_size=2 if conflicts else 1, unique=True))
        for member in holders:
            current[member].append(item)
    return current


def check_valid(
    result: dict[str, list[tuple[str, int]]], subs: dict[str, list[str]], parts: dict[str, int]
) -> None:
    assert set(result) == set(subs)
    subscribed = {t for topics in subs.values() for t in topics if t in parts}
    expected = sorted((t, p) for t in subscribed for p in range(parts[t]))
    assigned = sorted(x for tps_ in result.values() for x in tps_)
    assert assigned == expected  # every partition exactly once, nothing extra
    for member, owned in result.items():
        assert owned == sorted(owned)
        assert all(topic in subs[member] for topic, _ in owned)


def check_balanced(result: dict[str, list[tuple[str, int]]]) -> None:
    sizes = [len(v) for v in result.values()]
    assert max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize("strategy", STRATEGIES)
@PROPERTY
@given(data=st.data())
def test_property_every_partition_assigned_once_to_a_subscriber(strategy: str, data: st.DataObject) -> None:
    subs, parts = data.draw(groups())
    current = data.draw(previous_ownership(subs, parts, conflicts=True))
    check_valid(assign(strategy, subs, parts, current=current), subs, parts)


@pytest.mark.parametrize("strategy", STRATEGIES)
@PROPERTY
@given(data=st.data())
def test_property_deterministic_and_independent_of_dict_order(strategy: str, data: st.DataObject) -> None:
    subs, parts = data.draw(groups())
    current = data.draw(previous_ownership(subs, parts, conflicts=True))
    first = assign(strategy, subs, parts, current=current)
    assert assign(strategy, subs, parts, current=current) == first
    shuffler = random.Random(data.draw(st.integers(0, 2**32)))
    members = list(subs)
    shuffler.shuffle(members)
    reordered_subs = {m: list(reversed(subs[m])) for m in members}
    reordered_current = {m: list(reversed(current[m])) for m in reversed(list(current))}
    reordered_parts = dict(reversed(list(parts.items())))
    assert assign(strategy, reordered_subs, reordered_parts, current=reordered_current) == first


@pytest.mark.parametrize("strategy", STICKY)
@PROPERTY
@given(data=st.data())
def test_property_sticky_equal_subscriptions_balanced(strategy: str, data: st.DataObject) -> None:
    subs, parts = data.draw(groups(equal=True))
    current = data.draw(previous_ownership(subs, parts, conflicts=True))
    result = assign(strategy, subs, parts, current=current)
    check_valid(result, subs, parts)
    check_balanced(result)


@pytest.mark.parametrize("strategy", STICKY)
@PROPERTY
@given(data=st.data())
def test_property_sticky_moves_no_more_than_balance_requires(strategy: str, data: st.DataObject) -> None:
    """From any prior ownership, a member never both loses and gains, and total movement is minimal."""
    subs, parts = data.draw(groups(equal=True))
    current = data.draw(previous_ownership(subs, parts, conflicts=False))
    result = assign(strategy, subs, parts, current=current)
    valid = {
        m: {x for x in current[m] if x[0] in parts and x[1] < parts[x[0]] and x[0] in subs[m]} for m in subs
    }
    total = sum(len(v) for v in result.values())
    floor, over = divmod(total, len(subs))
    best_kept = 0
    for rank, owned in enumerate(sorted((len(v) for v in valid.values()), reverse=True)):
        best_kept += min(owned, floor + (1 if rank < over else 0))
    kept = {m: len(valid[m] & set(result[m])) for m in subs}
    assert sum(kept.values()) == best_kept
    for member in subs:
        assert kept[member] == min(len(valid[member]), len(result[member]))


@pytest.mark.parametrize("strategy", STICKY)
@PROPERTY
@given(data=st.data())
def test_property_sticky_member_joins(strategy: str, data: st.DataObject) -> None:
    subs, parts = data.draw(groups(equal=True))
    newcomer = data.draw(st.sampled_from([m for m in MEMBER_IDS if m not in subs] + ["new-member"]))
    before = assign(strategy, subs, parts)
    check_balanced(before)
    grown = {**subs, newcomer: next(iter(subs.values()))}
    after = assign(strategy, grown, parts, current=before)
    check_valid(after, grown, parts)
    check_balanced(after)
    total = sum(len(v) for v in before.values())
    floor, over = divmod(total, len(grown))
    # Only the ceil(P/M) slots that old owners can actually fill go to them, so exactly this many move.
    quotas = [floor + (1 if rank < over else 0) for rank in range(len(subs))]
    previous = sorted((len(v) for v in before.values()), reverse=True)
    must_keep = sum(min(c, q) for c, q in zip(previous, quotas, strict=True))
    for member in subs:
        kept = len(set(before[member]) & set(after[member]))
        assert kept == min(len(before[member]), len(after[member]))
        assert kept >= min(len(before[member]), floor)
    moved = total - sum(len(set(before[m]) & set(after[m])) for m in subs)
    assert moved == total - must_keep
    assert len(after[newcomer]) == moved


@pytest.mark.parametrize("strategy", STICKY)
@PROPERTY
@given(data=st.data())
def test_property_sticky_member_leaves(strategy: str, data: st.DataObject) -> None:
    subs, parts = data.draw(groups(equal=True))
    if len(subs) < 2:
        subs = {**subs, "zz-extra": next(iter(subs.values()))}
    before = assign(strategy, subs, parts)
    leaver = data.draw(st.sampled_from(sorted(subs)))
    shrunk = {m: t for m, t in subs.items() if m != leaver}
    after = assign(strategy, shrunk, parts, current=before)
    check_valid(after, shrunk, parts)
    check_balanced(after)
    for member in shrunk:
        assert set(before[member]) <= set(after[member])


@PROPERTY
@given(data=st.data())
def test_property_cooperative_sticky_target_equals_sticky(data: st.DataObject) -> None:
    subs, parts = data.draw(groups())
    current = data.draw(previous_ownership(subs, parts, conflicts=True))
    assert assign("cooperative-sticky", subs, parts, current) == assign("sticky", subs, parts, current)


@PROPERTY
@given(data=st.data())
def test_property_sticky_unequal_subscriptions_keep_owned_when_already_fair(data: st.DataObject) -> None:
    """Re-running sticky on its own output changes nothing (a rebalance with no membership change is a no-op)."""
    subs, parts = data.draw(groups())
    first = assign("sticky", subs, parts)
    assert assign("sticky", subs, parts, current=first) == first


@PROPERTY
@given(data=st.data())
def test_property_range_shares_per_topic(data: st.DataObject) -> None:
    subs, parts = data.draw(groups())
    result = assign("range", subs, parts)
    for topic, count in parts.items():
        members = sorted(m for m in subs if topic in subs[m])
        shares = [sum(1 for t, _ in result[m] if t == topic) for m in members]
        if members:
            base, extra = divmod(count, len(members))
            assert shares == [base + 1] * extra + [base] * (len(members) - extra)
