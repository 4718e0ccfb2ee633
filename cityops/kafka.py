"""Kafka helpers: the one way cityops encodes, produces, consumes and dead-letters.

Async services use aiokafka through :func:`make_producer` / :func:`make_consumer` and run a
:class:`ConsumerLoop`; topic administration and command-line tools use kafka-python
(:func:`ensure_topics`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from kafka import KafkaConsumer
from kafka import TopicPartition as SyncPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError as KafkaPythonError
from kafka.errors import TopicAlreadyExistsError
from prometheus_client import Counter
from pydantic import BaseModel, ValidationError

from cityops.contracts import topics
from cityops.contracts.events import DeadLetter
from cityops.errors import (
    DependencyUnavailable,
    InvalidMessage,
    RecoverableError,
    UnsupportedSchema,
)
from cityops.settings import CommonSettings

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)


def encode(model: BaseModel) -> bytes:
    return model.model_dump_json().encode()


def decode(model: type[M], raw: bytes | None) -> M:
    """Parse one record value into its topic model, or raise :class:`InvalidMessage`."""
    if raw is None:
        raise InvalidMessage("record has no value (tombstone)")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidMessage(f"value is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidMessage("value is not a JSON object")
    expected = model.model_fields["schema_version"].default
    if data.get("schema_version") != expected:
        raise UnsupportedSchema(
            f"{model.__name__} schema_version {data.get('schema_version')!r}, expected {expected}"
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidMessage(f"{model.__name__} invalid: {_brief(exc)}") from exc


def _brief(exc: ValidationError) -> str:
    parts = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5]]
    return "; ".join(parts)


def make_producer(settings: CommonSettings, **overrides: object) -> AIOKafkaProducer:
    """The one producer. No linger and 64 KB batches: aiokafka keeps one produce request in
    flight per broker, so records sent while one is in flight batch by themselves; a
    linger only delays each API request (5 ms each, before), and 16 KB batches overflowed
    into a second round trip with 64 clients posting at once (bench/producer_concurrency.py).
    """
    options: dict[str, object] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "acks": "all",
        "enable_idempotence": settings.kafka_idempotence,
        "linger_ms": 0,
        "max_batch_size": 64 * 1024,
        "client_id": "cityops",
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)


def make_consumer(
    settings: CommonSettings, group_id: str, topics: Sequence[str], **overrides: object
) -> AIOKafkaConsumer:
    options: dict[str, object] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": settings.kafka_session_timeout_ms,
        "heartbeat_interval_ms": settings.kafka_heartbeat_interval_ms,
        "isolation_level": "read_committed",
        "max_poll_records": 500,
        "group_instance_id": f"{group_id}@{settings.instance_id}",
    }
    options.update(overrides)
    return AIOKafkaConsumer(*topics, **options)


async def start_with_retry(
    client: AIOKafkaProducer | AIOKafkaConsumer,
    what: str,
    stop: asyncio.Event | None = None,
    max_backoff_s: float = 30.0,
) -> bool:
    """Start a client, waiting out a broker that is not up yet instead of exiting (a
    process that exits on a missing broker crash-loops under a restart policy).
    Returns False if ``stop`` was set before the broker answered."""
    backoff = 0.5
    while True:
        try:
            await client.start()
            return True
        except (KafkaError, OSError) as exc:
            log.warning(
                "broker unavailable, retrying",
                extra={"client": what, "error": str(exc), "retry_in_s": backoff},
            )
        if stop is None:
            await asyncio.sleep(backoff)
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=backoff)
            if stop.is_set():
                return False
        backoff = min(backoff * 2, max_backoff_s)


class BackgroundProducer:
    """A producer that connects in the background, for request handlers: while the broker
    is unreachable, sends fail at once with :class:`DependencyUnavailable` (an HTTP 503)
    instead of the process refusing to start."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer
        self.ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._connect())

    async def _connect(self) -> None:
        if await start_with_retry(self.producer, "producer", self._stop):
            self.ready.set()

    async def send_and_wait(self, topic: str, value: bytes, key: bytes) -> None:
        if not self.ready.is_set():
            raise DependencyUnavailable("消息队列尚未连接")
        try:
            await self.producer.send_and_wait(topic, value, key=key)
        except KafkaError as exc:
            raise DependencyUnavailable(f"消息队列暂不可用: {exc}") from exc

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
        if self.ready.is_set():
            await self.producer.stop()  # flushes what is still in flight


def wait_for_broker(settings: CommonSettings, max_backoff_s: float = 30.0) -> None:
    """Block until the brokers answer (for processes whose framework exits on a missing
    broker at start, such as the faust worker)."""
    backoff = 0.5
    while True:
        try:
            KafkaAdminClient(
                bootstrap_servers=settings.kafka_bootstrap, client_id="cityops-probe"
            ).close()
            return
        except KafkaPythonError as exc:
            log.warning(
                "broker unavailable, retrying", extra={"error": str(exc), "retry_in_s": backoff}
            )
        time.sleep(backoff)
        backoff = min(backoff * 2, max_backoff_s)


def _compacted(settings: CommonSettings, name: str) -> bool:
    return any(name == settings.topics.name(base) for base in topics.COMPACTED)


def ensure_topics(settings: CommonSettings, names: Iterable[str]) -> list[str]:
    """Create missing topics with the configured partitions; return the ones created."""
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="cityops-admin")
    try:
        existing = set(admin.list_topics())
        wanted = [n for n in names if n not in existing]
        new = [
            NewTopic(
                n,
                settings.topic_partitions,
                settings.topic_replication,
                topic_configs={"cleanup.policy": "compact"} if _compacted(settings, n) else {},
            )
            for n in wanted
        ]
        if new:
            # Another process may create them between our list and create: fine.
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(new)
        return wanted
    finally:
        admin.close()


def read_to_end(
    settings: CommonSettings, topic: str, model: type[M], progress: Callable[[str], None]
) -> Iterable[M]:
    """Every valid record of ``topic`` from the beginning to the end offsets taken at the
    start (kafka-python, for command-line tools). Invalid records are logged and skipped."""
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        enable_auto_commit=False,
        client_id="cityops-reader",
        consumer_timeout_ms=5000,
    )
    try:
        parts = [
            SyncPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])
        ]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        end = consumer.end_offsets(parts)
        remaining = {tp for tp in parts if end[tp] > consumer.position(tp)}
        read = bad = 0
        while remaining:
            for tp, records in consumer.poll(timeout_ms=1000, max_records=5000).items():
                for record in records:
                    if record.offset >= end[tp]:
                        continue
                    try:
                        yield decode(model, record.value)
                        read += 1
                    except InvalidMessage as exc:
                        bad += 1
                        log.warning(
                            "skipped invalid record",
                            extra={"offset": record.offset, "reason": str(exc)},
                        )
                if consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
            progress(f"read {read} records of {topic} ({bad} invalid skipped)")
    finally:
        consumer.close()


class Outbox:
    """Collects sends of one batch so the loop can await them all before committing."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer
        self._pending: list[asyncio.Future[object]] = []

    async def send(self, topic: str, key: str, value: BaseModel | bytes) -> None:
        payload = value if isinstance(value, bytes) else encode(value)
        future = await self._producer.send(topic, payload, key=key.encode())
        self._pending.append(future)

    async def flush(self) -> None:
        pending, self._pending = self._pending, []
        try:
            await asyncio.gather(*pending)
        except KafkaError as exc:
            raise RecoverableError(f"produce failed: {exc}") from exc


@dataclass
class Rejected:
    """A record the handler refused, and why."""

    record: ConsumerRecord
    error: InvalidMessage


BatchHandler = Callable[[Sequence[ConsumerRecord], Outbox], Awaitable[list[Rejected]]]
RecordHandler = Callable[[ConsumerRecord, Outbox], Awaitable[None]]


def decode_batch(
    model: type[M], records: Sequence[ConsumerRecord]
) -> tuple[list[M], list[Rejected]]:
    """Decode a batch for a batch handler: the valid values in order, and the invalid
    records rejected with the reason (the loop dead-letters them)."""
    decoded: list[M] = []
    rejected: list[Rejected] = []
    for record in records:
        try:
            decoded.append(decode(model, record.value))
        except InvalidMessage as exc:
            rejected.append(Rejected(record, exc))
    return decoded, rejected


def per_record(handler: RecordHandler) -> BatchHandler:
    """Adapt a one-record handler to a batch handler; an invalid record rejects only itself."""

    async def handle(records: Sequence[ConsumerRecord], outbox: Outbox) -> list[Rejected]:
        rejected = []
        for record in records:
            try:
                await handler(record, outbox)
            except InvalidMessage as exc:
                rejected.append(Rejected(record, exc))
        return rejected

    return handle


def dead_letter(
    consumer: str,
    where: tuple[str, int, int],
    key: bytes | None,
    value: bytes | None,
    error: InvalidMessage,
) -> DeadLetter:
    """The dead-letter record for ``value`` read at ``where`` = (topic, partition, offset)."""
    topic, partition, offset = where
    return DeadLetter(
        consumer=consumer,
        topic=topic,
        partition=partition,
        offset=offset,
        key_b64=base64.b64encode(key).decode() if key is not None else None,
        value_b64=base64.b64encode(value or b"").decode(),
        reason=str(error),
        error_type=type(error).__name__,
        failed_at=datetime.now(UTC),
    )


DEAD_LETTERS = Counter(
    "cityops_dead_letters_total",
    "Records sent to a dead-letter topic, by the consumer that refused them",
    ["consumer"],
)
RECORDS = Counter(
    "cityops_consumer_records_total", "Records handled by a consumer loop", ["loop", "outcome"]
)
BATCH_RETRIES = Counter(
    "cityops_consumer_batch_retries_total", "Batches rewound after a recoverable error", ["loop"]
)


class ConsumerLoop:
    """Poll a batch, hand it to the handler, dead-letter rejects, flush sends, commit.

    Nothing is committed before everything the batch produced (outputs and dead letters)
    is acknowledged, so a crash replays the batch rather than losing it. A
    :class:`RecoverableError` rewinds the batch and retries it with back-off. Setting
    ``stop`` ends the loop after the batch in flight is committed.
    """

    def __init__(
        self,
        *,
        name: str,
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
        handler: BatchHandler,
        dead_letter_topic: str,
        stop: asyncio.Event,
        max_backoff_s: float = 30.0,
        batch_size: int = 500,
    ) -> None:
        self.name = name
        self.consumer = consumer
        self.producer = producer
        self.handler = handler
        self.dead_letter_topic = dead_letter_topic
        self.stop = stop
        self.max_backoff_s = max_backoff_s
        self.batch_size = batch_size
        self.last_error: str | None = None
        DEAD_LETTERS.labels(name)  # the series exists at zero before the first letter

    async def run(self) -> None:
        backoff = 0.5
        while not self.stop.is_set():
            batches = await self.consumer.getmany(timeout_ms=500, max_records=self.batch_size)
            records = [r for part in batches.values() for r in part]
            if not records:
                continue
            try:
                await self._process(records)
            except RecoverableError as exc:
                BATCH_RETRIES.labels(self.name).inc()
                self.last_error = str(exc)
                log.warning(
                    "batch failed, will retry", extra={"error": str(exc), "loop": self.name}
                )
                self._rewind(batches)
                await self._sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
                continue
            backoff = 0.5
        log.info("consumer loop stopped", extra={"loop": self.name})

    async def _process(self, records: list[ConsumerRecord]) -> None:
        outbox = Outbox(self.producer)
        rejected = await self.handler(records, outbox)
        for item in rejected:
            r = item.record
            letter = dead_letter(
                self.name, (r.topic, r.partition, r.offset), r.key, r.value, item.error
            )
            log.warning(
                "record dead-lettered",
                extra={
                    "topic": item.record.topic,
                    "offset": item.record.offset,
                    "reason": letter.reason,
                },
            )
            key = item.record.key.decode(errors="replace") if item.record.key else ""
            await outbox.send(self.dead_letter_topic, key, letter)
        await outbox.flush()
        await self._commit(records)
        RECORDS.labels(self.name, "processed").inc(len(records) - len(rejected))
        RECORDS.labels(self.name, "dead_lettered").inc(len(rejected))
        DEAD_LETTERS.labels(self.name).inc(len(rejected))
        self.last_error = None

    async def _commit(self, records: list[ConsumerRecord]) -> None:
        offsets: dict[TopicPartition, int] = {}
        for r in records:
            tp = TopicPartition(r.topic, r.partition)
            offsets[tp] = max(offsets.get(tp, 0), r.offset + 1)
        try:
            await self.consumer.commit(offsets)
        except KafkaError as exc:
            # A rebalance took the partitions away: the new owner replays from the last
            # commit, and downstream writes are idempotent, so nothing is lost.
            log.warning("commit failed", extra={"error": str(exc), "loop": self.name})

    def _rewind(self, batches: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        for tp, part in batches.items():
            if part and tp in self.consumer.assignment():
                self.consumer.seek(tp, part[0].offset)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), timeout=seconds)
