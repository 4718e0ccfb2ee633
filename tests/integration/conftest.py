from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from cityops.settings import CommonSettings
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
