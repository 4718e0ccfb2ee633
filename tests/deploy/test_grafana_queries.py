"""Every case-analytics panel's query, sent to the Elasticsearch stand-in as Grafana sends it,
returns data.

Demo cases are made by the dispatch workflow itself (closed on time, returned, reworked and
late, breached and still open, rerouted, opened today, a proactive hotspot case), written by
the indexer's own bulk plan (case documents and timeline entries), and the daily figures are
published by ``cityops stats publish``'s code. Each panel target is then turned into the
``_msearch`` body Grafana 11's Elasticsearch backend builds (pkg/tsdb/elasticsearch: a
``range`` filter on the data source's time field in epoch milliseconds, a ``query_string``
filter, nested bucket aggregations with the metrics innermost; documents sorted by time for
``raw_data``), with the board's time range resolved at one instant and each variable at
its default (All: ``*``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from elasticsearch import Elasticsearch

from cityctl import grafana
from cityops import jurisdiction, taxonomy
from cityops.contracts import SYSTEM_ACTOR, CaseCommand, CaseEvent
from cityops.contracts.common import SourceType
from cityops.contracts.events import (
    AcceptCase,
    CloseCase,
    ReportBack,
    RerouteCase,
    ReturnCase,
    SlaAlert,
    VerifyCase,
)
from cityops.figures import SHANGHAI
from cityops.search import ReadModel, ensure_read_model, make_client
from cityops.settings import CommonSettings
from services.api.stats.publish import publish_recent
from services.api.stats.service import GroupNames
from services.dispatch.case_ids import open_command
from services.dispatch.workflow import decide
from services.indexer.batch import Targets, operations, plan
from tests.dispatch.test_metrics import DISPATCHER, START, department, disposal_deadline
from tests.dispatch.test_workflow import classified

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
TAX = taxonomy.load()
HOUR = timedelta(hours=1)
Step = tuple[datetime, Any, Any]


def run(source_id: str, opened: datetime, steps: list[Step], **source: Any) -> list[CaseEvent]:
    """A case opened at ``opened`` and taken through ``steps`` by the workflow."""
    case = classified(False, source_id)
    case = case.model_copy(
        update={"classified_at": opened, "source": case.source.model_copy(update=source)}
    )
    decision = decide(None, open_command(case), TAX)
    events = list(decision.events)
    for n, (when, actor, body) in enumerate(steps):
        assert decision.case is not None
        command = CaseCommand(
            command_id=f"{source_id}-{n}",
            case_id=decision.case.case_id,
            actor=actor,
            issued_at=when,
            reason="演示",
            body=body,
        )
        decision = decide(decision.case, command, TAX)
        assert decision.rejected is None, decision.rejected
        events += decision.events
    return events


def demo_cases() -> tuple[list[CaseEvent], datetime]:
    """The cases, and the instant the boards are looked at (just after the last closure)."""
    water, roads = department("water"), department("roads_infrastructure")
    quick = run(
        "quick",
        START,
        [
            (START + HOUR, water, AcceptCase()),
            (START + 3 * HOUR, water, ReportBack()),
            (START + 4 * HOUR, DISPATCHER, VerifyCase(passed=True)),
            (START + 5 * HOUR, DISPATCHER, CloseCase()),
        ],
    )
    d = disposal_deadline(quick)
    slow = run(
        "slow",
        START,
        [
            (START + HOUR, water, AcceptCase()),
            (d, SYSTEM_ACTOR, SlaAlert(stage="dispose", level="breach", deadline=d)),
            (d + HOUR, water, ReportBack()),
            (d + 2 * HOUR, DISPATCHER, VerifyCase(passed=False)),
            (d + 3 * HOUR, water, ReportBack()),
            (d + 4 * HOUR, DISPATCHER, VerifyCase(passed=True)),
            (d + 5 * HOUR, DISPATCHER, CloseCase()),
        ],
    )
    now = d + 5 * HOUR + timedelta(minutes=1)
    late = run(
        "late", START, [(d, SYSTEM_ACTOR, SlaAlert(stage="dispose", level="breach", deadline=d))]
    )
    bounced = run(
        "bounced",
        START,
        [
            (START + HOUR, DISPATCHER, RerouteCase(department="roads_infrastructure")),
            (START + 2 * HOUR, roads, ReturnCase()),
        ],
    )
    today = datetime.combine(now.astimezone(SHANGHAI).date(), time(0), SHANGHAI)
    fresh = run("fresh", max(today, now - 2 * HOUR), [])
    hotspot = run("hotspot", START, [], source_type=SourceType.PROACTIVE)
    return [e for case in (quick, slow, late, bounced, fresh, hotspot) for e in case], now


@pytest.fixture
def loaded(settings: CommonSettings) -> Iterator[tuple[Elasticsearch, str, datetime]]:
    es = make_client(settings)
    model = ReadModel(settings.index_prefix)
    ensure_read_model(es, model)
    events, now = demo_cases()
    done = es.bulk(operations=operations(plan(events, {}, Targets.aliases(model))), refresh=True)
    assert not done["errors"], done
    names = GroupNames(TAX, jurisdiction.load())
    publish_recent(es, settings.index_prefix, model.cases.alias, names, 7, now)
    es.indices.refresh(index=f"{settings.index_prefix}-*")
    yield es, settings.index_prefix, now
    es.close()


def index_of(uid: str, prefix: str) -> str:
    path = ROOT / "deploy" / "grafana" / "provisioning" / "datasources" / "elasticsearch.yml"
    sources = {s["uid"]: s for s in yaml.safe_load(path.read_text())["datasources"]}
    index: str = sources[uid]["jsonData"]["index"]
    return index.replace("cityops-", f"{prefix}-", 1)


def time_range(panel: dict[str, Any], model: dict[str, Any], now: datetime) -> tuple[int, int]:
    """The range Grafana sends, in epoch ms: a panel's relative time overrides the board's."""
    relative = panel.get("timeFrom") or model["time"]["from"]
    if relative == "now/d":
        start = datetime.combine(now.astimezone(SHANGHAI).date(), time(0), SHANGHAI)
    else:
        amount = relative.removeprefix("now-")
        assert amount.endswith("d"), relative
        start = now - timedelta(days=int(amount[:-1]))
    return int(start.timestamp() * 1000), int(now.timestamp() * 1000)


def metric_aggs(metrics: list[dict[str, Any]]) -> dict[str, Any]:
    return {m["id"]: {m["type"]: {"field": m["field"]}} for m in metrics if m["type"] != "count"}


def bucket_agg(agg: dict[str, Any], start: int, end: int) -> dict[str, Any]:
    settings = agg.get("settings", {})
    if agg["type"] == "terms":
        return {
            "terms": {
                "field": agg["field"],
                "size": int(settings["size"]),
                "order": {settings["orderBy"]: settings["order"]},
                "min_doc_count": int(settings["min_doc_count"]),
            }
        }
    assert agg["type"] == "date_histogram", agg
    return {
        "date_histogram": {
            "field": agg["field"],
            "fixed_interval": settings["interval"],
            "min_doc_count": int(settings["min_doc_count"]),
            "extended_bounds": {"min": start, "max": end},
            "format": "epoch_millis",
        }
    }


def request_body(
    target: dict[str, Any], start: int, end: int, variables: dict[str, str]
) -> dict[str, Any]:
    query = target["query"]
    for name, value in variables.items():
        query = query.replace(f"${name}", value)
    field = target["timeField"]
    filters: list[dict[str, Any]] = [
        {"range": {field: {"gte": start, "lte": end, "format": "epoch_millis"}}},
        {"query_string": {"analyze_wildcard": True, "query": query}},
    ]
    body: dict[str, Any] = {"size": 0, "query": {"bool": {"filter": filters}}}
    metrics = target["metrics"]
    if metrics[0]["type"] == "raw_data":
        body["size"] = int(metrics[0]["settings"]["size"])
        body["sort"] = [
            {field: {"order": "desc", "unmapped_type": "boolean"}},
            {"_doc": {"order": "desc"}},
        ]
        body["docvalue_fields"] = [field]
        return body
    aggs = metric_aggs(metrics)
    for agg in reversed(target["bucketAggs"]):  # the innermost bucket holds the metrics
        aggs = {
            agg["id"]: {**bucket_agg(agg, start, end), "aggs": aggs}
            if aggs
            else bucket_agg(agg, start, end)
        }
    body["aggs"] = aggs
    return body


def has_data(answer: dict[str, Any], target: dict[str, Any]) -> bool:
    if target["metrics"][0]["type"] == "raw_data":
        return bool(answer["hits"]["hits"])
    metric_ids = [m["id"] for m in target["metrics"] if m["type"] != "count"]

    def values(aggs: dict[str, Any]) -> Iterator[Any]:
        for agg in aggs.values():
            for bucket in agg.get("buckets", []):
                if bucket["doc_count"] == 0:
                    continue
                inner = {k: v for k, v in bucket.items() if isinstance(v, dict) and "buckets" in v}
                if inner:
                    yield from values(inner)
                elif metric_ids:
                    yield from (bucket[m]["value"] for m in metric_ids)
                else:
                    yield bucket["doc_count"]

    return any(v is not None for v in values(answer.get("aggregations", {})))


def es_targets() -> Iterator[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]]:
    for name, model in grafana.dashboards().items():
        for panel in model["panels"]:
            for target in panel["targets"]:
                if target.get("datasource", panel["datasource"])["type"] == "elasticsearch":
                    yield name, model, panel, target


def test_every_case_analytics_panel_returns_data(
    loaded: tuple[Elasticsearch, str, datetime], settings: CommonSettings
) -> None:
    _, prefix, now = loaded
    empty = []
    for name, model, panel, target in es_targets():
        variables = {v["name"]: v["allValue"] for v in model["templating"]["list"]}
        start, end = time_range(panel, model, now)
        uid = target.get("datasource", panel["datasource"])["uid"]
        header = {
            "index": index_of(uid, prefix),
            "ignore_unavailable": True,
            "search_type": "query_then_fetch",
        }
        body = request_body(target, start, end, variables)
        payload = json.dumps(header) + "\n" + json.dumps(body, ensure_ascii=False) + "\n"
        response = httpx.post(
            f"{settings.es_url}/_msearch",
            content=payload.encode(),
            headers={"Content-Type": "application/x-ndjson"},
            timeout=10,
        )
        [answer] = response.json()["responses"]
        assert "error" not in answer, (name, panel["title"], answer["error"])
        if not has_data(answer, target):
            empty.append((name, panel["title"], target["refId"], body))
    assert not empty, [e[:3] for e in empty]
