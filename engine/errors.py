"""Kafka's error names as exception classes, each with a message a student can act on.

Error codes follow `org.apache.kafka.common.protocol.Errors`; `retriable` mirrors Kafka's
RetriableException split (the producer retries those until `delivery.timeout.ms`).

`UserInputError` is the one root of "the input is wrong" (a command, a lesson file, a link, a check, a
Python API argument): its message names the field and what is allowed. The UI shows exactly these and
`KafkaError`s as messages; anything else is a bug and must surface as one (never a friendly flash message).
Kafka's own input errors (`ConfigError`, `InvalidTopicError`, ...) are both.
"""

from __future__ import annotations


class UserInputError(ValueError):
    """Bad input from a person: the message names the field (or argument) and what is allowed.
    A ValueError, so code that caught ValueError before keeps working."""


class KafkaError(Exception):
    """Base of every error the engine raises or puts in a future."""

    code: int = -1  # Kafka's error code (Errors.java); -1 = UNKNOWN_SERVER_ERROR
    name: str = "UNKNOWN_SERVER_ERROR"
    retriable: bool = False


class ConfigError(KafkaError, UserInputError):
    """A configuration mistake: names the key, the bad value and what is allowed (Kafka: ConfigException)."""

    name = "INVALID_CONFIG"
    code = 40


class InvalidArgumentError(ConfigError):
    """A Python API call with an argument of the wrong type or out of range, e.g. `poll(timeout_ms=None)`
    (Java: IllegalArgumentException / NullPointerException); names the argument and what is allowed."""


class InvalidTopicError(KafkaError, UserInputError):
    name, code = "INVALID_TOPIC_EXCEPTION", 17


class TopicAlreadyExistsError(KafkaError):
    name, code = "TOPIC_ALREADY_EXISTS", 36


class InvalidPartitionsError(KafkaError, UserInputError):
    name, code = "INVALID_PARTITIONS", 37


class InvalidReplicationFactorError(KafkaError, UserInputError):
    name, code = "INVALID_REPLICATION_FACTOR", 38


class UnknownTopicOrPartitionError(KafkaError):
    name, code, retriable = "UNKNOWN_TOPIC_OR_PARTITION", 3, True


class NotLeaderOrFollowerError(KafkaError):
    name, code, retriable = "NOT_LEADER_OR_FOLLOWER", 6, True


class LeaderNotAvailableError(KafkaError):
    name, code, retriable = "LEADER_NOT_AVAILABLE", 5, True


class RequestTimedOutError(KafkaError):
    name, code, retriable = "REQUEST_TIMED_OUT", 7, True


class NetworkError(KafkaError):
    name, code, retriable = "NETWORK_EXCEPTION", 13, True


class NotEnoughReplicasError(KafkaError):
    name, code, retriable = "NOT_ENOUGH_REPLICAS", 19, True


class NotEnoughReplicasAfterAppendError(KafkaError):
    name, code, retriable = "NOT_ENOUGH_REPLICAS_AFTER_APPEND", 20, True


class RecordTooLargeError(KafkaError):
    name, code = "RECORD_TOO_LARGE", 10


class CorruptRecordError(KafkaError):
    name, code = "CORRUPT_MESSAGE", 2


class OutOfOrderSequenceError(KafkaError):
    name, code = "OUT_OF_ORDER_SEQUENCE_NUMBER", 45


class OffsetOutOfRangeError(KafkaError):
    name, code = "OFFSET_OUT_OF_RANGE", 1


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
    name, code, retriable = "REBALANCE_IN_PROGRESS", 27, True


class UnknownMemberIdError(KafkaError):
    name, code = "UNKNOWN_MEMBER_ID", 25


class IllegalGenerationError(KafkaError):
    name, code = "ILLEGAL_GENERATION", 22


class FencedInstanceIdError(KafkaError):
    """Another process joined with this consumer's group.instance.id (KIP-345): this one must stop."""

    name, code = "FENCED_INSTANCE_ID", 82


class FencedLeaderEpochError(KafkaError):
    name, code, retriable = "FENCED_LEADER_EPOCH", 74, True


class SimulationLimitError(KafkaError):
    """run_until_idle() or another loop hit its safety bound instead of spinning forever."""

    name = "SIMULATION_LIMIT"


class ProducerFencedError(KafkaError):
    """Another producer instance with the same transactional.id called init_transactions (a newer epoch)."""

    name, code = "PRODUCER_FENCED", 90


class InvalidProducerEpochError(ProducerFencedError):
    name, code = "INVALID_PRODUCER_EPOCH", 47


class InvalidTxnStateError(KafkaError):
    """A transactional call out of order, e.g. send() before begin_transaction()."""

    name, code = "INVALID_TXN_STATE", 48


class TransactionAbortedError(KafkaError):
    name, code = "TRANSACTION_ABORTED", 91


class ConcurrentTransactionsError(KafkaError):
    """The transaction is still being completed (markers being written): retry shortly."""

    name, code, retriable = "CONCURRENT_TRANSACTIONS", 51, True


class CoordinatorNotAvailableError(KafkaError):
    name, code, retriable = "COORDINATOR_NOT_AVAILABLE", 15, True


class GroupNotEmptyError(KafkaError):
    """An admin change that needs an inactive group (no members), e.g. resetting its offsets."""

    name, code = "NON_EMPTY_GROUP", 68
