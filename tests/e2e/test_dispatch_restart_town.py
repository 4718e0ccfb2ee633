"""A dispatch worker holding a town's 10,000 open cases is SIGKILLed while more reports
arrive, and restarted: it resumes; a duplicate of a case opened before the kill joins that
case, a distinct report opens a new one, and every report is in exactly one case."""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from cityops.contracts import CaseClassified
from cityops.fetching import install_quiet_fetch
from cityops.kafka import encode, make_producer
from cityops.provision import provision
from cityops.settings import CommonSettings
from services.dispatch.case_ids import case_id_for
from tests.conftest import Infra, start_infra
from tests.e2e.drill import Supervised, classified, dispatch_env, spread

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infra]:
    """A stand-in of its own: the town's 10,000 cases and their changelogs stay out of the
    one the rest of the suite shares (noida-db keeps everything written, and grows slower)."""
    yield from start_infra(tmp_path_factory)


# Open cases in the town before the kill: the 10,000 (95 s on 2 cores, 2026-12-02);
# `make soak` runs 50,000 (CITYOPS_TEST_TOWN_CASES).
OPEN = 10_000
IN_FLIGHT = 300  # produced just before the kill
CLASSES = ("C0101", "C0301", "E0205", "H0201")  # unrelated to each other (merge.related)
CJK = [chr(c) for c in range(0x4E00, 0x9FA6)]


@dataclass(frozen=True)
class Report:
    source_id: str
    lat: float
    lon: float
    text: str
    category: str

    def at(self, when: datetime, source_id: str | None = None) -> CaseClassified:
        item = classified(source_id or self.source_id, self.lat, self.lon, self.text, self.category)
        source = item.source.model_copy(update={"occurred_at": when, "received_at": when})
        return item.model_copy(update={"source": source, "classified_at": when})


def town(points: list[tuple[float, float]], tag: str, seed: int) -> list[Report]:
    """Distinct reports: at distinct points 60 m apart (a report at the very spot of a case
    of its class joins it whatever its text), each text 14 random characters."""
    rnd = random.Random(seed)
    return [
        Report(f"{tag}{i}", lat, lon, "".join(rnd.choices(CJK, k=14)), CLASSES[i % len(CLASSES)])
        for i, (lat, lon) in enumerate(points)
    ]


async def produce(settings: CommonSettings, items: list[CaseClassified]) -> None:
    producer = make_producer(settings)
    await producer.start()
    try:
        topic = settings.topics.cases_classified
        sent = [
            await producer.send(topic, encode(c), key=c.source.source_id.encode()) for c in items
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


@dataclass
class Placements:
    """Every ``opened`` / ``source_attached`` of ``cases.events``: source id → case ids."""

    settings: CommonSettings
    cases: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    kinds: dict[str, str] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        topic = self.settings.topics.cases_events
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            enable_auto_commit=False,
            isolation_level="read_committed",
        )
        await consumer.start()
        try:
            parts: set[int] = set()
            while not parts:
                parts = (await consumer._client.fetch_all_metadata()).partitions_for_topic(
                    topic
                ) or set()
            tps = [TopicPartition(topic, p) for p in parts]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            while True:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for r in records:
                        event = json.loads(r.value)
                        if event["kind"] in ("opened", "source_attached"):
                            sid = event["data"]["source"]["source_id"]
                            self.cases[sid].add(event["case_id"])
                            self.kinds.setdefault(sid, event["kind"])
        finally:
            await consumer.stop()

    async def wait(self, source_ids: list[str], timeout: float, worker: Supervised) -> None:
        deadline = time.monotonic() + timeout
        while not all(s in self.cases for s in source_ids):
            if time.monotonic() > deadline:
                missing = [s for s in source_ids if s not in self.cases]
                pytest.fail(f"{len(missing)} reports unplaced, e.g. {missing[:3]}\n{worker.log()}")
            await asyncio.sleep(0.2)


async def test_restart_with_a_full_town_resumes_merges_and_loses_nothing(
    infra: Infra, prefix: str, tmp_path: Path
) -> None:
    install_quiet_fetch()  # the placements reader must not spin on noida-db
    # CITYOPS_TEST_TOWN_CASES sets another number of open cases (make soak: more; fewer to
    # check the drill itself quickly)
    n_open = int(os.environ.get("CITYOPS_TEST_TOWN_CASES", OPEN))
    settings = CommonSettings(**infra.settings(prefix))  # type: ignore[arg-type]
    provision(settings)
    worker = Supervised(
        "dispatch", dispatch_env(infra, prefix, tmp_path / "dispatch"), tmp_path / "dispatch.log"
    )
    points = list(spread(n_open + IN_FLIGHT + 1))
    opened = town(points[:n_open], "r", seed=1)
    in_flight = town(points[n_open:-1], "f", seed=2)
    fresh = town(points[-1:], "new", seed=3)[0]
    placements = Placements(settings)
    placements.task = asyncio.create_task(placements.run())
    worker.start()
    try:
        t0 = datetime.now(UTC)
        await produce(
            settings, [r.at(t0 + timedelta(milliseconds=i)) for i, r in enumerate(opened)]
        )
        await placements.wait([r.source_id for r in opened], 1800, worker)

        t1 = datetime.now(UTC)
        await produce(
            settings, [r.at(t1 + timedelta(milliseconds=i)) for i, r in enumerate(in_flight)]
        )
        worker.kill()  # SIGKILL; the supervisor starts a new process on the same data dir
        target = opened[-1]  # the newest case: still a candidate in its cell (MAX_REFS)
        duplicate = target.at(datetime.now(UTC), source_id="dup-after-restart")
        await produce(settings, [duplicate, fresh.at(datetime.now(UTC))])
        everything = [r.source_id for r in (*opened, *in_flight, fresh)] + ["dup-after-restart"]
        await placements.wait(everything, 600, worker)
        restarts = worker.restarts
    finally:
        worker.stop()
        if placements.task is not None:
            placements.task.cancel()
            await asyncio.gather(placements.task, return_exceptions=True)

    assert restarts == 1, f"the worker restarted {restarts} times, not once\n{worker.log()}"
    assert placements.cases["dup-after-restart"] == {case_id_for(target.source_id)}
    assert placements.kinds["dup-after-restart"] == "source_attached"
    assert placements.cases[fresh.source_id] == {case_id_for(fresh.source_id)}
    assert placements.kinds[fresh.source_id] == "opened"
    in_two = {s: c for s, c in placements.cases.items() if len(c) != 1}
    assert not in_two, f"sources in more than one case: {list(in_two.items())[:3]}"
    distinct = [r.source_id for r in (*opened, *in_flight, fresh)]
    assert {s: placements.kinds[s] for s in distinct} == dict.fromkeys(distinct, "opened")
