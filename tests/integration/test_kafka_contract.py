"""The Kafka layer's contract, against two independent broker implementations.

produce; consume in a group; commit; stop a consumer and resume with nothing lost or
duplicated; invalid records dead-lettered with the original bytes and the reason.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Sequence

import pytest
from aiokafka import ConsumerRecord

from cityops.contracts import DeadLetter
from cityops.errors import InvalidMessage, RecoverableError
from cityops.kafka import (
    BatchHandler,
    ConsumerLoop,
    Outbox,
    Rejected,
    decode,
    ensure_topics,
    make_consumer,
    make_producer,
    per_record,
)
from cityops.settings import CommonSettings

pytestmark = pytest.mark.integration

TOPIC, OUT = "contract.in", "contract.out"


async def produce(
    settings: CommonSettings, topic: str, values: Sequence[tuple[str, bytes]]
) -> None:
    producer = make_producer(settings)
    await producer.start()
    try:
        outbox = Outbox(producer)
        for key, value in values:
            await outbox.send(topic, key, value)
        await outbox.flush()
    finally:
        await producer.stop()


class Collect:
    """A batch handler that records what it saw and stops the loop after ``limit``."""

    def __init__(self, stop: asyncio.Event, limit: int, fail_first: int = 0) -> None:
        self.seen: list[tuple[str, bytes]] = []
        self.stop, self.limit, self.fail_first = stop, limit, fail_first

    async def __call__(self, records: Sequence[ConsumerRecord], outbox: Outbox) -> list[Rejected]:
        if self.fail_first:
            self.fail_first -= 1
            raise RecoverableError("downstream not ready")
        rejected = []
        for r in records:
            if r.value.startswith(b"bad"):
                rejected.append(Rejected(r, InvalidMessage(f"bad record {r.value!r}")))
                continue
            self.seen.append((r.key.decode(), r.value))
        if len(self.seen) >= self.limit:
            self.stop.set()
        return rejected


async def run_loop(
    settings: CommonSettings,
    handler: BatchHandler,
    group: str,
    stop: asyncio.Event,
    topic: str = TOPIC,
    dead_letters: str = "contract.dlq",
) -> None:
    consumer = make_consumer(settings, group, [settings.topics.name(topic)])
    producer = make_producer(settings)
    await consumer.start()
    await producer.start()
    try:
        loop = ConsumerLoop(
            name="contract",
            consumer=consumer,
            producer=producer,
            handler=handler,
            dead_letter_topic=settings.topics.name(dead_letters),
            stop=stop,
            max_backoff_s=1.0,
            batch_size=50,
        )
        await asyncio.wait_for(loop.run(), timeout=120)
    finally:
        await consumer.stop()
        await producer.stop()


def records(n: int, keys: int = 7) -> list[tuple[str, bytes]]:
    return [(f"k{i % keys}", f"v{i:05d}".encode()) for i in range(n)]


async def setup(settings: CommonSettings) -> None:
    names = [settings.topics.name(t) for t in (TOPIC, OUT, "contract.dlq")]
    await asyncio.to_thread(ensure_topics, settings, names)


async def test_produce_and_consume_in_a_group_keeps_per_key_order(
    broker_settings: CommonSettings,
) -> None:
    await setup(broker_settings)
    sent = records(300)
    await produce(broker_settings, broker_settings.topics.name(TOPIC), sent)
    handler = Collect(asyncio.Event(), limit=len(sent))
    await run_loop(broker_settings, handler, "g-order", handler.stop)
    assert sorted(handler.seen) == sorted(sent)
    for key in {k for k, _ in sent}:
        assert [v for k, v in handler.seen if k == key] == [v for k, v in sent if k == key]


async def test_stop_and_resume_loses_and_duplicates_nothing(
    broker_settings: CommonSettings,
) -> None:
    await setup(broker_settings)
    sent = records(400)
    await produce(broker_settings, broker_settings.topics.name(TOPIC), sent)
    first = Collect(asyncio.Event(), limit=120)
    await run_loop(broker_settings, first, "g-resume", first.stop)
    assert 120 <= len(first.seen) < len(sent)
    second = Collect(asyncio.Event(), limit=len(sent) - len(first.seen))
    await run_loop(broker_settings, second, "g-resume", second.stop)
    together = first.seen + second.seen
    assert len(together) == len(set(together)) == len(sent)
    assert set(together) == set(sent)


async def test_recoverable_errors_retry_the_batch_without_loss(
    broker_settings: CommonSettings,
) -> None:
    await setup(broker_settings)
    sent = records(50)
    await produce(broker_settings, broker_settings.topics.name(TOPIC), sent)
    handler = Collect(asyncio.Event(), limit=len(sent), fail_first=2)
    await run_loop(broker_settings, handler, "g-retry", handler.stop)
    assert sorted(handler.seen) == sorted(sent)


async def test_invalid_records_go_to_the_dead_letter_topic_with_reason(
    broker_settings: CommonSettings,
) -> None:
    await setup(broker_settings)
    sent = [("k1", b"v1"), ("k2", b"bad-1"), ("k3", b"v2"), ("k4", b"bad-2\xff")]
    await produce(broker_settings, broker_settings.topics.name(TOPIC), sent)
    handler = Collect(asyncio.Event(), limit=2)
    await run_loop(broker_settings, handler, "g-dlq", handler.stop)
    assert sorted(handler.seen) == [("k1", b"v1"), ("k3", b"v2")]
    letters = await read_all(broker_settings, "contract.dlq", 2)
    originals = sorted(
        (base64.b64decode(d.key_b64 or ""), base64.b64decode(d.value_b64)) for d in letters
    )
    assert originals == [(b"k2", b"bad-1"), (b"k4", b"bad-2\xff")]
    assert all("bad record" in d.reason and d.consumer == "contract" for d in letters)


async def read_all(settings: CommonSettings, topic: str, n: int) -> list[DeadLetter]:
    found: list[DeadLetter] = []
    stop = asyncio.Event()

    async def take(record: ConsumerRecord, outbox: Outbox) -> None:
        found.append(decode(DeadLetter, record.value))
        if len(found) >= n:
            stop.set()

    await run_loop(settings, per_record(take), "g-reader", stop, topic, "contract.reader.dlq")
    return found
