"""Benchmark 1: end-to-end engine throughput, against mockafka-py running the same workload in the same run.

The workload is what a notebook user writes: send every record in a loop (the producer blocks in simulated
time when buffer.memory fills, as KafkaProducer.send does), flush, then poll the group's three consumers
until every record came back. Records per wall-clock second from the first send to the last record polled.
3 brokers, one topic of 6 partitions, RF=3, min.insync.replicas=2, acks=all, linger.ms=5, batch.size=16384,
1000 distinct keys, 100-byte values.

mockafka-py (an in-memory mock of confluent-kafka: no replication, no groups, no network) gets the same
records: produced to the partition murmur2 picks for their key, then consumed by one consumer (mockafka has
no consumer groups; one consumer reading everything is the same amount of work as a group of three).
"""

from __future__ import annotations

import gc
from typing import Any

from bench import Result, Timing, median, timed

FULL_RECORDS = 500_000
QUICK_RECORDS = 5_000
RUNS = 3
KEYS = 1000
VALUE_BYTES = 100
BAR_RECORDS_PER_S = 500_000
BAR_RATIO = 5.0


def records(n_keys: int = KEYS, value_bytes: int = VALUE_BYTES) -> tuple[list[bytes], list[bytes]]:
    """1000 distinct keys and 1000 distinct 100-byte values (made before the clock starts)."""
    keys = [f"user-{i:04d}".encode() for i in range(n_keys)]
    values = [(f"value-{i:04d}-".encode() * 20)[:value_bytes] for i in range(n_keys)]
    return keys, values


def engine_workload(
    n: int, partitions: int = 6, brokers: int = 3, replication_factor: int = 3, seed: int = 7
) -> Timing:
    """Set up outside the clock; time from the first send to the last record polled."""
    from engine import Cluster

    rf = min(replication_factor, brokers)
    # one broker cannot host a 3-way __consumer_offsets (the classic single-broker setup lowers it too)
    c = Cluster(brokers=brokers, seed=seed, config={"offsets.topic.replication.factor": min(3, brokers)})
    c.create_topic(
        "bench", partitions=partitions, replication_factor=rf, config={"min.insync.replicas": min(2, rf)}
    )
    producer = c.producer("p1", config={"acks": "all", "linger.ms": 5, "batch.size": 16384})
    consumers = [
        c.consumer(f"c{i}", group_id="g1", topics=["bench"], config={"auto.offset.reset": "earliest"})
        for i in range(1, 4)
    ]
    keys, values = records()

    def work() -> int:
        send = producer.send
        for i in range(n):
            j = i % KEYS
            send("bench", key=keys[j], value=values[j])
        producer.flush()
        got = 0
        while got < n:
            for k in consumers:
                got += len(k.poll(timeout_ms=100))
        return got

    t, got = timed(work)
    if got != n:
        raise RuntimeError(f"engine workload polled {got} records, expected {n}")
    return t


def mockafka_workload(n: int, partitions: int = 6) -> Timing:
    """The same records through mockafka-py's FakeProducer and FakeConsumer."""
    from confluent_kafka.admin import NewTopic
    from mockafka import FakeAdminClientImpl, FakeConsumer, FakeProducer

    from engine.partitioner import partition_for_key

    admin = FakeAdminClientImpl(clean=True)  # its store is a process-wide singleton: start empty
    admin.create_topics([NewTopic("bench", num_partitions=partitions, replication_factor=3)])
    producer = FakeProducer()
    consumer = FakeConsumer()
    consumer.subscribe(["bench"])
    keys, values = records()
    parts = [partition_for_key(k, partitions) for k in keys]  # the client's key -> partition, precomputed

    def work() -> int:
        produce = producer.produce
        for i in range(n):
            j = i % KEYS
            produce("bench", value=values[j], key=keys[j], partition=parts[j])
        producer.flush()
        got = 0
        while got < n:
            batch = consumer.consume(500)
            if not batch:
                break
            got += len(batch)
        return got

    t, got = timed(work)
    FakeAdminClientImpl(clean=True)  # free its memory
    if got != n:
        raise RuntimeError(f"mockafka workload consumed {got} records, expected {n}")
    return t


def _median_rate(n: int, timings: list[Timing]) -> tuple[float, float]:
    return n / median([t.wall for t in timings]), n / median([t.cpu for t in timings])


def run(quick: bool = False) -> list[Result]:
    n = QUICK_RECORDS if quick else FULL_RECORDS
    runs = 1 if quick else RUNS
    ours: list[Timing] = []
    peer: list[Timing] = []
    peer_error = None
    for _ in range(runs):  # interleaved, so both see the same machine load
        gc.collect()
        ours.append(engine_workload(n))
        if peer_error is None:
            try:
                gc.collect()
                peer.append(mockafka_workload(n))
            except ImportError as exc:  # mockafka-py is in the dev extra only
                peer_error = f"mockafka-py not installed ({exc.name})"
    wall, cpu = _median_rate(n, ours)
    detail: dict[str, Any] = {
        "records": n,
        "runs": runs,
        "wall_s": [round(t.wall, 3) for t in ours],
        "cpu_s": [round(t.cpu, 3) for t in ours],
        "records_per_cpu_s": round(cpu),
    }
    out = [
        Result(
            "throughput",
            round(wall),
            "records/s",
            f">= {BAR_RECORDS_PER_S:,} records/s",
            wall >= BAR_RECORDS_PER_S,
            detail=detail,
            cpu=round(cpu),
        )
    ]
    if peer:
        pwall, pcpu = _median_rate(n, peer)
        ratio = wall / pwall
        out.append(
            Result(
                "throughput_vs_mockafka",
                round(ratio, 2),
                "x",
                f">= {BAR_RATIO:g}x mockafka-py, which ran {pwall:,.0f} records/s",
                ratio >= BAR_RATIO,
                detail={
                    "mockafka_records_per_s": round(pwall),
                    "mockafka_records_per_cpu_s": round(pcpu),
                    "mockafka_wall_s": [round(t.wall, 3) for t in peer],
                    "cpu_ratio": round(cpu / pcpu, 2),
                },
                cpu=round(cpu / pcpu, 2),
            )
        )
    else:
        out.append(
            Result(
                "throughput_vs_mockafka",
                None,
                "x",
                f">= {BAR_RATIO:g}x mockafka-py",
                None,
                note=peer_error or "not measured",
            )
        )
    return out
