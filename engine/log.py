"""One replica's partition log: append-only record batches in segments (Kafka's UnifiedLog / LogSegment).

Offsets only grow. The log start offset moves up when retention deletes whole closed segments; the log
end offset (LEO) is the offset the next record will get. A leader-epoch cache (KIP-101) remembers where
each leader epoch started, so a diverged replica can find where to truncate.
"""

from __future__ import annotations

from bisect import bisect_right

from .records import RecordBatch


class Segment:
    __slots__ = ("base_offset", "batches", "bases", "size_bytes", "created_ms")

    def __init__(self, base_offset: int, created_ms: int) -> None:
        self.base_offset = base_offset
        self.batches: list[RecordBatch] = []
        self.bases: list[int] = []  # base offsets, for bisect
        self.size_bytes = 0
        self.created_ms = created_ms

    @property
    def max_timestamp(self) -> int:
        return max((b.max_timestamp for b in self.batches), default=-1)

    @property
    def next_offset(self) -> int:
        return self.batches[-1].next_offset if self.batches else self.base_offset


class PartitionLog:
    __slots__ = ("segments", "log_start_offset", "log_end_offset", "epochs", "size_bytes")

    def __init__(self, now_ms: int = 0) -> None:
        self.segments: list[Segment] = [Segment(0, now_ms)]
        self.log_start_offset = 0
        self.log_end_offset = 0
        self.epochs: list[tuple[int, int]] = []  # (leader epoch, start offset), ascending
        self.size_bytes = 0

    # -- writing ---------------------------------------------------------------------------------------
    def append(self, batch: RecordBatch, now_ms: int, segment_bytes: int, segment_ms: int) -> bool:
        """Append a batch placed at LEO. Returns True if a new segment was rolled first."""
        rolled = False
        active = self.segments[-1]
        wire = batch.wire_bytes
        if active.batches and (
            active.size_bytes + wire > segment_bytes or now_ms - active.created_ms >= segment_ms
        ):
            active = Segment(self.log_end_offset, now_ms)
            self.segments.append(active)
            rolled = True
        active.batches.append(batch)
        active.bases.append(batch.base_offset)
        active.size_bytes += wire
        self.size_bytes += wire
        self.log_end_offset = batch.next_offset
        epochs = self.epochs
        if not epochs or epochs[-1][0] < batch.leader_epoch:
            epochs.append((batch.leader_epoch, batch.base_offset))
        return rolled

    def assign_epoch_start(self, epoch: int, start: int) -> None:
        """A new leader records where its epoch starts before any append (UnifiedLog.maybeAssignEpochStartOffset;
        LeaderEpochFileCache.assign drops entries of a later epoch or a later start first)."""
        if self.epochs and self.epochs[-1][0] == epoch and self.epochs[-1][1] <= start:
            return
        self.epochs = [(e, s) for e, s in self.epochs if e < epoch and s < start] + [(epoch, start)]

    def trim_epochs_to_start(self) -> None:
        """LeaderEpochFileCache.truncateFromStart: entries wholly below the log start offset go; the newest of
        them is kept, moved to start at the log start offset."""
        start = self.log_start_offset
        below = [(e, s) for e, s in self.epochs if s <= start]
        if below:
            self.epochs = [(below[-1][0], start)] + [(e, s) for e, s in self.epochs if s > start]

    def truncate_to(self, offset: int) -> list[RecordBatch]:
        """Remove everything at or above `offset` (KIP-101 truncation). Returns what was removed."""
        removed: list[RecordBatch] = []
        if offset >= self.log_end_offset:
            return removed
        while len(self.segments) > 1 and self.segments[-1].base_offset >= offset:
            seg = self.segments.pop()
            removed[:0] = seg.batches
            self.size_bytes -= seg.size_bytes
        seg = self.segments[-1]
        while seg.batches and seg.batches[-1].base_offset >= offset:
            b = seg.batches.pop()
            seg.bases.pop()
            seg.size_bytes -= b.wire_bytes
            self.size_bytes -= b.wire_bytes
            removed.insert(0, b)
        if seg.batches and seg.batches[-1].last_offset >= offset:  # a batch straddles the cut
            b = seg.batches[-1]
            keep = [i for i, o in enumerate(b.record_offsets()) if o < offset]
            kept = b.keep(keep)
            gone = b.keep([i for i in range(b.count) if i not in set(keep)])
            kept.last_offset = offset - 1
            kept.next_offset = offset
            seg.batches[-1] = kept
            seg.size_bytes += kept.wire_bytes - b.wire_bytes
            self.size_bytes += kept.wire_bytes - b.wire_bytes
            removed.insert(0, gone)
        self.log_end_offset = (
            max(offset, self.log_start_offset)
            if seg.batches or len(self.segments) > 1
            else max(min(offset, self.log_end_offset), self.log_start_offset)
        )
        if not seg.batches and len(self.segments) == 1:
            seg.base_offset = self.log_end_offset
        self.epochs = [(e, s) for e, s in self.epochs if s < self.log_end_offset]
        return removed

    def delete_segments_before(self, count: int) -> list[Segment]:
        """Retention: drop the oldest `count` closed segments; the log start offset moves up."""
        count = min(count, len(self.segments) - 1)
        gone, self.segments = self.segments[:count], self.segments[count:]
        for seg in gone:
            self.size_bytes -= seg.size_bytes
        if gone:
            self.log_start_offset = max(self.log_start_offset, self.segments[0].base_offset)
            self.trim_epochs_to_start()
        return gone

    def roll_and_delete_all(self, now_ms: int) -> list[Segment]:
        """Retention expired every segment (UnifiedLog.deleteSegments): a log always has one segment, so a new
        empty active segment is rolled at the LEO first and all the old ones, the old active one too, go.
        The log is empty and its log start offset is its log end offset."""
        gone = self.segments
        self.segments = [Segment(self.log_end_offset, now_ms)]
        self.size_bytes = 0
        self.log_start_offset = self.log_end_offset
        self.trim_epochs_to_start()
        return gone

    def replace_segments(self, segments: list[Segment]) -> None:
        """Compaction swaps cleaned copies of closed segments in (offsets unchanged)."""
        self.segments = [s for s in segments if s.batches] + [self.segments[-1]]
        self.size_bytes = sum(s.size_bytes for s in self.segments)

    def reset_to(self, offset: int, now_ms: int) -> None:
        """Empty the log and start it at `offset` (a replica that lost everything, or a new replica)."""
        self.segments = [Segment(offset, now_ms)]
        self.log_start_offset = self.log_end_offset = offset
        self.epochs = []
        self.size_bytes = 0

    # -- reading ---------------------------------------------------------------------------------------
    def read(self, offset: int, upto: int, max_bytes: int) -> list[RecordBatch]:
        """Whole batches holding offsets >= `offset` and < `upto`; at least one batch if any (Kafka's rule)."""
        out: list[RecordBatch] = []
        if offset >= upto or offset >= self.log_end_offset:
            return out
        segs = self.segments
        first = max(0, bisect_right([s.base_offset for s in segs], offset) - 1) if len(segs) > 1 else 0
        total = 0
        for si in range(first, len(segs)):
            seg = segs[si]
            start = bisect_right(seg.bases, offset) - 1
            if start < 0:  # (max(0, ...) without the builtin call: this is every log read)
                start = 0
            batches = seg.batches
            for bi in range(start, len(batches)):
                b = batches[bi]
                if b.last_offset < offset:
                    continue
                if b.next_offset > upto:  # never hand out a batch that crosses the limit (the HW)
                    return out
                wire = b.wire_bytes
                if out and total + wire > max_bytes:
                    return out
                out.append(b)
                total += wire
        return out

    def batches(self):
        for seg in self.segments:
            yield from seg.batches

    def tail(self, n: int) -> list[tuple[int, RecordBatch, int]]:
        """The last `n` records as (offset, batch, index in batch), oldest first."""
        out: list[tuple[int, RecordBatch, int]] = []
        for seg in reversed(self.segments):
            for b in reversed(seg.batches):
                offs = b.record_offsets()
                for i in range(b.count - 1, -1, -1):
                    out.append((offs[i], b, i))
                    if len(out) >= n:
                        return out[::-1]
        return out[::-1]

    def end_offset_for_epoch(self, epoch: int) -> tuple[int, int]:
        """OffsetsForLeaderEpoch (KIP-101/279): the largest epoch <= `epoch` we know, and where it ends."""
        best = -1
        for i, (e, _start) in enumerate(self.epochs):
            if e <= epoch:
                best = i
        if best < 0:
            return (-1, self.log_start_offset)
        e = self.epochs[best][0]
        end = self.epochs[best + 1][1] if best + 1 < len(self.epochs) else self.log_end_offset
        return (e, end)

    @property
    def latest_epoch(self) -> int:
        return self.epochs[-1][0] if self.epochs else -1

    def batches_at(self, offset: int):
        """The batch holding `offset`, if any (a generator of zero or one batch)."""
        segs = self.segments
        si = max(0, bisect_right([s.base_offset for s in segs], offset) - 1)
        seg = segs[si]
        bi = bisect_right(seg.bases, offset) - 1
        if bi >= 0 and seg.batches[bi].last_offset >= offset:
            yield seg.batches[bi]
