"""Benchmark 2: the throughput workload at 1, 6, 24, 96 partitions and at 1, 3, 9 brokers.

Cost should grow with records, not with partitions or brokers. The figure is the largest drop from the best
to the worst configuration within a series; the bar is 30%. Series, each comparing like with like:
  * partitions 1, 6, 24, 96 on 3 brokers, RF=3 (benchmark 1's run);
  * brokers 3 and 9 with 6 partitions, RF=3 (benchmark 1's run; one broker cannot hold 3 replicas);
  * brokers 1, 3, 9 with 6 partitions, RF=1 (the same work per record at every size, so the only
    difference is the number of brokers).
"""

from __future__ import annotations

from bench import Result, median
from bench.throughput import engine_workload

FULL_RECORDS = 200_000
QUICK_RECORDS = 3_000
RUNS = 5
BAR_DROP_PCT = 30.0
SERIES = {  # name -> [(partitions, brokers, replication factor)]
    "partitions (3 brokers, RF=3)": [(1, 3, 3), (6, 3, 3), (24, 3, 3), (96, 3, 3)],
    "brokers (RF=3)": [(6, 3, 3), (6, 9, 3)],
    "brokers (RF=1)": [(6, 1, 1), (6, 3, 1), (6, 9, 1)],
}


def _label(cfg: tuple[int, int, int]) -> str:
    return f"{cfg[0]}p/{cfg[1]}b/rf{cfg[2]}"


def run(quick: bool = False) -> list[Result]:
    n = QUICK_RECORDS if quick else FULL_RECORDS
    runs = 1 if quick else RUNS
    configs = list(dict.fromkeys(cfg for series in SERIES.values() for cfg in series))
    walls: dict[tuple, list[float]] = {cfg: [] for cfg in configs}
    cpus: dict[tuple, list[float]] = {cfg: [] for cfg in configs}
    for _ in range(runs):  # round-robin, so a busy moment on the machine hits every configuration alike
        for cfg in configs:
            t = engine_workload(n, partitions=cfg[0], brokers=cfg[1], replication_factor=cfg[2])
            walls[cfg].append(t.wall)
            cpus[cfg].append(t.cpu)
    rate = {cfg: n / median(ws) for cfg, ws in walls.items()}
    cpu_rate = {cfg: n / median(cs) for cfg, cs in cpus.items()}

    def drop(rates: dict, series: list) -> float:
        vals = [rates[cfg] for cfg in series]
        return 100.0 * (1 - min(vals) / max(vals))

    drops = {name: round(drop(rate, series), 1) for name, series in SERIES.items()}
    cpu_drops = {name: round(drop(cpu_rate, series), 1) for name, series in SERIES.items()}
    worst = max(drops.values())
    # the spread: the same figure computed from each round-robin round alone (slowest and fastest rounds)
    per_round = [
        max(drop({cfg: n / walls[cfg][i] for cfg in configs}, series) for series in SERIES.values())
        for i in range(runs)
    ]
    detail = {
        "records": n,
        "runs": runs,
        "records_per_s": {_label(cfg): round(r) for cfg, r in rate.items()},
        "records_per_cpu_s": {_label(cfg): round(r) for cfg, r in cpu_rate.items()},
        "drop_pct": drops,
        "spread": [round(min(per_round), 1), round(max(per_round), 1)],
        "cpu_drop_pct": cpu_drops,
    }
    return [
        Result(
            "scaling",
            worst,
            "% drop",
            f"<= {BAR_DROP_PCT:g}% from best to worst of 1/6/24/96 partitions and of 1/3/9 brokers",
            worst <= BAR_DROP_PCT,
            detail=detail,
            cpu=max(cpu_drops.values()),
        )
    ]
