"""librdkafka's built-in mock cluster, the peer of benchmark 1 that users really pick for tests.

confluent-kafka (the Python client over librdkafka) has no Python API for the mock cluster, and the mock
broker does not implement CreateTopics; `test.mock.num.brokers` alone gives each client its own cluster and
auto-creates topics with 4 partitions. So the cluster is made through librdkafka's C API
(`rd_kafka_mock_cluster_new`, `rd_kafka_mock_topic_create`: 6 partitions, RF 3), from the very library the
confluent-kafka wheel loads, and the Python clients connect to its `rd_kafka_mock_cluster_bootstraps()`.

Two limits of the mock decide how its end-to-end run is set up (both in librdkafka's src/, v2.16):
  * a partition log keeps at most 5 MB (and 100,000 message sets) and drops the oldest beyond that
    (`max_size`/`max_cnt` in `rd_kafka_mock_partition_init`, rdkafka_mock.c; no API changes them). Benchmark
    1's 500,000 records are ~10 MB per partition, so a consumer lagging a few hundred thousand records behind
    loses records. The end-to-end comparison therefore runs `E2E_RECORDS` (200,000: with librdkafka's
    consistent_random partitioner the fullest partition holds 17.3% of them, ~4.1 MB) so the whole run fits
    the log whatever the consumers do, and the engine runs the same 200,000-record workload in the same round
    for the ratio (bench/throughput.py). A run that still loses records is not counted and says so.
  * a Fetch that finds no data is answered after the full `fetch.wait.max.ms` (500 ms by default) even when
    a producer appends meanwhile ("we should cut the wait short and feed newly produced data ... too much of
    a hassle", `rd_kafka_mock_handle_Fetch`); a real broker answers a parked fetch when data arrives
    (`fetch.min.bytes`=1), and so does the engine. The peer's consumers therefore use `fetch.wait.max.ms=10`
    (of 1, 5, 10 and 50 ms, 10 gave the peer its best end-to-end rate here): with the default, a consumer
    that caught up during the produce loop sat out up to 500 ms, which is the mock's artefact, not librdkafka's.
The mock also answers one message set per partition per Fetch; that is its real cost and stays in.
The produce-only run has no consumers and uses benchmark 1's full record count.
"""

from __future__ import annotations

import ctypes
import glob
import os
import time

from bench import Timing, timed

# end-to-end records: the whole run fits the mock's 5 MB partition logs (module doc)
E2E_RECORDS = 200_000


class MockCluster:
    """An rd_kafka_mock_cluster_t of `brokers` brokers with one topic; `bootstrap` for the clients."""

    def __init__(self, brokers: int, topic: str, partitions: int, replication_factor: int) -> None:
        import confluent_kafka

        site = os.path.dirname(os.path.dirname(confluent_kafka.__file__))
        found = glob.glob(os.path.join(site, "confluent_kafka.libs", "librdkafka*.so*"))
        lib = ctypes.CDLL(found[0]) if found else ctypes.CDLL("librdkafka.so.1")
        vp, cp = ctypes.c_void_p, ctypes.c_char_p
        lib.rd_kafka_conf_new.restype = vp
        lib.rd_kafka_new.restype = vp
        lib.rd_kafka_new.argtypes = [ctypes.c_int, vp, cp, ctypes.c_size_t]
        lib.rd_kafka_mock_cluster_new.restype = vp
        lib.rd_kafka_mock_cluster_new.argtypes = [vp, ctypes.c_int]
        lib.rd_kafka_mock_cluster_bootstraps.restype = cp
        lib.rd_kafka_mock_cluster_bootstraps.argtypes = [vp]
        lib.rd_kafka_mock_topic_create.argtypes = [vp, cp, ctypes.c_int, ctypes.c_int]
        lib.rd_kafka_mock_cluster_destroy.argtypes = [vp]
        lib.rd_kafka_destroy.argtypes = [vp]
        self.lib = lib
        lib.rd_kafka_conf_set.argtypes = [vp, cp, cp, cp, ctypes.c_size_t]
        err = ctypes.create_string_buffer(512)
        conf = lib.rd_kafka_conf_new()
        lib.rd_kafka_conf_set(conf, b"log_level", b"3", err, len(err))  # not "no bootstrap.servers"
        self.rk = lib.rd_kafka_new(0, conf, err, len(err))  # 0: RD_KAFKA_PRODUCER
        if not self.rk:
            raise RuntimeError(f"rd_kafka_new: {err.value.decode()}")
        self.mc = lib.rd_kafka_mock_cluster_new(self.rk, brokers)
        self.bootstrap = lib.rd_kafka_mock_cluster_bootstraps(self.mc).decode()
        code = lib.rd_kafka_mock_topic_create(self.mc, topic.encode(), partitions, replication_factor)
        if code:
            raise RuntimeError(f"rd_kafka_mock_topic_create: error {code}")

    def close(self) -> None:
        self.lib.rd_kafka_mock_cluster_destroy(self.mc)
        self.lib.rd_kafka_destroy(self.rk)


def _producer(bootstrap: str):
    from confluent_kafka import Producer

    # benchmark 1's producer settings; the local queue holds the whole run (send() never blocks on it)
    return Producer(
        {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "linger.ms": 5,
            "batch.size": 16384,
            "queue.buffering.max.messages": 1_000_000,
            "queue.buffering.max.kbytes": 1_048_576,
            "log_level": 3,
        }
    )


def _consumers(bootstrap: str, topic: str, n: int = 3) -> list:
    """A group of `n` consumers, joined and assigned before the clock starts (as the engine's are created)."""
    from confluent_kafka import Consumer

    cs = [
        Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": "g1",
                "auto.offset.reset": "earliest",
                "fetch.wait.max.ms": 10,  # the mock does not answer a parked fetch on produce (module doc)
                "log_level": 3,
            }
        )
        for _ in range(n)
    ]
    for c in cs:
        c.subscribe([topic])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(c.assignment() for c in cs):
        for c in cs:
            c.poll(0.05)
    return cs


def workload(keys: list, values: list, n: int, consume: bool) -> Timing | str:
    """One run against a fresh mock cluster (3 brokers, 6 partitions, RF 3): produce `n` records and flush
    (acks=all), and with `consume` then read them all back through a group of three consumers (benchmark 1's
    shape; librdkafka's consumers also fetch in their background threads while the producer runs). If not
    every record came back, the run is not counted: why, instead of a Timing."""
    mock = MockCluster(3, "bench", 6, 3)
    try:
        producer = _producer(mock.bootstrap)
        producer.list_topics("bench", timeout=10)  # metadata before the clock, as the engine's producer
        consumers = _consumers(mock.bootstrap, "bench") if consume else []
        nk, nv = len(keys), len(values)

        def work() -> int:
            produce, poll = producer.produce, producer.poll
            for i in range(n):
                try:
                    produce("bench", value=values[i % nv], key=keys[i % nk])
                except BufferError:
                    poll(0.01)
                    produce("bench", value=values[i % nv], key=keys[i % nk])
            if producer.flush(60):
                raise RuntimeError("librdkafka mock: records still unacknowledged after 60 s")
            # read back until all arrived, or nothing more came for 3 s: the mock's retention dropped records
            # (the run is then not counted), which must not cost a minute of waiting per run
            got = 0
            idle_until = time.monotonic() + 3
            while consumers and got < n and time.monotonic() < idle_until:
                before = got
                for c in consumers:  # no waiting on one consumer while another has records ready
                    got += len(c.consume(10_000, 0))
                if got == before:
                    time.sleep(0.001)
                else:
                    idle_until = time.monotonic() + 3
            return got

        t, got = timed(work)
        why = "" if not consume or got == n else _lost(consumers[0], got, n)
        for c in consumers:
            c.close()
        producer = None  # the client goes before its cluster
        return why or t
    finally:
        mock.close()


def _lost(consumer, got: int, n: int) -> str:
    """Why a run read `got` of `n` records: the mock's retention (a partition's log no longer starts at 0) or
    consumers that stopped receiving (3 s without a record, e.g. on a machine too busy for their threads)."""
    from confluent_kafka import TopicPartition

    lows = [consumer.get_watermark_offsets(TopicPartition("bench", p), timeout=5)[0] for p in range(6)]
    if any(lows):
        return f"the mock's log limit dropped records before they were read (log start offsets {lows})"
    return f"consumers received nothing for 3 s after {got:,} of {n:,} records"
