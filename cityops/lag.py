"""Consumer lag: how far each service's consumer group is behind the end of its topics.

``lag = true end offset − committed offset``, per (group, topic, partition). The arithmetic
(:func:`compute_lag`, :func:`true_end`) is pure; :class:`LagReader` does the asking.

**The true end offset.** A broker's ListOffsets(latest) answer is not trusted alone: Tansu
0.6 answers the base offset of the partition's *last batch* + 1, so a partition whose
last batch held 200 records reads 199 short, and lag reads too low (INFRA_NOTES, measured
2026-11-28). The high watermark in a fetch response is right on every broker measured
(Kafka, noida-db, Tansu). So the reader:

1. asks ListOffsets(latest) for the committed partitions (the *listed* end, cheap);
2. fetches once from that listed offset on each of them and takes the high watermark of
   that fetch response (on Kafka and noida-db the fetch is empty; on Tansu it returns at
   most the rest of the last batch, which is dropped);
3. takes ``max(listed, high watermark)``: the listed offset is never past the true end,
   so the larger of the two is right on both kinds of broker.

A partition whose fetch did not answer within the timeout is left out of that scrape (and
the scrape counts as an error) rather than exported with a number that may be low. The
reader's partitions are paused between scrapes, so it does not fetch (or spin on a broker
that answers empty fetches at once) while idle.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient

from cityops.settings import CommonSettings

__all__ = [
    "LagReader",
    "LagReading",
    "PartitionLag",
    "compute_lag",
    "service_groups",
    "true_end",
]

Partition = tuple[str, int]  # (topic, partition); aiokafka's TopicPartition is one


def service_groups(topic_prefix: str) -> list[str]:
    """The consumer group ids of the services, as each names its own:
    ``cityops.runtime.run`` gives ``cityops-<name>`` to the classifier and the indexer (no
    prefix: they tell tests apart by topic, see :func:`in_scope`); the faust apps are named
    ``<prefix>cityops-dispatch`` and ``<prefix>cityops-sensors`` (their ``create_app``)."""
    return [
        "cityops-classifier",
        "cityops-indexer",
        f"{topic_prefix}cityops-dispatch",
        f"{topic_prefix}cityops-sensors",
    ]


def in_scope(topic: str, topic_prefix: str) -> bool:
    """Only this deployment's topics: groups without a prefix may hold offsets of others."""
    return topic.startswith(topic_prefix)


@dataclass(frozen=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    lag: int


def true_end(listed: int | None, highwater: int | None) -> int | None:
    """The partition's end offset, or None when no fetch answered (unknown, not guessed).

    ``listed`` (ListOffsets latest) may be short of the end on some brokers but never past
    it; ``highwater`` (from a fetch response) is right."""
    if highwater is None:
        return None
    return max(highwater, listed if listed is not None else 0)


def compute_lag(
    group: str,
    committed: Mapping[Partition, int],
    listed: Mapping[Partition, int],
    highwater: Mapping[Partition, int | None],
) -> tuple[list[PartitionLag], list[Partition]]:
    """The lag of each committed partition of ``group``, and the partitions left out
    because their end is unknown. A negative committed offset (none recorded) is skipped;
    a commit past a stale end counts as no lag, never a negative one."""
    lags: list[PartitionLag] = []
    unknown: list[Partition] = []
    for (topic, partition), offset in sorted(committed.items()):
        if offset < 0:
            continue
        tp = (topic, partition)
        end = true_end(listed.get(tp), highwater.get(tp))
        if end is None:
            unknown.append(tp)
            continue
        lags.append(PartitionLag(group, topic, partition, max(0, end - offset)))
    return lags, unknown


@dataclass
class LagReading:
    """One scrape: the lags known, and the partitions whose end could not be read."""

    lags: list[PartitionLag] = field(default_factory=list)
    unknown: list[tuple[str, Partition]] = field(default_factory=list)


class LagReader:
    """Reads committed offsets (kafka-python's admin client, in a thread: aiokafka's
    FindCoordinator fails to decode Tansu's answer) and true end offsets (an aiokafka
    consumer in no group).

    ``start`` and ``read`` raise aiokafka's or kafka-python's ``KafkaError`` (or
    ``TimeoutError``) when the broker does not answer. The caller retries on its own
    schedule."""

    def __init__(
        self, settings: CommonSettings, groups: Sequence[str], fetch_timeout_s: float = 5.0
    ) -> None:
        self.prefix = settings.topic_prefix
        self.groups = list(groups)
        self.fetch_timeout_s = fetch_timeout_s
        self.bootstrap = settings.kafka_bootstrap
        self.admin: KafkaAdminClient | None = None
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap,
            group_id=None,
            client_id="cityops-lag",
            enable_auto_commit=False,
            auto_offset_reset="latest",
            isolation_level="read_uncommitted",  # the high watermark, not the stable offset
            fetch_max_wait_ms=100,
            max_partition_fetch_bytes=1024 * 1024,
        )

    async def start(self) -> None:
        await self.consumer.start()
        self.admin = await asyncio.to_thread(
            KafkaAdminClient, bootstrap_servers=self.bootstrap, client_id="cityops-lag"
        )

    async def stop(self) -> None:
        await self.consumer.stop()
        if self.admin is not None:
            await asyncio.to_thread(self.admin.close)

    async def committed(self) -> dict[str, dict[Partition, int]]:
        """Each group's committed offsets on this deployment's topics (none: empty)."""
        assert self.admin is not None, "start() first"
        specs = dict.fromkeys(self.groups)
        answer = await asyncio.to_thread(self.admin.list_group_offsets, specs)
        return {
            group: {
                (tp.topic, tp.partition): meta.offset
                for tp, meta in answer.get(group, {}).items()
                if in_scope(tp.topic, self.prefix)
            }
            for group in self.groups
        }

    async def ends(
        self, partitions: set[Partition]
    ) -> tuple[dict[Partition, int], dict[Partition, int | None]]:
        """(listed end, high watermark) of each partition; see the module docstring."""
        tps = [TopicPartition(t, p) for t, p in sorted(partitions)]
        if not tps:
            return {}, {}
        listed = await asyncio.wait_for(self.consumer.end_offsets(tps), self.fetch_timeout_s)
        self.consumer.assign(tps)  # a fresh assignment: nothing paused, no position
        for tp in tps:
            self.consumer.seek(tp, listed[tp])
        asked_ms = int(1000 * time.time())
        deadline = time.monotonic() + self.fetch_timeout_s
        try:
            while time.monotonic() < deadline and not all(
                (self.consumer.last_poll_timestamp(tp) or 0) >= asked_ms for tp in tps
            ):
                await self.consumer.getmany(timeout_ms=100)  # the records are not wanted
            highwater = {
                (tp.topic, tp.partition): self.consumer.highwater(tp)
                if (self.consumer.last_poll_timestamp(tp) or 0) >= asked_ms
                else None
                for tp in tps
            }
        finally:
            self.consumer.pause(*tps)  # idle until the next scrape
        return {(tp.topic, tp.partition): listed[tp] for tp in tps}, highwater

    async def read(self) -> LagReading:
        committed = await self.committed()
        listed, highwater = await self.ends({tp for c in committed.values() for tp in c})
        reading = LagReading()
        for group, offsets in committed.items():
            lags, unknown = compute_lag(group, offsets, listed, highwater)
            reading.lags += lags
            reading.unknown += [(group, tp) for tp in unknown]
        return reading
