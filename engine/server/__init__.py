"""A Kafka wire-protocol front door to the simulated cluster (issue 9).

Real clients (kafka-python, confluent-kafka / librdkafka, the Kafka CLI) connect to `localhost:9092` and talk
to the simulated brokers; their batches, group rebalances and failures show up in the engine's events and
snapshots like those of simulated clients.

    from engine import Cluster
    from engine.server import start_in_background
    cluster = Cluster(brokers=3, seed=7)
    handle = start_in_background(cluster, port=9092)   # brokers on 9092, 9093, 9094
    ...                                                  # point any Kafka client at handle.bootstrap
    snap = handle.call(cluster.snapshot)               # touch the engine only through call() while it runs
    handle.stop()

Or from a shell: `python -m engine.server --port 9092 --brokers 3`. Needs the `kio` package (Kafka's message
schemas as Python dataclasses); the engine itself does not.
"""

from .protocol import SUPPORTED
from .server import KafkaServer, PortInUseError, ServerHandle, start_in_background

__all__ = ["KafkaServer", "PortInUseError", "ServerHandle", "start_in_background", "SUPPORTED"]
