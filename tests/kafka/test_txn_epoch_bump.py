"""Transactions version 2 (KIP-890): the producer epoch is bumped at the end of every transaction.

Behaviour tests on a whole cluster, and cases ported from Apache Kafka's core TransactionCoordinatorTest and
TransactionMetadataTest (trunk ~4.0). Kafka's tests mock the coordinator's TransactionMetadata; here the same
state is put into our TransactionCoordinator's `TxnMetadata` and the EndTxn request goes straight to
`on_end`. Adaptation: Kafka's clientTransactionVersion parameter TV_0 / TV_2 is the cluster's
`transaction.version` 1 / 2 for the request, and for the stored metadata whether its epoch came from an EndTxn
under TV2 (`bumped_by_end`). TransactionManagerTest (clients) of this Kafka snapshot has no TV2 epoch-bump
case to port (the client half of KIP-890 part 2 came later); the client behaviour is tested below instead.
"""

from __future__ import annotations

import pytest

from engine import Cluster
from engine.errors import ConfigError
from engine.transactions import TxnMetadata

TXN_ID = "someTransactionalId"
PRODUCER_ID = 10  # TransactionCoordinatorTest.producerId
PRODUCER_EPOCH = 1  # TransactionCoordinatorTest.producerEpoch


def _cluster(tv: int | None = None) -> Cluster:
    c = Cluster(brokers=3, seed=5, config=None if tv is None else {"transaction.version": tv})
    c.create_topic("out", partitions=1, replication_factor=3)
    return c


def _markers(c: Cluster) -> list:
    r = c.leader_replica(("out", 0))
    return [b for b in r.log.batches() if b.control in ("COMMIT", "ABORT")]


# -- behaviour 11 on a whole cluster ------------------------------------------------------------------------------
def test_commit_bumps_the_producer_epoch_under_transaction_version_2():
    """Issue 15 behaviour 11: Kafka 4.x (transaction.version=2) bumps the epoch at the end of every transaction."""
    c = _cluster()
    p = c.producer("p", config={"transactional.id": "t1"})
    p.init_transactions()
    assert p.producer_epoch == 0
    for expected in (1, 2):
        p.begin_transaction()
        p.send("out", key=b"k", value=b"v")
        p.commit_transaction()
        assert p.producer_epoch == expected  # the EndTxn response carried the bumped epoch
        assert c.txn_coordinator.txns["t1"].epoch == expected
        assert _markers(c)[-1].producer_epoch == expected  # markers are written with the bumped epoch
    ending = [e for e in c.events.since(0) if e.kind == "txn_ending"]
    assert "bumped 0 -> 1" in ending[0].summary and "transaction.version=2" in ending[0].summary
    c.run_for(1000)
    assert [b.producer_epoch for b in c.leader_replica(("out", 0)).log.batches() if b.control is None] == [
        0,
        1,
    ]


def test_abort_bumps_the_producer_epoch_too():
    """Issue 15 behaviour 11: TransactionMetadata.prepareAbortOrCommit bumps for PrepareAbort as for PrepareCommit."""
    c = _cluster()
    p = c.producer("p", config={"transactional.id": "t1"})
    p.init_transactions()
    p.begin_transaction()
    p.send("out", key=b"k", value=b"v")
    p.abort_transaction()
    assert (
        p.producer_epoch == 1 and _markers(c)[-1].control == "ABORT" and _markers(c)[-1].producer_epoch == 1
    )


def test_transaction_version_1_keeps_the_epoch():
    """`transaction.version=1` (before KIP-890): the epoch changes only with init_transactions()."""
    c = _cluster(tv=1)
    p = c.producer("p", config={"transactional.id": "t1"})
    p.init_transactions()
    for _ in range(2):
        p.begin_transaction()
        p.send("out", key=b"k", value=b"v")
        p.commit_transaction()
    assert p.producer_epoch == 0 and [m.producer_epoch for m in _markers(c)] == [0, 0]
    assert not any("bumped" in e.summary for e in c.events.since(0) if e.kind == "txn_ending")


def test_transaction_version_must_be_1_or_2():
    with pytest.raises(ConfigError, match="transaction.version"):
        Cluster(brokers=1, config={"transaction.version": 3})


def test_empty_transaction_sends_no_end_txn_and_keeps_the_epoch():
    """TransactionManager skips EndTxn when the transaction never started (no partition, no offsets)."""
    c = _cluster()
    p = c.producer("p", config={"transactional.id": "t1"})
    p.init_transactions()
    seq = c.events.seq
    p.begin_transaction()
    p.commit_transaction()
    assert p.producer_epoch == 0 and not [e for e in c.events.since(seq) if e.kind.startswith("txn_")]


def test_a_zombie_after_a_tv2_commit_is_fenced():
    """A second instance's init_transactions fences the first, whose epoch (bumped by its commit) is now stale."""
    c = _cluster()
    old = c.producer("p1", config={"transactional.id": "t1"})
    old.init_transactions()
    old.begin_transaction()
    old.send("out", key=b"k", value=b"v")
    old.commit_transaction()
    new = c.producer("p2", config={"transactional.id": "t1"})
    new.init_transactions()
    assert new.producer_epoch == old.producer_epoch + 1
    old.begin_transaction()
    old.send("out", key=b"k", value=b"late")
    with pytest.raises(Exception, match="fenced"):
        old.commit_transaction()


def test_marker_with_bumped_epoch_fences_late_writes_of_the_old_epoch():
    """ProducerAppendInfo.appendEndTxnMarker: after the TV2 marker, the partition knows the bumped epoch."""
    c = _cluster()
    p = c.producer("p", config={"transactional.id": "t1"})
    p.init_transactions()
    p.begin_transaction()
    p.send("out", key=b"k", value=b"v")
    p.commit_transaction()
    entry = c.leader_replica(("out", 0)).producers[p.pid]
    assert entry.epoch == 1  # a batch still carrying epoch 0 is now refused as fenced (InvalidProducerEpoch)


# -- TransactionMetadataTest ----------------------------------------------------------------------------------------
def test_epoch_bump_on_end_txn():
    """TransactionMetadataTest.testEpochBumpOnEndTxn: epoch 10, Ongoing -> PrepareCommit (TV2) gives epoch 11 and the
    same producer id; completing keeps 11."""
    c = _cluster()
    p = c.producer("p", config={"transactional.id": "t1"})
    for _ in range(11):
        p.init_transactions()
    assert p.producer_epoch == 10
    pid = p.pid
    p.begin_transaction()
    p.send("out", key=b"k", value=b"v")
    p.commit_transaction()
    prepare = [e for e in c.events.since(0) if e.kind == "txn_ending"][-1]
    assert prepare.data["epoch"] == 11
    tm = c.txn_coordinator.txns["t1"]
    assert tm.state == "CompleteCommit" and tm.epoch == 11 and tm.pid == pid == p.pid


# -- TransactionCoordinatorTest: EndTxn checks ----------------------------------------------------------------------
class _Client:
    """The producer end of one EndTxn: records the coordinator's answer."""

    def __init__(self) -> None:
        self.id = "client"
        self.alive = True
        self.txn = self
        self.answer: tuple | None = None

    def on_response(self, req: int, err, result) -> None:
        self.answer = (err, result)


def _end_txn(
    state: str,
    metadata_epoch: int,
    request_epoch: int,
    commit: bool,
    metadata_tv: int,
    client_tv: int,
    pid: int = PRODUCER_ID,
) -> tuple[str, tuple | None]:
    """handleEndTransaction against a TxnMetadata in `state`; returns (error name, (producer id, epoch))."""
    c = Cluster(brokers=3, seed=1, config={"transaction.version": max(client_tv, 1)})
    co = c.txn_coordinator
    broker = co.broker_for(TXN_ID)
    c.run_until(lambda: co.broker_for(TXN_ID) is not None, 10_000)
    broker = co.broker_for(TXN_ID)
    tm = co.txns[TXN_ID] = TxnMetadata(TXN_ID, pid, 60000)
    tm.epoch, tm.state, tm.bumped_by_end = metadata_epoch, state, metadata_tv == 2
    if state == "Ongoing":
        tm.started_ms = c.now
    client = _Client()
    co.on_end(broker, client, 1, TXN_ID, PRODUCER_ID, request_epoch, commit)
    c.run_until(lambda: client.answer is not None, 5000)
    err, result = client.answer
    return ("NONE" if err is None else err.name), result


def _request_epoch(tv: int) -> int:
    """TransactionCoordinatorTest.requestEpoch: under TV2 a retry carries the epoch before the bump."""
    return PRODUCER_EPOCH - 1 if tv == 2 else PRODUCER_EPOCH


TVS = [pytest.param(0, id="TV_0"), pytest.param(2, id="TV_2")]


@pytest.mark.parametrize("tv", TVS)
def test_should_reply_with_producer_fenced_on_end_txn_when_epoch_is_not_same_as_transaction(tv):
    """TransactionCoordinatorTest.shouldReplyWithProducerFencedOnEndTxnWhenEpochIsNotSameAsTransaction"""
    assert _end_txn("Ongoing", PRODUCER_EPOCH, 0, True, 0, tv)[0] == "PRODUCER_FENCED"


@pytest.mark.parametrize("tv", TVS)
def test_should_return_ok_on_end_txn_when_status_is_complete_commit_and_result_is_commit(tv):
    """TransactionCoordinatorTest.shouldReturnOkOnEndTxnWhenStatusIsCompleteCommitAndResultIsCommit"""
    assert _end_txn("CompleteCommit", PRODUCER_EPOCH, _request_epoch(tv), True, tv, tv)[0] == "NONE"


@pytest.mark.parametrize("tv", TVS)
def test_should_return_ok_on_end_txn_when_status_is_complete_abort_and_result_is_abort(tv):
    """TransactionCoordinatorTest.shouldReturnOkOnEndTxnWhenStatusIsCompleteAbortAndResultIsAbort"""
    assert _end_txn("CompleteAbort", PRODUCER_EPOCH, _request_epoch(tv), False, tv, tv)[0] == "NONE"


@pytest.mark.parametrize("tv", TVS)
def test_should_return_invalid_txn_request_on_end_txn_request_when_status_is_complete_abort_and_result_is_not_abort(
    tv,
):
    """TransactionCoordinatorTest.shouldReturnInvalidTxnRequestOnEndTxnRequestWhenStatusIsCompleteAbortAndResultIsNotAbort"""
    assert (
        _end_txn("CompleteAbort", PRODUCER_EPOCH, _request_epoch(tv), True, tv, tv)[0] == "INVALID_TXN_STATE"
    )


@pytest.mark.parametrize("tv", TVS)
def test_should_return_invalid_txn_request_on_end_txn_request_when_status_is_complete_commit_and_result_is_not_commit(
    tv,
):
    """TransactionCoordinatorTest.shouldReturnInvalidTxnRequestOnEndTxnRequestWhenStatusIsCompleteCommitAndResultIsNotCommit"""
    assert (
        _end_txn("CompleteCommit", PRODUCER_EPOCH, _request_epoch(tv), False, tv, tv)[0]
        == "INVALID_TXN_STATE"
    )


@pytest.mark.parametrize("tv", TVS)
def test_should_return_concurrent_transactions_on_end_txn_request_when_status_is_prepare_commit(tv):
    """TransactionCoordinatorTest.shouldReturnConcurrentTransactionsOnEndTxnRequestWhenStatusIsPrepareCommit"""
    result = _end_txn("PrepareCommit", PRODUCER_EPOCH, _request_epoch(tv), True, tv, tv)
    assert result[0] == "CONCURRENT_TRANSACTIONS"


@pytest.mark.parametrize("tv", TVS)
def test_should_return_invalid_txn_request_on_end_txn_request_when_status_is_prepare_abort(tv):
    """TransactionCoordinatorTest.shouldReturnInvalidTxnRequestOnEndTxnRequestWhenStatusIsPrepareAbort"""
    assert (
        _end_txn("PrepareAbort", PRODUCER_EPOCH, _request_epoch(tv), True, tv, tv)[0] == "INVALID_TXN_STATE"
    )


@pytest.mark.parametrize("state", ["PrepareCommit", "CompleteCommit"])
def test_should_return_invalid_txn_request_on_end_txn_v2_if_not_end_txn_v2_retry(state):
    """TransactionCoordinatorTest.shouldReturnInvalidTxnRequestOnEndTxnV2IfNotEndTxnV2Retry: under TV2 the same epoch
    after an end is the *next* EndTxn, not a retry: PRODUCER_FENCED."""
    assert _end_txn(state, PRODUCER_EPOCH, PRODUCER_EPOCH, True, 2, 2)[0] == "PRODUCER_FENCED"


@pytest.mark.parametrize("tv", TVS)
def test_should_return_invalid_epoch_on_end_txn_when_epoch_is_larger(tv):
    """TransactionCoordinatorTest.shouldReturnInvalidEpochOnEndTxnWhenEpochIsLarger"""
    assert _end_txn("CompleteCommit", 1, 2, True, tv, tv)[0] == "PRODUCER_FENCED"


@pytest.mark.parametrize("tv", TVS)
def test_should_return_invalid_epoch_on_end_txn_when_epoch_is_smaller(tv):
    """TransactionCoordinatorTest.shouldReturnInvalidEpochOnEndTxnWhenEpochIsSmaller"""
    assert _end_txn("CompleteCommit", 2, _request_epoch(tv), True, tv, tv)[0] == "PRODUCER_FENCED"


@pytest.mark.parametrize("tv", TVS)
@pytest.mark.parametrize("commit", [True, False], ids=["Commit", "Abort"])
def test_should_append_prepare_to_log_on_end_txn_when_status_is_ongoing(tv, commit):
    """TransactionCoordinatorTest.shouldAppendPrepareCommitToLogOnEndTxnWhenStatusIsOngoingAndResultIsCommit and
    shouldAppendPrepareAbortToLogOnEndTxnWhenStatusIsOngoingAndResultIsAbort: the transition is made; under TV2
    the answer carries the bumped epoch."""
    err, result = _end_txn("Ongoing", PRODUCER_EPOCH, PRODUCER_EPOCH, commit, tv, tv)
    assert err == "NONE"
    assert result == (PRODUCER_ID, PRODUCER_EPOCH + 1 if tv == 2 else PRODUCER_EPOCH)


def test_should_return_when_transaction_version_downgraded():
    """TransactionCoordinatorTest.shouldReturnWhenTransactionVersionDowngraded: state written under TV2, request
    from a TV_0 client with the epoch before the bump."""
    assert (
        _end_txn("PrepareCommit", PRODUCER_EPOCH + 1, PRODUCER_EPOCH, True, 2, 0)[0]
        == "CONCURRENT_TRANSACTIONS"
    )
    err, result = _end_txn("CompleteCommit", PRODUCER_EPOCH + 1, PRODUCER_EPOCH, True, 2, 0)
    assert err == "NONE" and result == (
        PRODUCER_ID,
        PRODUCER_EPOCH + 1,
    )  # epoch is bumped since we started as V2


def test_should_return_correctly_when_transaction_version_upgraded():
    """TransactionCoordinatorTest.shouldReturnCorrectlyWhenTransactionVersionUpgraded: state written under TV_0,
    request from a TV2 client."""
    assert (
        _end_txn("PrepareCommit", PRODUCER_EPOCH, PRODUCER_EPOCH, True, 0, 2)[0] == "CONCURRENT_TRANSACTIONS"
    )
    err, result = _end_txn("CompleteCommit", PRODUCER_EPOCH, PRODUCER_EPOCH, True, 0, 2)
    assert err == "NONE" and result == (
        PRODUCER_ID,
        PRODUCER_EPOCH,
    )  # epoch is not bumped since this started as V1
