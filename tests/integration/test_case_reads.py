"""Case reads against real Elasticsearch: every per-case read is by id (case, timeline
pages, command outcomes), and the default queue is the work still to do."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from services.api.settings import ApiSettings
from tests.conftest import Infra
from tests.indexer.builders import event, opened, outcome
from tests.integration.conftest import index_items
from tests.people import api_client

pytestmark = pytest.mark.integration
CASE = "LGAAAAAAAAAAAA"


@pytest.fixture
def api_settings(infra: Infra, prefix: str) -> ApiSettings:
    return ApiSettings(**infra.settings(prefix))  # type: ignore[arg-type]


@pytest.fixture
def client(api_settings: ApiSettings) -> Iterator[TestClient]:
    with api_client(api_settings) as c:
        yield c


def long_case(n: int) -> list:  # type: ignore[type-arg]
    """A case with ``n`` events: opened, then SLA warnings the workflow would write."""
    return [opened(CASE, "r-long")] + [
        event(CASE, seq, "sla_warning", "pending", seq, sla_state="warning")
        for seq in range(2, n + 1)
    ]


def test_a_case_shows_its_latest_timeline_page_and_pages_back(
    client: TestClient, api_settings: ApiSettings
) -> None:
    asyncio.run(index_items(api_settings, long_case(120)))
    case = client.get(f"/api/v1/cases/{CASE}").json()
    assert [t["seq"] for t in case["timeline"]] == list(range(71, 121))
    assert case["timeline_before_seq"] == 71 and case["sla_state"] == "warning"
    assert [s["source_id"] for s in case["sources"]] == ["r-long"]
    assert "milestones" not in case

    older = client.get(f"/api/v1/cases/{CASE}/timeline", params={"before_seq": 71, "size": 100})
    assert older.status_code == 200
    body = older.json()
    assert [t["seq"] for t in body["items"]] == list(range(1, 71))
    assert body["before_seq"] is None and body["items"][0]["kind"] == "opened"
    assert body["items"][0]["data"]["source_id"] == "r-long"

    assert client.get(f"/api/v1/cases/{CASE}/timeline", params={"size": 101}).status_code == 422
    assert client.get(f"/api/v1/cases/{CASE}/timeline", params={"before_seq": 0}).status_code == 422
    missing = client.get("/api/v1/cases/LGNOSUCHCASE22/timeline")
    assert missing.status_code == 404 and "LGNOSUCHCASE22" in missing.json()["detail"]


def test_the_default_queue_is_the_work_to_do(client: TestClient, api_settings: ApiSettings) -> None:
    cases = {"LGOPENAAAAAAAA": "dispatched", "LGCLOSEDAAAAAA": "closed",
             "LGINVALIDAAAAA": "invalid", "LGMERGEDAAAAAA": "merged"}  # fmt: skip
    items = []
    for n, (case_id, state) in enumerate(cases.items()):
        items += [opened(case_id, f"r-{n}"), event(case_id, 2, "registered", state, 1)]
    asyncio.run(index_items(api_settings, items))
    queue = client.get("/api/v1/cases").json()
    assert [c["case_id"] for c in queue["items"]] == ["LGOPENAAAAAAAA"] and queue["total"] == 1
    done = client.get("/api/v1/cases", params={"state": ["closed", "merged"]}).json()
    assert sorted(c["case_id"] for c in done["items"]) == ["LGCLOSEDAAAAAA", "LGMERGEDAAAAAA"]


def test_a_command_is_pending_until_its_outcome_is_indexed(
    client: TestClient, api_settings: ApiSettings
) -> None:
    url = f"/api/v1/cases/{CASE}/commands/cmd-000000042"
    pending = client.get(url)
    assert pending.status_code == 200 and pending.json()["status"] == "pending"
    told = outcome(CASE, "cmd-000000042", "rejected", reason="案件已结案，不能派遣")
    asyncio.run(index_items(api_settings, [told]))
    body = client.get(url).json()
    assert (body["status"], body["reason"], body["command"]) == (
        "rejected",
        "案件已结案，不能派遣",
        "dispatch",
    )
    applied = outcome(CASE, "cmd-000000042", "applied", first_seq=3, last_seq=4)
    asyncio.run(index_items(api_settings, [applied, outcome(CASE, "cmd-000000042", "duplicate")]))
    body = client.get(url).json()
    assert (body["status"], body["first_seq"], body["last_seq"]) == ("applied", 3, 4)
