"""The consumer: group membership (client side), fetching, poll(), positions and offset commits.

Follows KafkaConsumer with the classic protocol (ConsumerCoordinator / AbstractCoordinator / Fetcher):
FindCoordinator -> JoinGroup (MEMBER_ID_REQUIRED first, KIP-394) -> the leader member runs the assignor
-> SyncGroup -> OffsetFetch for committed positions (else `auto.offset.reset` via ListOffsets) -> Fetch
long polls to each partition leader. Heartbeats every `heartbeat.interval.ms`; a member that does not
poll within `max.poll.interval.ms` leaves the group. Eager assignors revoke everything before rejoining;
cooperative-sticky (KIP-429) revokes only the partitions that move, then rejoins for a second round.
`poll()` advances simulated time up to its timeout, so notebook code reads like real Kafka code.
With `group.instance.id` (static membership, KIP-345) the member joins without the MEMBER_ID_REQUIRED round,
never sends LeaveGroup (KIP-848: it leaves with member epoch -2), and FENCED_INSTANCE_ID stops it for good.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import deque
from itertools import repeat, starmap
from typing import TYPE_CHECKING, Any

from . import args
from .assignors import assign_detailed
from .config import ConsumerConfig
from .errors import (
    CommitFailedError,
    CoordinatorNotAvailableError,
    FencedInstanceIdError,
    FencedMemberEpochError,
    IllegalGenerationError,
    IllegalStateError,
    InvalidSessionTimeoutError,
    KafkaError,
    KafkaTimeoutError,
    MemberIdRequiredError,
    NoOffsetForPartitionError,
    NotCoordinatorError,
    RebalanceInProgressError,
    UnknownMemberIdError,
    UnreleasedInstanceIdError,
)
from .records import ConsumerRecord, timestamps_between, timestamps_sum
from .scheduler import Watchdog

if TYPE_CHECKING:
    from .contracts import World
    from .group import Subscription
    from .records import RecordBatch

TP = tuple[str, int]
HISTORY = 2000  # records kept per consumer for views and tests (oldest dropped)
_tuple_new = tuple.__new__
# endless repeats hold no state (no count): every _records zip shares them, ended by the slice's own columns
_RECORD_CLASS = repeat(ConsumerRecord)
_NO_HEADERS = repeat(())


class Consumer:
    def __init__(
        self,
        cluster: World,
        consumer_id: str,
        group_id: str | None = None,
        topics: list[str] | None = None,
        config: dict[str, Any] | None = None,
    ) -> None:
        self.cluster = cluster
        self.id = consumer_id
        self.group_id = group_id
        self.config = ConsumerConfig.parse(config, where=f"consumer {consumer_id!r}")
        cfg = self.config
        self.subscription: list[str] | None = None
        self.manual: list[TP] | None = None
        self.state = "unjoined"  # unjoined | joining | syncing | stable | crashed | closed
        self.alive = True
        self.coordinator: int | None = None
        self.member_id = ""
        self.generation = -1
        self.protocol: str | None = None
        self.is_leader = False
        self.assignment: list[TP] = []
        self.positions: dict[TP, int] = {}
        self.pending_positions: set[TP] = set()
        self.pending_since: dict[TP, int] = {}  # when each pending position lookup was sent
        self.buffer: deque[tuple[TP, RecordBatch]] = deque()
        self.buffered: set[TP] = set()
        self.fetching: dict[int, int] = {}  # broker id -> fetch request id
        # KIP-392: partition -> (preferred read replica, expiry time) a leader named (SubscriptionState)
        self.read_replicas: dict[TP, tuple[int, int]] = {}
        # request.timeout.ms of the fetch in flight to each broker (token: the broker id)
        self._fetch_timers = Watchdog(cluster.scheduler, self._fetch_timeout)
        self.metadata: dict[str, list[int | None]] = {}
        self.last_poll_ms = cluster.now
        self.last_commit_ms = cluster.now
        self.received = 0
        self.duplicates = 0
        # the newest HISTORY records poll() handed out, kept as the batch slices they came from (topic-partition,
        # batch, first index, end index): the records themselves die with the application's list, before a
        # young garbage collection has to scan them; `history` builds them again when something reads it
        self._history: deque[tuple[TP, RecordBatch, int, int]] = deque()
        self._history_held = 0  # records in those slices (at most one slice more than HISTORY needs)
        self.max_delivered: dict[TP, int] = {}
        self.committed_ack: dict[TP, int] = {}
        self._req_seq = 0
        self._hb_epoch = 0
        self._join_epoch = 0
        self.auto_interval: int | None = None
        self.needs_rejoin = False
        self.rebalance_pending_commit = False
        self.commit_results: dict[int, KafkaError | None] = {}
        self.poll_error: KafkaError | None = None  # raised by the next poll(), as KafkaConsumer.poll() does
        self.strategies = list(cfg.partition_assignment_strategy)
        if topics:
            self.subscribe(topics)

    def __repr__(self) -> str:
        return f"<Consumer {self.id} group={self.group_id} state={self.state} assignment={self.assignment}>"

    @property
    def history(self) -> deque[ConsumerRecord]:
        """The newest HISTORY (2,000) records poll() handed out, oldest first (for views and tests). Built again
        from the batch slices on every read: equal to the records poll() returned, not the same objects."""
        return deque(self.recent_records(HISTORY), maxlen=HISTORY)

    def recent_records(self, n: int) -> list[ConsumerRecord]:
        """The newest `n` (at most HISTORY) records poll() handed out, oldest first, building only those."""
        n = min(n, HISTORY)
        picked: list[tuple[TP, RecordBatch, int, int]] = []
        held = 0
        for tp, b, i, take in reversed(self._history):
            if held >= n:
                break
            if held + take - i > n:
                i = take - (n - held)
            picked.append((tp, b, i, take))
            held += take - i
        out: list[ConsumerRecord] = []
        for tp, b, i, take in reversed(picked):
            out.extend(_records(tp, b, i, take))
        return out

    def carry_delivery_over(self, old: Consumer) -> None:
        """A restarted consumer keeps its predecessor's delivery bookkeeping (counts, history, the highest
        offset delivered per partition), so redeliveries after the restart show as duplicates."""
        self.received, self.duplicates, self.max_delivered = old.received, old.duplicates, old.max_delivered
        self._history, self._history_held = old._history, old._history_held

    # -- public API ------------------------------------------------------------------------------------------
    def subscribe(self, topics: list[str]) -> None:
        topics = args.topics("subscribe()", "topics", topics)
        if self.group_id is None:
            raise IllegalStateError(
                "subscribe() needs a group_id: give one, or use assign() for manual partitions"
            )
        self._check_alive()
        self.subscription = list(topics)
        self.manual = None
        self._ensure_joined()

    def assign(self, partitions: list[TP]) -> None:
        """Manual assignment: no group membership, no rebalances (KafkaConsumer.assign)."""
        partitions = args.partitions("assign()", "partitions", partitions)
        self._check_alive()
        self.subscription = None
        self.manual = partitions
        self.assignment = list(self.manual)
        self.state = "stable"
        self._init_positions(self.assignment)

    def poll(self, timeout_ms: int = 1000, max_records: int | None = None) -> list[ConsumerRecord]:
        """Return buffered records; if none, run the simulation up to `timeout_ms` until some arrive."""
        args.whole("poll()", "timeout_ms", timeout_ms, unit="ms")  # Kafka: "Timeout must not be negative"
        args.optional_whole("poll()", "max_records", max_records, minimum=1)
        self._check_alive()
        c = self.cluster
        records = self._poll_once(max_records)
        if records or timeout_ms <= 0 or c.in_simulation:
            return records
        c.run_until(lambda: bool(self.buffer) or not self.alive, timeout_ms, quiet=True)
        return self._poll_once(max_records)

    def commit(self, offsets: dict[TP, int] | None = None, asynchronous: bool = False) -> None:
        """commitSync / commitAsync: store positions (or the given offsets) in the group's coordinator."""
        if offsets is not None:
            offsets = args.offsets("commit()", "offsets", offsets)
        self._check_alive()
        c = self.cluster
        offs = (
            offsets
            if offsets is not None
            else {tp: self.positions[tp] for tp in self.assignment if tp in self.positions}
        )
        if not offs or self.group_id is None:
            return
        req = self._send_commit(offs)
        if asynchronous or c.in_simulation:
            return
        c.run_until(
            lambda: req in self.commit_results or not self.alive, self.config.request_timeout_ms, quiet=True
        )
        err = self.commit_results.pop(
            req, KafkaTimeoutError("no OffsetCommit answer within request.timeout.ms")
        )
        if err is not None:
            raise CommitFailedError(
                f"commit failed with {err.name}: the group rebalanced (or the coordinator moved) and these partitions may "
                f"now belong to another member; the records since the last commit will be processed again"
            )

    def position(self, tp: TP) -> int | None:
        return self.positions.get(args.tp("position()", "tp", tp))

    def seek(self, tp: TP, offset: int) -> None:
        tp = args.tp("seek()", "tp", tp)
        args.whole("seek()", "offset", offset)
        if tp not in self.assignment:
            raise IllegalStateError(f"{tp[0]}-{tp[1]} is not assigned to {self.id}")
        self.positions[tp] = offset
        self.pending_positions.discard(tp)  # an explicit seek wins over a pending offset lookup
        self._drop_buffered(tp)
        self._maybe_fetch()

    def committed(self, tp: TP) -> int | None:
        """The group's committed offset as the coordinator knows it (read directly, for notebooks)."""
        tp = args.tp("committed()", "tp", tp)
        g = self.cluster.group_state(self.group_id) if self.group_id else None
        return g.offsets.get(tp) if g else None

    def start(self, poll_interval_ms: int = 100) -> None:
        """Let the simulation call poll() every `poll_interval_ms` (how the Playground's consumers run)."""
        args.whole("start()", "poll_interval_ms", poll_interval_ms, minimum=1, unit="ms")
        self.auto_interval = poll_interval_ms
        self.cluster.scheduler.after(poll_interval_ms, self._auto_poll, self._hb_epoch)

    def crash(self) -> None:
        """The process dies: no LeaveGroup, no commit. The coordinator notices after session.timeout.ms."""
        if not self.alive:
            return
        self.alive = False
        self.state = "crashed"
        self._hb_epoch += 1
        # a KIP-848 member's session timeout is the broker's group.consumer.session.timeout.ms
        session = (
            f"the broker's group.consumer.session.timeout.ms="
            f"{self.cluster.broker_config.group_consumer_session_timeout_ms}"
            if self._kip848
            else f"session.timeout.ms={self.config.session_timeout_ms}"
        )
        self.cluster.emit(
            "consumer_crashed",
            f"{self.id} crashed: it stops heartbeating without leaving group "
            f"{self.group_id}; its partitions stay assigned until {session} ms passes",
            actors=(self.id,),
            group=self.group_id,
        )

    def _leave_kip848(self, co: Any, member_epoch: int, instance_id: str | None = None) -> None:
        """Leave with a ConsumerGroupHeartbeat (KIP-848): member epoch -1, or -2 for a static member that will
        come back (it keeps its partitions until the session times out)."""
        self._cg_heartbeat_to(co, member_epoch, [], [], None, instance_id)

    def _cg_heartbeat_to(
        self,
        co: Any,
        member_epoch: int,
        topics: list[str],
        owned: list[TP],
        assignor: str | None,
        instance_id: str | None,
    ) -> None:
        """One ConsumerGroupHeartbeat to coordinator broker `co` (KIP-848)."""
        self.cluster.network.send(
            self.id,
            co.name,
            "ConsumerGroupHeartbeat",
            co.coordinator.kip848.on_heartbeat,
            self,
            self.group_id,
            self.member_id,
            member_epoch,
            topics,
            owned,
            assignor,
            instance_id,
        )

    def close(self) -> None:
        """Commit (with auto-commit on), send LeaveGroup, stop: the group rebalances at once. A static member
        (group.instance.id) sends no LeaveGroup (AbstractCoordinator.maybeLeaveGroup): it may come back."""
        if not self.alive:
            return
        c = self.cluster
        if self.config.enable_auto_commit and self.group_id and self.assignment:
            self._send_commit({tp: self.positions[tp] for tp in self.assignment if tp in self.positions})
        static = self.config.group_instance_id
        if static is not None and self._kip848 and self.member_id and self.coordinator is not None:
            self._leave_kip848(c.brokers[self.coordinator], -2, static)  # a static member leaves for now
        if static is not None:
            self.alive = False
            self.state = "closed"
            self._hb_epoch += 1
            how = "left with member epoch -2 (KIP-848)" if self._kip848 else "sent no LeaveGroup"
            c.emit(
                "consumer_closed",
                f"{self.id} closed as static member {static!r}: it {how}, so it keeps its "
                f"partitions and the group does not rebalance unless it stays away longer than the session timeout",
                actors=(self.id,),
                group=self.group_id,
            )
            return
        if self.member_id and self.coordinator is not None:
            co = c.brokers[self.coordinator]
            if self._kip848:
                self._leave_kip848(co, -1)
            else:
                c.network.send(
                    self.id,
                    co.name,
                    "LeaveGroup",
                    co.coordinator.on_leave,
                    self,
                    self.group_id,
                    self.member_id,
                )
        self.alive = False
        self.state = "closed"
        self._hb_epoch += 1
        c.emit(
            "consumer_closed",
            f"{self.id} closed and sent LeaveGroup: group {self.group_id} rebalances without "
            f"waiting for a timeout",
            actors=(self.id,),
            group=self.group_id,
        )

    # -- poll internals -----------------------------------------------------------------------------------------
    def _check_alive(self) -> None:
        if self.state == "fenced":
            raise FencedInstanceIdError(
                f"consumer {self.id} was fenced: another instance joined group "
                f"{self.group_id} with group.instance.id={self.config.group_instance_id!r}"
            )
        if not self.alive:
            raise IllegalStateError(f"consumer {self.id} is {self.state}")

    def _auto_poll(self, epoch: int) -> None:
        if epoch != self._hb_epoch or not self.alive or self.auto_interval is None:
            return
        try:
            self._poll_once(None, build=False)  # its poll loop only counts the records: none are built
        except NoOffsetForPartitionError as exc:
            # the simulated application does not catch it: its poll loop ends and it closes the consumer
            self.cluster.emit(
                "note",
                f"{self.id}'s poll() threw NoOffsetForPartitionException ({exc}); the "
                f"application stops and closes the consumer",
                actors=(self.id,),
                group=self.group_id,
                error="NoOffsetForPartitionException",
            )
            self.close()
            return
        self.cluster.scheduler.after(self.auto_interval, self._auto_poll, epoch)

    def _poll_once(self, max_records: int | None, build: bool = True) -> list[ConsumerRecord]:
        if self.poll_error is not None:
            err, self.poll_error = self.poll_error, None
            raise err
        c = self.cluster
        now = c.now
        self.last_poll_ms = now
        if self.subscription is not None:
            if self.needs_rejoin or self.state == "unjoined":
                self._ensure_joined()
        if (
            self.config.enable_auto_commit
            and self.group_id
            and self.state == "stable"
            and now - self.last_commit_ms >= self.config.auto_commit_interval_ms
        ):
            self.last_commit_ms = now
            offs = {tp: self.positions[tp] for tp in self.assignment if tp in self.positions}
            if offs:
                self._send_commit(offs)
        out = self._drain(max_records or self.config.max_poll_records, build)
        self._maybe_fetch()
        return out

    def _drain(self, limit: int, build: bool = True) -> list[ConsumerRecord]:
        """Hand out up to `limit` buffered records, a batch slice at a time: the records are built in C (starmap
        and zip over the slice's columns), and the bookkeeping (positions, duplicates, the send -> poll latency,
        the event's ranges) is done once per slice, never per record (offsets ascend within a slice).
        build=False: the same bookkeeping, but no ConsumerRecord objects (for a caller that drops them)."""
        out: list[ConsumerRecord] = []
        buf = self.buffer
        if not buf:
            return out
        positions = self.positions
        assignment = self.assignment
        max_delivered = self.max_delivered
        first: dict[TP, int] = {}  # per partition, the first and last offset handed out (the event's ranges)
        last: dict[TP, int] = {}
        chunks: list[tuple[TP, RecordBatch, int, int]] = []  # the batch slices handed out, for the history
        got = dups = latency = 0
        now = self.cluster.now
        while buf and got < limit:
            tp, b = buf[0]
            pos = positions.get(tp)
            if pos is None or tp not in assignment:
                buf.popleft()
                self.buffered.discard(tp)
                continue
            n = b.count
            if b.control is not None:  # a transaction marker, or an aborted batch: skipped, position moves on
                buf.popleft()
                positions[tp] = pos if pos > b.next_offset else b.next_offset
                if not buf or buf[0][0] != tp and not any(t == tp for t, _ in buf):
                    self.buffered.discard(tp)
                continue
            base = b.base_offset
            offs = b.offsets
            if offs is None:  # contiguous offsets from base_offset (not compacted)
                i = pos - base if pos > base else 0
            else:
                i = bisect_left(offs, pos)
            take = i + limit - got
            if take > n:
                take = n
            if take > i:
                k = take - i
                ts = b.timestamps
                if build:
                    out.extend(_records(tp, b, i, take))
                chunks.append((tp, b, i, take))
                got += k
                if offs is None:
                    lo, hi = base + i, base + take - 1
                else:
                    lo, hi = offs[i], offs[take - 1]
                seen = max_delivered.get(tp, -1)
                if lo <= seen:  # delivered again after a rebalance or a seek back
                    dups += (
                        (seen - lo + 1 if seen < hi else k)
                        if offs is None
                        else bisect_right(offs, seen, i, take) - i
                    )
                if hi > seen:
                    max_delivered[tp] = hi
                if tp not in first:
                    first[tp] = lo
                last[tp] = hi
                # send -> poll latency: one product per run of equal timestamps, not a sum over the records
                latency += now * k - timestamps_sum(ts, i, take)
            if take >= n:
                buf.popleft()
                positions[tp] = b.next_offset
                if not buf or buf[0][0] != tp and not any(t == tp for t, _ in buf):
                    self.buffered.discard(tp)
            else:
                positions[tp] = base + take if offs is None else offs[take]
        if got:
            self._record_delivery(chunks, got, dups, latency, first, last)
        return out

    def _record_delivery(
        self,
        chunks: list[tuple[TP, RecordBatch, int, int]],
        got: int,
        dups: int,
        latency: int,
        first: dict,
        last: dict,
    ) -> None:
        """Counters, the history, the metrics and the event of one poll() that returned `got` records."""
        c = self.cluster
        self.received += got
        hist = self._history
        hist.extend(chunks)
        held = self._history_held + got
        while (
            held - (hist[0][3] - hist[0][2]) >= HISTORY
        ):  # the oldest slice is not needed for the newest HISTORY
            t, _, i, take = hist.popleft()
            held -= take - i
        self._history_held = held
        c.on_delivered(self, got, latency)
        if dups:
            self.duplicates += dups
        ranges: dict[str, list[int]] = {}
        said = []
        for tp, lo in first.items():
            hi = last[tp]
            name = f"{tp[0]}-{tp[1]}"
            ranges[name] = [lo, hi]
            said.append(f"{name}@{lo}..{hi}")
        dup = f" ({dups} already seen before: delivered again after a rebalance)" if dups else ""
        c.emit(
            "records_polled",
            f"{self.id} poll() returned {got} record(s): {', '.join(said)}{dup}",
            actors=(self.id,),
            group=self.group_id,
            records=got,
            duplicates=dups,
            ranges=ranges,
        )

    def _drop_buffered(self, tp: TP) -> None:
        if tp in self.buffered:
            self.buffer = deque((t, b) for t, b in self.buffer if t != tp)
            self.buffered.discard(tp)

    # -- fetching -----------------------------------------------------------------------------------------------
    def _leader(self, tp: TP) -> int | None:
        leaders = self.metadata.get(tp[0])
        if leaders is None:
            leaders = self.metadata[tp[0]] = self.cluster.leaders_of(tp[0])
        return leaders[tp[1]] if tp[1] < len(leaders) else None

    def _read_replica(self, tp: TP, leader: int) -> int:
        """AbstractFetch.selectReadReplica: the preferred read replica while it has not expired and is an online
        replica of the partition, else the leader (KIP-392)."""
        pref = self.read_replicas.get(tp)
        if pref is None:
            return leader
        c = self.cluster
        ps = c.controller.partitions.get(tp)
        if pref[1] > c.now and ps is not None and pref[0] in ps.replicas and c.controller.is_live(pref[0]):
            return pref[0]
        del self.read_replicas[tp]
        return leader

    def _maybe_fetch(self) -> None:
        if not self.alive or self.state != "stable":
            return
        c = self.cluster
        cfg = self.config
        if self.pending_positions:
            self._retry_stale_lookups()
        per_node: dict[int, dict[TP, int]] = {}
        from_follower: dict[int, set[TP]] = {}  # partitions fetched from a preferred read replica (KIP-392)
        for tp in self.assignment:
            if tp in self.buffered or tp in self.pending_positions:
                continue
            pos = self.positions.get(tp)
            if pos is None:
                continue
            leader = self._leader(tp)
            if leader is None:
                self._refresh_metadata()
                continue
            node = self._read_replica(tp, leader) if self.read_replicas else leader
            if node in self.fetching:
                continue
            per_node.setdefault(node, {})[tp] = pos
            if node != leader:
                from_follower.setdefault(node, set()).add(tp)
        for node, parts in per_node.items():
            self._req_seq += 1
            self.fetching[node] = self._req_seq
            broker = c.brokers[node]
            c.network.send(
                self.id,
                broker.name,
                "Fetch",
                broker.on_fetch,
                self,
                parts,
                cfg.fetch_min_bytes,
                cfg.fetch_max_wait_ms,
                cfg.fetch_max_bytes,
                self._req_seq,
                cfg.isolation_level == "read_committed",
                cfg.client_rack,
                from_follower.get(node),
            )
            self._fetch_timers.start(node, cfg.request_timeout_ms, node, self._req_seq)

    def _fetch_timeout(self, leader: int, req_id: int) -> None:
        if self.fetching.get(leader) == req_id:
            del self.fetching[leader]
            self._forget_read_replica(leader)
            self._refresh_metadata()
            self._maybe_fetch()

    def _forget_read_replica(self, broker_id: int) -> None:
        """AbstractFetch.handleFetchFailure: a failed fetch clears the preferred read replica it went to."""
        for tp in [tp for tp, (b, _) in self.read_replicas.items() if b == broker_id]:
            del self.read_replicas[tp]

    def on_fetch_response(
        self,
        broker_id: int,
        req_id: int,
        data: dict,
        errors: dict,
        aborted: dict | None = None,
        preferred: dict | None = None,
    ) -> None:
        if not self.alive or self.fetching.get(broker_id) != req_id:
            return
        del self.fetching[broker_id]
        self._fetch_timers.stop(broker_id)  # answered: the timeout would find nothing to do
        c = self.cluster
        if preferred:
            self._set_read_replicas(broker_id, preferred)
        got = 0
        skipped = 0
        parts = []
        for tp, (batches, _hw, _lso) in data.items():
            pos = self.positions.get(tp)
            if pos is None or tp not in self.assignment or tp in self.buffered:
                continue
            useful = [b for b in batches if b.last_offset >= pos]
            if useful:
                gone = aborted.get(tp) if aborted else None
                for b in useful:
                    if (
                        gone
                        and b.is_transactional
                        and b.control is None
                        and any(
                            pid == b.producer_id and first <= b.base_offset < marker
                            for pid, first, marker in gone
                        )
                    ):
                        skipped += b.count
                        b = SkippedBatch(
                            b
                        )  # read_committed: records of an aborted transaction are never returned
                    self.buffer.append((tp, b))
                self.buffered.add(tp)
                n = sum(b.count for b in useful if b.control is None)
                got += n
                parts.append(f"{tp[0]}-{tp[1]}@{useful[0].base_offset}..{useful[-1].last_offset}")
        if got:
            extra = (
                f" ({skipped} of them from aborted transactions, skipped: read_committed)" if skipped else ""
            )
            c.emit(
                "records_fetched",
                f"{self.id} fetched {got} record(s) from broker {broker_id}: {', '.join(parts)}{extra}",
                actors=(self.id, f"broker-{broker_id}"),
                records=got,
                broker=broker_id,
                skipped_aborted=skipped,
            )
        refresh = False
        for tp, err in errors.items():
            # FetchCollector.handleInitializeErrors: an error clears the preferred read replica; an offset out of
            # range on a follower sends the consumer back to the leader instead of resetting its position
            cleared = self.read_replicas.pop(tp, None)
            if err.name == "OFFSET_OUT_OF_RANGE" and tp in self.assignment:
                if cleared is None:
                    self._reset_position(tp, f"offset {self.positions.get(tp)} is out of range ({err})")
            else:
                refresh = True
        if refresh:
            self._refresh_metadata()
        if self.auto_interval is None and not c.in_simulation:
            pass
        self._maybe_fetch()

    def _set_read_replicas(self, leader: int, preferred: dict[TP, int]) -> None:
        """FetchCollector: remember each preferred read replica for metadata.max.age.ms."""
        c = self.cluster
        expires = c.now + self.config.metadata_max_age_ms
        for tp, node in preferred.items():
            old = self.read_replicas.get(tp)
            self.read_replicas[tp] = (node, expires)
            if old is None or old[0] != node:
                c.emit(
                    "note",
                    f"{self.id} (client.rack={self.config.client_rack}) reads {tp[0]}-{tp[1]} from follower "
                    f"broker {node} in its rack: leader broker {leader} named it the preferred read replica "
                    f"(KIP-392, RackAwareReplicaSelector) for metadata.max.age.ms={self.config.metadata_max_age_ms}",
                    actors=(self.id, f"broker-{leader}", f"broker-{node}"),
                    topic=tp[0],
                    partition=tp[1],
                    preferred_read_replica=node,
                    leader=leader,
                )

    def on_disconnect(self, broker_id: int) -> None:
        """The connection to a broker broke: forget its fetch; find the coordinator again if it was that one."""
        if not self.alive:
            return
        self.fetching.pop(broker_id, None)
        self._forget_read_replica(broker_id)
        self._refresh_metadata()
        if broker_id == self.coordinator:
            self._rediscover_coordinator()
        self.cluster.scheduler.after(self.config.retry_backoff_ms, self._maybe_fetch)

    def on_partitions_changed(self, topic: str) -> bool:
        """A topic gained partitions: refresh the metadata; a classic group's leader subscribed to it rejoins
        (ConsumerCoordinator: the metadata snapshot changed). True for a KIP-848 member subscribed to it: its
        coordinator must bump the group epoch."""
        if self.alive and topic in self.metadata:
            self._refresh_metadata()
        if not (self.alive and self.group_id and topic in (self.subscription or [])):
            return False
        if self._kip848:
            return True
        if self.is_leader and self.state == "stable":
            self.state = "unjoined"
            self._ensure_joined()
        return False

    def _refresh_metadata(self) -> None:
        c = self.cluster
        for topic in list(self.metadata):
            self.metadata[topic] = c.leaders_of(topic)  # clients re-read metadata from a live broker

    # -- positions ----------------------------------------------------------------------------------------
    def _init_positions(self, tps: list[TP]) -> None:
        need = [tp for tp in tps if tp not in self.positions]
        if not need:
            self._maybe_fetch()
            return
        self.pending_positions.update(need)
        for tp in need:
            self.pending_since[tp] = self.cluster.now
        if self.group_id is not None and self._coordinator_broker() is not None:
            co = self._coordinator_broker()
            self._req_seq += 1
            self.cluster.network.send(
                self.id,
                co.name,
                "OffsetFetch",
                co.coordinator.on_offset_fetch,
                self,
                self.group_id,
                need,
                self._req_seq,
            )
        else:
            for tp in need:
                self._reset_position(tp, "no committed offset")

    def on_offset_fetch_response(
        self, group_id: str, req_id: int, err: KafkaError | None, offsets: dict[TP, int]
    ) -> None:
        if not self.alive:
            return
        if err is not None:
            self._rediscover_coordinator()
            return
        for tp, off in offsets.items():
            if tp in self.pending_positions:
                self.pending_positions.discard(tp)
                self.positions[tp] = off
        # in assignment order: pending_positions is a set, whose order changes with PYTHONHASHSEED
        for tp in [tp for tp in self.assignment if tp in self.pending_positions and tp not in offsets]:
            self._reset_position(tp, "the group has no committed offset for it")
        self._maybe_fetch()

    def _reset_position(self, tp: TP, why: str) -> None:
        """auto.offset.reset: earliest -> log start offset, latest -> high watermark, none -> error."""
        c = self.cluster
        policy = self.config.auto_offset_reset
        if policy == "none":
            self.pending_positions.discard(tp)
            err = NoOffsetForPartitionError(f"{tp[0]}-{tp[1]}: {why} and auto.offset.reset=none")
            if not c.in_simulation:
                raise err
            self.poll_error = (
                self.poll_error or err
            )  # found by a response: the application's next poll() throws
            return
        leader = self._leader(tp)
        self.pending_positions.add(tp)
        self.pending_since[tp] = c.now
        self.positions.pop(tp, None)
        self._drop_buffered(tp)
        if leader is None:
            c.scheduler.after(self.config.retry_backoff_ms, self._retry_reset, tp, why)
            return
        broker = c.brokers[leader]
        c.network.send(
            self.id, broker.name, "ListOffsets", c.on_list_offsets, broker.id, self, tp, policy, why
        )

    def _retry_stale_lookups(self) -> None:
        """A position lookup (OffsetFetch / ListOffsets) lost with a dead broker is asked again."""
        now = self.cluster.now
        stale = sorted(
            tp
            for tp in self.pending_positions
            if now - self.pending_since.get(tp, now) > self.config.request_timeout_ms // 10
        )
        if stale:
            for tp in stale:
                self.pending_positions.discard(tp)
                self.positions.pop(tp, None)
            self._refresh_metadata()
            self._init_positions([tp for tp in stale if tp in self.assignment])

    def _retry_reset(self, tp: TP, why: str) -> None:
        if self.alive and tp in self.assignment and tp in self.pending_positions:
            self._refresh_metadata()
            self._reset_position(tp, why)

    def on_list_offsets_response(self, tp: TP, offset: int | None, policy: str, why: str) -> None:
        if not self.alive or tp not in self.pending_positions:
            return
        if offset is None:
            self.cluster.scheduler.after(self.config.retry_backoff_ms, self._retry_reset, tp, why)
            return
        self.pending_positions.discard(tp)
        self.positions[tp] = offset
        self.cluster.emit(
            "offset_reset",
            f"{self.id} starts {tp[0]}-{tp[1]} at offset {offset}: {why}, so "
            f"auto.offset.reset={policy} applies",
            actors=(self.id,),
            topic=tp[0],
            partition=tp[1],
            offset=offset,
            policy=policy,
        )
        self._maybe_fetch()

    # -- commits ------------------------------------------------------------------------------------------------
    def _send_commit(self, offsets: dict[TP, int]) -> int:
        c = self.cluster
        self._req_seq += 1
        co = self._coordinator_broker()
        if co is None:
            self.commit_results[self._req_seq] = CoordinatorNotAvailableError("no group coordinator known")
            return self._req_seq
        gen = self.generation if self.subscription is not None else -1
        member = self.member_id if self.subscription is not None else ""
        c.network.send(
            self.id,
            co.name,
            "OffsetCommit",
            co.coordinator.on_offset_commit,
            self,
            self.group_id,
            gen,
            member,
            dict(offsets),
            self._req_seq,
            self.config.group_instance_id if self.subscription is not None else None,
        )
        return self._req_seq

    def on_commit_response(
        self, group_id: str, req_id: int, err: KafkaError | None, offsets: dict[TP, int]
    ) -> None:
        self.commit_results[req_id] = err
        if len(self.commit_results) > 100:
            for k in sorted(self.commit_results)[:-50]:
                del self.commit_results[k]
        if err is None:
            self.committed_ack.update(offsets)
        elif isinstance(err, FencedInstanceIdError):
            self._fenced("OffsetCommit")
        elif isinstance(err, NotCoordinatorError):
            self._rediscover_coordinator()

    # -- group membership -------------------------------------------------------------------------------------
    def _coordinator_broker(self):
        if self.coordinator is None:
            return None
        return self.cluster.brokers.get(self.coordinator)

    def _ensure_joined(self) -> None:
        if not self.alive or self.subscription is None or self.state in ("joining", "syncing"):
            return
        self.needs_rejoin = False
        self.state = "joining"
        if self.coordinator is None:
            self._find_coordinator()
        else:
            self._send_join()

    def _find_coordinator(self) -> None:
        c = self.cluster
        broker = c.any_reachable_broker(self.id)
        if broker is None:
            c.scheduler.after(self.config.retry_backoff_ms, self._retry_find, self._hb_epoch)
            return
        c.network.send(
            self.id, broker.name, "FindCoordinator", c.on_find_coordinator, broker.id, self, self.group_id
        )

    def _retry_find(self, epoch: int) -> None:
        if epoch == self._hb_epoch and self.alive and self.state == "joining":
            self._find_coordinator()

    def on_find_coordinator_response(self, coordinator: int | None) -> None:
        if not self.alive or self.state != "joining":
            return
        if coordinator is None:
            self.cluster.scheduler.after(self.config.retry_backoff_ms, self._retry_find, self._hb_epoch)
            return
        self.coordinator = coordinator
        self._send_join()

    def _rediscover_coordinator(self) -> None:
        self.coordinator = None
        if self.subscription is not None and self.state not in ("joining", "syncing"):
            self.state = "unjoined"
            self.needs_rejoin = True
            self._ensure_joined()
        elif self.state == "joining":
            self._find_coordinator()

    def _eager(self) -> bool:
        return (
            self.protocol != "cooperative-sticky"
            if self.protocol
            else "cooperative-sticky" not in self.strategies[:1]
        )

    # -- KIP-848 (group.protocol=consumer): heartbeats carry everything ---------------------------------------
    @property
    def _kip848(self) -> bool:
        return self.config.group_protocol == "consumer"

    def _send_cg_heartbeat(self, epoch: int | None = None) -> None:
        if epoch is not None and epoch != self._hb_epoch:
            return
        if not self.alive or self.subscription is None:
            return
        c = self.cluster
        co = self._coordinator_broker()
        if co is None:
            self._find_coordinator()
            return
        if not self.member_id:
            self.member_id = f"{self.id}-{c.rng.getrandbits(32):08x}"  # KIP-848 members pick their own id
            self.generation = 0
        self._cg_heartbeat_to(
            co,
            max(self.generation, 0),
            list(self.subscription),
            list(self.assignment),
            self.config.group_remote_assignor,
            self.config.group_instance_id,
        )

    def on_cg_heartbeat_response(
        self,
        group_id: str,
        err: KafkaError | None,
        member_id: str,
        epoch: int,
        assignment: list[TP] | None,
        interval_ms: int,
    ) -> None:
        """Reconcile with what the coordinator says: revoke what moved away, start on what was added."""
        if not self.alive:
            return
        c = self.cluster
        if isinstance(err, NotCoordinatorError):
            self._rediscover_coordinator()
            return
        if isinstance(err, FencedInstanceIdError | UnreleasedInstanceIdError):
            self._fenced(
                "ConsumerGroupHeartbeat", err.name
            )  # both fatal for the client (KIP-848 static membership)
            return
        if isinstance(err, UnknownMemberIdError | FencedMemberEpochError):
            self._lose_membership(f"ConsumerGroupHeartbeat answered {err.name}")
            self.generation = 0
            self._send_cg_heartbeat()
            return
        self.generation = epoch
        self.protocol = "consumer"
        new = [(t, p) for t, p in assignment or []]
        revoked = [tp for tp in self.assignment if tp not in new]
        added = [tp for tp in new if tp not in self.assignment]
        self.state = "stable"
        if revoked:
            self._revoke(
                revoked, "KIP-848: the coordinator moved them to another member; the others keep theirs"
            )
        if added:
            self.assignment = sorted(set(self.assignment) | set(added))
            self._init_positions(added)
        self._hb_epoch += 1
        if revoked:
            self._send_cg_heartbeat()  # acknowledge a revocation at once, so its new owner can start sooner
        c.scheduler.after(interval_ms, self._send_cg_heartbeat, self._hb_epoch)
        if self.auto_interval is not None:
            c.scheduler.after(self.auto_interval, self._auto_poll, self._hb_epoch)

    def _send_join(self) -> None:
        c = self.cluster
        co = self._coordinator_broker()
        if co is None:
            self._find_coordinator()
            return
        if self._kip848:
            self.state = "joining"
            self._send_cg_heartbeat()
            return
        if self._eager() and self.assignment and self.protocol is not None:
            self._revoke(list(self.assignment), "eager rebalance: give up every partition before rejoining")
        self._join_epoch += 1
        self.state = "joining"
        cfg = self.config
        # ConsumerCoordinator.metadata(): the subscription carries the owned partitions, their generation and
        # client.rack (ConsumerProtocolSubscription v1-v3; KIP-792 generation, KIP-881 rack)
        c.network.send(
            self.id,
            co.name,
            "JoinGroup",
            co.coordinator.on_join,
            self,
            self.group_id,
            self.member_id,
            list(self.subscription or []),
            list(self.strategies),
            list(self.assignment),
            cfg.session_timeout_ms,
            cfg.max_poll_interval_ms,
            cfg.group_instance_id,
            self.generation,
            cfg.client_rack or None,
        )
        c.scheduler.after(cfg.max_poll_interval_ms + 5000, self._join_timeout, self._join_epoch)

    def _join_timeout(self, join_epoch: int) -> None:
        if join_epoch == self._join_epoch and self.alive and self.state in ("joining", "syncing"):
            self.state = "unjoined"
            self._rediscover_coordinator()

    def _revoke(self, tps: list[TP], why: str) -> None:
        if not tps:
            return
        if self.config.enable_auto_commit and self.group_id:
            offs = {tp: self.positions[tp] for tp in tps if tp in self.positions}
            if offs:
                self._send_commit(offs)  # onJoinPrepare: auto-commit before giving partitions up
        for tp in tps:
            self.positions.pop(tp, None)
            self.pending_positions.discard(tp)
            self._drop_buffered(tp)
        self.assignment = [tp for tp in self.assignment if tp not in tps]
        self.cluster.emit(
            "partitions_revoked",
            f"{self.id} revoked {_fmt(tps)} ({why})",
            actors=(self.id,),
            group=self.group_id,
            partitions=[list(tp) for tp in tps],
        )

    def on_join_response(self, group_id: str, err: KafkaError | None, payload: dict[str, Any] | None) -> None:
        if not self.alive or self.state != "joining":
            return
        c = self.cluster
        if isinstance(err, MemberIdRequiredError):
            assert payload is not None  # MEMBER_ID_REQUIRED carries the member id to join with
            self.member_id = payload["member_id"]
            self._send_join()
            return
        if isinstance(err, UnknownMemberIdError):
            self._lose_membership("the coordinator no longer knows this member")
            self._send_join()
            return
        if isinstance(err, FencedInstanceIdError):
            self._fenced("JoinGroup")
            return
        if isinstance(err, NotCoordinatorError | CoordinatorNotAvailableError):
            self.coordinator = None
            c.scheduler.after(self.config.retry_backoff_ms, self._retry_find, self._hb_epoch)
            return
        if isinstance(err, InvalidSessionTimeoutError):
            bc = c.broker_config
            self.state = "unjoined"
            c.emit(
                "note",
                f"{self.id} cannot join {group_id}: session.timeout.ms={self.config.session_timeout_ms} "
                f"is outside the broker's [{bc.group_min_session_timeout_ms}, {bc.group_max_session_timeout_ms}] "
                f"(INVALID_SESSION_TIMEOUT)",
                actors=(self.id,),
                group=group_id,
            )
            return
        if err is not None:
            self._send_join()
            return
        assert payload is not None  # a successful JoinGroup answers with the generation and members
        self.member_id = payload[
            "member_id"
        ]  # a static member learns its id here (no MEMBER_ID_REQUIRED round)
        self.generation = payload["generation"]
        self.protocol = payload["protocol"]
        self.is_leader = payload["leader"] == self.member_id
        # a static leader that replaced itself in a Stable group is told to skip the assignment (KIP-345)
        compute = self.is_leader and payload.get("members") is not None and not payload.get("skip_assignment")
        assignments = self._compute_assignment(payload["members"]) if compute else None
        self.state = "syncing"
        co = self._coordinator_broker()
        if co is None:
            self._rediscover_coordinator()
            return
        c.network.send(
            self.id,
            co.name,
            "SyncGroup",
            co.coordinator.on_sync,
            self,
            group_id,
            self.generation,
            self.member_id,
            assignments,
            self.config.group_instance_id,
        )
        self._start_heartbeats()

    def _compute_assignment(self, members: dict[str, Subscription]) -> dict[str, list[TP]]:
        """The leader member runs the assignor (ConsumerCoordinator.onLeaderElected) with every member's
        subscription: owned partitions with their generation, group.instance.id and client.rack (KIP-881),
        and each partition's replica racks from its metadata (AbstractPartitionAssignor.assign)."""
        c = self.cluster
        subs = {mid: s.topics for mid, s in members.items()}
        topics = {t for ts in subs.values() for t in ts}
        counts = {t: c.topics[t].partitions for t in topics if t in c.topics}
        owned = {mid: list(s.owned) for mid, s in members.items()}
        # KIP-429: cooperative-sticky withholds a partition moving between members until its owner revoked it
        # (CooperativeStickyAssignor.adjustAssignment); it is handed out in the follow-up round
        assert self.protocol is not None  # the leader learnt the group's protocol in its JoinGroup answer
        return assign_detailed(
            self.protocol,
            subs,
            counts,
            owned if self.protocol in ("sticky", "cooperative-sticky") else None,
            generations={mid: s.generation_id for mid, s in members.items()},
            member_racks={mid: s.rack_id for mid, s in members.items()},
            partition_racks=self._replica_racks(counts),
            group_instance_ids={mid: s.group_instance_id for mid, s in members.items()},
        ).assignment

    def _replica_racks(self, counts: dict[str, int]) -> dict[TP, set[str]]:
        """Each partition's replica racks as the leader's metadata shows them (PartitionInfo.replicas' Node.rack).
        A replica on a broker missing from the metadata (not live) has no rack there
        (MetadataResponse.convertToNodeArray), so it counts for no rack."""
        c = self.cluster
        ctl = c.controller
        out: dict[TP, set[str]] = {}
        for t in sorted(counts):
            for p in range(counts[t]):
                ps = ctl.partitions.get((t, p))
                replicas = ps.replicas if ps is not None else []
                out[(t, p)] = {
                    rack
                    for b in replicas
                    if b in c.brokers and (rack := c.brokers[b].rack) and ctl.is_live(b)
                }
        return out

    def on_sync_response(
        self, group_id: str, err: KafkaError | None, generation: int, assignment: list[TP] | None
    ) -> None:
        if not self.alive or self.state != "syncing":
            return
        if isinstance(err, FencedInstanceIdError):
            self._fenced("SyncGroup")
            return
        if err is not None:
            if isinstance(err, UnknownMemberIdError | IllegalGenerationError):
                self._lose_membership(f"SyncGroup failed with {err.name}")
            self.state = "unjoined"
            self._ensure_joined()
            return
        new = [(t, p) for t, p in assignment or []]
        revoked = [tp for tp in self.assignment if tp not in new]
        self.state = "stable"
        if revoked:
            self._revoke(revoked, "cooperative rebalance: these partitions move to another member")
        added = [tp for tp in new if tp not in self.assignment]
        self.assignment = list(new)
        self._init_positions(added)
        if revoked and self.protocol == "cooperative-sticky":
            self.needs_rejoin = True  # second round hands the revoked partitions to their new owners
            self.state = "unjoined"
            self._ensure_joined()

    def _fenced(self, request: str, err: str = FencedInstanceIdError.name) -> None:
        """FENCED_INSTANCE_ID (another process owns the instance id) and, with KIP-848, UNRELEASED_INSTANCE_ID (the
        old member still holds it: it neither left with epoch -2 nor timed out) are fatal for the client."""
        if not self.alive:
            return
        self.alive = False
        self.state = "fenced"
        self._hb_epoch += 1
        self.assignment = []
        iid = self.config.group_instance_id
        why = (
            f"another process joined group {self.group_id} as static member {iid!r}"
            if err == "FENCED_INSTANCE_ID"
            else f"static member {iid!r} of group {self.group_id} is still held by its previous member, which "
            f"neither left (member epoch -2) nor timed out"
        )
        self.cluster.emit(
            "consumer_fenced",
            f"{self.id} stops: {request} answered {err}: {why}",
            actors=(self.id,),
            group=self.group_id,
            error=err,
        )

    def _lose_membership(self, why: str) -> None:
        """The group moved on without us (session expired): partitions are lost, not revoked; no commit."""
        if self.assignment:
            tps = list(self.assignment)
            for tp in tps:
                self.positions.pop(tp, None)
                self._drop_buffered(tp)
            self.assignment = []
            self.cluster.emit(
                "partitions_revoked",
                f"{self.id} lost {_fmt(tps)}: {why}",
                actors=(self.id,),
                group=self.group_id,
                partitions=[list(tp) for tp in tps],
                lost=True,
            )
        self.member_id = ""
        self.generation = -1

    def _start_heartbeats(self) -> None:
        self._hb_epoch += 1
        self.cluster.scheduler.after(self.config.heartbeat_interval_ms, self._heartbeat, self._hb_epoch)
        if self.auto_interval is not None:
            self.cluster.scheduler.after(self.auto_interval, self._auto_poll, self._hb_epoch)

    def _heartbeat(self, epoch: int) -> None:
        if epoch != self._hb_epoch or not self.alive or self.subscription is None:
            return
        c = self.cluster
        cfg = self.config
        if c.now - self.last_poll_ms > cfg.max_poll_interval_ms and self.member_id:
            co = self._coordinator_broker()
            if co is not None and cfg.group_instance_id is None:  # static members never send LeaveGroup
                c.network.send(
                    self.id,
                    co.name,
                    "LeaveGroup",
                    co.coordinator.on_leave,
                    self,
                    self.group_id,
                    self.member_id,
                )
            c.emit(
                "member_left",
                f"{self.id} did not call poll() for max.poll.interval.ms={cfg.max_poll_interval_ms} "
                f"ms: it leaves group {self.group_id} (it rejoins on its next poll)",
                actors=(self.id,),
                group=self.group_id,
            )
            self._lose_membership("max.poll.interval.ms exceeded")
            self.state = "unjoined"
            self.needs_rejoin = True
            return
        co = self._coordinator_broker()
        if co is not None and self.state in ("stable", "syncing"):
            c.network.send(
                self.id,
                co.name,
                "Heartbeat",
                co.coordinator.on_heartbeat,
                self,
                self.group_id,
                self.generation,
                self.member_id,
                cfg.group_instance_id,
            )
        c.scheduler.after(cfg.heartbeat_interval_ms, self._heartbeat, epoch)

    def on_heartbeat_response(self, group_id: str, err: KafkaError | None) -> None:
        if not self.alive or err is None or self.state != "stable":
            return
        if isinstance(err, RebalanceInProgressError):
            self.state = "unjoined"
            self._ensure_joined()
        elif isinstance(err, FencedInstanceIdError):
            self._fenced("Heartbeat")
        elif isinstance(err, UnknownMemberIdError | IllegalGenerationError):
            self._lose_membership(f"heartbeat answered {err.name}")
            self.state = "unjoined"
            self._ensure_joined()
        elif isinstance(err, NotCoordinatorError):
            self._rediscover_coordinator()


def _records(tp: TP, b: RecordBatch, i: int, take: int):
    """The ConsumerRecords of batch `b`'s records i..take-1 (0 <= i < take <= count), built in C: tuple.__new__(
    ConsumerRecord, fields) per record over a zip of the slice's columns (no partial, no strict check: every
    column is the same slice of one batch). starmap hands each (ConsumerRecord, fields) pair from the outer zip
    to tuple.__new__ as its argument tuple; map would pack the two into a new tuple per record."""
    k = take - i
    offs = b.offsets
    base = b.base_offset
    hdrs = b.headers
    return starmap(
        _tuple_new,
        zip(  # noqa: B905
            _RECORD_CLASS,
            zip(  # noqa: B905
                repeat(tp[0], k),
                repeat(tp[1], k),
                range(base + i, base + take) if offs is None else offs[i:take],
                b.keys[i:take],
                b.values[i:take],
                timestamps_between(b.timestamps, i, take),
                hdrs[i:take] if hdrs else _NO_HEADERS,
                repeat(b.leader_epoch, k),
            ),
        ),
    )


class SkippedBatch:
    """Stands in for a batch a read_committed consumer must not return (its transaction aborted)."""

    __slots__ = ("base_offset", "last_offset", "control")

    def __init__(self, b: RecordBatch) -> None:
        self.base_offset, self.last_offset, self.control = b.base_offset, b.last_offset, "ABORTED"

    @property
    def next_offset(self) -> int:
        return self.last_offset + 1

    count = 0

    def __deepcopy__(self, memo: dict) -> SkippedBatch:
        return self


def _fmt(tps: list[TP]) -> str:
    return "[" + ", ".join(f"{t}-{p}" for t, p in sorted(tps)) + "]"
