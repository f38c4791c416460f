"""The engine's contracts as `typing.Protocol`s: who answers whom, and what an actor may ask of its world.

Brokers and coordinators answer clients by `network.send(src, client.id, ..., client.on_xxx_response, ...)`;
the clients they answer are either the simulation's own (`Producer`, `Consumer`, `ShareConsumer`) or stand-ins
for real clients connected over the wire protocol (`engine.server.clients`). The protocols below name what a
broker may rely on, so mypy checks both kinds against one contract. Nothing here runs: this module imports
nothing of the engine at run time, so any module may import it without an import cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .broker import ProduceRequest
    from .errors import KafkaError

TP = tuple[str, int]


class Client(Protocol):
    """Anything a broker sends a response to: it has an actor id and hears of lost connections."""

    @property
    def id(self) -> str: ...

    @property
    def alive(self) -> bool: ...

    def on_disconnect(self, broker_id: int) -> None: ...


class ProduceClient(Client, Protocol):
    """A producer as the partition leader sees it (Kafka's ProduceResponse callback)."""

    def on_produce_response(
        self, req: ProduceRequest, results: dict[TP, tuple[KafkaError | None, int]]
    ) -> None: ...


class OffsetClient(Client, Protocol):
    """Whoever commits or fetches a group's offsets (a member, a standalone consumer, a real client's
    request). The group path answers with `KafkaError` instances (engine.errors), never error-name strings."""

    def on_commit_response(
        self, group_id: str, req_id: int, err: KafkaError | None, offsets: dict[TP, int]
    ) -> None: ...

    def on_offset_fetch_response(
        self, group_id: str, req_id: int, err: KafkaError | None, offsets: dict[TP, int]
    ) -> None: ...


class GroupMember(Client, Protocol):
    """A classic-protocol group member as the group coordinator sees it (JoinGroup / SyncGroup / Heartbeat
    responses); the coordinator stores it as the member and answers JoinGroup and SyncGroup to it."""

    def on_join_response(
        self, group_id: str, err: KafkaError | None, payload: dict[str, Any] | None
    ) -> None: ...

    def on_sync_response(
        self, group_id: str, err: KafkaError | None, generation: int, assignment: list[TP] | None
    ) -> None: ...

    def on_heartbeat_response(self, group_id: str, err: KafkaError | None) -> None: ...


class ConsumerGroupMember(Client, Protocol):
    """A KIP-848 member as the group coordinator sees it (ConsumerGroupHeartbeat responses)."""

    def on_cg_heartbeat_response(
        self,
        group_id: str,
        err: KafkaError | None,
        member_id: str,
        epoch: int,
        assignment: list[TP] | None,
        interval_ms: int,
    ) -> None: ...


__all__ = ["Client", "ProduceClient", "OffsetClient", "GroupMember", "ConsumerGroupMember"]


if TYPE_CHECKING:  # mypy proves that every client kind keeps its contracts (nothing of this runs)
    from .consumer import Consumer
    from .producer import Producer
    from .server.clients import ExternalConsumer, ExternalProducer, Reply
    from .share import ShareConsumer

    def _clients_keep_their_contracts(
        p: Producer,
        k: Consumer,
        s: ShareConsumer,
        ep: ExternalProducer,
        ek: ExternalConsumer,
        r: Reply,
    ) -> None:
        produce: list[ProduceClient] = [p, r]
        members: list[GroupMember] = [k, ek, r]
        offsets: list[OffsetClient] = [k, r]
        kip848: list[ConsumerGroupMember] = [k]
        clients: list[Client] = [p, k, s, ep, ek, r]
        del produce, members, offsets, kip848, clients
