"""Retention and compaction: how a partition log gets smaller (LogManager's retention task, LogCleaner).

* `cleanup.policy=delete`: every `log.retention.check.interval.ms` the leader deletes whole segments,
  oldest first, that are older than `retention.ms` (by their newest record's timestamp) or that push the log
  over `retention.bytes`; only segments wholly below the high watermark go (UnifiedLog.deletableSegments).
  When every segment goes, the active one included, Kafka rolls a new empty active segment first
  (UnifiedLog.deleteSegments): the log is empty and its start offset is its end offset. The log start offset
  moves up; a consumer behind it gets OFFSET_OUT_OF_RANGE and applies `auto.offset.reset`. (Real Kafka runs
  retention on every replica with its own HW; here followers follow the leader's log start offset.)
* `cleanup.policy=compact`: the cleaner (every `log.cleaner.backoff.ms`) keeps the latest record per key in
  the closed segments (never the active one), keeping offsets, so gaps appear. A tombstone (null value)
  stays for `delete.retention.ms` after it was first cleaned, so consumers can see the delete, then goes.
  `compact,delete` applies both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .log import Segment

if TYPE_CHECKING:
    from .contracts import World
    from .replica import Replica


class Retention:
    def __init__(self, cluster: World) -> None:
        self.cluster = cluster
        self.tombstone_seen: dict[
            tuple[str, int, int], int
        ] = {}  # (topic, partition, offset) -> first cleaned at

    def start(self) -> None:
        c = self.cluster
        c.scheduler.after(c.broker_config.log_retention_check_interval_ms, self._retention_tick)
        c.scheduler.after(c.broker_config.log_cleaner_backoff_ms, self._cleaner_tick)

    def _retention_tick(self) -> None:
        c = self.cluster
        self.run_retention()
        c.scheduler.after(c.broker_config.log_retention_check_interval_ms, self._retention_tick)

    def _cleaner_tick(self) -> None:
        c = self.cluster
        self.run_cleaner()
        c.scheduler.after(c.broker_config.log_cleaner_backoff_ms, self._cleaner_tick)

    # -- delete ------------------------------------------------------------------------------------------------
    def run_retention(self) -> None:
        c = self.cluster
        now = c.now
        for broker in c.brokers.values():
            if not broker.alive:
                continue
            for r in broker.replicas.values():
                tcfg = c.topic_config(r.topic)
                if not tcfg.delete or not r.is_leader:
                    continue
                self._apply_delete(r, tcfg.retention_ms, tcfg.retention_bytes, now)

    def _apply_delete(self, r: Replica, retention_ms: int, retention_bytes: int, now: int) -> None:
        log = r.log
        segs = log.segments
        n = len(segs)
        count = 0
        size = log.size_bytes
        why = ""
        for i, seg in enumerate(segs):
            upper = segs[i + 1].base_offset if i + 1 < n else log.log_end_offset
            if upper > r.hw or not seg.batches and i + 1 == n:
                break  # UnifiedLog.deletableSegments: only wholly below the HW, never an empty active segment
            too_old = retention_ms >= 0 and seg.batches and now - seg.max_timestamp > retention_ms
            too_big = retention_bytes >= 0 and size - seg.size_bytes >= retention_bytes
            if not (too_old or too_big):
                break
            why = (
                f"older than retention.ms={retention_ms}"
                if too_old
                else f"over retention.bytes={retention_bytes}"
            )
            size -= seg.size_bytes
            count += 1
        if not count:
            return
        everything = count == n
        gone = log.roll_and_delete_all(now) if everything else log.delete_segments_before(count)
        records = sum(b.count for s in gone for b in s.batches)
        start = log.log_start_offset
        if everything:
            where = (
                f": every segment had expired, so the broker first rolled a new empty active segment at offset "
                f"{start} and deleted the old active one too; the log is empty and starts at its end offset "
                f"{start}"
            )
        else:
            where = f": the log now starts at offset {start}"
        self.cluster.emit(
            "segments_deleted",
            f"Retention deleted {count} old segment(s) ({records} record(s), {why}) "
            f"from {r.topic}-{r.partition} on broker {r.broker_id}{where}",
            actors=(f"broker-{r.broker_id}",),
            topic=r.topic,
            partition=r.partition,
            log_start_offset=start,
            segments=count,
            records=records,
            rolled=everything,
        )

    def follow_log_start(self, r: Replica, leader_log_start: int) -> None:
        """A follower moves its log start offset up to the leader's (fetch responses carry it)."""
        log = r.log
        count = 0
        for i in range(len(log.segments) - 1):
            if log.segments[i + 1].base_offset <= leader_log_start:
                count += 1
            else:
                break
        if leader_log_start >= log.log_end_offset and log.size_bytes:
            # the leader's retention emptied its log: this replica's own retention does the same (roll first)
            log.roll_and_delete_all(self.cluster.now)
            return
        if count:
            log.delete_segments_before(count)
        log.log_start_offset = max(log.log_start_offset, min(leader_log_start, log.log_end_offset))
        log.trim_epochs_to_start()

    # -- compact -----------------------------------------------------------------------------------------------
    def run_cleaner(self) -> None:
        c = self.cluster
        now = c.now
        for broker in c.brokers.values():
            if not broker.alive:
                continue
            for r in broker.replicas.values():
                tcfg = c.topic_config(r.topic)
                if tcfg.compact and len(r.log.segments) > 1:
                    self._compact(r, now, tcfg.delete_retention_ms, tcfg.min_compaction_lag_ms)

    def _compact(self, r: Replica, now: int, delete_retention_ms: int, min_lag_ms: int) -> None:
        log = r.log
        closed = log.segments[:-1]
        limit = min(log.segments[-1].base_offset, r.hw)  # the cleanable part: closed segments below the HW
        latest: dict[bytes, int] = {}
        for seg in log.segments:
            for b in seg.batches:
                for off, k in zip(b.record_offsets(), b.keys, strict=True):
                    if k is not None:
                        latest[k] = off
        removed = 0
        tombstones = 0
        new_segments: list[Segment] = []
        for seg in closed:
            ns = Segment(seg.base_offset, seg.created_ms)
            for b in seg.batches:
                if b.next_offset > limit or now - b.max_timestamp < min_lag_ms:
                    keep_idx = list(range(b.count))
                else:
                    keep_idx = []
                    for i, (off, k) in enumerate(zip(b.record_offsets(), b.keys, strict=True)):
                        if latest.get(k) != off:
                            continue
                        if b.values[i] is None:
                            key = (r.topic, r.partition, off)
                            first = self.tombstone_seen.setdefault(key, now)
                            if now - first >= delete_retention_ms:
                                tombstones += 1
                                continue
                        keep_idx.append(i)
                if len(keep_idx) == b.count:
                    kept = b
                elif keep_idx:
                    kept = b.keep(keep_idx)
                else:
                    kept = None
                removed += b.count - len(keep_idx)
                if kept is not None:
                    ns.batches.append(kept)
                    ns.bases.append(kept.base_offset)
                    ns.size_bytes += kept.wire_bytes
            new_segments.append(ns)
        if not removed:
            return
        log.replace_segments(new_segments)
        if r.is_leader:
            extra = (
                f", including {tombstones} tombstone(s) older than delete.retention.ms" if tombstones else ""
            )
            self.cluster.emit(
                "log_compacted",
                f"The log cleaner compacted {r.topic}-{r.partition}: {removed} "
                f"superseded record(s) removed{extra}; the latest value per key stays and offsets "
                f"keep their gaps",
                actors=(f"broker-{r.broker_id}",),
                topic=r.topic,
                partition=r.partition,
                removed=removed,
                tombstones=tombstones,
            )
