"""Benchmark 1: end-to-end engine throughput, in three shapes, against two peers running the same records in
the same run.

The workload is what a notebook user writes: send every record in a loop (the producer blocks in simulated
time when buffer.memory fills, as KafkaProducer.send does), flush, then poll the group's three consumers
until every record came back. Records per wall-clock second from the first send to the last record polled
(end-to-end), and from the first send to flush() returning (produce-only: every record acknowledged).
3 brokers, one topic of 6 partitions, RF=3, min.insync.replicas=2, acks=all, linger.ms=5, batch.size=16384.
Three shapes, so tuning cannot rest on one:
  * `base`: 1000 distinct keys, 1000 distinct 100-byte values, reused round-robin;
  * `distinct`: the same keys, a distinct 100-byte value for every record (made before the clock starts);
  * `headers`: null keys (the sticky partitioner's path, KIP-480/794) and one header per record.

Peers, interleaved with our runs so all see the same machine load, base shape only:
  * librdkafka's built-in mock cluster (3 brokers, 6 partitions, RF 3) through confluent-kafka, acks=all,
    the same producer settings: a real client and a real protocol over localhost, in C (bench/rdkafka_mock.py).
    Produce-only runs benchmark 1's records; end-to-end runs 200,000 of them (`rdkafka_mock.E2E_RECORDS`: the
    mock's partition logs keep 5 MB, so 500,000 records would lose some before the consumers read them), and
    each round runs our base shape on the same 200,000 records too, which that ratio compares against;
  * mockafka-py (an in-memory mock of confluent-kafka: no replication, no groups, no network): produced to
    the partition murmur2 picks for the key, then consumed by one consumer (mockafka has no consumer groups;
    one consumer reading everything is the same amount of work as a group of three).
Every figure is the median of RUNS runs with the spread (min-max) beside it.
"""

from __future__ import annotations

import gc
import time
from typing import Any

from bench import Result, Timing, median, timed

FULL_RECORDS = 500_000
QUICK_RECORDS = 5_000
RUNS = 5
KEYS = 1000
VALUE_BYTES = 100
BAR_RECORDS_PER_S = 750_000
BAR_VARIANT_RECORDS_PER_S = 650_000
BAR_RATIO = 5.0  # against mockafka-py
BAR_RDKAFKA_RATIO = 1.0  # against librdkafka's mock cluster, end-to-end and produce-only
SHAPES = ("base", "distinct", "headers")
HEADERS = [("trace-id", b"0123456789abcdef")]


def records(n_keys: int = KEYS, value_bytes: int = VALUE_BYTES) -> tuple[list[bytes], list[bytes]]:
    """1000 distinct keys and 1000 distinct 100-byte values (made before the clock starts)."""
    keys = [f"user-{i:04d}".encode() for i in range(n_keys)]
    values = [(f"value-{i:04d}-".encode() * 20)[:value_bytes] for i in range(n_keys)]
    return keys, values


def shape_records(shape: str, n: int) -> tuple[list, list, Any]:
    """Keys, values (indexed round-robin) and headers of one shape."""
    keys, values = records()
    if shape == "distinct":
        values = [b"%099d." % i for i in range(n)]  # a distinct 100-byte object per record
    elif shape == "headers":
        return [None], values, HEADERS
    return keys, values, None


def engine_workload(
    n: int,
    partitions: int = 6,
    brokers: int = 3,
    replication_factor: int = 3,
    seed: int = 7,
    shape: str = "base",
) -> Timing:
    """Set up outside the clock; time from the first send to the last record polled. `.produce` holds the
    time from the first send to flush() returning."""
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
    keys, values, headers = shape_records(shape, n)
    nk, nv = len(keys), len(values)
    produced: list[Timing] = []

    def work() -> int:
        w0, c0 = time.perf_counter(), time.process_time()
        send = producer.send
        if headers is None and nk == KEYS and nv == KEYS:  # the loop benchmark 1 always had
            for i in range(n):
                j = i % KEYS
                send("bench", key=keys[j], value=values[j])
        elif headers is None:
            for i in range(n):
                send("bench", key=keys[i % nk], value=values[i])
        else:
            key = keys[0]
            for i in range(n):
                send("bench", key=key, value=values[i % nv], headers=headers)
        producer.flush()
        produced.append(Timing(time.perf_counter() - w0, time.process_time() - c0))
        got = 0
        while got < n:
            for k in consumers:
                got += len(k.poll(timeout_ms=100))
        return got

    t, got = timed(work)
    if got != n:
        raise RuntimeError(f"engine workload ({shape}) polled {got} records, expected {n}")
    t.produce = produced[0]
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


def rdkafka_workloads(n_e2e: int, n: int) -> tuple[Timing | str, Timing | str]:
    """librdkafka's mock cluster: (end-to-end of `n_e2e` records, produce-only of `n`), each on a fresh mock
    cluster."""
    from bench import rdkafka_mock

    keys, values = records()
    return rdkafka_mock.workload(keys, values, n_e2e, consume=True), rdkafka_mock.workload(
        keys, values, n, consume=False
    )


def _rates(n: int, xs: list[float]) -> dict[str, Any]:
    """Records per second: the median run and the spread (slowest-fastest run)."""
    return {"median": n / median(xs), "spread": [n / max(xs), n / min(xs)]}


def _speedup(ours: list[float], peer: list[float]) -> dict[str, Any]:
    """How many times faster we ran than the peer (times in seconds): the ratio of the medians, and the spread
    of the per-run ratios (each run of ours paired with the peer's run interleaved with it)."""
    per_run = [p / o for o, p in zip(ours, peer, strict=False)]
    return {"median": median(peer) / median(ours), "spread": [min(per_run), max(per_run)]}


def _peer(kind: str, fn, errors: dict[str, str]):
    """Run one peer's workload; a missing package or a failing peer is reported, not fatal."""
    if kind in errors:
        return None
    try:
        gc.collect()
        return fn()
    except ImportError as exc:  # mockafka-py and confluent-kafka are in the dev extra only
        errors[kind] = f"not installed ({exc.name})"
    except Exception as exc:  # a peer that cannot run here must not hide our figures
        errors[kind] = f"error: {type(exc).__name__}: {exc}"
    return None


def _vs_peer(
    name: str, r: dict, rate: dict, bar: float, peer: str, detail: dict, cpu: float | None = None
) -> Result:
    """Our speed-up `r` over `peer`, which ran at `rate` (each a median and a min-max spread), against `bar`."""
    return Result(
        name,
        round(r["median"], 2),
        "x",
        f">= {bar:g}x {peer}, which ran {rate['median']:,.0f} records/s "
        f"({rate['spread'][0]:,.0f}-{rate['spread'][1]:,.0f})",
        r["median"] >= bar,
        detail={"spread": [round(x, 2) for x in r["spread"]], **detail},
        cpu=cpu,
    )


def _rdkafka_unmeasured(name: str, what: str, note: str) -> Result:
    """A librdkafka ratio line without a figure; `note` says why."""
    return Result(
        name, None, "x", f">= {BAR_RDKAFKA_RATIO:g}x librdkafka's mock cluster, {what}", None, note=note
    )


def run(quick: bool = False) -> list[Result]:
    from bench.rdkafka_mock import E2E_RECORDS

    n = QUICK_RECORDS if quick else FULL_RECORDS
    n_e2e = min(n, E2E_RECORDS)  # librdkafka end-to-end: a record count that fits the mock's logs
    runs = 1 if quick else RUNS
    ours: dict[str, list[Timing]] = {s: [] for s in SHAPES}
    mockafka: list[Timing] = []
    rd_e2e: list[tuple[Timing, Timing]] = []  # (our base run, the peer's run interleaved with it)
    rd_produce: list[tuple[Timing, Timing]] = []
    rd_skipped: list[str] = []  # why each uncounted end-to-end run was not counted
    errors: dict[str, str] = {}
    for _ in range(runs):  # interleaved, so every workload sees the same machine load
        for shape in SHAPES:
            gc.collect()
            ours[shape].append(engine_workload(n, shape=shape))
        got = _peer("rdkafka", lambda: rdkafka_workloads(n_e2e, n), errors)
        if got is not None:
            e2e, produce = got
            if isinstance(produce, Timing):
                rd_produce.append((ours["base"][-1], produce))
            if not isinstance(e2e, Timing):
                rd_skipped.append(e2e)
            else:  # ours on the same (smaller) record count, in the same round
                gc.collect()
                ours_e2e = ours["base"][-1] if n_e2e == n else engine_workload(n_e2e, shape="base")
                rd_e2e.append((ours_e2e, e2e))
        got = _peer("mockafka", lambda: mockafka_workload(n), errors)
        if got is not None:
            mockafka.append(got)

    out: list[Result] = []
    for shape, name, bar, what in (
        ("base", "throughput", BAR_RECORDS_PER_S, "1000 keys x 1000 values"),
        (
            "distinct",
            "throughput_distinct_values",
            BAR_VARIANT_RECORDS_PER_S,
            "a distinct 100 B value per record",
        ),
        ("headers", "throughput_headers_null_keys", BAR_VARIANT_RECORDS_PER_S, "null keys, one header each"),
    ):
        ts = ours[shape]
        wall = _rates(n, [t.wall for t in ts])
        cpu = _rates(n, [t.cpu for t in ts])
        prod = _rates(n, [t.produce.wall for t in ts])
        detail: dict[str, Any] = {
            "records": n,
            "runs": runs,
            "shape": what,
            "spread": [round(x) for x in wall["spread"]],
            "wall_s": [round(t.wall, 3) for t in ts],
            "cpu_s": [round(t.cpu, 3) for t in ts],
            "records_per_cpu_s": round(cpu["median"]),
            "produce_only_records_per_s": round(prod["median"]),
            "produce_only_spread": [round(x) for x in prod["spread"]],
            "produce_only_wall_s": [round(t.produce.wall, 3) for t in ts],
        }
        out.append(
            Result(
                name,
                round(wall["median"]),
                "records/s",
                f">= {bar:,} records/s ({what})",
                wall["median"] >= bar,
                detail=detail,
                cpu=round(cpu["median"]),
            )
        )

    base = ours["base"]
    if rd_produce:
        for name, pairs, what, count in (
            ("throughput_vs_librdkafka_mock", rd_e2e, "end-to-end", n_e2e),
            ("produce_vs_librdkafka_mock", rd_produce, "produce-only", n),
        ):
            if not pairs:
                note = f"no counted run ({'; '.join(sorted(set(rd_skipped))) or 'no run'})"
                out.append(_rdkafka_unmeasured(name, what, note))
                continue
            theirs = [p for _, p in pairs]
            ours_s = [o.wall if what == "end-to-end" else o.produce.wall for o, _ in pairs]
            peer_s = [t.wall for t in theirs]
            r = _speedup(ours_s, peer_s)
            rate = _rates(count, peer_s)
            out.append(
                _vs_peer(
                    name,
                    r,
                    rate,
                    BAR_RDKAFKA_RATIO,
                    f"librdkafka's mock cluster {what} (3 brokers, RF 3, acks=all, {count:,} records)",
                    detail={
                        "records": count,
                        "ours_records_per_s": round(count / median(ours_s)),
                        "librdkafka_records_per_s": round(rate["median"]),
                        "librdkafka_spread": [round(x) for x in rate["spread"]],
                        "librdkafka_wall_s": [round(x, 3) for x in peer_s],
                        "librdkafka_cpu_s": [round(t.cpu, 3) for t in theirs],
                        "runs_not_counted": len(rd_skipped) if what == "end-to-end" else 0,
                        "not_counted_why": rd_skipped if what == "end-to-end" else [],
                    },
                    # librdkafka's CPU time is every thread's: the clients' and the mock brokers'
                    cpu=round(
                        median([t.cpu for t in theirs])
                        / median([o.cpu if what == "end-to-end" else o.produce.cpu for o, _ in pairs]),
                        2,
                    ),
                )
            )
    else:
        for name, what in (
            ("throughput_vs_librdkafka_mock", "end-to-end"),
            ("produce_vs_librdkafka_mock", "produce-only"),
        ):
            out.append(
                _rdkafka_unmeasured(name, what, f"librdkafka mock {errors.get('rdkafka', 'not measured')}")
            )

    if mockafka:
        r = _speedup([t.wall for t in base], [t.wall for t in mockafka])
        rate = _rates(n, [t.wall for t in mockafka])
        out.append(
            _vs_peer(
                "throughput_vs_mockafka",
                r,
                rate,
                BAR_RATIO,
                "mockafka-py",
                detail={
                    "mockafka_records_per_s": round(rate["median"]),
                    "mockafka_wall_s": [round(t.wall, 3) for t in mockafka],
                    "mockafka_records_per_cpu_s": round(n / median([t.cpu for t in mockafka])),
                },
                cpu=round(median([t.cpu for t in mockafka]) / median([t.cpu for t in base]), 2),
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
                note=f"mockafka-py {errors.get('mockafka', 'not measured')}",
            )
        )
    return out
