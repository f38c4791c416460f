"""Throughput and latency over simulated time, in fixed buckets (for the charts), a per-record acknowledgement
latency histogram (send() -> ack) and end-to-end latency samples."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Sequence

from .records import RunTimestamps, SameTimestamps

BUCKET_MS = 100
MAX_SAMPLES = 50_000


class Metrics:
    __slots__ = ("buckets", "ack_histogram", "e2e_latencies")

    def __init__(self) -> None:
        # bucket start ms -> [appended, acked, ack latency sum (per record), consumed, e2e latency sum]
        self.buckets: dict[int, list[int]] = {}
        # per record: latency ms (send() -> acknowledgement) -> how many records had it. A histogram, so a run
        # of millions of records keeps one int per distinct latency, and the p99 is a p99 of records.
        self.ack_histogram: dict[int, int] = {}
        self.e2e_latencies: deque[int] = deque(maxlen=MAX_SAMPLES)  # per poll: mean send -> poll

    def _bucket(self, now: int) -> list[int]:
        key = now - now % BUCKET_MS
        b = self.buckets.get(key)
        if b is None:
            b = self.buckets[key] = [0, 0, 0, 0, 0]
        return b

    def on_appended(self, now: int, n: int) -> None:
        self._bucket(now)[0] += n

    def on_acked(self, now: int, send_times: Sequence[int] | SameTimestamps | RunTimestamps) -> None:
        """A batch was acknowledged: each record's latency runs from its own send() (Kafka's
        record-queue-time + request latency), not from the batch's creation. `send_times` may be a sealed
        batch's column (SameTimestamps; RunTimestamps, read as its runs) or any sequence."""
        runs: Iterable[tuple[int, int]] | None = None
        if isinstance(
            send_times, RunTimestamps
        ):  # ascending runs: (value, length) as Counter would count them
            n = send_times.count
            first, last = send_times.values[0], send_times.values[-1]
            runs = zip(send_times.values, send_times.run_lengths(), strict=True)
        elif isinstance(send_times, SameTimestamps):
            n = send_times.count
            first = last = send_times.value
        else:
            n = len(send_times)
            if not n:
                return
            first, last = send_times[0], send_times[-1]
        b = self._bucket(now)
        b[1] += n
        hist = self.ack_histogram
        if first == last:  # the whole batch was sent in one ms: one update
            b[2] += (now - first) * n
            hist[now - first] = hist.get(now - first, 0) + n
            return
        if runs is None:
            runs = Counter(send_times).items()  # counted in C: one step per distinct send ms
        total = 0
        for t, k in runs:
            total += (now - t) * k
            hist[now - t] = hist.get(now - t, 0) + k
        b[2] += total

    def ack_percentile(self, q: float) -> float | None:
        """The q-quantile of per-record acknowledgement latency (same rank rule as `percentile`)."""
        hist = self.ack_histogram
        n = sum(hist.values())
        if not n:
            return None
        rank = min(n - 1, max(0, round(q * (n - 1))))
        seen = 0
        for latency in sorted(hist):
            seen += hist[latency]
            if seen > rank:
                return float(latency)
        return None  # unreachable

    def on_consumed(self, now: int, n: int, latency_sum: int) -> None:
        b = self._bucket(now)
        b[3] += n
        b[4] += latency_sum
        if n:
            self.e2e_latencies.append(latency_sum // n)

    def series(self) -> dict[str, list]:
        """Columns for charts: time (s), produced/s, consumed/s, mean ack latency, mean end-to-end latency."""
        keys = sorted(self.buckets)
        per_s = 1000 / BUCKET_MS
        out: dict[str, list] = {
            "time_s": [],
            "appended_per_s": [],
            "acked_per_s": [],
            "consumed_per_s": [],
            "ack_latency_ms": [],
            "e2e_latency_ms": [],
        }
        for k in keys:
            a, ac, acl, co, e2e = self.buckets[k]
            out["time_s"].append(k / 1000)
            out["appended_per_s"].append(a * per_s)
            out["acked_per_s"].append(ac * per_s)
            out["consumed_per_s"].append(co * per_s)
            out["ack_latency_ms"].append(acl / ac if ac else None)
            out["e2e_latency_ms"].append(e2e / co if co else None)
        return out

    @staticmethod
    def percentile(samples, q: float) -> float | None:
        data = sorted(samples)
        if not data:
            return None
        i = min(len(data) - 1, max(0, round(q * (len(data) - 1))))
        return float(data[i])
