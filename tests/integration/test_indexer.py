"""The indexer against real Elasticsearch: idempotent writes, replays change nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from elasticsearch import AsyncElasticsearch

from cityops import taxonomy
from cityops.contracts import CaseEvent
from cityops.search import CaseIndex, ensure_case_index, make_async_client, make_client
from cityops.settings import CommonSettings
from services.dispatch.case_ids import open_command
from services.dispatch.workflow import decide
from services.indexer.writer import IndexCaseEvents
from tests.dispatch.test_workflow import classified, dispatch

pytestmark = pytest.mark.integration


@pytest.fixture
async def es(settings: CommonSettings) -> AsyncIterator[AsyncElasticsearch]:
    sync = make_client(settings)
    ensure_case_index(sync, CaseIndex(settings.index_prefix))
    sync.close()
    client = make_async_client(settings)
    yield client
    await client.close()


def case_events(source_id: str) -> list[CaseEvent]:
    tax = taxonomy.load()
    opened = decide(None, open_command(classified(abstained=True, source_id=source_id)), tax)
    assert opened.case is not None
    return opened.events + decide(opened.case, dispatch(opened.case.case_id), tax).events


async def snapshot(es: AsyncElasticsearch, index: str) -> dict[str, dict]:
    await es.indices.refresh(index=index)
    found = await es.search(index=index, query={"match_all": {}}, size=100)
    return {h["_id"]: h["_source"] for h in found["hits"]["hits"]}


async def test_replaying_events_yields_the_same_index(
    es: AsyncElasticsearch, settings: CommonSettings
) -> None:
    alias = CaseIndex(settings.index_prefix).alias
    writer = IndexCaseEvents(es, alias)
    events = {f"r{i}": case_events(f"r{i}") for i in range(5)}
    by_case = {evs[0].case_id: evs for evs in events.values()}
    # live: events arrive one at a time
    for evs in by_case.values():
        for ev in evs:
            assert await writer.write({ev.case_id: [ev]}) == {}
    live = await snapshot(es, alias)
    assert len(live) == 5 and all(d["state"] == "dispatched" for d in live.values())
    # redelivery of everything, and of an older event alone, changes nothing
    assert await writer.write(by_case) == {}
    first = next(iter(by_case.values()))
    assert await writer.write({first[0].case_id: [first[0]]}) == {}
    assert await snapshot(es, alias) == live
    # a fresh index built from the whole log in big batches is identical
    fresh = CaseIndex(settings.index_prefix).concrete("replay")
    await es.indices.create(index=fresh)
    assert await IndexCaseEvents(es, fresh).write(by_case) == {}
    assert await snapshot(es, fresh) == live
