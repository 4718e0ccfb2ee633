"""What bench/town_scale.py and bench/recovery.py share: noida-db, the topics, one dispatch
worker as a process (the env of tests/e2e/drill.py), a town's worth of distinct reports,
a tail of ``cases.events`` that tells which source went where, and the CPU of a process.

A "town" here is nanhui_xincheng's box (lat 30.86-30.96, lon 121.89-121.97, about
85 km²): report ``i`` takes the ``i``-th point of a shuffled lattice over the box (29 m
apart at 100,000 points), a class from :data:`CLASSES` (13, non-urgent, so that no wall-clock
deadline fires during a run) and a text of random CJK characters (no bigram in common
with any other, so no two reports are duplicates by the rule of services/dispatch/dedup.py).
Each report's time is its production time, so the candidate index sees cases in order.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
import time
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # tests.e2e.drill, tests.conftest

from aiokafka import AIOKafkaConsumer, TopicPartition  # noqa: E402

from cityops import standins, taxonomy  # noqa: E402
from cityops.contracts import CaseClassified  # noqa: E402
from cityops.fetching import install_quiet_fetch  # noqa: E402
from cityops.kafka import encode, make_producer  # noqa: E402
from cityops.provision import provision  # noqa: E402
from cityops.settings import CommonSettings  # noqa: E402
from services.dispatch.case_ids import case_id_for  # noqa: E402
from tests.conftest import Broker, Infra  # noqa: E402
from tests.e2e.drill import Supervised, classified, dispatch_env  # noqa: E402

RESULTS = REPO / "bench" / "results"
T = TypeVar("T")
LAT, LON = (30.86, 30.96), (121.89, 121.97)
TICKS = os.sysconf("SC_CLK_TCK")
CJK = [chr(c) for c in range(0x4E00, 0x9FA6)]


def _classes() -> list[str]:
    leaves = [leaf.code for leaf in taxonomy.load().leaves if leaf.priority != "urgent"]
    return leaves[::13]  # 13 classes, radii 30-500 m, some with related classes


CLASSES = _classes()


def quiet() -> None:
    """This process's consumers pause after an empty fetch, as the services' do: on noida-db
    an idle aiokafka consumer otherwise spins (cityops/fetching.py) and takes CPU from the
    worker under measurement."""
    install_quiet_fetch()


async def until_sigterm(work: Awaitable[T]) -> T:
    """Run ``work``; SIGTERM cancels it, so its cleanup stops the processes it started."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return await work


# ── the reports ─────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Spot:
    """One distinct report: where, what, which class."""

    source_id: str
    lat: float
    lon: float
    text: str
    category: str

    @property
    def case_id(self) -> str:
        return case_id_for(self.source_id)


def town(n: int, seed: int = 7, tag: str = "r") -> list[Spot]:
    """``n`` reports of which no two are duplicates (module docstring)."""
    rnd = random.Random(seed)
    lat_m = (LAT[1] - LAT[0]) * 111_195
    lon_m = (LON[1] - LON[0]) * 111_195 * 0.8583
    step = (lat_m * lon_m / n) ** 0.5
    rows, cols = int(lat_m / step) + 1, int(lon_m / step) + 1
    cells = rnd.sample(range(rows * cols), n)
    out = []
    for i, c in enumerate(cells):
        r, k = divmod(c, cols)
        lat = LAT[0] + (r + 0.5) * (LAT[1] - LAT[0]) / rows
        lon = LON[0] + (k + 0.5) * (LON[1] - LON[0]) / cols
        text = "".join(rnd.choices(CJK, k=14))
        out.append(Spot(f"{tag}{i}", lat, lon, text, CLASSES[i % len(CLASSES)]))
    return out


def record(spot: Spot, at: datetime, source_id: str | None = None) -> CaseClassified:
    """The CaseClassified of ``spot`` (drill.classified), happening at ``at``."""
    item = classified(source_id or spot.source_id, spot.lat, spot.lon, spot.text, spot.category)
    source = item.source.model_copy(update={"occurred_at": at, "received_at": at})
    return item.model_copy(update={"source": source, "classified_at": at})


async def produce(settings: CommonSettings, items: Iterable[CaseClassified]) -> None:
    """Send every record in one batch and wait for all acknowledgements."""
    producer = make_producer(settings)
    await producer.start()
    try:
        topic = settings.topics.cases_classified
        futures = [
            await producer.send(topic, encode(c), key=c.source.source_id.encode()) for c in items
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


# ── what came out ───────────────────────────────────────────────────────────────────────


@dataclass
class Placed:
    kind: str  # "opened" or "source_attached"
    case_id: str
    at: float  # monotonic time the tail read it


@dataclass
class EventTail:
    """Reads ``cases.events`` from the beginning, in the background: where each source went."""

    settings: CommonSettings
    placed: dict[str, Placed] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        topic = self.settings.topics.cases_events
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            enable_auto_commit=False,
            isolation_level="read_committed",
            max_partition_fetch_bytes=4 * 1024 * 1024,
        )
        await consumer.start()
        try:
            parts: set[int] = set()
            while not parts:
                await consumer._client.force_metadata_update()
                parts = consumer.partitions_for_topic(topic) or set()
            tps = [TopicPartition(topic, p) for p in sorted(parts)]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            while True:
                batch = await consumer.getmany(timeout_ms=500, max_records=10_000)
                now = time.monotonic()
                for records in batch.values():
                    for r in records:
                        self._take(json.loads(r.value), now)
                if not batch:
                    await asyncio.sleep(0.2)
        finally:
            await consumer.stop()

    def _take(self, event: dict, now: float) -> None:  # type: ignore[type-arg]
        kind = event["kind"]
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if kind in ("opened", "source_attached"):
            sid = event["data"]["source"]["source_id"]
            self.placed.setdefault(sid, Placed(kind, event["case_id"], now))

    async def wait_placed(self, source_ids: Iterable[str], timeout: float) -> bool:
        wanted = list(source_ids)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(s in self.placed for s in wanted):
                return True
            await asyncio.sleep(0.1)
        return False


# ── processes ───────────────────────────────────────────────────────────────────────────


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of process ``pid`` (0 when it is gone)."""
    if pid is None:
        return 0.0
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid: int | None) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class Broker_:
    """noida-db on a data directory (kept: a later run can start on it again)."""

    data_dir: Path
    kafka_port: int = field(default_factory=standins.free_port)
    es_port: int = field(default_factory=standins.free_port)

    def __post_init__(self) -> None:
        self.server = standins.noida(self.data_dir, self.kafka_port, self.es_port)

    @property
    def infra(self) -> Infra:
        return Infra(Broker("noida", f"127.0.0.1:{self.kafka_port}", True), self.es_url)

    @property
    def es_url(self) -> str:
        return f"http://127.0.0.1:{self.es_port}"

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.server.start(timeout=900)  # it reads GBs of data back first

    def stop(self) -> None:
        # noida-db takes long to exit with GBs of data; killed early, it loses records it
        # had acknowledged (bench/README.md, recovery.py)
        self.server.stop(timeout=600)

    @property
    def pid(self) -> int | None:
        return None if self.server.process is None else self.server.process.pid


def settings_for(infra: Infra, prefix: str) -> CommonSettings:
    return CommonSettings(**infra.settings(prefix))  # type: ignore[arg-type]


def provision_topics(infra: Infra, prefix: str) -> CommonSettings:
    settings = settings_for(infra, prefix)
    provision(settings)
    return settings


def worker(infra: Infra, prefix: str, data_dir: Path, log: Path, **extra: str) -> Supervised:
    """One dispatch worker under drill's supervisor (restarts counted), not yet started."""
    return Supervised("dispatch", dispatch_env(infra, prefix, data_dir, **extra), log)


def changelog_topics(prefix: str) -> list[str]:
    app = f"{prefix}.cityops-dispatch"
    return [f"{app}-cases-changelog", f"{app}-candidate_buckets-changelog"]


async def record_counts(settings: CommonSettings, topics: list[str]) -> dict[str, int]:
    """Per topic: the sum of its partitions' end offsets (records written, without reading)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    await consumer.start()
    try:
        cluster = await consumer._client.fetch_all_metadata()
        out = {}
        for topic in topics:
            tps = [TopicPartition(topic, p) for p in cluster.partitions_for_topic(topic) or ()]
            out[topic] = sum((await consumer.end_offsets(tps)).values()) if tps else 0
        return out
    finally:
        await consumer.stop()


async def largest_values(settings: CommonSettings, topics: list[str]) -> dict[str, dict]:  # type: ignore[type-arg]
    """Per topic: records read and the largest record value (bytes), reading everything."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        enable_auto_commit=False,
        max_partition_fetch_bytes=8 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    await consumer.start()
    out: dict[str, dict] = {}  # type: ignore[type-arg]
    try:
        cluster = await consumer._client.fetch_all_metadata()
        for topic in topics:
            t0 = time.monotonic()
            parts = cluster.partitions_for_topic(topic) or set()
            tps = [TopicPartition(topic, p) for p in sorted(parts)]
            if not tps:
                out[topic] = {"records": 0, "max_value_bytes": 0, "missing": True}
                continue
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            end = await consumer.end_offsets(tps)
            n, total, biggest, key_of_biggest = 0, 0, 0, ""
            while [tp for tp in tps if await consumer.position(tp) < end[tp]]:
                batch = await consumer.getmany(timeout_ms=1000, max_records=20_000)
                for records in batch.values():
                    for r in records:
                        n += 1
                        size = len(r.value or b"")
                        total += size
                        if size > biggest:
                            biggest, key_of_biggest = size, (r.key or b"").decode(errors="replace")
            out[topic] = {
                "records": n,
                "max_value_bytes": biggest,
                "total_value_bytes": total,
                "key_of_max": key_of_biggest,
                "scan_s": round(time.monotonic() - t0, 1),
            }
    finally:
        await consumer.stop()
    return out


def now() -> datetime:
    return datetime.now(UTC)


def later(at: datetime, seconds: float) -> datetime:
    return at + timedelta(seconds=seconds)
