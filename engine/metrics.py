"""Throughput and latency over simulated time, in fixed buckets (for the charts), plus latency samples."""

from __future__ import annotations

from collections import deque

BUCKET_MS = 100
MAX_SAMPLES = 50_000


class Metrics:
    __slots__ = ("buckets", "ack_latencies", "e2e_latencies")

    def __init__(self) -> None:
        # bucket start ms -> [appended, acked, ack latency sum (per record), consumed, e2e latency sum]
        self.buckets: dict[int, list[int]] = {}
        self.ack_latencies: deque[int] = deque(maxlen=MAX_SAMPLES)  # per batch: send -> acknowledgement
        self.e2e_latencies: deque[int] = deque(maxlen=MAX_SAMPLES)  # per poll: mean send -> poll

    def _bucket(self, now: int) -> list[int]:
        key = now - now % BUCKET_MS
        b = self.buckets.get(key)
        if b is None:
            b = self.buckets[key] = [0, 0, 0, 0, 0]
        return b

    def on_appended(self, now: int, n: int) -> None:
        self._bucket(now)[0] += n

    def on_acked(self, now: int, n: int, latency_ms: int) -> None:
        b = self._bucket(now)
        b[1] += n
        b[2] += latency_ms * n
        self.ack_latencies.append(latency_ms)

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
        out: dict[str, list] = {"time_s": [], "appended_per_s": [], "acked_per_s": [], "consumed_per_s": [],
                                "ack_latency_ms": [], "e2e_latency_ms": []}
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
