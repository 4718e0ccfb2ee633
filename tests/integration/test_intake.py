"""Intake against real Kafka and Elasticsearch: idempotency keys across API instances, a
crash between recording and producing, and the request-size limit."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from cityops.kafka import ensure_topics
from cityops.search import intake_index, make_async_client
from services.api.settings import ApiSettings
from services.ingest.ledger import IntakeLedger
from services.ingest.models import ReportCreate
from services.ingest.normalise import report_id_for
from tests.conftest import Infra
from tests.integration.test_api import read_reports, report
from tests.people import api_client

pytestmark = pytest.mark.integration


@pytest.fixture
def api_settings(infra: Infra, prefix: str) -> ApiSettings:
    settings = ApiSettings(**infra.settings(prefix, api_max_body_bytes=64 * 1024))  # type: ignore[arg-type]
    ensure_topics(settings, settings.topics.all())
    return settings


def ready(client: TestClient) -> TestClient:
    for _ in range(200):  # the producer connects in the background
        if client.get("/readyz").status_code == 200:
            break
        time.sleep(0.1)
    return client


@pytest.fixture
def client(api_settings: ApiSettings) -> Iterator[TestClient]:
    with api_client(api_settings) as c:
        yield ready(c)


def test_a_reused_key_with_another_body_is_a_conflict_on_any_instance(
    client: TestClient, api_settings: ApiSettings
) -> None:
    first = client.post("/api/v1/reports", json=report(idempotency_key="k-conflict-1"))
    assert first.status_code == 202
    with api_client(api_settings) as other:  # a second API instance
        ready(other)
        same = other.post("/api/v1/reports", json=report(idempotency_key="k-conflict-1"))
        changed = other.post(
            "/api/v1/reports",
            json=report(idempotency_key="k-conflict-1", text="另一件事：井盖缺失"),
        )
    assert same.status_code == 202 and same.json()["report_id"] == first.json()["report_id"]
    assert changed.status_code == 409
    assert changed.headers["content-type"].startswith("application/problem+json")
    assert "k-conflict-1" in changed.json()["detail"] and "新的幂等键" in changed.json()["detail"]
    # another reporter may use the same key for their own report
    mine = report(idempotency_key="k-conflict-1", reporter={"id": "c-9", "role": "citizen"})
    assert client.post("/api/v1/reports", json=mine).status_code == 202
    on_kafka = asyncio.run(read_reports(api_settings, 3))
    copies = [r for r in on_kafka if r.report_id == first.json()["report_id"]]
    assert len(copies) == 2 and copies[0] == copies[1]  # the retry repeats the first record


def test_a_retry_after_a_crash_between_recording_and_producing_still_produces(
    client: TestClient, api_settings: ApiSettings
) -> None:
    body = report(idempotency_key="k-crashed-01")
    report_id = report_id_for("citizen-007", "k-crashed-01")

    async def record_only() -> None:  # what the crashed instance did before dying
        es = make_async_client(api_settings)
        try:
            ledger = IntakeLedger(es, intake_index(api_settings.index_prefix))
            claim = await ledger.claim(report_id, ReportCreate(**body), datetime.now(UTC))
            assert claim.first
        finally:
            await es.close()

    asyncio.run(record_only())
    retry = client.post("/api/v1/reports", json=body)
    assert retry.status_code == 202 and retry.json()["report_id"] == report_id
    [produced] = asyncio.run(read_reports(api_settings, 1))
    assert produced.report_id == report_id


def test_a_body_over_the_limit_gets_413(client: TestClient) -> None:
    big = report(text="路灯不亮" * 10, address="x" * 100_000)
    declared = client.post("/api/v1/reports", json=big)
    assert declared.status_code == 413
    assert declared.headers["content-type"].startswith("application/problem+json")
    assert "请求体过大" in declared.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        yield b'{"idempotency_key": "k-streamed-1", "text": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"}'

    streamed = client.post(
        "/api/v1/reports", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413 and "请求体过大" in streamed.json()["detail"]
    assert (
        client.post("/api/v1/reports", json=report(idempotency_key="k-small-01")).status_code == 202
    )
