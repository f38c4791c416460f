"""Ported from Apache Kafka core: kafka.log.UnifiedLogTest (time-based retention and the high watermark).

The log is one replica's `PartitionLog`, retention is `engine.retention.Retention._apply_delete` (Kafka's
UnifiedLog.deleteOldSegments for `cleanup.policy=delete`). Kafka's mock clock starts far from 0; records
here carry timestamp `now - 1000` as Kafka's do. Segment sizes are ours (a record's wire size differs), so
Kafka's segment.bytes=512 is kept as "several segments", which Kafka's test also asserts.
"""

from __future__ import annotations

from _core_helpers import PartitionHarness, records


def _expired_log(n: int = 100) -> PartitionHarness:
    h = PartitionHarness(brokers=1, topic_config={"retention.ms": 999, "segment.bytes": 512})
    h.sleep(10_000)
    log = h.r.log
    for _ in range(n):  # TestUtils.singletonRecords(timestamp = now - 1000)
        log.append(
            records(1, ts=h.now - 1000, value=b"test00").at(log.log_end_offset, 0), h.now, 512, 1 << 40
        )
    return h


def _delete_old_segments(h: PartitionHarness) -> None:
    h.c.retention._apply_delete(h.r, 999, -1, h.now)


def test_cannot_delete_segments_at_or_above_high_watermark():
    """Issue 15 behaviour 7: UnifiedLogTest.testCannotDeleteSegmentsAtOrAboveHighWatermark. Once the HW reaches
    the end, every segment has expired: a new empty active segment is rolled and the old active one goes too."""
    h = _expired_log()
    log = h.r.log
    assert len(log.segments) > 5
    h.r.hw = 0
    assert (log.log_start_offset, log.log_end_offset) == (0, 100)
    for hw in range(0, 101):
        h.r.hw = hw
        _delete_old_segments(h)
        assert log.log_start_offset <= hw
        head, *tail = log.segments
        assert log.log_start_offset <= head.base_offset <= hw
        assert all(s.base_offset > hw and s.base_offset >= log.log_start_offset for s in tail)
    assert log.log_start_offset == 100
    assert len(log.segments) == 1
    assert log.segments[0].size_bytes == 0 and not log.segments[0].batches  # activeSegment.size == 0


def test_segment_deletion_with_high_watermark_initialization():
    """UnifiedLogTest.testSegmentDeletionWithHighWatermarkInitialization"""
    h = _expired_log()
    h.r.hw = 25
    before = len(h.r.log.segments)
    _delete_old_segments(h)
    assert len(h.r.log.segments) < before
    assert h.r.log.log_start_offset <= 25


def test_delete_old_segments_expire_all():
    """UnifiedLogTest.testDeleteOldSegments: no HW, nothing deleted; HW at the end, one (empty) segment left."""
    h = _expired_log()
    log = h.r.log
    log.assign_epoch_start(0, 40)  # log.maybeAssignEpochStartOffset(0, 40)
    log.assign_epoch_start(1, 90)
    n = len(log.segments)
    h.r.hw = 0
    _delete_old_segments(h)
    assert len(log.segments) == n and log.log_start_offset == 0
    for hw in range(25, 31):
        h.r.hw = hw
        _delete_old_segments(h)
        assert log.log_start_offset <= hw
        assert all(b.last_offset >= hw for s in log.segments for b in s.batches[-1:])
    h.r.hw = log.log_end_offset
    _delete_old_segments(h)
    assert len(log.segments) == 1  # "The deleted segments should be gone."
    assert log.epochs == [(1, 100)]  # "Epoch entry should be the latest epoch and the leo."
    assert log.log_start_offset == log.log_end_offset == 100


def test_retention_empties_the_log_in_the_snapshot_and_events():
    """Issue 15 behaviour 7 as a student sees it: after retention.ms every segment, the active one too, is gone;
    the partition's log start offset equals its end offset on every replica, and the event says why."""
    from engine import Cluster

    c = Cluster(brokers=3, seed=1, config={"log.retention.check.interval.ms": 1000})
    c.create_topic(
        "logs",
        partitions=1,
        replication_factor=3,
        config={"segment.bytes": 500, "retention.ms": 5000, "min.insync.replicas": 2},
    )
    p = c.producer("p1", {"linger.ms": 0})
    for i in range(30):
        p.send("logs", value=f"event-{i:03d}-" + "x" * 20)
        c.run_for(100)
    p.flush()
    c.run_for(12_000)
    pv = c.snapshot().partition("logs", 0)
    assert pv.log_start_offset == pv.log_end_offset == 30
    assert pv.tail == ()
    assert all(rs.log_start_offset == 30 and rs.segments == 1 for rs in pv.replica_states)
    last = [e for e in c.events.events if e.kind == "segments_deleted"][-1]
    assert last.data["rolled"] and last.data["log_start_offset"] == 30
    assert "rolled a new empty active segment at offset 30" in last.summary
