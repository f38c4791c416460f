"""The producer batches, compresses, retries and de-duplicates as KafkaProducer does."""

from __future__ import annotations

import pytest

from engine import Cluster
from engine.errors import (
    BufferExhaustedError,
    IllegalStateError,
    KafkaError,
    KafkaTimeoutError,
    RecordTooLargeError,
)
from helpers import GROUP_FAST, make_cluster


def _consume_orders(c) -> list:
    """Everything on "orders", read by a new group's consumer (30 polls of 200 ms: far more than the test needs)."""
    k = c.consumer("c1", group_id="g", topics=["orders"], config=GROUP_FAST)
    got = []
    for _ in range(30):
        got += k.poll(200)
    return got


def _batches_sent(c: Cluster):
    return [e for e in c.events.events if e.kind == "batch_sent"]


def test_linger_collects_a_trickle_into_one_batch():
    c = make_cluster(partitions=1)
    p = c.producer("p1", {"linger.ms": 50})
    futs = []
    for i in range(10):  # one record every 4 ms: all within linger.ms
        futs.append(p.send("orders", key="k", value=f"v{i}"))
        c.run_for(4)
    c.run_for(200)
    sent = _batches_sent(c)
    assert len(sent) == 1 and sent[0].data["records"] == 10
    assert sent[0].time_ms == 50  # the first record waited exactly linger.ms
    assert [f.offset for f in futs] == list(range(10))


def test_records_of_one_batch_keep_their_own_send_times():
    # ProducerRecord timestamp (CreateTime): each record's send time, even when one batch spans several ms
    c = make_cluster(partitions=1)
    p = c.producer("p1", {"linger.ms": 50})
    sent_at = []
    for i in range(40):  # ten records at each of four send times, all in one batch
        sent_at.append(c.now)
        p.send("orders", key="k", value=f"v{i}")
        if i % 10 == 9:
            c.run_for(4)
    c.run_for(200)
    assert len(_batches_sent(c)) == 1
    g = c.consumer("c1", group_id="g1", topics=["orders"], config={"auto.offset.reset": "earliest"})
    got = []
    for _ in range(20):
        got += g.poll(timeout_ms=500, max_records=7)  # polls that start and stop mid-batch
        if len(got) >= 40:
            break
    assert [r.value for r in got] == [f"v{i}".encode() for i in range(40)]
    assert [r.timestamp for r in got] == sent_at


def test_linger_zero_sends_each_record_at_once():
    c = make_cluster(partitions=1)
    p = c.producer("p1", {"linger.ms": 0, "max.in.flight.requests.per.connection": 5})
    for i in range(5):
        p.send("orders", key="k", value=f"v{i}")
        c.run_for(10)
    assert len(_batches_sent(c)) == 5


def test_a_full_batch_leaves_before_linger_expires():
    c = make_cluster(partitions=1)
    p = c.producer("p1", {"linger.ms": 10_000, "batch.size": 1000})
    for _ in range(30):
        p.send("orders", key="k", value="x" * 90)
    c.run_for(20)
    sent = _batches_sent(c)
    assert sent, "a full batch must not wait for linger.ms"
    assert all(e.time_ms < 100 for e in sent)
    assert sent[0].data["records"] < 30  # batch.size split the records


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
def test_compressed_size_is_the_real_codecs(codec):
    """The batching lesson's compression ratios are those of Kafka's codecs at Kafka's default levels."""
    import gzip

    import cramjam
    import lz4.frame

    c = make_cluster(partitions=1)
    p = c.producer("p1", {"compression.type": codec, "linger.ms": 100})
    values = [(f"order-{i:05d}:" + "A" * 200).encode() for i in range(50)]
    for v in values:
        p.send("orders", value=v, key=b"k")
    p.flush()
    batch = next(iter(c.brokers[c.leaders_of("orders")[0]].replicas[("orders", 0)].log.batches()))
    raw = b"".join(b"k" + v for v in values)
    expected = {
        "gzip": lambda: len(gzip.compress(raw, 6, mtime=0)),
        "snappy": lambda: 16 + 4 + len(cramjam.snappy.compress_raw(raw)),  # xerial header + one block
        "lz4": lambda: len(  # the lz4 package (liblz4) gives the same frame: independent 64 KiB blocks
            lz4.frame.compress(raw, 9, block_linked=False, block_checksum=True, store_size=False)
        ),
        "zstd": lambda: len(cramjam.zstd.compress(raw, level=3)),
    }[codec]()
    assert batch.compression == codec
    assert batch.wire_bytes < batch.size_bytes / 5  # repetitive data compresses well, truly
    assert batch.wire_bytes == expected + 61


def test_acks_zero_never_learns_the_offset():
    c = make_cluster(partitions=1)
    p = c.producer("p1", {"acks": 0})
    f = p.send("orders", value="fire and forget")
    p.flush()
    assert f.done and f.error is None and f.offset == -1


def test_buffer_memory_full_blocks_then_fails_after_max_block_ms():
    c = make_cluster(partitions=1)
    leader = c.leaders_of("orders")[0]
    c.crash_broker(leader)  # nothing can drain the buffer
    p = c.producer("p1", {"buffer.memory": 4000, "max.block.ms": 2000, "linger.ms": 0})
    futs = [p.send("orders", value="x" * 100) for _ in range(40)]
    failed = [f for f in futs if f.done]
    assert failed  # KafkaProducer.send returns a failed future (FutureFailure); get() throws
    with pytest.raises(BufferExhaustedError, match="max blocking time 2000 ms"):
        failed[0].result()
    assert c.now >= 2000  # send() blocked in simulated time, as KafkaProducer.send blocks


def test_delivery_timeout_fails_records_when_no_leader():
    c = make_cluster(partitions=1)
    c.crash_broker(c.leaders_of("orders")[0])
    p = c.producer("p1", {"delivery.timeout.ms": 5000, "request.timeout.ms": 1000, "linger.ms": 0})
    f = p.send("orders", value="v")
    p.flush()
    assert f.done and isinstance(f.error, KafkaTimeoutError)
    with pytest.raises(KafkaTimeoutError):
        f.result()


def test_record_larger_than_max_request_size():
    c = make_cluster(partitions=1)
    p = c.producer("p1", {"max.request.size": 1000})
    with pytest.raises(RecordTooLargeError, match="max.request.size=1000"):
        p.send("orders", value="x" * 2000)


def test_idempotent_retry_is_not_written_twice():
    c = make_cluster(partitions=1)
    p = c.producer("p1", {"request.timeout.ms": 500, "linger.ms": 0})
    c.drop_messages("ProduceResponse", 1)  # the leader appends, but the acknowledgement is lost
    f = p.send("orders", key="k", value="once")
    p.flush()
    assert f.error is None and f.offset == 0
    r = c.leader_replica(("orders", 0))
    assert r.leo == 1, "the retried batch must not be appended again"
    kinds = [e.kind for e in c.events.events]
    assert "batch_retried" in kinds and "duplicate_batch" in kinds


def test_without_idempotence_a_retry_duplicates_the_record():
    c = make_cluster(partitions=1)
    p = c.producer("p1", {"request.timeout.ms": 500, "linger.ms": 0, "enable.idempotence": False})
    c.drop_messages("ProduceResponse", 1)
    f = p.send("orders", key="k", value="twice")
    p.flush()
    r = c.leader_replica(("orders", 0))
    assert r.leo == 2 and f.offset == 1  # written twice: at-least-once without idempotence
    values = [v for b in r.log.batches() for v in b.values]
    assert values == [b"twice", b"twice"]


def test_flush_waits_for_every_acknowledgement_and_close_stops_sending():
    c = make_cluster(partitions=3, rf=3, topic_config={"min.insync.replicas": 2})
    p = c.producer("p1")
    futs = [p.send("orders", key=f"k{i}", value="v") for i in range(100)]
    p.flush()
    assert all(f.done and f.error is None for f in futs)
    assert p.acked == 100 and p.buffer_used == 0
    p.close()
    with pytest.raises(IllegalStateError):
        p.send("orders", value="late")


def test_acks_all_waits_for_the_high_watermark():
    c = make_cluster(partitions=1, rf=3)
    p = c.producer("p1", {"linger.ms": 0})
    f = p.send("orders", value="v")
    c.run_until(lambda: f.done, 1000)
    appended = next(e for e in c.events.events if e.kind == "batch_appended")
    hw = next(e for e in c.events.events if e.kind == "high_watermark")
    acked = next(e for e in c.events.events if e.kind == "batch_acked")
    assert appended.time_ms < hw.time_ms <= acked.time_ms  # followers fetched before the acknowledgement


def test_unknown_topic_is_auto_created_like_kafka_default():
    c = Cluster(brokers=1)
    p = c.producer("p1")
    p.send("new-topic", value="v")
    assert c.topics["new-topic"].partitions == 1
    strict = Cluster(brokers=1, config={"auto.create.topics.enable": False})
    with pytest.raises(Exception, match="does not exist"):
        strict.producer("p1").send("nope", value="v")


def test_headers_come_back_and_count_in_the_batch_size_as_kafka_sizes_them():
    # DefaultRecord.sizeOf: a header is its key's and value's lengths and bytes; a null value is the varint -1
    c = make_cluster(partitions=1)
    p = c.producer("p1", {"linger.ms": 5})
    headers = [("trace", None)]
    futs = [p.send("orders", value=b"x" * 10, headers=headers) for _ in range(2)]
    p.flush()
    assert all(f.succeeded for f in futs)
    # per record: attributes, offset and timestamp deltas, null key 1, value 1 + 10, headers 1 + (1 + 5) + 1;
    # its length 1; the batch header 61
    assert "orders-0 (2 rec, 109 B)" in _batches_sent(c)[0].summary
    got = _consume_orders(c)
    assert [r.headers for r in got] == [(("trace", None),)] * 2


def test_headers_changed_between_sends_are_checked_again():
    c = make_cluster(partitions=1)
    p = c.producer("p1")
    headers = [("trace", b"1")]
    p.send("orders", value=b"v", headers=headers)
    headers.append(("span", 7))  # the same list, now with a header value that is not bytes
    with pytest.raises(KafkaError, match="headers"):
        p.send("orders", value=b"v", headers=headers)
    headers[1] = ("span", b"7")
    f = p.send("orders", value=b"v", headers=headers)
    p.flush()
    assert f.succeeded and p.sent == 2


def test_a_bytearray_header_value_is_taken_as_its_bytes_whatever_came_before():
    # as record values are (ByteArraySerializer): copied at send(), so changing the bytearray afterwards changes
    # nothing, and the same value is accepted whether or not the previous record carried equal bytes
    c = make_cluster(partitions=1)
    p = c.producer("p1")
    mutable = bytearray(b"1")
    futs = [p.send("orders", value=b"v", headers=[("trace", mutable)])]  # first of its kind
    futs.append(p.send("orders", value=b"v", headers=[("trace", b"2")]))
    futs.append(p.send("orders", value=b"v", headers=[("trace", bytearray(b"2"))]))  # equal to the last one
    mutable[0] = ord("9")
    p.flush()
    assert all(f.succeeded for f in futs)
    got = _consume_orders(c)
    assert [r.headers for r in got] == [(("trace", b"1"),), (("trace", b"2"),), (("trace", b"2"),)]
    assert all(type(r.headers[0][1]) is bytes for r in got)


def test_a_header_pair_changed_in_place_between_two_sends_is_stored_as_it_was_at_each_send():
    # KafkaProducer.send copies the headers: a pair (or a bytearray in it) changed after send() changes nothing
    c = make_cluster(partitions=1)
    p = c.producer("p1")
    pair = ["trace", b"1"]  # a list, not a tuple: it can change
    raw = bytearray(b"a")
    headers = [pair, ("span", raw)]
    futs = [p.send("orders", value=b"v", headers=headers) for _ in range(2)]
    pair[1] = b"2"
    raw[0] = ord("b")
    futs += [p.send("orders", value=b"v", headers=headers) for _ in range(2)]
    p.flush()
    assert all(f.succeeded for f in futs)
    got = _consume_orders(c)
    first, second = (("trace", b"1"), ("span", b"a")), (("trace", b"2"), ("span", b"b"))
    assert [r.headers for r in got] == [first, first, second, second]


def test_sent_counts_every_record_handed_to_send_across_batches_partitions_and_a_crash():
    c = make_cluster(partitions=3)
    p = c.producer("p1", {"batch.size": 1024, "linger.ms": 100})
    for i in range(500):  # many batches per partition, keyed and keyless, some with headers
        p.send("orders", key=None if i % 3 == 0 else f"k{i % 7}".encode(), value=b"x" * 50)
        p.send("orders", value=b"y" * 20, headers=[("h", b"1")])
        assert p.sent == 2 * (i + 1)
    c.run_for(20)
    p.crash()  # its unsent batches are lost, but they were sent to the producer all the same
    assert p.sent == 1000 and p.acked < 1000
