"""An idle stack that idles: CPU of the four services doing nothing, and what they cost the
broker.

    .venv/bin/python bench/idle.py              # quiet fetch on (what the services do)
    .venv/bin/python bench/idle.py --baseline   # quiet fetch off (CITYOPS_KAFKA_QUIET_FETCH=false)
    .venv/bin/python bench/idle.py --compare    # both, one after the other, each on a fresh broker

Per variant: start noida-db (Kafka + Elasticsearch) on a fresh data directory, provision
topics and the index, measure the broker's raw produce and consume rate with nothing else
running, start the four services as separate processes, wait until they are healthy and
have settled, measure the CPU of every process (the services and noida-db, from
``/proc/<pid>/stat``, summed over each process group) over ``--idle`` seconds, measure the
raw rates again with the services idle, stop the services and measure once more. The rates
with the services idle are reported as a ratio to the reference: the mean of the runs with
nothing running before and after, on the same broker, in the same run. Raw rates on this
machine vary by about ±20% from run to run; read ratios near 1 as "no cost".

Results: ``bench/results/idle_<variant>.json`` and ``.md`` (and ``idle_compare.md``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiokafka
import httpx
from _stack import group_cpu_seconds  # bench/ is on sys.path when run as a script
from aiokafka import AIOKafkaConsumer, TopicPartition

from cityctl.processes import SERVICES, ServiceProcess, service_env, wait_ready
from cityops import standins
from cityops.kafka import ensure_topics, make_producer
from cityops.provision import provision
from cityops.settings import CommonSettings

RESULTS = Path(__file__).parent / "results"
RATE_TOPIC = "bench.idle.rate"


@dataclass
class Rates:
    produce_per_s: float
    consume_per_s: float


async def _produce(settings: CommonSettings, count: int, payload: bytes) -> float:
    producer = make_producer(settings, linger_ms=10, client_id="bench-idle")
    await producer.start()
    try:
        started = time.perf_counter()
        pending = [await producer.send(RATE_TOPIC, payload) for _ in range(count)]
        await asyncio.gather(*pending)
        return count / (time.perf_counter() - started)
    finally:
        await producer.stop()


async def _consume(settings: CommonSettings, start: dict[TopicPartition, int], count: int) -> float:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(list(start))
        for tp, offset in start.items():
            consumer.seek(tp, offset)
        started, read = time.perf_counter(), 0
        while read < count:
            batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            read += sum(len(b) for b in batches.values())
        return count / (time.perf_counter() - started)
    finally:
        await consumer.stop()


async def _end_offsets(settings: CommonSettings) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False
    )
    await consumer.start()
    try:
        parts = [TopicPartition(RATE_TOPIC, p) for p in consumer.partitions_for_topic(RATE_TOPIC)]
        ends: dict[TopicPartition, int] = await consumer.end_offsets(parts)
        return ends
    finally:
        await consumer.stop()


async def broker_rates(settings: CommonSettings, count: int, repeats: int) -> Rates:
    """Median raw rates of 500 B records: one aiokafka producer, then one consumer."""
    produce, consume = [], []
    for _ in range(repeats):
        start = await _end_offsets(settings)
        produce.append(await _produce(settings, count, b"x" * 500))
        consume.append(await _consume(settings, start, count))
    return Rates(statistics.median(produce), statistics.median(consume))


def service_environment(kafka: str, es: str, workdir: Path, quiet: bool) -> dict[str, str]:
    return service_env(
        {
            "CITYOPS_KAFKA_BOOTSTRAP": kafka,
            "CITYOPS_ES_URL": es,
            "CITYOPS_API_PORT": str(standins.free_port()),
            "CITYOPS_CLASSIFIER_HEALTH_PORT": str(standins.free_port()),
            "CITYOPS_DISPATCH_WEB_PORT": str(standins.free_port()),
            "CITYOPS_INDEXER_HEALTH_PORT": str(standins.free_port()),
            "CITYOPS_DISPATCH_DATA_DIR": str(workdir / "dispatch"),
            "CITYOPS_KAFKA_QUIET_FETCH": str(quiet).lower(),
            "CITYOPS_LOG_LEVEL": "WARNING",
        }
    )


def wait_healthy(env: dict[str, str], timeout: float = 120.0) -> None:
    wait_ready(f"http://127.0.0.1:{env['CITYOPS_API_PORT']}", timeout=timeout)
    ports = [
        env[f"CITYOPS_{name}"]
        for name in ("CLASSIFIER_HEALTH_PORT", "DISPATCH_WEB_PORT", "INDEXER_HEALTH_PORT")
    ]
    deadline = time.monotonic() + timeout
    for port in ports:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"service on :{port} not healthy after {timeout}s")
            time.sleep(0.5)


def measure_cpu(groups: dict[str, int], seconds: float) -> dict[str, float]:
    """Share of one core each process group used over ``seconds`` of wall time."""
    before = {name: group_cpu_seconds(pgid) for name, pgid in groups.items()}
    started = time.monotonic()
    time.sleep(seconds)
    wall = time.monotonic() - started
    return {
        name: round((group_cpu_seconds(pgid) - before[name]) / wall, 4)
        for name, pgid in groups.items()
    }


def run_variant(args: argparse.Namespace, quiet: bool) -> dict[str, object]:
    variant = "quiet" if quiet else "baseline"
    workdir = Path(args.workdir) / variant
    shutil.rmtree(workdir, ignore_errors=True)
    kafka_port, es_port = standins.free_port(), standins.free_port()
    server = standins.noida(workdir / "noida", kafka_port, es_port)
    kafka, es = f"127.0.0.1:{kafka_port}", f"http://127.0.0.1:{es_port}"
    settings = CommonSettings(kafka_bootstrap=kafka, es_url=es)
    procs: list[ServiceProcess] = []
    print(f"[{variant}] starting noida-db on :{kafka_port}", flush=True)
    server.start()
    try:
        provision(settings)
        ensure_topics(settings, [RATE_TOPIC])
        reference = asyncio.run(broker_rates(settings, args.records, args.repeats))
        print(f"[{variant}] rates, nothing running: {reference}", flush=True)
        env = service_environment(kafka, es, workdir, quiet)
        for name in SERVICES:
            procs.append(ServiceProcess(name, env, workdir / "logs" / f"{name}.log"))
            procs[-1].start()
        wait_healthy(env)
        print(f"[{variant}] services healthy; settling {args.settle}s", flush=True)
        time.sleep(args.settle)
        groups = {p.name: p.process.pid for p in procs if p.process is not None}
        assert server.process is not None
        groups["noida-db"] = server.process.pid
        print(f"[{variant}] measuring idle CPU for {args.idle}s", flush=True)
        cpu = measure_cpu(groups, args.idle)
        loaded = asyncio.run(broker_rates(settings, args.records, args.repeats))
        print(f"[{variant}] rates, services idle: {loaded}", flush=True)
        for proc in procs:
            proc.stop(timeout=30)
        after = asyncio.run(broker_rates(settings, args.records, args.repeats))
        print(f"[{variant}] rates, nothing running again: {after}", flush=True)
    finally:
        for proc in procs:
            proc.stop(timeout=30)
        server.stop(timeout=30)
    return report(variant, quiet, args, cpu, bracket(reference, after), loaded)


def bracket(before: Rates, after: Rates) -> Rates:
    """The reference: the mean of the runs before the services started and after they
    stopped, so a drift of the broker over the run does not read as the services' cost."""
    return Rates(
        (before.produce_per_s + after.produce_per_s) / 2,
        (before.consume_per_s + after.consume_per_s) / 2,
    )


def report(
    variant: str,
    quiet: bool,
    args: argparse.Namespace,
    cpu: dict[str, float],
    reference: Rates,
    loaded: Rates,
) -> dict[str, object]:
    services = sum(v for k, v in cpu.items() if k != "noida-db")
    return {
        "variant": variant,
        "quiet_fetch": quiet,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "aiokafka": aiokafka.__version__,
        "cores": os.cpu_count(),
        "idle_s": args.idle,
        "settle_s": args.settle,
        "records_per_rate_run": args.records,
        "cpu_share_of_one_core": cpu,
        "services_total": round(services, 4),
        "all_total": round(services + cpu.get("noida-db", 0.0), 4),
        "rates_nothing_running": asdict(reference),
        "rates_services_idle": asdict(loaded),
        "rate_ratio": {
            "produce": round(loaded.produce_per_s / reference.produce_per_s, 3),
            "consume": round(loaded.consume_per_s / reference.consume_per_s, 3),
        },
        "loadavg_after": os.getloadavg(),
    }


def markdown(results: list[dict[str, object]]) -> str:
    names = [*SERVICES, "noida-db"]
    head = "| variant | " + " | ".join(names) + " | services | all | produce ×ref | consume ×ref |"
    lines = [head, "|" + "---|" * (len(names) + 5)]
    for r in results:
        cpu = r["cpu_share_of_one_core"]
        ratio = r["rate_ratio"]
        assert isinstance(cpu, dict) and isinstance(ratio, dict)
        cells = [f"{cpu.get(n, 0.0):.3f}" for n in names]
        lines.append(
            f"| {r['variant']} | {' | '.join(cells)} | {r['services_total']:.3f} | "
            f"{r['all_total']:.3f} | {ratio['produce']:.2f} | {ratio['consume']:.2f} |"
        )
    lines.append("")
    lines.append("CPU as a share of one core over the idle window; rates as a ratio to the")
    lines.append("broker's raw rate with nothing else running, measured in the same run.")
    for r in results:
        ref, idle = r["rates_nothing_running"], r["rates_services_idle"]
        assert isinstance(ref, dict) and isinstance(idle, dict)
        lines.append(
            f"- {r['variant']}: produce {ref['produce_per_s']:.0f}/s → "
            f"{idle['produce_per_s']:.0f}/s, consume {ref['consume_per_s']:.0f}/s → "
            f"{idle['consume_per_s']:.0f}/s"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--baseline", action="store_true", help="quiet fetch off in the services")
    mode.add_argument("--compare", action="store_true", help="baseline, then quiet fetch on")
    parser.add_argument("--idle", type=float, default=60.0, help="idle window, seconds")
    parser.add_argument("--settle", type=float, default=15.0, help="wait after healthy, seconds")
    parser.add_argument("--records", type=int, default=50_000, help="records per rate run")
    parser.add_argument("--repeats", type=int, default=3, help="rate runs (median)")
    parser.add_argument("--workdir", default="var/bench-idle")
    args = parser.parse_args()
    variants = [False, True] if args.compare else [not args.baseline]
    RESULTS.mkdir(parents=True, exist_ok=True)
    results = []
    for quiet in variants:
        result = run_variant(args, quiet)
        results.append(result)
        name = f"idle_{result['variant']}"
        (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
        (RESULTS / f"{name}.md").write_text(markdown([result]))
    text = markdown(results)
    if args.compare:
        (RESULTS / "idle_compare.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
