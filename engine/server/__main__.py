"""`python -m engine.server --port 9092 [--brokers 3] [--scenario FILE]`: serve a simulated cluster to real
Kafka clients and print what happens inside it, one sentence per event."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path

from ..cluster import Cluster
from ..errors import KafkaError
from .server import KafkaServer

QUIET_KINDS = frozenset({"high_watermark", "records_replicated"})


def build(args: argparse.Namespace) -> Cluster:
    if args.scenario:
        from ..scenario import build_cluster, parse_scenario

        return build_cluster(parse_scenario(Path(args.scenario).read_bytes()))
    config: dict = {}
    if args.brokers < 3:  # the classic one-broker Docker setup does the same, or groups cannot start
        config["offsets.topic.replication.factor"] = args.brokers
    return Cluster(brokers=args.brokers, seed=args.seed, controller=args.controller, config=config)


async def main(args: argparse.Namespace) -> None:
    cluster = build(args)
    server = KafkaServer(
        cluster, args.host, args.port, advertised_host=args.advertised_host, speed=args.speed
    )
    await server.start()
    print(f"Kafka Classroom: {len(cluster.brokers)} simulated broker(s) at {server.bootstrap}", flush=True)
    print(
        f"  try: kafka-console-producer.sh --bootstrap-server {args.advertised_host or args.host}:"
        f"{server.ports[min(server.ports)]} --topic demo",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    seen = 0  # from the start: how the cluster (and a scenario's topics and clients) came up
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.2)
            if args.quiet:
                continue
            for ev in cluster.events.since(seen):
                if args.verbose or ev.kind not in QUIET_KINDS:
                    print(f"{ev.time_ms / 1000:9.3f}s  {ev.summary}", flush=True)
            seen = cluster.events.seq
    finally:
        await server.stop()


def cli(argv: list[str] | None = None, prog: str = "python -m engine.server") -> int:
    ap = argparse.ArgumentParser(prog=prog, description=__doc__)
    ap.add_argument("--port", type=int, default=9092, help="broker 1's port; broker N uses port + N - 1")
    ap.add_argument("--brokers", type=int, default=3, help="simulated brokers (ignored with --scenario)")
    ap.add_argument("--scenario", help="a scenario file (JSON or YAML) to start from")
    ap.add_argument("--host", default="127.0.0.1", help="address to listen on")
    ap.add_argument("--advertised-host", default=None, help="host name put in Metadata (default: --host)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--controller", choices=("kraft", "zookeeper"), default="kraft")
    ap.add_argument("--speed", type=float, default=1.0, help="simulated ms per wall-clock ms")
    ap.add_argument("--quiet", action="store_true", help="do not print events")
    ap.add_argument("--verbose", action="store_true", help="also print high-watermark and replication events")
    ap.add_argument("--log-level", default="WARNING")
    args = ap.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(main(args))
    except (KafkaError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(cli())
