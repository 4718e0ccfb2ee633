"""The dispatcher queue at city scale: 100,000 case documents, the API's queries beside the
stand-in's raw search of the same index, in one run (GitHub issue 7).

    .venv/bin/python bench/queue_scale.py                   # 100,000 cases
    .venv/bin/python bench/queue_scale.py --quick           # 10,000 cases, 5 rounds
    .venv/bin/python bench/queue_scale.py --cases 50000 --index-budget 600

What it does, on a fresh noida-db:

1. Builds N cases as production does: ``cityops simulate`` report bodies (distinct), intake's
   ``to_event``, the classifier's ``classify_batch`` with the shipped model, the dispatch
   workflow's ``decide`` on each ``open`` command (events ``opened`` → ``registered`` /
   ``dispatched``), created times spread over the last 30 days.
2. Indexes them with the indexer's own plan (``services/indexer/batch.py``: case documents
   folded by ``document.fold``, event and source documents), 500 events per bulk request
   as one full indexer batch, into the real mappings (``cityops provision``); the bulk
   rate is measured and reported. If indexing passes ``--index-budget`` seconds it stops
   there and the queries run on the cases indexed so far (the JSON says how many).
3. Starts the API process alone and measures, round-robin for ``--rounds`` rounds:
   - ``GET /api/v1/cases?sort=queue`` (the default queue, 20 a page);
   - the same with ``department=`` the most common department;
   - the same with ``q=`` a word from the texts (full text over text and address);
   - ``GET /api/v1/cases/{id}/similar`` (the console's look-alikes) for an open case;
   - the exact Elasticsearch body each of those sends, straight to the stand-in, and the
     live feed's poll (``services/api/live/cursor.py``: the cases indexed in the last
     look-back window, by ``indexed_at``; each API process sends it every 0.75 s while a
     screen follows the feed);
   - the reference: ``match_all`` with ``size: 20`` straight to the stand-in.
   Every figure is reported with its ratio to the reference's p50 measured in the run.

Results: ``bench/results/queue_scale.json`` and ``.md``; logs in
``bench/results/logs/queue_scale/``.
"""

from __future__ import annotations

import argparse
import collections
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import _stack
import httpx
from _stack import Stack, log, percentile

from cityops.search import ReadModel, make_client
from services.api.cases.models import CaseFilters, CaseSort
from services.api.cases.query import SORTS, case_query
from services.api.cases.similar import similar_query
from services.api.live.cursor import ChangeCursor
from services.indexer.batch import Targets, operations, plan

SPREAD = timedelta(days=30)
QUERY_WORD = "井盖"  # a frequent taxonomy keyword in simulated texts


def index_cases(stack: Stack, count: int, budget_s: float) -> dict[str, Any]:
    """Build and bulk-index ``count`` cases; stop after ``budget_s`` s of indexing."""
    es = make_client(stack.settings).options(request_timeout=300)  # counts take long
    to = Targets.aliases(ReadModel(stack.settings.index_prefix))
    route = _stack.router()
    departments: collections.Counter[str] = collections.Counter()
    indexed = docs = requests = 0
    build_s = bulk_s = 0.0
    chunk = 10_000
    try:
        for start in range(0, count, chunk):
            t = time.perf_counter()
            reports = _stack.submitted(min(chunk, count - start), seed=1000 + start)
            events = [e for evs in _stack.case_events(reports, route, SPREAD) for e in evs]
            bodies = []
            for i in range(0, len(events), 500):
                writes = plan(events[i : i + 500], {}, to)
                for write in writes:  # as if written when it changed, over the 30 days
                    if write.meta["_index"] == to.cases:
                        write.doc["indexed_at"] = write.doc["updated_at"]
                bodies.append(operations(writes))
            build_s += time.perf_counter() - t
            for e in events:
                if e.kind.value == "opened":
                    departments[e.data["classification"]["department"]] += 1
            t = time.perf_counter()
            for body in bodies:
                answer = es.bulk(operations=body)
                assert not answer["errors"], "bulk refused documents"
                requests += 1
                docs += len(body) // 2
            bulk_s += time.perf_counter() - t
            indexed += len(reports)
            log(
                f"indexed {indexed} cases ({docs} documents) in {bulk_s:.0f} s of bulk "
                f"({indexed / bulk_s:.0f} cases/s)"
            )
            if bulk_s > budget_s and indexed < count:
                log(f"index budget of {budget_s:.0f} s spent: stopping at {indexed} cases")
                break
        es.indices.refresh(index="_all")
        total = es.count(index=to.cases)["count"]
    finally:
        es.close()
    return {
        "requested": count,
        "cases": indexed,
        "cases_in_index": total,
        "documents": docs,
        "bulk_requests": requests,
        "bulk_seconds": round(bulk_s, 1),
        "build_seconds": round(build_s, 1),
        "cases_per_s": round(indexed / bulk_s, 1),
        "documents_per_s": round(docs / bulk_s, 1),
        "top_department": departments.most_common(1)[0][0],
    }


def es_body(filters: CaseFilters) -> dict[str, Any]:
    """What ``CaseService.queue`` sends for page 1 of ``filters`` sorted as the queue."""
    return {
        "query": case_query(filters),
        "sort": SORTS[CaseSort.QUEUE],
        "from": 0,
        "size": 20,
        "track_total_hits": True,
        "_source": {"excludes": ["sources", "suggestions", "milestones"]},
    }


def open_case(stack: Stack) -> dict[str, Any]:
    """One dispatched case with a place (the console's look-alikes are asked for it)."""
    index = f"{stack.settings.es_url}/{stack.settings.index_prefix}-cases"
    found = httpx.post(
        f"{index}/_search",
        json={
            "query": {
                "bool": {
                    "filter": [{"term": {"state": "dispatched"}}, {"exists": {"field": "grid"}}]
                }
            },
            "size": 1,
            "_source": {"excludes": ["sources", "suggestions", "milestones"]},
        },
        timeout=600,
    ).json()
    doc: dict[str, Any] = found["hits"]["hits"][0]["_source"]
    return doc


def poll_body(stack: Stack) -> dict[str, Any]:
    """The live feed's poll at the end of the index: what it sends while screens follow."""
    index = f"{stack.settings.es_url}/{stack.settings.index_prefix}-cases"
    latest = ChangeCursor.latest_search()
    found = httpx.post(
        f"{index}/_search",
        json={
            "query": latest["query"],
            "sort": latest["sort"],
            "size": 1,
            "_source": {"includes": latest["source_includes"]},
        },
        timeout=600,
    ).json()
    cursor = ChangeCursor()
    cursor.start_at(found["hits"]["hits"])
    kw = cursor.search()
    return {
        "query": kw["query"],
        "sort": kw["sort"],
        "size": kw["size"],
        "_source": {"excludes": kw["source_excludes"]},
        "track_total_hits": True,  # to report the hits; the feed itself asks for none
    }


def probes(
    stack: Stack, department: str, case: dict[str, Any], poll: dict[str, Any]
) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """name → (method, url, params or json body)."""
    api, index = stack.api_url, f"{stack.settings.es_url}/{stack.settings.index_prefix}-cases"
    queue = {"sort": "queue"}
    similar = {
        "query": similar_query(case, []),
        "size": 5,
        "_source": {"excludes": ["sources", "suggestions", "milestones"]},
    }
    return {
        "raw match_all size 20 (reference)": (
            "POST",
            f"{index}/_search",
            {"query": {"match_all": {}}, "size": 20},
        ),
        "api queue": ("GET", f"{api}/api/v1/cases", queue),
        "api department": ("GET", f"{api}/api/v1/cases", {**queue, "department": department}),
        "api q": ("GET", f"{api}/api/v1/cases", {**queue, "q": QUERY_WORD}),
        "raw queue body": ("POST", f"{index}/_search", es_body(CaseFilters())),
        "raw department body": (
            "POST",
            f"{index}/_search",
            es_body(CaseFilters(department=department)),
        ),
        "raw q body": ("POST", f"{index}/_search", es_body(CaseFilters(q=QUERY_WORD))),
        "api similar": ("GET", f"{api}/api/v1/cases/{case['case_id']}/similar", {}),
        "raw similar body": ("POST", f"{index}/_search", similar),
        "raw live poll body": ("POST", f"{index}/_search", poll),
    }


def measure(stack: Stack, department: str, rounds: int) -> dict[str, dict[str, Any]]:
    """Every probe ``rounds`` times; a stand-in that dies ends the rounds (reported)."""
    table = probes(stack, department, open_case(stack), poll_body(stack))
    times: dict[str, list[float]] = {name: [] for name in table}
    failed: collections.Counter[str] = collections.Counter()
    totals: dict[str, int] = {}
    try:
        with httpx.Client(timeout=600, headers=_stack.OPERATOR) as http:
            for name, (method, url, arg) in table.items():  # warm-up, and the hit counts
                answer = call(http, method, url, arg)
                if answer.status_code == 200:
                    totals[name] = hits(answer)
            for r in range(rounds):
                for name, (method, url, arg) in table.items():
                    started = time.perf_counter()
                    answer = call(http, method, url, arg)
                    if answer.status_code != 200:  # e.g. the API's search timed out: 500
                        failed[f"{name}: {answer.status_code}"] += 1
                        log(f"{name} answered {answer.status_code}: {answer.text[:200]}")
                        continue
                    times[name].append(time.perf_counter() - started)
                shown = (
                    f"{n.split(' (')[0]} {times[n][-1] * 1000:.0f} ms" for n in table if times[n]
                )
                log(f"round {r + 1}/{rounds}: " + ", ".join(shown))
    except httpx.TransportError as exc:
        alive = stack.server is not None and stack.server.running
        log(f"query failed ({exc!r}); stand-in running: {alive}; results so far kept")
        times = {n: ts for n, ts in times.items() if ts}
        if not times:
            return {"failed": {"error": repr(exc), "stand_in_running": alive}}
    ref = percentile(times.get("raw match_all size 20 (reference)", []), 50)
    return {
        name: {
            "p50_ms": round(percentile(ts, 50) * 1000, 1),
            "p95_ms": round(percentile(ts, 95) * 1000, 1),
            "p50_ratio_to_reference": round(percentile(ts, 50) / ref, 3),
            "p95_ratio_to_reference": round(percentile(ts, 95) / ref, 3),
            "total_hits": totals.get(name),
            "samples": len(ts),
            "failed": sum(v for k, v in failed.items() if k.startswith(f"{name}: ")),
        }
        for name, ts in times.items()
    }


def call(http: httpx.Client, method: str, url: str, arg: dict[str, Any]) -> httpx.Response:
    return http.get(url, params=arg) if method == "GET" else http.post(url, json=arg)


def hits(answer: httpx.Response) -> int:
    body = answer.json()
    if "items" in body and "total" not in body:  # the look-alikes: a short list
        return len(body["items"])
    if "total" in body and isinstance(body["total"], int):
        return int(body["total"])
    total = body["hits"]["total"]
    return int(total["value"] if isinstance(total, dict) else total)


def markdown(r: dict[str, Any]) -> str:
    ix = r["indexing"]
    lines = [
        f"# queue_scale ({r['machine']['at']}, {r['machine']['cores']} cores, load average "
        f"{r['machine']['loadavg_at_start'][0]} at start, {r['machine']['loadavg'][0]} at end)",
        "",
        f"Indexed {ix['cases']} cases ({ix['documents']} documents in 4 indexes) in "
        f"{ix['bulk_seconds']} s of bulk: **{ix['cases_per_s']} cases/s** "
        f"({ix['documents_per_s']} documents/s); {ix['cases_in_index']} in the case index.",
        "",
        f"{r['rounds']} rounds, round-robin; ratios to the reference's p50 "
        "(raw match_all, size 20, same index, same run).",
        "",
        "| query | hits | p50 ms | p95 ms | p50 ÷ ref | p95 ÷ ref p50 | samples | failed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, m in r["queries"].items():
        if "p50_ms" not in m:
            lines.append(f"| {name} | failed: {m} | | | | |")
            continue
        lines.append(
            f"| {name} | {m['total_hits']} | {m['p50_ms']} | {m['p95_ms']} | "
            f"{m['p50_ratio_to_reference']} | {m['p95_ratio_to_reference']} | "
            f"{m['samples']} | {m['failed']} |"
        )
    lines += [
        "",
        f"noida-db peak resident memory: {r['stand_in_peak_rss_gb']} GB "
        f"({ix['stand_in_rss_after_indexing_gb']} GB after indexing).",
    ]
    cpu = r["cpu_share_of_one_core_during_queries"]
    lines += ["", f"CPU during the queries (share of one core): {cpu}"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=8, help="timed rounds of every query")
    parser.add_argument(
        "--index-budget",
        type=float,
        default=480.0,
        help="stop indexing after this many seconds of bulk requests",
    )
    parser.add_argument("--quick", action="store_true", help="10,000 cases, 5 rounds")
    parser.add_argument("--workdir", default="var/bench-queue-scale")
    args = parser.parse_args()
    if args.quick:
        args.cases, args.rounds = 10_000, 5
    stack = Stack("queue_scale", Path(args.workdir))
    loadavg_start = _stack.machine_note()["loadavg"]
    rss: _stack.RssPeak | None = None
    try:
        stack.start_broker()
        assert stack.server is not None and stack.server.process is not None
        rss = _stack.RssPeak(stack.server.process.pid)
        rss.start()
        indexing = index_cases(stack, args.cases, args.index_budget)
        indexing["stand_in_rss_after_indexing_gb"] = round(rss.peak / 2**30, 2)
        stack.start_services(["api"])
        meter = _stack.CpuMeter(stack.groups())
        meter.start()
        queries = measure(stack, indexing["top_department"], args.rounds)
        cpu = meter.stop()
    finally:
        peak = rss.close() if rss is not None else 0
        stack.stop()
    result = {
        "machine": {**_stack.machine_note(), "loadavg_at_start": loadavg_start},
        "cpu_share_of_one_core_during_queries": cpu,
        "stand_in_peak_rss_gb": round(peak / 2**30, 2),
        "rounds": args.rounds,
        "query_word": QUERY_WORD,
        "indexing": indexing,
        "queries": queries,
        "logs": str(stack.logs),
    }
    _stack.write_results("queue_scale", result, markdown(result))


if __name__ == "__main__":
    main()
