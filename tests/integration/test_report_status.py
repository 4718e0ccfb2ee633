"""A reporter asking after a merge is told the case their report now belongs to."""

from __future__ import annotations

import asyncio

import pytest
from fastapi.testclient import TestClient

from cityops import taxonomy
from cityops.contracts.events import MergeCase
from cityops.kafka import ensure_topics
from cityops.search import CaseIndex, ensure_case_index, make_async_client, make_client
from services.api.main import create_app
from services.api.settings import ApiSettings
from services.dispatch.case_ids import open_command
from services.dispatch.workflow import decide
from services.indexer.writer import IndexCaseEvents
from tests.conftest import Infra
from tests.dispatch.builders import cmd
from tests.dispatch.test_workflow import classified

pytestmark = pytest.mark.integration


def test_report_of_a_merged_case_points_to_the_surviving_case(infra: Infra, prefix: str) -> None:
    settings = ApiSettings(**infra.settings(prefix))  # type: ignore[arg-type]
    ensure_topics(settings, settings.topics.all())
    es = make_client(settings)
    ensure_case_index(es, CaseIndex(settings.index_prefix))
    tax = taxonomy.load()
    a = decide(None, open_command(classified(source_id="rep-a")), tax)
    b = decide(None, open_command(classified(source_id="rep-b")), tax)
    assert a.case and b.case
    merged = decide(a.case, cmd(a.case.case_id, MergeCase(target_case_id=b.case.case_id)), tax)
    attached = decide(b.case, merged.followups[0], tax)
    events = {a.case.case_id: a.events + merged.events, b.case.case_id: b.events + attached.events}

    async def write() -> None:
        client = make_async_client(settings)
        try:
            assert await IndexCaseEvents(client, CaseIndex(prefix).alias).write(events) == {}
        finally:
            await client.close()

    asyncio.run(write())
    es.indices.refresh(index=CaseIndex(prefix).alias)
    es.close()
    with TestClient(create_app(settings)) as client:
        answer = client.get("/api/v1/reports/rep-a").json()
    assert answer["case_id"] == b.case.case_id and answer["state"] == "dispatched"
