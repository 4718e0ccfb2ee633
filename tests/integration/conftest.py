from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

import pytest

from cityops.contracts import CaseEvent, CommandOutcome
from cityops.search import ReadModel, ensure_read_model, make_async_client, make_client
from cityops.settings import CommonSettings
from services.indexer.batch import Targets
from services.indexer.writer import IndexReadModel
from tests.conftest import Broker, Infra

pytestmark = pytest.mark.integration


@pytest.fixture(params=["primary", "secondary"])
def broker(request: pytest.FixtureRequest, infra: Infra) -> Broker:
    """Each contract test runs against two independent Kafka implementations."""
    if request.param == "primary":
        return infra.kafka
    second: Broker = request.getfixturevalue("second_broker")
    return second


@pytest.fixture
def broker_settings(broker: Broker, prefix: str) -> CommonSettings:
    return CommonSettings(
        kafka_bootstrap=broker.bootstrap,
        kafka_idempotence=broker.idempotence,
        topic_prefix=f"{prefix}.",
        kafka_session_timeout_ms=6000,
        kafka_heartbeat_interval_ms=1000,
    )


async def eventually(
    check: Callable[[], Awaitable[bool]], timeout: float = 60.0, interval: float = 0.5
) -> None:
    """Wait until ``check`` holds; a bounded wait, not a timing assertion."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if await check():
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


async def index_items(
    settings: CommonSettings, items: Sequence[CaseEvent | CommandOutcome]
) -> None:
    """Write case events and outcomes into the read model as the indexer does."""
    model = ReadModel(settings.index_prefix)
    sync = make_client(settings)
    try:
        ensure_read_model(sync, model)
    finally:
        sync.close()
    es = make_async_client(settings)
    try:
        writer = IndexReadModel(es, Targets.aliases(model), settings.topics)
        assert await writer.write(items) == {}
        await es.indices.refresh(index=",".join(Targets.aliases(model)))
    finally:
        await es.close()
