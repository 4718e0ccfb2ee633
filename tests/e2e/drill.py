"""A dispatch worker on its own, under a supervisor, fed directly over Kafka: for fault
drills that need only dispatch (no API, classifier or indexer)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import BaseModel

from cityctl.processes import ServiceProcess, service_env
from cityops import taxonomy
from cityops.contracts import (
    Actor,
    CaseClassified,
    CaseSource,
    Classification,
    GeoPoint,
    Role,
    SourceType,
)
from cityops.kafka import decode
from cityops.settings import CommonSettings
from cityops.standins import free_port
from tests.conftest import Infra

M = TypeVar("M", bound=BaseModel)
T0 = datetime.now(UTC) - timedelta(hours=1)
TOWN = "nanhui_xincheng"


def dispatch_env(infra: Infra, prefix: str, data_dir: Path, **extra: str) -> dict[str, str]:
    return service_env(
        {
            "CITYOPS_KAFKA_BOOTSTRAP": infra.kafka.bootstrap,
            "CITYOPS_KAFKA_IDEMPOTENCE": str(infra.kafka.idempotence).lower(),
            "CITYOPS_TOPIC_PREFIX": f"{prefix}.",
            "CITYOPS_INDEX_PREFIX": prefix,
            "CITYOPS_KAFKA_SESSION_TIMEOUT_MS": "6000",
            "CITYOPS_DISPATCH_WEB_PORT": str(free_port()),
            "CITYOPS_DISPATCH_DATA_DIR": str(data_dir),
            "CITYOPS_INSTANCE_ID": f"drill-{prefix}",
            **extra,
        }
    )


@dataclass
class Supervised:
    """Keeps one service process running: restarts it whenever it exits."""

    name: str
    env: dict[str, str]
    log_path: Path
    restarts: int = 0
    proc: ServiceProcess | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self.proc = ServiceProcess(self.name, self.env, self.log_path)
        self.proc.start()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(0.2):
            if self.proc is not None and not self.proc.running:
                self.restarts += 1
                self.proc = ServiceProcess(self.name, self.env, self.log_path)
                self.proc.start()

    def kill(self) -> None:
        """SIGKILL the current process (the watcher starts a new one)."""
        if self.proc is not None:
            self.proc.kill()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.proc is not None:
            self.proc.stop()

    def log(self) -> str:
        return self.log_path.read_text()[-4000:] if self.log_path.exists() else ""


def classified(
    source_id: str, lat: float, lon: float, text: str, category: str = "C0102"
) -> CaseClassified:
    leaf = taxonomy.load().leaf(category)
    at = T0
    source = CaseSource(
        source_type=SourceType.CITIZEN_APP,
        source_id=source_id,
        text=text,
        location=GeoPoint(lat=lat, lon=lon),
        reporter=Actor(id=f"p-{source_id}", role=Role.CITIZEN),
        occurred_at=at,
        received_at=at,
    )
    cl = Classification(
        category=leaf.code,
        category_name=leaf.name,
        department=leaf.department,
        dimension=leaf.dimension,
        priority=leaf.priority,
        town=TOWN,
        grid=None,
        confidence=0.95,
        top=(),
        abstained=False,
        model_version="drill",
    )
    return CaseClassified(source=source, classification=cl, classified_at=at)


def spread(n: int) -> Iterator[tuple[float, float]]:
    """``n`` points on a lattice inside one town, 60 m apart (beyond every same-spot rule
    for distinct texts), so that none of them is a duplicate of another."""
    side = int(n**0.5) + 1
    for i in range(n):
        yield 30.88 + (i // side) * 0.00055, 121.90 + (i % side) * 0.00063


async def read_all(settings: CommonSettings, topic: str, model: type[M]) -> list[M]:
    """Every committed record of ``topic`` (read_committed: aborted transactions unseen)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        isolation_level="read_committed",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        parts = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])
        ]
        if not parts:
            await consumer._client.force_metadata_update()
            parts = [
                TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])
            ]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        end = await consumer.end_offsets(parts)
        out: list[M] = []
        while [tp for tp in parts if await consumer.position(tp) < end[tp]]:
            batch = await consumer.getmany(timeout_ms=1000, max_records=5000)
            for records in batch.values():
                out += [decode(model, r.value) for r in records]
        return out
    finally:
        await consumer.stop()


async def wait_for(check, timeout: float, interval: float = 1.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if await check():
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)
