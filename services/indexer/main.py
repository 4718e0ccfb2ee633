"""``cityops serve indexer``: keep the Elasticsearch case read model up to date."""

from __future__ import annotations

import asyncio

from cityops import logs, runtime
from cityops.search import CaseIndex, ensure_case_index, make_async_client, make_client
from services.indexer.settings import IndexerSettings
from services.indexer.writer import IndexCaseEvents


async def serve(settings: IndexerSettings) -> None:
    index = CaseIndex(settings.index_prefix)
    sync_es = make_client(settings)
    try:
        ensure_case_index(sync_es, index)
    finally:
        sync_es.close()
    es = make_async_client(settings)

    async def search_up() -> bool:
        return bool(await es.ping())

    service = runtime.ConsumerService(
        name="indexer",
        settings=settings,
        topics=[settings.topics.cases_events],
        handler=IndexCaseEvents(es, index.alias),
        health_port=settings.indexer_health_port,
        extra_check=search_up,
    )
    try:
        await runtime.run(service)
    finally:
        await es.close()


def main(settings: IndexerSettings | None = None) -> None:
    settings = settings or IndexerSettings()
    logs.setup("indexer", settings.log_level)
    asyncio.run(serve(settings))
