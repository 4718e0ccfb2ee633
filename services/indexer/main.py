"""``cityops serve indexer``: keep the Elasticsearch read model up to date (cases, their
timelines, source owners and command outcomes) from ``cases.events`` and ``cases.outcomes``."""

from __future__ import annotations

import asyncio
import logging
import time

from elasticsearch import ConnectionError as EsConnectionError

from cityops import logs, runtime
from cityops.search import ReadModel, ensure_read_model, make_async_client, make_client
from services.indexer.batch import Targets
from services.indexer.settings import IndexerSettings
from services.indexer.writer import IndexReadModel

log = logging.getLogger(__name__)


async def serve(settings: IndexerSettings) -> None:
    model = ReadModel(settings.index_prefix)
    await asyncio.to_thread(wait_for_index, settings, model)
    es = make_async_client(settings)

    async def search_up() -> bool:
        return bool(await es.ping())

    service = runtime.ConsumerService(
        name="indexer",
        settings=settings,
        topics=[settings.topics.cases_events, settings.topics.cases_outcomes],
        handler=IndexReadModel(es, Targets.aliases(model), settings.topics),
        health_port=settings.indexer_health_port,
        extra_check=search_up,
    )
    try:
        await runtime.run(service)
    finally:
        await es.close()


def wait_for_index(settings: IndexerSettings, model: ReadModel) -> None:
    """Make sure the indexes exist, waiting out an Elasticsearch that is not up yet."""
    backoff = 1.0
    while True:
        es = make_client(settings)
        try:
            ensure_read_model(es, model)
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
