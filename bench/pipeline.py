"""The whole pipeline against its parts, in one run on one fresh noida-db (GitHub issue 7).

    .venv/bin/python bench/pipeline.py            # 1,000 reports end to end, 30 s per level
    .venv/bin/python bench/pipeline.py --quick    # 300 reports, 12 s per level

In order, on the same stand-in:

(a) broker: one aiokafka producer (``cityops.kafka.make_producer``: acks=all, idempotent)
    sends real ``reports.submitted`` records (intake's own ``to_event`` of ``cityops
    simulate`` bodies), then one consumer reads them back; nothing else running.
(b) classifier: :func:`services.classifier.handler.classify_batch` in this process, batches
    of 500 (the consumer's ``max_poll_records``), best of three.
(c) search stand-in: the indexer's own plan (``services/indexer/batch.py``: case documents
    folded by ``document.fold``, one event document per event, one source document) of
    reports classified and opened by ``workflow.decide``, 500 events per bulk request (a
    full indexer batch), into the real mappings (``ensure_read_model``) under another
    prefix; only the bulk requests are timed.
(d) end to end: the four services as processes; 64 clients post N distinct reports
    (closed loop); a report is "in a case" when its document is in ``cityops-sources``
    (one ``_mget`` of the not-yet-placed ids every 100 ms, straight to the stand-in: the
    indexer writes the source and case documents in the same bulk request). The rate is N
    over the time from the first POST to the last report placed; afterwards every report
    is checked through ``GET /api/v1/reports/{id}`` (must answer 200).
(e) latency: open-loop arrivals at 10%, 50% and 80% of (d); each report's latency is from
    its POST's 202 to the first ``GET /api/v1/reports/{id}`` that answers 200. That GET is
    sent when the report's source document appears (an ``_mget`` of all pending reports
    every 20 ms), then every ``--poll-ms`` until 200. ``--poll-only`` polls the API every
    ``--poll-ms`` from the POST on instead, as this bench did before 2026-12-02: at 50 ms
    that is tens of GETs per report, and the status reads then cost more than the
    reports they measure.

Evidence for the limiting stage, during (d) and each level of (e): CPU of each process
group (``/proc``), consumer lag of each service's group (committed vs end offsets, every
second), and per-stage times from the Kafka record timestamps of each report's records
(``reports.submitted`` → ``cases.classified`` → ``cases.candidates`` → ``cases.commands``
→ ``cases.events``) and the time it was placed.

Results: ``bench/results/pipeline.json`` and ``.md``; service logs in
``bench/results/logs/pipeline/``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import statistics
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import _stack
import aiohttp
from _stack import CpuMeter, LagReader, Stack, log, percentile
from aiokafka import AIOKafkaConsumer, TopicPartition
from elasticsearch import Elasticsearch
from kafka import KafkaConsumer

from cityops.kafka import encode, ensure_topics, make_producer
from cityops.search import ReadModel, ensure_read_model, make_client
from cityops.settings import CommonSettings
from services.indexer.batch import Targets, operations, plan

RATE_TOPIC = "bench.pipeline.rate"
RAW_PREFIX = "benchraw"
LEVELS = (0.1, 0.5, 0.8)

# ---------------------------------------------------------------- (a) broker


async def broker_rates(settings: CommonSettings, values: list[tuple[bytes, bytes]]) -> dict:
    producer = make_producer(settings, client_id="bench-pipeline")
    await producer.start()
    try:
        started = time.perf_counter()
        pending = [await producer.send(RATE_TOPIC, v, key=k) for k, v in values]
        await asyncio.gather(*pending)
        produce = len(values) / (time.perf_counter() - started)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    await consumer.start()
    try:
        parts = [TopicPartition(RATE_TOPIC, p) for p in consumer.partitions_for_topic(RATE_TOPIC)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        started, read = time.perf_counter(), 0
        while read < len(values):
            batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            read += sum(len(b) for b in batches.values())
        consume = read / (time.perf_counter() - started)
    finally:
        await consumer.stop()
    return {"produce_per_s": round(produce), "consume_per_s": round(consume)}


# ---------------------------------------------------------------- (b) classifier


def classifier_rate(count: int) -> dict:
    route = _stack.router()
    reports = _stack.submitted(count, seed=11)
    now = datetime.now(UTC)
    best = 0.0
    for _ in range(3):
        started = time.perf_counter()
        for i in range(0, len(reports), 500):
            _stack.classify_batch(reports[i : i + 500], route, now)
        best = max(best, len(reports) / (time.perf_counter() - started))
    return {"reports": count, "batch": 500, "per_s": round(best)}


# ---------------------------------------------------------------- (c) search stand-in


def bulk_rate(es: Elasticsearch, count: int, prefix: str) -> dict:
    ensure_read_model(es, ReadModel(prefix))
    to = Targets.aliases(ReadModel(prefix))
    events = [
        e
        for es_ in _stack.case_events(_stack.submitted(count, seed=13), _stack.router())
        for e in es_
    ]
    bodies = [operations(plan(events[i : i + 500], {}, to)) for i in range(0, len(events), 500)]
    docs = sum(len(b) // 2 for b in bodies)
    size = sum(len(json.dumps(b, ensure_ascii=False).encode()) for b in bodies)
    started = time.perf_counter()
    for body in bodies:
        answer = es.bulk(operations=body)
        assert not answer["errors"], "bulk refused documents"
    wall = time.perf_counter() - started
    return {
        "reports": count,
        "events": len(events),
        "documents": docs,
        "bulk_requests": len(bodies),
        "bytes_per_report": round(size / count),
        "reports_per_s": round(count / wall),
        "documents_per_s": round(docs / wall),
    }


# ---------------------------------------------------------------- samplers


class LagSampler(threading.Thread):
    """Consumer lag of each stage every second, in a thread beside the event loop."""

    def __init__(self, bootstrap: str) -> None:
        super().__init__(daemon=True)
        self.reader = LagReader(bootstrap)
        self.samples: list[tuple[float, dict[str, int]]] = []
        self.halt = threading.Event()
        self.mark = 0

    def run(self) -> None:
        while not self.halt.wait(1.0):
            try:
                self.samples.append((time.time(), self.reader.lag()))
            except Exception as exc:  # a missed sample must not end the bench
                log(f"lag sample failed: {exc}")

    def window(self) -> list[dict[str, int]]:
        """The samples since the last call."""
        out = [s for _, s in self.samples[self.mark :]]
        self.mark = len(self.samples)
        return out

    def close(self) -> None:
        self.halt.set()
        self.join(5)
        self.reader.close()


def lag_summary(samples: list[dict[str, int]]) -> dict[str, dict[str, float]]:
    if not samples:
        return {}
    return {
        stage: {
            "max": max(s[stage] for s in samples),
            "mean": round(statistics.mean(s[stage] for s in samples), 1),
        }
        for stage in samples[0]
    }


# ---------------------------------------------------------------- (d) end to end


@dataclass
class Placement:
    """Which report ids are in a case, from the sources index (one ``_mget`` per tick)."""

    es_url: str
    tick_s: float = 0.1
    pending: set[str] = field(default_factory=set)
    placed_at: dict[str, float] = field(default_factory=dict)
    seen: dict[str, asyncio.Event] = field(default_factory=dict)  # set when placed

    async def watch(self, client: aiohttp.ClientSession, done: asyncio.Event) -> None:
        url = f"{self.es_url}/cityops-sources/_mget"
        while not done.is_set():
            ids = list(self.pending)
            for i in range(0, len(ids), 1000):
                async with client.post(
                    url, json={"ids": ids[i : i + 1000]}, params={"_source": "false"}
                ) as answer:
                    docs = (await answer.json())["docs"]
                now = time.time()
                for doc in docs:
                    if doc.get("found"):
                        self.pending.discard(doc["_id"])
                        self.placed_at.setdefault(doc["_id"], now)
                        if doc["_id"] in self.seen:
                            self.seen[doc["_id"]].set()
            await asyncio.sleep(self.tick_s)


async def end_to_end(
    api: str, es_url: str, items: Sequence[dict], clients: int, meter: CpuMeter
) -> dict:
    placement = Placement(es_url)
    posted_at: dict[str, float] = {}
    queue: asyncio.Queue[dict] = asyncio.Queue()
    for body in items:
        queue.put_nowait(body)
    async with session(clients + 8) as http:

        async def client() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                async with http.post(f"{api}/api/v1/reports", json=body) as answer:
                    answer.raise_for_status()
                    rid = (await answer.json())["report_id"]
                posted_at[rid] = time.time()
                placement.pending.add(rid)

        done = asyncio.Event()
        watcher = asyncio.create_task(placement.watch(http, done))
        first = time.time()
        await asyncio.gather(*(client() for _ in range(clients)))
        posted = time.time()
        while placement.pending and time.time() - posted < 300:
            await asyncio.sleep(0.1)
        done.set()
        await watcher
        last = max(placement.placed_at.values(), default=time.time())
        cpu = meter.stop()  # the phase, without the check below
        checked = await check_reports(http, api, list(posted_at))
    n = len(placement.placed_at)
    return {
        "reports": len(items),
        "clients": clients,
        "placed": n,
        "not_placed": len(placement.pending),
        "post_rate_per_s": round(len(posted_at) / (posted - first), 1),
        "seconds": round(last - first, 2),
        "rate_per_s": round(n / (last - first), 1),
        "api_get_200": checked,
        "cpu_share_of_one_core": cpu,
        "cpu_ms_per_report": {
            k: round(v * meter.wall * 1000 / max(n, 1), 2) for k, v in cpu.items()
        },
        "report_ids": list(posted_at),
        "placed_at": placement.placed_at,
    }


def session(connections: int) -> aiohttp.ClientSession:
    """The bench's HTTP client. aiohttp, not httpx: this bench runs on the same two cores
    as the stack it measures, and httpx cost it 8.7 ms of CPU per report (run of
    2026-12-02 00:25, `bench/results/pipeline_run1.md`)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections),
        timeout=aiohttp.ClientTimeout(total=30),
        headers=_stack.OPERATOR,
    )


async def status(http: aiohttp.ClientSession, url: str) -> int:
    async with http.get(url) as answer:
        await answer.read()
        return answer.status


async def check_reports(http: aiohttp.ClientSession, api: str, ids: list[str]) -> int:
    """How many of ``ids`` ``GET /api/v1/reports/{id}`` answers 200 for (16 at a time)."""
    ok = 0
    sem = asyncio.Semaphore(16)

    async def one(rid: str) -> None:
        nonlocal ok
        async with sem:
            if await status(http, f"{api}/api/v1/reports/{rid}") == 200:
                ok += 1

    await asyncio.gather(*(one(r) for r in ids))
    return ok


# ---------------------------------------------------------------- (e) latency


async def paced(
    api: str, es_url: str, items: Sequence[dict], rate: float, poll_s: float, watch: bool
) -> dict:
    """Open loop: report i is posted at ``i / rate`` s whatever the earlier ones did.

    Latency: from the POST's 202 to the first ``GET /api/v1/reports/{id}`` answering 200.
    With ``watch`` (the default) that GET is sent when the report's source document appears
    in the sources index (one ``_mget`` for every pending report every 20 ms: the document
    the GET reads), then every ``poll_s`` until 200; without it every report polls the API
    every ``poll_s`` from the start, which at 50 ms adds tens of GETs per report to the load
    being measured."""
    latencies: list[float] = []
    post_ms: list[float] = []
    late: list[float] = []
    gets = 0
    ids: list[str] = []
    placed_at: dict[str, float] = {}
    placement = Placement(es_url, tick_s=0.02)
    async with session(256) as http:

        async def one(body: dict, due: float) -> None:
            nonlocal gets
            late.append(time.monotonic() - due)
            started = time.monotonic()
            async with http.post(f"{api}/api/v1/reports", json=body) as answer:
                answer.raise_for_status()
                rid = (await answer.json())["report_id"]
            accepted = time.monotonic()
            post_ms.append((accepted - started) * 1000)
            ids.append(rid)
            if watch:
                placement.seen[rid] = asyncio.Event()
                placement.pending.add(rid)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(placement.seen[rid].wait(), 120)
            while time.monotonic() - accepted < 120:
                gets += 1
                if await status(http, f"{api}/api/v1/reports/{rid}") == 200:
                    latencies.append(time.monotonic() - accepted)
                    placed_at[rid] = time.time()
                    return
                await asyncio.sleep(poll_s)

        done = asyncio.Event()
        watcher = asyncio.create_task(placement.watch(http, done))
        t0 = time.monotonic()
        tasks = []
        for i, body in enumerate(items):
            due = t0 + i / rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            tasks.append(asyncio.create_task(one(body, due)))
        arrivals = time.monotonic() - t0
        await asyncio.gather(*tasks)
        wall = time.monotonic() - t0
        done.set()
        await watcher
    ms = [x * 1000 for x in latencies]
    return {
        "target_per_s": round(rate, 2),
        "offered_per_s": round(len(items) / arrivals, 2) if arrivals else None,
        "reports": len(items),
        "placed": len(latencies),
        "p50_ms": round(percentile(ms, 50)),
        "p95_ms": round(percentile(ms, 95)),
        "p99_ms": round(percentile(ms, 99)),
        "max_ms": round(max(ms, default=float("nan"))),
        "post_p50_ms": round(percentile(post_ms, 50), 1),
        "post_p99_ms": round(percentile(post_ms, 99), 1),
        "late_start_p99_ms": round(percentile(late, 99) * 1000, 1),
        "status_gets_per_s": round(gets / wall, 1),
        "report_ids": ids,
        "placed_at": placed_at,
    }


# ---------------------------------------------------------------- per-stage times


STAGES = ("submitted", "classified", "candidate", "command", "event")


def source_of(stage: str, value: dict[str, Any]) -> str | None:
    """The report id a record of ``stage`` carries (None: a record of another kind)."""
    if stage == "classified":
        return value["source"]["source_id"]
    if stage == "candidate":
        c = value.get("classified")
        return c["source"]["source_id"] if value.get("kind") == "match" and c else None
    if stage == "command":
        body = value.get("body", {})
        return body["source"]["source_id"] if body.get("kind") == "open" else None
    if stage == "event":
        if value.get("kind") in ("opened", "source_attached"):
            return value["data"]["source"]["source_id"]
        return None
    return value.get("report_id")


def stage_times(bootstrap: str) -> dict[str, dict[str, float]]:
    """Report id → stage → the Kafka timestamp (s) of the first record of that stage."""
    topics = {
        "submitted": "reports.submitted",
        "classified": "cases.classified",
        "candidate": "cases.candidates",
        "command": "cases.commands",
        "event": "cases.events",
    }
    out: dict[str, dict[str, float]] = {}
    for stage, topic in topics.items():
        consumer = KafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            consumer_timeout_ms=3000,
            group_id=None,
        )
        for record in consumer:
            rid = source_of(stage, json.loads(record.value))
            if rid is not None:
                out.setdefault(rid, {}).setdefault(stage, record.timestamp / 1000)
        consumer.close()
    return out


def stage_report(
    times: dict[str, dict[str, float]], ids: Sequence[str], placed: dict[str, float] | None = None
) -> dict[str, Any]:
    """Median time spent between consecutive stages, and each stage's output rate."""
    rows = [
        dict(times.get(r, {}), **({"placed": placed[r]} if placed and r in placed else {}))
        for r in ids
    ]
    names = [*STAGES, "placed"] if placed else list(STAGES)
    steps: dict[str, float] = {}
    rates: dict[str, float] = {}
    for a, b in itertools.pairwise(names):
        gaps = [r[b] - r[a] for r in rows if a in r and b in r]
        if gaps:
            steps[f"{a}→{b}"] = round(statistics.median(gaps) * 1000)
    for name in names:
        ts = sorted(r[name] for r in rows if name in r)
        if len(ts) > 1 and ts[-1] > ts[0]:
            rates[name] = round((len(ts) - 1) / (ts[-1] - ts[0]), 1)
    return {"median_ms_between": steps, "output_rate_per_s": rates}


# ---------------------------------------------------------------- run


def measure_parts(stack: Stack, args: argparse.Namespace, prefix: str) -> dict[str, Any]:
    ensure_topics(stack.settings, [RATE_TOPIC])
    values = [(r.report_id.encode(), encode(r)) for r in _stack.submitted(args.broker_records)]
    size = statistics.mean(len(v) for _, v in values)
    log(f"(a) broker: {len(values)} records of {size:.0f} B")
    broker = asyncio.run(broker_rates(stack.settings, values))
    broker["record_bytes"] = round(size)
    log(f"(a) {broker}")
    classifier = classifier_rate(args.classifier_reports)
    log(f"(b) classifier: {classifier}")
    es = make_client(stack.settings)
    try:
        search = bulk_rate(es, args.index_reports, prefix)
    finally:
        es.close()
    log(f"(c) search stand-in bulk: {search}")
    return {"broker": broker, "classifier": classifier, "search_bulk": search}


def bracket(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Each part's rates: the mean of the runs before the services started and after they
    stopped, on the same stand-in, so a drift over the run does not read as a stage's."""
    out: dict[str, Any] = {}
    for part, values in before.items():
        out[part] = {
            k: round((v + after[part][k]) / 2) if k.endswith("per_s") else v
            for k, v in values.items()
        }
    return out


def ceiling_of(parts: dict[str, Any]) -> float:
    return float(
        min(
            parts["broker"]["produce_per_s"],
            parts["broker"]["consume_per_s"],
            parts["classifier"]["per_s"],
            parts["search_bulk"]["reports_per_s"],
        )
    )


def run_pipeline(stack: Stack, args: argparse.Namespace) -> dict[str, Any]:
    before = measure_parts(stack, args, RAW_PREFIX)
    stack.start_services()
    time.sleep(args.settle)
    lag = LagSampler(stack.settings.kafka_bootstrap)
    lag.start()
    meter = CpuMeter(stack.groups())
    es_url = stack.settings.es_url
    pool = _stack.bodies(args.reports + args.level_budget, seed=7)
    log(f"(d) end to end: {args.reports} reports from {args.clients} clients")
    meter.start()
    lag.window()
    e2e = asyncio.run(end_to_end(stack.api_url, es_url, pool[: args.reports], args.clients, meter))
    e2e["lag"] = lag_summary(lag.window())
    e2e["dead_services"] = stack.dead()
    cpu = e2e["cpu_share_of_one_core"]
    log(f"(d) rate {e2e['rate_per_s']}/s, placed {e2e['placed']}, cpu {cpu}")
    levels = run_levels(stack, args, e2e["rate_per_s"], pool[args.reports :], lag)
    lag.close()
    stack.stop_services()
    log("the parts again, services stopped")
    after = measure_parts(stack, args, RAW_PREFIX + "2")
    parts = bracket(before, after)
    ceiling = ceiling_of(parts)
    log("reading per-stage timestamps from the topics")
    times = stage_times(stack.settings.kafka_bootstrap)
    e2e["stages"] = stage_report(times, e2e.pop("report_ids"), e2e.pop("placed_at"))
    for level in levels:
        level["stages"] = stage_report(times, level.pop("report_ids"), level.pop("placed_at"))
    return {
        "parts": parts,
        "parts_before": before,
        "parts_after": after,
        "ceiling_per_s": ceiling,
        "end_to_end": e2e,
        "levels": levels,
    }


def run_levels(
    stack: Stack, args: argparse.Namespace, max_rate: float, pool: list[dict], lag: LagSampler
) -> list[dict[str, Any]]:
    out, used = [], 0
    for share in LEVELS:
        rate = max(share * max_rate, 0.5)
        count = max(int(rate * args.level_seconds), 20)
        items, used = pool[used : used + count], used + count
        if len(items) < count:
            log(f"(e) not enough distinct bodies for {share:.0%}; raise --level-budget")
        time.sleep(args.settle)
        meter = CpuMeter(stack.groups())
        meter.start()
        lag.window()
        log(f"(e) {share:.0%} of max: {rate:.1f}/s, {len(items)} reports")
        result = asyncio.run(
            paced(
                stack.api_url,
                stack.settings.es_url,
                items,
                rate,
                args.poll_ms / 1000,
                not args.poll_only,
            )
        )
        result.update(
            share=share,
            cpu_share_of_one_core=meter.stop(),
            lag=lag_summary(lag.window()),
            dead_services=stack.dead(),
        )
        log(
            f"(e) {share:.0%}: p50 {result['p50_ms']} p95 {result['p95_ms']} "
            f"p99 {result['p99_ms']} ms, placed {result['placed']}/{len(items)}"
        )
        out.append(result)
    return out


def markdown(r: dict[str, Any]) -> str:
    p, e2e = r["parts"], r["end_to_end"]
    ratio = e2e["rate_per_s"] / r["ceiling_per_s"]
    at50 = next(lv for lv in r["levels"] if lv["share"] == 0.5)
    b, c = p["broker"], p["search_bulk"]
    lines = [
        f"# pipeline ({r['machine']['at']}, {r['machine']['cores']} cores, load average "
        f"{r['machine']['loadavg_at_start'][0]} at start, {r['machine']['loadavg'][0]} at end; "
        f"services' extra env: {r['options']['env'] or 'none'})",
        "",
        "| stage | rate (reports/s) | note |",
        "|---|---|---|",
        f"| (a) broker produce | {b['produce_per_s']} | {b['record_bytes']} B records, acks=all |",
        f"| (a) broker consume | {b['consume_per_s']} | one aiokafka consumer |",
        f"| (b) classifier in-process | {p['classifier']['per_s']} | classify_batch, 500 a batch |",
        f"| (c) search bulk index | {c['reports_per_s']} | {c['documents_per_s']} docs/s, "
        f"{c['bytes_per_report']} B per report |",
        f"| (d) end to end | {e2e['rate_per_s']} | {e2e['placed']}/{e2e['reports']} placed in "
        f"{e2e['seconds']} s; POSTs {e2e['post_rate_per_s']}/s; "
        f"API 200 for {e2e['api_get_200']} |",
        "",
        "(a)–(c): the mean of a run before the services started and one after they stopped.",
        "",
        f"**(d) ÷ min(a, b, c) = {e2e['rate_per_s']} / {r['ceiling_per_s']} = {ratio:.4f}** "
        "(target ≥ 0.5)",
        "",
        "| load | target/s | placed | p50 ms | p95 ms | p99 ms | POST p99 ms | status GETs/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for lv in r["levels"]:
        lines.append(
            f"| {lv['share']:.0%} | {lv['target_per_s']} | {lv['placed']}/{lv['reports']} | "
            f"{lv['p50_ms']} | {lv['p95_ms']} | {lv['p99_ms']} | {lv['post_p99_ms']} | "
            f"{lv['status_gets_per_s']} |"
        )
    ms = e2e["cpu_ms_per_report"]
    stack_ms = sum(v for k, v in ms.items() if k in ("api", "classifier", "dispatch", "indexer"))
    stack_ms += ms.get("noida-db", 0.0)
    lines += [
        "",
        f"CPU ms per report in (d): {ms}; services and noida-db together {stack_ms:.1f} ms: "
        f"with both cores to itself the pipeline could place at most "
        f"{2000 / stack_ms:.0f} reports/s, and one service process (one core, single "
        f"threaded) at most 1000 ÷ its ms per report.",
        "",
        f"**p99 at 50% = {at50['p99_ms']} ms** (target ≤ 1000 ms)",
        "",
        "CPU (share of one core) and consumer lag (max records behind):",
        "",
        "| phase | "
        + " | ".join(e2e["cpu_share_of_one_core"])
        + " | lag classifier / dispatch / indexer |",
        "|---|" + "---|" * (len(e2e["cpu_share_of_one_core"]) + 1),
    ]
    for name, phase in [("(d)", e2e)] + [(f"{lv['share']:.0%}", lv) for lv in r["levels"]]:
        cpu, lag = phase["cpu_share_of_one_core"], phase["lag"]
        lags = " / ".join(
            str(lag.get(s, {}).get("max", "-")) for s in ("classifier", "dispatch", "indexer")
        )
        lines.append(
            f"| {name} | "
            + " | ".join(str(cpu.get(k, "-")) for k in e2e["cpu_share_of_one_core"])
            + f" | {lags} |"
        )
    lines += [
        "",
        "Median ms between stages (Kafka record timestamps) and each stage's output rate:",
        "",
    ]
    for name, phase in [("(d)", e2e)] + [(f"{lv['share']:.0%}", lv) for lv in r["levels"]]:
        st = phase["stages"]
        lines.append(f"- {name}: {st['median_ms_between']}; out/s {st['output_rate_per_s']}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--reports", type=int, default=1000, help="(d) reports end to end")
    parser.add_argument("--clients", type=int, default=64, help="(d) concurrent clients")
    parser.add_argument("--level-seconds", type=float, default=30.0, help="(e) per level")
    parser.add_argument("--poll-ms", type=float, default=50.0, help="(e) status poll interval")
    parser.add_argument(
        "--poll-only",
        action="store_true",
        help="(e) poll GET /api/v1/reports/{id} from the start, without the _mget watcher",
    )
    parser.add_argument("--broker-records", type=int, default=20_000)
    parser.add_argument("--classifier-reports", type=int, default=2000)
    parser.add_argument("--index-reports", type=int, default=2000)
    parser.add_argument("--settle", type=float, default=5.0, help="pause between phases, s")
    parser.add_argument("--quick", action="store_true", help="300 reports, 12 s levels")
    parser.add_argument("--workdir", default="var/bench-pipeline")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra CITYOPS_* variable for the services (experiments, e.g. "
        "CITYOPS_KAFKA_QUIET_FETCH_MAX_PAUSE_MS=10); repeatable",
    )
    parser.add_argument("--label", default="", help="results as pipeline_<label>.json/.md")
    args = parser.parse_args()
    if args.quick:
        args.reports, args.level_seconds = 300, 12.0
        args.broker_records, args.index_reports = 10_000, 1000
    args.level_budget = 10_000
    name = f"pipeline_{args.label}" if args.label else "pipeline"
    stack = Stack(name, Path(args.workdir), extra_env=dict(e.split("=", 1) for e in args.env))
    loadavg_start = _stack.machine_note()["loadavg"]
    try:
        stack.start_broker()
        result = run_pipeline(stack, args)
    finally:
        stack.stop()
    result["machine"] = {**_stack.machine_note(), "loadavg_at_start": loadavg_start}
    result["options"] = {k: v for k, v in vars(args).items()}
    result["logs"] = str(stack.logs)
    _stack.write_results(name, result, markdown(result))


if __name__ == "__main__":
    main()
