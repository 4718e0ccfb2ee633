"""The HTTP API against real Kafka and Elasticsearch: 202s land on Kafka, bad input gets a
clear 4xx with the reason."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cityops.contracts import ReportSubmitted
from cityops.kafka import decode, ensure_topics, make_consumer
from services.api.settings import ApiSettings
from tests.conftest import Infra
from tests.indexer.builders import opened
from tests.integration.conftest import index_items
from tests.people import api_client

pytestmark = pytest.mark.integration


@pytest.fixture
def api_settings(infra: Infra, prefix: str) -> ApiSettings:
    settings = ApiSettings(**infra.settings(prefix))  # type: ignore[arg-type]
    ensure_topics(settings, settings.topics.all())
    return settings


@pytest.fixture
def client(api_settings: ApiSettings) -> Iterator[TestClient]:
    with api_client(api_settings) as c:
        for _ in range(200):  # the producer connects in the background
            if c.get("/readyz").status_code == 200:
                break
            time.sleep(0.1)
        yield c


def report(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "idempotency_key": "k-0000000001",
        "text": "古棕路与申港大道路口路灯不亮",
        "location": {"lat": 30.91, "lon": 121.92},
        "address": "古棕路申港大道",
        "photos": ["https://photos.example.invalid/a.jpg"],
        "reporter": {"id": "citizen-007", "role": "citizen", "name": "王芳"},
    }
    body.update(over)
    return body


async def read_reports(settings: ApiSettings, n: int) -> list[ReportSubmitted]:
    consumer = make_consumer(settings, "test-reader", [settings.topics.reports_submitted])
    await consumer.start()
    found: list[ReportSubmitted] = []
    try:
        for _ in range(60):
            batch = await consumer.getmany(timeout_ms=500)
            found += [decode(ReportSubmitted, r.value) for rs in batch.values() for r in rs]
            if len(found) >= n:
                break
    finally:
        await consumer.stop()
    return found


def test_accepted_report_is_on_kafka_and_retries_keep_the_id(
    client: TestClient, api_settings: ApiSettings
) -> None:
    first = client.post("/api/v1/reports", json=report())
    again = client.post("/api/v1/reports", json=report())
    other = client.post("/api/v1/reports", json=report(idempotency_key="k-0000000002"))
    assert first.status_code == again.status_code == other.status_code == 202
    assert first.json()["report_id"] == again.json()["report_id"] != other.json()["report_id"]
    assert first.json()["status_url"] == f"/api/v1/reports/{first.json()['report_id']}"
    on_kafka = asyncio.run(read_reports(api_settings, 3))
    assert [r.report_id for r in on_kafka].count(first.json()["report_id"]) == 2
    assert on_kafka[0].reporter.name == "王芳" and on_kafka[0].photos


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (report(text=""), "text"),
        (report(text=" \n "), "text"),
        (report(location={"lat": 95, "lon": 121.9}), "location.lat"),
        (report(location={"lat": 39.9, "lon": 116.4}), "location"),
        (report(idempotency_key="short"), "idempotency_key"),
        (report(idempotency_key="has spaces in it"), "idempotency_key"),
        (report(photos=["not a url"]), "photos.0"),
        (report(reporter={"id": "m1", "role": "manager"}), "reporter.role"),
        (report(occurred_at="2020-01-01T00:00:00+08:00"), "occurred_at"),
        (report(unexpected="x"), "unexpected"),
        ({k: v for k, v in report().items() if k != "location"}, "location"),
    ],
)
def test_invalid_reports_get_422_with_the_field_and_reason(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    response = client.post("/api/v1/reports", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422 and problem["detail"]
    assert field in [e["field"] for e in problem["errors"]], problem


def test_body_that_is_not_json_gets_422(client: TestClient) -> None:
    response = client.post(
        "/api/v1/reports", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422 and response.json()["errors"]


def test_unknown_case_and_report_get_404_with_reason(client: TestClient) -> None:
    case = client.get("/api/v1/cases/LGNOSUCHCASE00")
    assert case.status_code == 404 and "LGNOSUCHCASE00" in case.json()["detail"]
    assert client.get("/api/v1/reports/nope").status_code == 404


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"page": 0}, 422),
        ({"size": 1000}, 422),
        ({"sort": "random"}, 422),
        ({"page": 500, "size": 100}, 422),
        ({"created_from": "yesterday"}, 422),
    ],
)
def test_bad_queue_queries_get_4xx(client: TestClient, params: dict[str, Any], status: int) -> None:
    response = client.get("/api/v1/cases", params=params)
    assert response.status_code == status and response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "allowed"),
    [
        ({"state": "bogus"}, "'pending'"),
        ({"state": ["pending", "bogus"]}, "'merged'"),
        ({"sla_state": "late"}, "'breached'"),
        ({"priority": "asap"}, "'urgent'"),
        ({"sort": "random"}, "'queue'"),
    ],
)
def test_unknown_filter_values_get_422_with_the_allowed_values(
    client: TestClient, params: dict[str, Any], allowed: str
) -> None:
    response = client.get("/api/v1/cases", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert allowed in response.json()["detail"]


def test_health_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/readyz").status_code == 200
    client.post("/api/v1/reports", json=report(idempotency_key="k-metrics-01"))
    assert (
        'cityops_reports_accepted_total{channel="http",source_type="citizen_app"}'
        in client.get("/metrics").text
    )


def command(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "command_id": "cmd-0000000001",
        "reason": "确认派遣",
        "body": {"kind": "dispatch", "department": "water"},
    }
    body.update(over)
    return body


def test_case_commands_are_published_keyed_by_case(
    client: TestClient, api_settings: ApiSettings
) -> None:
    asyncio.run(index_items(api_settings, [opened("LGABCDEFGHIJKL", "r-cmd")]))
    response = client.post("/api/v1/cases/LGABCDEFGHIJKL/commands", json=command())
    assert response.status_code == 202
    assert response.json() == {
        "command_id": "cmd-0000000001",
        "case_id": "LGABCDEFGHIJKL",
        "status": "accepted",
        "status_url": "/api/v1/cases/LGABCDEFGHIJKL/commands/cmd-0000000001",
    }

    async def read() -> list[tuple[bytes, bytes]]:
        consumer = make_consumer(api_settings, "cmd-reader", [api_settings.topics.cases_commands])
        await consumer.start()
        try:
            batch = await consumer.getmany(timeout_ms=5000)
            return [(r.key, r.value) for rs in batch.values() for r in rs]
        finally:
            await consumer.stop()

    ((key, value),) = asyncio.run(read())
    assert key == b"LGABCDEFGHIJKL" and b'"kind":"dispatch"' in value


@pytest.mark.parametrize(
    ("path", "body", "reason"),
    [
        (
            "LGABCDEFGHIJKL",
            command(
                body={
                    "kind": "sla_alert",
                    "stage": "dispose",
                    "level": "breach",
                    "deadline": "2026-11-28T10:00:00+08:00",
                }
            ),
            "系统",
        ),
        # the actor comes from the token: a body that names one is refused
        ("LGABCDEFGHIJKL", command(actor={"id": "x", "role": "system"}), "令牌"),
        ("LGABCDEFGHIJKL", command(body={"kind": "teleport"}), "body"),
        ("LGABCDEFGHIJKL", command(body={"kind": "request_extension", "hours": -1}), "hours"),
        ("LGABCDEFGHIJKL", command(command_id="x"), "command_id"),
        ("LGABCDEFGHIJKL", command(command_id="open:r-000001"), "冒号"),
        ("LGABCDEFGHIJKL", command(command_id="sla:LGA:dispose"), "冒号"),
        ("LGABCDEFGHIJKL", command(evidence={"photos": ["p"] * 10}), "evidence.photos"),
        ("LGABCDEFGHIJKL", command(evidence={"photos": ["p" * 3000]}), "照片地址"),
        ("not-a-case-id", command(), "case_id"),
    ],
)
def test_invalid_commands_get_422_with_a_reason(
    client: TestClient, path: str, body: dict[str, Any], reason: str
) -> None:
    response = client.post(f"/api/v1/cases/{path}/commands", json=body)
    assert response.status_code == 422, response.text
    assert reason in response.text


def test_api_starts_without_a_broker_and_answers_503(infra: Infra, prefix: str) -> None:
    from cityops.standins import free_port

    settings = ApiSettings(
        **{
            **infra.settings(prefix),  # type: ignore[arg-type]
            "kafka_bootstrap": f"127.0.0.1:{free_port()}",
            "admin_token": "operator-secret",
        }
    )
    with api_client(settings, who=None) as client:
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["kafka"] is False
        # the accounts are on the broker too: sign-in waits for them, and says so
        login = client.post("/api/v1/auth/token", data={"username": "a", "password": "b"})
        assert login.status_code == 503 and login.headers["retry-after"]
        client.headers["X-Admin-Token"] = "operator-secret"  # the operator's credential
        response = client.post("/api/v1/reports", json=report())
        assert response.status_code == 503 and response.headers["retry-after"]
        assert "相同的幂等键" in response.json()["detail"]
        assert client.get("/api/v1/cases").status_code == 200  # reading still works


def test_a_command_for_an_unknown_case_gets_404_and_is_not_published(
    client: TestClient, api_settings: ApiSettings
) -> None:
    response = client.post("/api/v1/cases/LGNOSUCHCASE22/commands", json=command())
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "LGNOSUCHCASE22 不存在" in response.json()["detail"]

    async def read() -> int:
        consumer = make_consumer(api_settings, "cmd-none", [api_settings.topics.cases_commands])
        await consumer.start()
        try:
            batch = await consumer.getmany(timeout_ms=1500)
            return sum(len(rs) for rs in batch.values())
        finally:
            await consumer.stop()

    assert asyncio.run(read()) == 0
