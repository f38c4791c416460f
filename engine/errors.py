"""Kafka's error names as exception classes, each with a message a student can act on.

Error codes follow `org.apache.kafka.common.protocol.Errors`; `retriable` mirrors Kafka's
RetriableException split (the producer retries those until `delivery.timeout.ms`).

`UserInputError` is the one root of "the input is wrong" (a command, a lesson file, a link, a check, a
Python API argument): its message names the field and what is allowed. The UI shows exactly these and
`KafkaError`s as messages; anything else is a bug and must surface as one (never a friendly flash message).
Kafka's own input errors (`ConfigError`, `InvalidTopicError`, ...) are both.
"""

from __future__ import annotations


class ErrorCodes:
    """Kafka's numeric error codes (`org.apache.kafka.common.protocol.Errors`): the one table of them. The
    exception classes below and the wire protocol (engine/server) take their numbers from here."""

    UNKNOWN_SERVER_ERROR = -1
    NONE = 0
    OFFSET_OUT_OF_RANGE = 1
    CORRUPT_MESSAGE = 2
    UNKNOWN_TOPIC_OR_PARTITION = 3
    LEADER_NOT_AVAILABLE = 5
    NOT_LEADER_OR_FOLLOWER = 6
    REQUEST_TIMED_OUT = 7
    MESSAGE_TOO_LARGE = 10
    NETWORK_EXCEPTION = 13
    COORDINATOR_NOT_AVAILABLE = 15
    NOT_COORDINATOR = 16
    INVALID_TOPIC_EXCEPTION = 17
    NOT_ENOUGH_REPLICAS = 19
    NOT_ENOUGH_REPLICAS_AFTER_APPEND = 20
    INVALID_REQUIRED_ACKS = 21
    ILLEGAL_GENERATION = 22
    UNKNOWN_MEMBER_ID = 25
    INVALID_SESSION_TIMEOUT = 26
    REBALANCE_IN_PROGRESS = 27
    UNSUPPORTED_VERSION = 35
    TOPIC_ALREADY_EXISTS = 36
    INVALID_PARTITIONS = 37
    INVALID_REPLICATION_FACTOR = 38
    INVALID_CONFIG = 40
    INVALID_REQUEST = 42
    OUT_OF_ORDER_SEQUENCE_NUMBER = 45
    INVALID_PRODUCER_EPOCH = 47
    INVALID_TXN_STATE = 48
    CONCURRENT_TRANSACTIONS = 51
    TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53
    NON_EMPTY_GROUP = 68
    FENCED_LEADER_EPOCH = 74
    UNKNOWN_LEADER_EPOCH = 75
    UNSUPPORTED_COMPRESSION_TYPE = 76
    MEMBER_ID_REQUIRED = 79
    FENCED_INSTANCE_ID = 82
    INVALID_RECORD = 87
    PRODUCER_FENCED = 90
    UNKNOWN_TOPIC_ID = 100
    FENCED_MEMBER_EPOCH = 110
    UNRELEASED_INSTANCE_ID = 111
    STALE_MEMBER_EPOCH = 113


E = ErrorCodes


class UserInputError(ValueError):
    """Bad input from a person: the message names the field (or argument) and what is allowed.
    A ValueError, so code that caught ValueError before keeps working."""


class KafkaError(Exception):
    """Base of every error the engine raises or puts in a future."""

    code: int = E.UNKNOWN_SERVER_ERROR  # Kafka's error code (Errors.java)
    name: str = "UNKNOWN_SERVER_ERROR"
    retriable: bool = False


class ConfigError(KafkaError, UserInputError):
    """A configuration mistake: names the key, the bad value and what is allowed (Kafka: ConfigException)."""

    name, code = "INVALID_CONFIG", E.INVALID_CONFIG


class InvalidArgumentError(ConfigError):
    """A Python API call with an argument of the wrong type or out of range, e.g. `poll(timeout_ms=None)`
    (Java: IllegalArgumentException / NullPointerException); names the argument and what is allowed."""


class InvalidTopicError(KafkaError, UserInputError):
    name, code = "INVALID_TOPIC_EXCEPTION", E.INVALID_TOPIC_EXCEPTION


class TopicAlreadyExistsError(KafkaError):
    name, code = "TOPIC_ALREADY_EXISTS", E.TOPIC_ALREADY_EXISTS


class InvalidPartitionsError(KafkaError, UserInputError):
    name, code = "INVALID_PARTITIONS", E.INVALID_PARTITIONS


class InvalidReplicationFactorError(KafkaError, UserInputError):
    name, code = "INVALID_REPLICATION_FACTOR", E.INVALID_REPLICATION_FACTOR


class UnknownTopicOrPartitionError(KafkaError):
    name, code, retriable = "UNKNOWN_TOPIC_OR_PARTITION", E.UNKNOWN_TOPIC_OR_PARTITION, True


class NotLeaderOrFollowerError(KafkaError):
    name, code, retriable = "NOT_LEADER_OR_FOLLOWER", E.NOT_LEADER_OR_FOLLOWER, True


class LeaderNotAvailableError(KafkaError):
    name, code, retriable = "LEADER_NOT_AVAILABLE", E.LEADER_NOT_AVAILABLE, True


class RequestTimedOutError(KafkaError):
    name, code, retriable = "REQUEST_TIMED_OUT", E.REQUEST_TIMED_OUT, True


class NetworkError(KafkaError):
    name, code, retriable = "NETWORK_EXCEPTION", E.NETWORK_EXCEPTION, True


class NotEnoughReplicasError(KafkaError):
    name, code, retriable = "NOT_ENOUGH_REPLICAS", E.NOT_ENOUGH_REPLICAS, True


class NotEnoughReplicasAfterAppendError(KafkaError):
    name, code, retriable = "NOT_ENOUGH_REPLICAS_AFTER_APPEND", E.NOT_ENOUGH_REPLICAS_AFTER_APPEND, True


class RecordTooLargeError(KafkaError):
    name, code = "RECORD_TOO_LARGE", E.MESSAGE_TOO_LARGE


class CorruptRecordError(KafkaError):
    name, code = "CORRUPT_MESSAGE", E.CORRUPT_MESSAGE


class OutOfOrderSequenceError(KafkaError):
    name, code = "OUT_OF_ORDER_SEQUENCE_NUMBER", E.OUT_OF_ORDER_SEQUENCE_NUMBER


class OffsetOutOfRangeError(KafkaError):
    name, code = "OFFSET_OUT_OF_RANGE", E.OFFSET_OUT_OF_RANGE


class NoOffsetForPartitionError(KafkaError):
    """auto.offset.reset=none and no committed offset (Kafka: NoOffsetForPartitionException)."""

    name = "NO_OFFSET_FOR_PARTITION"


class KafkaTimeoutError(KafkaError):
    """A client-side wait ran out (delivery.timeout.ms, max.block.ms): Kafka's TimeoutException."""

    name = "TIMEOUT"


class BufferExhaustedError(KafkaTimeoutError):
    """send() could not get room in buffer.memory within max.block.ms."""

    name = "BUFFER_EXHAUSTED"


class IllegalStateError(KafkaError):
    name = "ILLEGAL_STATE"


class CommitFailedError(KafkaError):
    """The group rebalanced and gave the partitions to another member before this commit arrived."""

    name = "COMMIT_FAILED"


class RebalanceInProgressError(KafkaError):
    name, code, retriable = "REBALANCE_IN_PROGRESS", E.REBALANCE_IN_PROGRESS, True


class UnknownMemberIdError(KafkaError):
    name, code = "UNKNOWN_MEMBER_ID", E.UNKNOWN_MEMBER_ID


class IllegalGenerationError(KafkaError):
    name, code = "ILLEGAL_GENERATION", E.ILLEGAL_GENERATION


class FencedInstanceIdError(KafkaError):
    """Another process joined with this consumer's group.instance.id (KIP-345): this one must stop."""

    name, code = "FENCED_INSTANCE_ID", E.FENCED_INSTANCE_ID


class FencedLeaderEpochError(KafkaError):
    name, code, retriable = "FENCED_LEADER_EPOCH", E.FENCED_LEADER_EPOCH, True


class SimulationLimitError(KafkaError):
    """run_until_idle() or another loop hit its safety bound instead of spinning forever."""

    name = "SIMULATION_LIMIT"


class ProducerFencedError(KafkaError):
    """Another producer instance with the same transactional.id called init_transactions (a newer epoch)."""

    name, code = "PRODUCER_FENCED", E.PRODUCER_FENCED


class InvalidProducerEpochError(ProducerFencedError):
    name, code = "INVALID_PRODUCER_EPOCH", E.INVALID_PRODUCER_EPOCH


class InvalidTxnStateError(KafkaError):
    """A transactional call out of order, e.g. send() before begin_transaction()."""

    name, code = "INVALID_TXN_STATE", E.INVALID_TXN_STATE


class TransactionAbortedError(KafkaError):
    name = "TRANSACTION_ABORTED"  # client-side only (TransactionAbortedException): no error code


class ConcurrentTransactionsError(KafkaError):
    """The transaction is still being completed (markers being written): retry shortly."""

    name, code, retriable = "CONCURRENT_TRANSACTIONS", E.CONCURRENT_TRANSACTIONS, True


class CoordinatorNotAvailableError(KafkaError):
    name, code, retriable = "COORDINATOR_NOT_AVAILABLE", E.COORDINATOR_NOT_AVAILABLE, True


class GroupNotEmptyError(KafkaError):
    """An admin change that needs an inactive group (no members), e.g. resetting its offsets."""

    name, code = "NON_EMPTY_GROUP", E.NON_EMPTY_GROUP


# -- the group path's answers (JoinGroup, SyncGroup, Heartbeat, OffsetCommit, ConsumerGroupHeartbeat) --------
class NotCoordinatorError(KafkaError):
    name, code, retriable = "NOT_COORDINATOR", E.NOT_COORDINATOR, True


class InvalidSessionTimeoutError(KafkaError):
    """session.timeout.ms outside the broker's group.min/max.session.timeout.ms."""

    name, code = "INVALID_SESSION_TIMEOUT", E.INVALID_SESSION_TIMEOUT


class MemberIdRequiredError(KafkaError):
    """KIP-394: a new member's first JoinGroup is answered with its member id, to join again with it."""

    name, code = "MEMBER_ID_REQUIRED", E.MEMBER_ID_REQUIRED


class FencedMemberEpochError(KafkaError):
    name, code = "FENCED_MEMBER_EPOCH", E.FENCED_MEMBER_EPOCH


class UnreleasedInstanceIdError(KafkaError):
    """KIP-848: the group.instance.id is still held by a live member."""

    name, code = "UNRELEASED_INSTANCE_ID", E.UNRELEASED_INSTANCE_ID


class StaleMemberEpochError(KafkaError):
    name, code = "STALE_MEMBER_EPOCH", E.STALE_MEMBER_EPOCH
