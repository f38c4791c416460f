"""The loss ledger: every acknowledged record, and which of them no longer exist in the partition's log.

Real Kafka can lose acknowledged records: with acks=1 when the leader dies before a follower copied the
batch, with an unclean leader election, or when a returning replica truncates its divergent suffix. The
ledger remembers each acknowledged batch (a reference to the immutable batch, not a copy) and, whenever a
partition gets a new leader, checks the newest acknowledged batches against the new leader's log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .snapshot import AckedBatchView, LostRecordView

if TYPE_CHECKING:
    from .replica import Replica

TP = tuple[str, int]


class AckedBatch:
    __slots__ = ("base", "last", "keys", "values", "acks", "time_ms", "producer", "lost_reason", "lost_ms")

    def __init__(
        self, base: int, last: int, keys: tuple, values: tuple, acks: int, time_ms: int, producer: str
    ):
        self.base, self.last, self.keys, self.values = base, last, keys, values
        self.acks, self.time_ms, self.producer = acks, time_ms, producer
        self.lost_reason: str | None = None
        self.lost_ms = -1

    def __deepcopy__(self, memo: dict) -> AckedBatch:
        """A checkpoint copies the two mutable fields and shares the record tuples (immutable, and as long
        as the whole history: deep-copying them made every checkpoint cost O(records acknowledged))."""
        twin = AckedBatch(
            self.base, self.last, self.keys, self.values, self.acks, self.time_ms, self.producer
        )
        twin.lost_reason, twin.lost_ms = self.lost_reason, self.lost_ms
        return twin


class LossLedger:
    def __init__(self) -> None:
        self.acked: dict[TP, list[AckedBatch]] = {}
        self.lost: dict[TP, list[AckedBatch]] = {}
        self.unclean: dict[TP, int] = {}  # tp -> broker elected uncleanly (pending reason for the next check)
        self.acked_records = 0

    def record_ack(
        self, tp: TP, base: int, keys: tuple, values: tuple, acks: int, now: int, producer: str
    ) -> None:
        n = len(keys)
        entries = self.acked.get(tp)
        if entries is None:
            entries = self.acked[tp] = []
        entries.append(AckedBatch(base, base + n - 1, keys, values, acks, now, producer))
        self.acked_records += n

    def note_unclean(self, tp: TP, broker: int) -> None:
        self.unclean[tp] = broker

    def check(self, leader: Replica, now: int) -> list[AckedBatch]:
        """Compare the newest acknowledged batches with the new leader's log (divergence is always a suffix)."""
        tp = leader.tp
        entries = self.acked.get(tp)
        if not entries:
            self.unclean.pop(tp, None)
            return []
        unclean = self.unclean.pop(tp, None)
        log = leader.log
        newly: list[AckedBatch] = []
        for e in reversed(entries):
            if e.lost_reason is not None:
                continue
            if _present(log, e):
                break
            if unclean is not None:
                e.lost_reason = f"unclean leader election: broker {unclean} led without this record"
            elif e.acks == 1:
                e.lost_reason = (
                    "acks=1: the leader acknowledged it before any follower copied it, then lost "
                    "leadership; the new leader never had it"
                )
            else:
                e.lost_reason = "truncated: the new leader's log does not contain it"
            e.lost_ms = now
            newly.append(e)
        if newly:
            self.lost.setdefault(tp, []).extend(reversed(newly))
        return newly

    def lost_records(self, tp: TP | None = None) -> list[LostRecordView]:
        out = []
        for key, entries in self.lost.items():
            if tp is not None and key != tp:
                continue
            for e in entries:
                for i in range(e.last - e.base + 1):
                    out.append(
                        LostRecordView(
                            key[0], key[1], e.base + i, e.keys[i], e.values[i], e.lost_reason or "", e.lost_ms
                        )
                    )
        return out

    def acked_by(self, producer: str, n: int, scan: int) -> list[AckedBatchView]:
        """The producer's newest `n` acknowledged batches, newest first, looking at the newest `scan` batches
        of each partition."""
        found = []
        for (topic, partition), entries in self.acked.items():
            mine = 0
            for i in range(len(entries) - 1, max(-1, len(entries) - 1 - scan), -1):
                e = entries[i]
                if e.producer == producer:
                    found.append((e.time_ms, topic, partition, e))
                    mine += 1
                    if mine >= n:
                        break
        found.sort(key=lambda f: (f[0], f[1], f[2], f[3].base), reverse=True)
        return [
            AckedBatchView(
                topic, partition, e.base, e.last, e.keys[0] if e.keys else None, t, e.producer, e.lost_reason
            )
            for t, topic, partition, e in found[:n]
        ]

    @property
    def lost_count(self) -> int:
        return sum(e.last - e.base + 1 for es in self.lost.values() for e in es)


def _present(log, e: AckedBatch) -> bool:
    """Is this acknowledged batch (the same records, at the same offset) still in the log?"""
    if e.last < log.log_start_offset:
        return True  # deleted by retention, which is not a loss
    if e.base >= log.log_end_offset:
        return False
    for b in log.batches_at(e.base):
        if b.offsets is not None:
            return True  # compaction rewrote this batch: records it dropped were superseded, not lost
        return b.keys is e.keys or (b.base_offset == e.base and b.keys == e.keys)
    return False
