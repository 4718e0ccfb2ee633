"""``cityops serve indexer``: keep the Elasticsearch case read model up to date."""

from __future__ import annotations

import asyncio
import logging
import time

from elasticsearch import ConnectionError as EsConnectionError

from cityops import logs, runtime
from cityops.search import CaseIndex, ensure_case_index, make_async_client, make_client
from services.indexer.settings import IndexerSettings
from services.indexer.writer import IndexCaseEvents

log = logging.getLogger(__name__)


async def serve(settings: IndexerSettings) -> None:
    index = CaseIndex(settings.index_prefix)
    await asyncio.to_thread(wait_for_index, settings, index)
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


def wait_for_index(settings: IndexerSettings, index: CaseIndex) -> None:
    """Make sure the index exists, waiting out an Elasticsearch that is not up yet."""
    backoff = 1.0
    while True:
        es = make_client(settings)
        try:
            ensure_case_index(es, index)
            return
        except EsConnectionError as exc:
            log.warning("elasticsearch unavailable, retrying", extra={"error": str(exc)})
        finally:
            es.close()
        time.sleep(backoff)
        backoff = min(backoff * 2, 30.0)


def main(settings: IndexerSettings | None = None) -> None:
    settings = settings or IndexerSettings()
    logs.setup("indexer", settings.log_level)
    asyncio.run(serve(settings))
