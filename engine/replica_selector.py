"""Which replica a consumer reads from (KIP-392, fetch from follower).

A leader whose broker sets `replica.selector.class` asks the selector, on every consumer fetch, which replica
the consumer should read from; if the answer is not the leader, the fetch response carries it as the
"preferred read replica" (instead of records) and the consumer fetches from that follower, up to the
follower's high watermark, until `metadata.max.age.ms` passes or a fetch there fails.
Kafka: org.apache.kafka.common.replica.RackAwareReplicaSelector, ReplicaView, and
ReplicaManager.findPreferredReadReplica (which offers the selector the leader plus the in-sync followers that
have the fetch offset).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple


class ReplicaView(NamedTuple):
    """org.apache.kafka.common.replica.ReplicaView: a replica's broker, rack and how caught up it is."""

    id: int
    rack: str | None
    log_end_offset: int
    time_since_last_caught_up_ms: int


def _most_caught_up(v: ReplicaView) -> tuple[int, int, int]:
    """ReplicaView.comparator: higher log end offset, then more recently caught up, then higher broker id."""
    return (v.log_end_offset, -v.time_since_last_caught_up_ms, v.id)


def rack_aware_select(
    client_rack: str | None, replicas: Iterable[ReplicaView], leader: ReplicaView
) -> ReplicaView:
    """RackAwareReplicaSelector.select: the leader unless the client names a rack that holds replicas and the
    leader is not among them; then the most caught-up replica in that rack."""
    if not client_rack:
        return leader
    same_rack = [v for v in replicas if v.rack == client_rack]
    if not same_rack or leader in same_rack:
        return leader
    return max(same_rack, key=_most_caught_up)
