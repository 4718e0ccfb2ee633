"""The Kafka layer's contract, against two independent broker implementations.

produce; consume in a group; commit; stop a consumer and resume with nothing lost or
duplicated; invalid records dead-lettered with the original bytes and the reason; an idle
consumer does not spin, and still gets a record produced while it idles.

The suite runs with quiet fetch on (cityops/fetching.py), as the services do.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord

from cityops.contracts import DeadLetter
from cityops.errors import InvalidMessage, RecoverableError
from cityops.fetching import QuietFetchSettings, install_quiet_fetch, uninstall_quiet_fetch
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
from tests.integration.conftest import eventually

pytestmark = pytest.mark.integration

TOPIC, OUT = "contract.in", "contract.out"
PAUSE_MS = 100


@pytest.fixture(autouse=True)
def quiet_fetch() -> Iterator[None]:
    install_quiet_fetch(QuietFetchSettings(kafka_quiet_fetch_max_pause_ms=PAUSE_MS))
    yield
    uninstall_quiet_fetch()


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


def count_fetches(consumer: AIOKafkaConsumer) -> list[int]:
    """Count the Fetch requests ``consumer`` sends from now on (in a one-item list). It
    wraps the client's ``send`` on this instance only: aiokafka has no public counter."""
    count = [0]
    client = consumer._client
    send = client.send

    async def counting(node_id: int, request: Any, **kw: Any) -> Any:
        if type(request).__name__.startswith("FetchRequest"):
            count[0] += 1
        return await send(node_id, request, **kw)

    client.send = counting
    return count


async def idle_consumer(settings: CommonSettings, group: str) -> AIOKafkaConsumer:
    """A consumer of the (empty) input topic that has its partitions and fetches."""
    await setup(settings)
    consumer = make_consumer(settings, group, [settings.topics.name(TOPIC)])
    await consumer.start()

    async def assigned() -> bool:
        await consumer.getmany(timeout_ms=100)
        return bool(consumer.assignment())

    await eventually(assigned)
    return consumer


async def test_an_idle_consumer_sends_at_most_one_fetch_per_pause(
    broker_settings: CommonSettings,
) -> None:
    """Counted over a fixed wall time: at most one fetch per pause floor (100 ms) on a
    broker that answers an empty fetch at once (noida-db spun about 1,200 a second
    without it); on a broker that long-polls, one per fetch_max_wait_ms anyway."""
    consumer = await idle_consumer(broker_settings, "g-idle")
    try:
        fetches = count_fetches(consumer)
        window_s = 3.0
        end = asyncio.get_running_loop().time() + window_s
        while asyncio.get_running_loop().time() < end:
            assert await consumer.getmany(timeout_ms=500) == {}
        assert fetches[0] <= window_s * 1000 / PAUSE_MS + 2
    finally:
        await consumer.stop()


async def test_a_record_produced_to_an_idle_consumer_arrives(
    broker_settings: CommonSettings,
) -> None:
    """No lost wake-up: the pause delays the next fetch, it does not skip a record."""
    consumer = await idle_consumer(broker_settings, "g-wake")
    producer = make_producer(broker_settings)
    await producer.start()
    handler = Collect(asyncio.Event(), limit=1)
    loop = ConsumerLoop(
        name="contract",
        consumer=consumer,
        producer=producer,
        handler=handler,
        dead_letter_topic=broker_settings.topics.name("contract.dlq"),
        stop=handler.stop,
    )
    try:
        fetches = count_fetches(consumer)
        running = asyncio.ensure_future(loop.run())

        async def idled() -> bool:
            return fetches[0] >= 3  # several empty fetches: the consumer is idling

        await eventually(idled, interval=0.05)
        await produce(broker_settings, broker_settings.topics.name(TOPIC), [("k", b"late")])
        await asyncio.wait_for(running, timeout=60)
        assert handler.seen == [("k", b"late")]
    finally:
        await consumer.stop()
        await producer.stop()
