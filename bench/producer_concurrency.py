"""The request path's producer under concurrent requests: 64 tasks (like 64 API clients),
each awaiting ``send_and_wait`` for one ~1 KB report at a time, on a fresh noida-db.

    .venv/bin/python bench/producer_concurrency.py [--clients 64] [--records 12000]

Compares the producer options cityops used (``linger_ms=5``, 16 KB batches) with what
``cityops.kafka.make_producer`` sets now, in the same run, alternating, three rounds:
rate, median and 99th-percentile latency of one send. Also one client alone, where the
linger is pure added latency. Results: ``bench/results/producer_concurrency.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from cityops import standins
from cityops.kafka import ensure_topics, make_producer
from cityops.settings import CommonSettings

RESULTS = Path(__file__).parent / "results"
TOPIC = "bench.producer"
VARIANTS: dict[str, dict[str, object]] = {
    "before (linger 5 ms, 16 KB batches)": {"linger_ms": 5, "max_batch_size": 16384},
    "now (make_producer defaults)": {},
}


async def run(
    settings: CommonSettings, options: dict[str, object], clients: int, total: int
) -> dict[str, float]:
    producer = make_producer(settings, **options)
    await producer.start()
    latencies: list[float] = []
    per_client = total // clients

    async def client(i: int) -> None:
        for j in range(per_client):
            started = time.perf_counter()
            await producer.send_and_wait(TOPIC, b"x" * 900, key=f"{i}-{j}".encode())
            latencies.append(time.perf_counter() - started)

    try:
        await producer.send_and_wait(TOPIC, b"warm-up", key=b"w")
        started = time.perf_counter()
        await asyncio.gather(*(client(i) for i in range(clients)))
        wall = time.perf_counter() - started
    finally:
        await producer.stop()
    latencies.sort()
    return {
        "per_s": per_client * clients / wall,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
    }


def median_of(rounds: list[dict[str, float]]) -> dict[str, float]:
    return {k: round(statistics.median(r[k] for r in rounds), 2) for k in rounds[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--records", type=int, default=12_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    kafka_port, es_port = standins.free_port(), standins.free_port()
    server = standins.noida(Path(tempfile.mkdtemp()), kafka_port, es_port)
    server.start()
    result: dict[str, object] = {"clients": args.clients, "records": args.records}
    try:
        settings = CommonSettings(kafka_bootstrap=f"127.0.0.1:{kafka_port}")
        ensure_topics(settings, [TOPIC])
        for clients, total in ((args.clients, args.records), (1, 1000)):
            rounds: dict[str, list[dict[str, float]]] = {name: [] for name in VARIANTS}
            for _ in range(args.rounds):
                for name, options in VARIANTS.items():
                    rounds[name].append(asyncio.run(run(settings, options, clients, total)))
            result[f"{clients}_clients"] = {name: median_of(r) for name, r in rounds.items()}
    finally:
        server.stop()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "producer_concurrency.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
