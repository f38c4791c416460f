"""Kafka Classroom's engine: a deterministic, in-memory simulation of an Apache Kafka cluster.

    from engine import Cluster
    c = Cluster(brokers=3, seed=7)
    c.create_topic("orders", partitions=3, replication_factor=3, config={"min.insync.replicas": 2})
    p = c.producer("p1", config={"acks": "all", "linger.ms": 5})
    fut = p.send("orders", key=b"alice", value=b"hello")
    g1 = c.consumer("c1", group_id="g1", topics=["orders"], config={"auto.offset.reset": "earliest"})
    c.run_for(5000)
    records = g1.poll()

No UI imports here, ever: the Streamlit app and notebooks read `snapshot()` and `events`.
"""

from . import errors
from .assignors import assign
from .cluster import Cluster, validate_topic_name
from .consumer import Consumer
from .errors import ConfigError, InvalidArgumentError, KafkaError, UserInputError
from .events import Event
from .partitioner import murmur2, partition_for_key
from .producer import Producer, RecordMetadataFuture
from .records import ConsumerRecord
from .snapshot import ClusterSnapshot

__all__ = [
    "Cluster",
    "Consumer",
    "Producer",
    "RecordMetadataFuture",
    "ConsumerRecord",
    "ClusterSnapshot",
    "Event",
    "KafkaError",
    "ConfigError",
    "InvalidArgumentError",
    "UserInputError",
    "errors",
    "assign",
    "murmur2",
    "partition_for_key",
    "validate_topic_name",
]
