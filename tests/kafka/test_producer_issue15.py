"""Issue 15 behaviours of the producer (1, 3, 8, 9): each test failed on the engine before its fix."""

from __future__ import annotations

from engine import Cluster
from engine.compare import outcome


def test_ack_latency_p99_is_per_record():
    """Issue 15 behaviour 9: the p99 of acknowledgement latency counts records, not batches."""
    c = Cluster(brokers=2, seed=3)
    c.create_topic("t", partitions=2, replication_factor=1)
    c.run_for(100)
    leaders = c.leaders_of("t")
    slow = 1 if leaders[1] != leaders[0] else 0
    p = c.producer("p", {"acks": "1", "linger.ms": 0})
    for i in range(963):  # 963 records acknowledged in a few ms, each in its own batch
        p.send("t", value=b"v%d" % i, partition=1 - slow)
        c.run_for(1)
    p.flush()
    c.crash_broker(leaders[slow])  # the only replica of the other partition: its 37 records wait
    futs = [p.send("t", value=b"w%d" % i, partition=slow) for i in range(37)]
    c.run_for(9000)
    c.restart_broker(leaders[slow])
    p.flush()
    assert all(f.succeeded for f in futs)
    p99 = outcome(c).ack_latency_p99_ms
    assert p99 is not None and p99 >= 9000
