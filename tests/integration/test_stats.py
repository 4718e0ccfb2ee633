"""Case-performance figures against real Elasticsearch: the API and the daily publisher."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from cityctl.cli import main as cli_main
from cityops import jurisdiction, logs, taxonomy
from cityops.search import CaseIndex, ensure_case_index, make_client
from cityops.settings import CommonSettings
from services.api.settings import ApiSettings
from services.api.stats.publish import publish_recent, stats_index
from services.api.stats.service import GroupNames, window_query
from services.dispatch.sla import SHANGHAI
from services.indexer.document import fold_all
from tests.conftest import Infra
from tests.dispatch.test_metrics import START, workflow_events
from tests.people import api_client

pytestmark = pytest.mark.integration
HOUR = timedelta(hours=1)


@pytest.fixture
def es(settings: CommonSettings) -> Iterator[Elasticsearch]:
    client = make_client(settings)
    ensure_case_index(client, CaseIndex(settings.index_prefix))
    yield client
    client.close()


@pytest.fixture
def deadline(es: Elasticsearch, settings: CommonSettings) -> datetime:
    """Index the four workflow cases (tests/dispatch/test_metrics.py); return their deadline."""
    alias = CaseIndex(settings.index_prefix).alias
    events, d = workflow_events()
    for case_events in events:
        doc = fold_all(None, case_events)
        assert doc is not None
        es.index(index=alias, id=doc["case_id"], document=doc)
    es.indices.refresh(index=alias)
    return d


@pytest.fixture
def client(infra: Infra, prefix: str) -> Iterator[TestClient]:
    settings = ApiSettings(**infra.settings(prefix))  # type: ignore[arg-type]
    with api_client(settings) as c:
        yield c


def stats(client: TestClient, start: datetime, end: datetime, group_by: str) -> dict[str, Any]:
    params = {"from": start.isoformat(), "to": end.isoformat(), "group_by": group_by}
    response = client.get("/api/v1/stats", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_api_computes_the_figures_from_the_read_model(
    client: TestClient, deadline: datetime
) -> None:
    start, end = START - timedelta(days=1), deadline + 6 * HOUR
    body = stats(client, start, end, "department")
    assert body["group_by"] == "department"
    assert datetime.fromisoformat(body["window"]["from"]) == start
    assert datetime.fromisoformat(body["window"]["to"]) == end
    [water] = body["groups"]
    assert (water["key"], water["key_name"]) == ("water", "水务")
    assert (water["cases"], water["registered"], water["closed"], water["due"]) == (4, 4, 2, 3)
    assert water["on_time_rate"] == pytest.approx(1 / 3)
    assert (water["rework_rate"], water["return_rate"], water["auto_dispatch_share"]) == (
        0.5,
        0.25,
        0.75,
    )
    assert water["stage_hours"]["report_to_register"] == {
        "count": 4,
        "mean_h": 0.25,
        "median_h": 0.0,
    }
    assert {k: v for k, v in water["states"].items() if v} == {
        "closed": 2,
        "in_progress": 1,
        "dispatched": 1,
    }
    [town] = stats(client, start, end, "town")["groups"]
    assert (town["key"], town["key_name"]) == ("nanhui_xincheng", "南汇新城镇")
    [overall] = stats(client, start, end, "none")["groups"]
    assert (overall["key"], overall["key_name"], overall["cases"]) == ("all", "全部", 4)


def test_cases_finished_before_the_window_are_not_read(
    client: TestClient, es: Elasticsearch, settings: CommonSettings, deadline: datetime
) -> None:
    """quick closed at START+5h and slow at d+5h; bounced and idle are still open."""
    start, end = deadline + 5.5 * HOUR, deadline + 6 * HOUR
    alias = CaseIndex(settings.index_prefix).alias
    found = es.search(index=alias, query=window_query(start, end), size=100)
    assert found["hits"]["total"]["value"] == 2
    [overall] = stats(client, start, end, "none")["groups"]
    assert (overall["cases"], overall["closed"], overall["open_overdue"]) == (2, 0, 1)
    assert overall["close_rate"] == 0.0 and overall["registered"] == 0
    before = stats(client, START - timedelta(days=2), START - timedelta(days=1), "day")
    assert before["groups"] == []


def test_without_a_case_index_the_figures_are_empty(client: TestClient) -> None:
    response = client.get("/api/v1/stats")  # the last 30 days, overall
    assert response.status_code == 200
    [overall] = response.json()["groups"]
    assert overall["cases"] == 0 and overall["close_rate"] is None


@pytest.mark.parametrize(
    "params",
    [
        {"group_by": "category"},
        {"from": "yesterday"},
        {"from": "2026-11-02T00:00:00+08:00", "to": "2026-11-01T00:00:00+08:00"},
        {"from": "2024-01-01", "to": "2026-01-01"},
    ],
)
def test_bad_parameters_get_422_problems(client: TestClient, params: dict[str, str]) -> None:
    response = client.get("/api/v1/stats", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"]


def snapshot(es: Elasticsearch, index: str) -> dict[str, dict[str, Any]]:
    es.indices.refresh(index=index)
    found = es.search(index=index, query={"match_all": {}}, size=1000)
    return {h["_id"]: h["_source"] for h in found["hits"]["hits"]}


def test_publish_daily_overwrites_its_documents(
    es: Elasticsearch, settings: CommonSettings, deadline: datetime
) -> None:
    alias = CaseIndex(settings.index_prefix).alias
    names = GroupNames(taxonomy.load(), jurisdiction.load())
    now = deadline + 6 * HOUR  # three days: 30 Nov (opened), 1 Dec, 2 Dec (so far)
    first = publish_recent(es, settings.index_prefix, alias, names, 3, now)
    published = snapshot(es, stats_index(settings.index_prefix))
    assert first == len(published) == 3 * 4  # per day: overall, department, town, dimension
    again = publish_recent(es, settings.index_prefix, alias, names, 3, now)
    assert again == first and snapshot(es, stats_index(settings.index_prefix)) == published
    monday = published["2026-11-30:none:all"]
    assert (monday["registered"], monday["closed"], monday["closed_on_time"]) == (4, 1, 1)
    wednesday = published[f"{deadline.date().isoformat()}:department:water"]
    assert (wednesday["key_name"], wednesday["closed"], wednesday["open_overdue"]) == (
        "水务",
        1,
        1,
    )
    assert published["2026-12-01:dimension:宁"]["cases"] == 3


def test_cli_publishes_today(
    infra: Infra,
    prefix: str,
    es: Elasticsearch,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CITYOPS_ES_URL", infra.es_url)
    monkeypatch.setenv("CITYOPS_INDEX_PREFIX", prefix)
    monkeypatch.setattr(logs, "setup", lambda *args: None)  # keep pytest's log handlers
    before = datetime.now(SHANGHAI).date()
    assert cli_main(["stats", "publish", "--days", "1"]) == 0
    after = datetime.now(SHANGHAI).date()
    assert f"written to {prefix}-stats" in capsys.readouterr().out
    docs = snapshot(es, stats_index(prefix))
    # no case is indexed: today's overall figures are the only document, with zero cases
    assert set(docs) in ({f"{before}:none:all"}, {f"{after}:none:all"})
    [doc] = docs.values()
    assert date.fromisoformat(doc["day"]) in (before, after)
    assert (doc["cases"], doc["close_rate"]) == (0, None)
