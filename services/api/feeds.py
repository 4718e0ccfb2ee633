"""Keeps an in-memory view up to date from whole topics (registries, accounts).

A group-less aiokafka consumer: it assigns every partition of its topics, seeks to the
beginning and keeps reading. ``caught_up`` is set once it has read up to the end offsets it
found at start; until then the routes that need the view answer 503 (a record not yet read
back would look unknown). A topic that does not exist yet is waited for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from cityops.errors import InvalidMessage
from cityops.kafka import start_with_retry
from cityops.settings import CommonSettings

log = logging.getLogger(__name__)

Apply = Callable[[ConsumerRecord[bytes, bytes]], None]


class TopicFeed:
    def __init__(
        self,
        settings: CommonSettings,
        topics: tuple[str, ...],
        apply: Apply,
        name: str,
        size: Callable[[], int] = lambda: 0,
    ) -> None:
        self.caught_up = asyncio.Event()
        self.name, self._topics, self._apply, self._size = name, topics, apply, size
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap,
            group_id=None,  # every API instance reads every partition, nothing to commit
            enable_auto_commit=False,
            client_id=f"cityops-{name.replace(' ', '-')}",
        )
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())
        self._task.add_done_callback(self._report)

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        if not await start_with_retry(self._consumer, self.name, self._stop):
            return
        try:
            parts = await self._assign()
            if parts:
                await self._follow(parts)
        finally:
            await self._consumer.stop()

    async def _assign(self) -> list[TopicPartition]:
        while not self._stop.is_set():
            await self._consumer.topics()  # refreshes the metadata: topics made after start
            found = {t: self._consumer.partitions_for_topic(t) for t in self._topics}
            if all(found.values()):
                parts = [TopicPartition(t, p) for t, ps in found.items() for p in sorted(ps or ())]
                self._consumer.assign(parts)
                await self._consumer.seek_to_beginning(*parts)
                return parts
            log.info(f"waiting for the {self.name} topics", extra={"topics": sorted(found)})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=2)
        return []

    async def _follow(self, parts: list[TopicPartition]) -> None:
        end = await self._consumer.end_offsets(parts)
        log.info(f"reading the {self.name}", extra={"records": sum(end.values())})
        while not self._stop.is_set():
            batch = await self._consumer.getmany(timeout_ms=500, max_records=5000)
            for records in batch.values():
                for record in records:
                    self._safely(record)
            if not self.caught_up.is_set() and await self._reached(end):
                self.caught_up.set()
                log.info(f"{self.name} read", extra={"records": self._size()})

    async def _reached(self, end: dict[TopicPartition, int]) -> bool:
        for tp, offset in end.items():
            if await self._consumer.position(tp) < offset:
                return False
        return True

    def _safely(self, record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            self._apply(record)
        except InvalidMessage as exc:
            log.warning(
                f"{self.name} record skipped",
                extra={"topic": record.topic, "offset": record.offset, "error": str(exc)},
            )

    def _report(self, task: asyncio.Task[None]) -> None:
        """The feed is a process boundary: a failure is logged with its traceback."""
        if not task.cancelled() and task.exception() is not None:
            log.error(f"{self.name} feed stopped", exc_info=task.exception())
