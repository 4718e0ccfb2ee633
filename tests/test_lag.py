"""Consumer lag: the arithmetic on plain data, then the reader against both brokers (Tansu
answers ListOffsets(latest) with the last batch's base offset + 1)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from cityops import taxonomy
from cityops.lag import LagReader, PartitionLag, compute_lag, in_scope, service_groups, true_end
from cityops.settings import CommonSettings
from services.dispatch.app import create_app as dispatch_app
from services.dispatch.settings import DispatchSettings
from tests.conftest import Broker, Infra

T0, T1 = ("p.reports.submitted", 0), ("p.reports.submitted", 1)


def test_the_end_is_the_high_watermark_when_the_listed_offset_falls_short() -> None:
    assert true_end(listed=1, highwater=100) == 100  # Tansu: one batch of 100 records
    assert true_end(listed=100, highwater=100) == 100
    assert true_end(listed=100, highwater=None) is None  # no fetch answered: not guessed
    assert true_end(listed=None, highwater=7) == 7


def test_lag_is_true_end_minus_committed() -> None:
    lags, unknown = compute_lag("g", {T0: 30, T1: 5}, {T0: 1, T1: 5}, {T0: 100, T1: 5})
    assert lags == [PartitionLag("g", *T0, 70), PartitionLag("g", *T1, 0)]
    assert unknown == []


def test_unknown_ends_are_left_out_and_nothing_is_negative() -> None:
    lags, unknown = compute_lag("g", {T0: 30, T1: 9, ("x", 0): -1}, {T0: 40}, {T0: None, T1: 4})
    assert lags == [PartitionLag("g", *T1, 0)]  # committed past a stale end: no lag
    assert unknown == [T0]  # no high watermark; the uncommitted ("x", 0) is skipped


def test_groups_are_the_ones_the_services_use() -> None:
    settings = DispatchSettings(topic_prefix="p.", dispatch_store="memory")
    app = dispatch_app(settings, taxonomy.load())
    groups = service_groups("p.")
    assert app.conf.id in groups
    assert {"cityops-classifier", "cityops-indexer", "p.cityops-sensors"} <= set(groups)
    assert in_scope("p.reports.submitted", "p.") and not in_scope("q.reports.submitted", "p.")


async def committed_lag(broker: Broker, prefix: str) -> list[PartitionLag]:
    """100 records in one batch on partition 0, 1 on partition 1; the group commits 30 on
    partition 0 and everything on partition 1. Returns what the reader sees."""
    topic, group = f"{prefix}reports.submitted", f"{prefix}cityops-dispatch"
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    admin.create_topics([NewTopic(topic, 2, 1)])
    admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=100)
    await producer.start()
    try:
        sent = [await producer.send(topic, b"r%d" % i, partition=0) for i in range(100)]
        await asyncio.gather(*sent)
        await producer.send_and_wait(topic, b"one", partition=1)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=broker.bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, 0), TopicPartition(topic, 1)])
        await consumer.commit({TopicPartition(topic, 0): 30, TopicPartition(topic, 1): 1})
    finally:
        await consumer.stop()
    settings = CommonSettings(kafka_bootstrap=broker.bootstrap, topic_prefix=prefix)
    reader = LagReader(settings, service_groups(prefix))
    await reader.start()
    try:
        first, second = await reader.read(), await reader.read()  # and again: paused between
    finally:
        await reader.stop()
    assert first.unknown == [] and second.unknown == []
    assert first.lags == second.lags
    return first.lags


@pytest.mark.integration
@pytest.mark.parametrize("which", ["primary", "tansu"])
async def test_the_reader_sees_the_true_lag_on_both_brokers(
    which: str, infra: Infra, request: pytest.FixtureRequest
) -> None:
    broker = infra.kafka if which == "primary" else request.getfixturevalue("second_broker")
    prefix = f"t{uuid.uuid4().hex[:10]}."
    lags = await committed_lag(broker, prefix)
    group, topic = f"{prefix}cityops-dispatch", f"{prefix}reports.submitted"
    assert lags == [PartitionLag(group, topic, 0, 70), PartitionLag(group, topic, 1, 0)]
