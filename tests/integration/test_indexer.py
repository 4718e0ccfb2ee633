"""The indexer against real Kafka and Elasticsearch: idempotent writes, replays change
nothing, both topics read by one consumer, and a replay rebuilds every index."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from elasticsearch import AsyncElasticsearch

from cityops import runtime, taxonomy
from cityops.contracts import CaseEvent
from cityops.kafka import encode, ensure_topics, make_producer
from cityops.search import ReadModel, ensure_read_model, make_async_client, make_client
from cityops.settings import CommonSettings
from cityops.standins import free_port
from services.dispatch.case_ids import open_command
from services.dispatch.workflow import decide
from services.indexer.batch import Targets
from services.indexer.replay import replay
from services.indexer.writer import IndexReadModel
from tests.dispatch.test_workflow import classified, dispatch
from tests.indexer.builders import outcome
from tests.integration.conftest import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def es(settings: CommonSettings) -> AsyncIterator[AsyncElasticsearch]:
    sync = make_client(settings)
    ensure_read_model(sync, ReadModel(settings.index_prefix))
    sync.close()
    client = make_async_client(settings)
    yield client
    await client.close()


def case_events(source_id: str) -> list[CaseEvent]:
    tax = taxonomy.load()
    opened = decide(None, open_command(classified(abstained=True, source_id=source_id)), tax)
    assert opened.case is not None
    return opened.events + decide(opened.case, dispatch(opened.case.case_id), tax).events


async def snapshot(es: AsyncElasticsearch, to: Targets) -> dict[str, dict[str, Any]]:
    await es.indices.refresh(index=",".join(to))
    out = {}
    for kind, index in zip(to._fields, to, strict=True):
        found = await es.search(index=index, query={"match_all": {}}, size=200)
        # indexed_at is when a document was written (the live feed's cursor): it differs by
        # design between two writes of the same events; everything else must not
        out[kind] = {
            h["_id"]: {k: v for k, v in h["_source"].items() if k != "indexed_at"}
            for h in found["hits"]["hits"]
        }
    return out


async def test_replaying_events_yields_the_same_read_model(
    es: AsyncElasticsearch, settings: CommonSettings
) -> None:
    model = ReadModel(settings.index_prefix)
    to = Targets.aliases(model)
    writer = IndexReadModel(es, to, settings.topics)
    events = [e for i in range(5) for e in case_events(f"r{i}")]
    outcomes = [outcome(events[0].case_id, "c-1", "applied", first_seq=2, last_seq=3)]
    # live: events arrive one at a time
    for item in [*events, *outcomes]:
        assert await writer.write([item]) == {}
    live = await snapshot(es, to)
    assert len(live["cases"]) == 5 and all(
        d["state"] == "dispatched" for d in live["cases"].values()
    )
    assert len(live["events"]) == len(events) and len(live["sources"]) == 5
    assert live["commands"][f"{events[0].case_id}:c-1"]["status"] == "applied"
    # redelivery of everything, of an older event alone, and a later duplicate outcome
    assert await writer.write([*events, *outcomes]) == {}
    assert await writer.write([events[0], outcome(events[0].case_id, "c-1", "duplicate")]) == {}
    assert await snapshot(es, to) == live
    # fresh indexes built from the whole log in one batch are identical
    fresh = Targets(*(index.concrete("replay") for index in model.all()))
    for name in fresh:
        await es.indices.create(index=name)
    assert await IndexReadModel(es, fresh, settings.topics).write([*events, *outcomes]) == {}
    assert await snapshot(es, fresh) == live


async def test_a_document_elasticsearch_refuses_dead_letters_its_records(
    es: AsyncElasticsearch, settings: CommonSettings
) -> None:
    """A deadline that is not a date fails the case document: its event is reported, the
    other case's event is written."""
    [bad, *_], [good, *_] = case_events("bad"), case_events("good")
    odd = bad.model_copy(update={"data": {**bad.data, "deadline": "not a date"}})
    writer = IndexReadModel(es, Targets.aliases(ReadModel(settings.index_prefix)), settings.topics)
    failures = await writer.write([good, odd])
    assert list(failures) == [1] and f"cases/{bad.case_id}" in failures[1]


async def test_the_service_reads_events_and_outcomes(settings: CommonSettings) -> None:
    ensure_topics(settings, settings.topics.all())
    model = ReadModel(settings.index_prefix)
    sync = make_client(settings)
    ensure_read_model(sync, model)
    events = case_events("svc")
    case_id = events[0].case_id
    producer = make_producer(settings)
    await producer.start()
    try:
        for e in events:
            await producer.send_and_wait(
                settings.topics.cases_events, encode(e), key=case_id.encode()
            )
        done = outcome(case_id, "c-9", "rejected", reason="状态不允许")
        await producer.send_and_wait(
            settings.topics.cases_outcomes, encode(done), key=case_id.encode()
        )
    finally:
        await producer.stop()
    es = make_async_client(settings)
    stop = asyncio.Event()
    service = runtime.ConsumerService(
        name="indexer",
        settings=settings,
        topics=[settings.topics.cases_events, settings.topics.cases_outcomes],
        handler=IndexReadModel(es, Targets.aliases(model), settings.topics),
        health_port=free_port(),
    )
    task = asyncio.create_task(runtime.run(service, stop))

    async def indexed() -> bool:
        case = await es.options(ignore_status=404).get(index=model.cases.alias, id=case_id)
        told = await es.options(ignore_status=404).get(
            index=model.commands.alias, id=f"{case_id}:c-9"
        )
        return bool(case.get("found") and told.get("found"))

    try:
        await eventually(indexed, timeout=60)
        case = (await es.get(index=model.cases.alias, id=case_id))["_source"]
        told = (await es.get(index=model.commands.alias, id=f"{case_id}:c-9"))["_source"]
        timeline = await es.mget(index=model.events.alias, ids=[e.event_id for e in events])
    finally:
        stop.set()
        await task
        await es.close()
        sync.close()
    assert (case["seq"], case["state"]) == (events[-1].seq, events[-1].state)
    assert (told["status"], told["reason"]) == ("rejected", "状态不允许")
    assert [d["_source"]["kind"] for d in timeline["docs"]] == [e.kind.value for e in events]


def test_replay_rebuilds_every_index(settings: CommonSettings) -> None:
    ensure_topics(settings, settings.topics.all())
    events = case_events("rep")
    case_id = events[0].case_id

    async def produce() -> None:
        producer = make_producer(settings)
        await producer.start()
        try:
            for e in events:
                await producer.send_and_wait(
                    settings.topics.cases_events, encode(e), key=case_id.encode()
                )
            told = outcome(case_id, "c-1", "applied", first_seq=2, last_seq=3)
            await producer.send_and_wait(
                settings.topics.cases_outcomes, encode(told), key=case_id.encode()
            )
        finally:
            await producer.stop()

    asyncio.run(produce())
    es = make_client(settings)
    try:
        name, count = replay(settings, es, lambda m: None)
        assert count == 1 and name.startswith(f"{settings.index_prefix}-cases-r")
        model = ReadModel(settings.index_prefix)
        assert es.get(index=model.cases.alias, id=case_id)["_source"]["seq"] == 3
        assert (
            es.get(index=model.events.alias, id=f"{case_id}:3")["_source"]["kind"] == "dispatched"
        )
        assert es.get(index=model.sources.alias, id="rep")["_source"]["case_id"] == case_id
        assert (
            es.get(index=model.commands.alias, id=f"{case_id}:c-1")["_source"]["status"]
            == "applied"
        )
        for index in model.all():
            assert list(es.indices.get_alias(name=index.alias)) == [index.concrete(name[-15:])]
    finally:
        es.close()
