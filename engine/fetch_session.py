"""Incremental fetch sessions between brokers (KIP-227), the leader's side.

A follower fetches every partition it follows from one leader in one request, over and over; most of them
(the 50 `__consumer_offsets` partitions, idle topics) have nothing new. With a fetch session the follower
sends a full request once, then only the partitions whose fetch offset changed, and the leader answers only
partitions with something to say (KIP-227: "incremental fetch requests/responses").

What a fetch does to a partition that is caught up, in the ISR and has its high watermark at its log end is
always the same: the follower is caught up *now* (Kafka's Replica.updateFetchState sets lastCaughtUpTimeMs).
Such a partition is "quiet" here: it is not touched per fetch; its follower state reads the session's last
fetch time instead, and it stops being quiet (its state written back, exactly as the skipped fetches would
have left it) as soon as anything about it differs: the request names it, or the leader's log end, high
watermark, log start, partition epoch or leadership changed. So the ISR, the high watermark and every event
are the same as with full fetches; only the work per fetch no longer grows with idle partitions.
"""

from __future__ import annotations

from bisect import insort
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .log import PartitionLog
    from .replica import FollowerState, Replica

TP = tuple[str, int]


class FetchSession:
    """One follower's session on a leader: each partition's fetch offset, and which partitions are quiet."""

    __slots__ = (
        "follower_epoch",
        "offsets",
        "quiet",
        "last_fetch_ms",
        "checked_version",
        "_active",
        "quiet_counts",
    )

    def __init__(self, follower_epoch: int, now_ms: int, quiet_counts: dict[TP, int]) -> None:
        self.follower_epoch = (
            follower_epoch  # the follower broker's incarnation: a restart starts a new session
        )
        self.offsets: dict[TP, tuple[int, int]] = {}  # tp -> (fetch offset, leader epoch) as last sent
        # tp -> (replica, follower state, log end offset, partition epoch, log start offset, the replica's log)
        # when it went quiet (the log, which a replica never replaces, saves changed() a read per partition)
        self.quiet: dict[TP, tuple[Replica, FollowerState, int, int, int, PartitionLog]] = {}
        self.last_fetch_ms = now_ms
        self.checked_version = (
            -1
        )  # the leader's Broker.meta_version when leadership/ISR/epochs were last checked
        self._active: list[TP] | None = None  # sorted partitions not quiet; None: recompute (quiet changed)
        # the leader's count, per partition, of the sessions it is quiet in (shared by all of the leader's
        # sessions; never below the true count): a partition counted 0 is quiet nowhere, so new records on it
        # need not visit the parked fetches' sessions (Broker._complete_parked)
        self.quiet_counts = quiet_counts

    def active(self) -> list[TP]:
        """The session's partitions that are not quiet, sorted (a full fetch's order): what a fetch works on.
        Kept up to date as partitions go quiet and wake (a busy partition does both on most fetches); built
        again when the session gains a partition."""
        act = self._active
        if act is None:
            act = self._active = sorted(self.offsets.keys() - self.quiet.keys())
        return act

    def incremental(self, parts: dict[TP, tuple[int, int]], meta_version: int) -> dict[TP, tuple[int, int]]:
        """An incremental fetch naming `parts` (KIP-227): the partitions it names and those whose leader state
        moved leave quiet; returns what the fetch works on, every partition not quiet, in a full fetch's order."""
        offsets = self.offsets
        known = len(offsets)
        offsets.update(parts)  # the named partitions' new fetch offsets
        if len(offsets) != known:
            self._active = None  # a partition new to the session
        quiet = self.quiet
        for tp in parts:
            if tp in quiet:
                self.wake(tp)
        for tp in self.changed(meta_version):
            self.wake(tp)
        if not quiet:
            return offsets
        work = {}  # (a loop, not a dict comprehension: 3.11 makes a function object per comprehension run)
        for tp in self.active():
            work[tp] = offsets[tp]
        return work

    def make_quiet(self, tp: TP, r: Replica, f: FollowerState, leo: int) -> None:
        """Called right after a fetch was applied to `tp` (f's fetch state is of this fetch)."""
        log = r.log
        self.quiet[tp] = (r, f, leo, r.partition_epoch, log.log_start_offset, log)
        counts = self.quiet_counts
        counts[tp] = counts.get(tp, 0) + 1
        f.session = self
        act = self._active
        if act is not None:
            act.remove(tp)  # it was not quiet, so it is listed

    def wake(self, tp: TP) -> None:
        """Leave quiet: write back what every skipped fetch would have written (caught up at the last fetch)."""
        _r, f, leo, _pe, _ls, _log = self.quiet.pop(tp)
        self.quiet_counts[tp] -= 1
        act = self._active
        if act is not None:
            insort(act, tp)
        f.session = None
        f.restore(self.last_fetch_ms, leo)

    def wake_all(self) -> None:
        for tp in list(self.quiet):
            self.wake(tp)

    def changed(self, meta_version: int) -> list[TP]:
        """Quiet partitions whose leader state moved since they went quiet (checked once per fetch).

        The log end, high watermark and log start are compared every time; leadership, the partition epoch
        and a pending ISR change only when the leader's meta_version moved (every such change bumps it)."""
        full = meta_version != self.checked_version
        self.checked_version = meta_version
        out = []
        for tp, (r, _f, leo, pe, ls, log) in self.quiet.items():
            if (
                log.log_end_offset != leo
                or r.hw != leo
                or log.log_start_offset != ls
                or full
                and (not r.is_leader or r.partition_epoch != pe or r.pending_isr is not None)
            ):
                out.append(tp)
        return out
