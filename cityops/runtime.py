"""Running a consumer service as a process: start, serve health, stop cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from cityops.fetching import install_quiet_fetch
from cityops.kafka import (
    BatchHandler,
    ConsumerLoop,
    make_consumer,
    make_producer,
    start_with_retry,
)
from cityops.ops import HealthServer
from cityops.settings import CommonSettings

log = logging.getLogger(__name__)


@dataclass
class ConsumerService:
    """One consumer group reading ``topics`` through ``handler``.

    ``extra_check`` adds the service's own dependencies (e.g. Elasticsearch) to health.
    """

    name: str
    settings: CommonSettings
    topics: Sequence[str]
    handler: BatchHandler
    health_port: int
    extra_check: Callable[[], Awaitable[bool]] | None = None


def install_stop_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)


async def run(service: ConsumerService, stop: asyncio.Event | None = None) -> None:
    """Run until ``stop`` is set (by SIGTERM/SIGINT if not given): then finish the batch in
    flight, commit its offsets, and close the clients."""
    stop = stop or asyncio.Event()
    install_stop_signals(stop)
    install_quiet_fetch()  # CITYOPS_KAFKA_QUIET_FETCH; a no-op on a broker that long-polls
    settings = service.settings
    producer = make_producer(settings)
    consumer = make_consumer(settings, f"cityops-{service.name}", service.topics)
    loop = ConsumerLoop(
        name=service.name,
        consumer=consumer,
        producer=producer,
        handler=service.handler,
        dead_letter_topic=settings.topics.dead_letter(service.name),
        stop=stop,
    )

    started = asyncio.Event()

    async def check() -> dict[str, object]:
        ok = started.is_set() and not stop.is_set()
        if service.extra_check is not None:
            ok = ok and await service.extra_check()
        return {
            "status": "ok" if ok else "degraded",
            "service": service.name,
            "assigned": sorted(f"{tp.topic}:{tp.partition}" for tp in consumer.assignment()),
            "last_error": loop.last_error,
        }

    health = HealthServer(settings.health_host, service.health_port, check)
    await health.start()
    try:
        ok_to_run = await start_with_retry(producer, "producer", stop) and await start_with_retry(
            consumer, "consumer", stop
        )
        if ok_to_run:
            started.set()
            log.info(
                "service started",
                extra={"topics": list(service.topics), "port": service.health_port},
            )
            await loop.run()
    finally:
        await consumer.stop()  # leaves the group; offsets were committed batch by batch
        await producer.stop()  # flushes anything still buffered
        await health.stop()
        log.info("service stopped")
