"""Sensor readings per second through the rules, against a bare consumer on the same broker,
and the worker's cost per reading as the registry grows (GitHub issue 10).

    .venv/bin/python bench/sensors.py             # 50,000 readings a step; 1k, 10k, 100k devices
    .venv/bin/python bench/sensors.py --readings 20000 --sizes 1000,10000 --label sensors_quick
    .venv/bin/python bench/sensors.py --profile   # plus a py-spy profile of the worker

Starts noida-db on a fresh data directory, provisions the topics (3 partitions each, the
default ``topic_partitions``) and then, all in one run on the same broker:

1. **raw reference**: ``--raw-readings`` readings of ``--main-size`` devices (made as the
   steps' are) are produced to a topic of their own with the same partitions, and a bare
   aiokafka consumer (assigned, no group, values not decoded) reads them all: records/s.
   Measured before the service starts and again after it stops (the machine is shared;
   both are reported, the ratio uses their mean);
2. **the service**: ONE sensors worker (``cityops serve sensors``, its default settings and
   RocksDB store) as a process. Per step the registry grows to the step's size
   (``DeviceRegistered`` on ``sensor.devices``, waited for until the worker's committed
   offset reaches the end), then ``--readings`` readings are produced to
   ``sensor.readings``, spread over every registered device (each device in turn, in a
   shuffled order, its readings in event-time order), and timed from the first send until
   the worker's consumer group (``<prefix>cityops-sensors``) has committed the end of every
   partition. Rate = readings ÷ those seconds; the "steady" rate is the slope of the
   committed offsets between 10 % and 90 % of the step. CPU seconds of the worker and of
   the broker process over the step (``/proc/<pid>/stat``) ÷ readings: robust to other
   load on the machine, unlike the rates;
   After each step the bare consumer reads the raw topic again ("control"): its CPU per
   record does not depend on the devices, so a change in it is the machine (other work
   sharing the cores and caches), not the registry;
3. ``--profile``: one more step (half the readings) at the largest size under ``py-spy
   record`` (its figures are not used above); the hottest functions go to the results.

The readings are those of ``cityctl/sensors_sim.py``: a 2,000-device fleet (``build``)
repeated under new device ids up to the largest size, its signal model (``value``) at each
device's own interval, with the rainstorm in the first hour, so a city's mix: mostly normal
readings, some water levels, bins and drifting sensors alarming. Event time starts ten
minutes after the bench starts, and the worker's silence scan runs once a day
(``CITYOPS_SENSORS_HEARTBEAT_SCAN_S=86400``): registering 100,000 devices takes minutes, and
a device registered and not yet read would otherwise be found silent, at the cost of a nudge
and a notice that no reading caused. The figures are the readings' cost alone.

Results: ``bench/results/<label>.json``, ``.md`` and ``.png`` (cost per reading against
registered devices); the worker's log in ``bench/results/logs/<label>_sensors.log``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import shutil
import subprocess
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import _dispatch_stack as ds
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from cityctl import sensors_sim as sim
from cityctl.processes import ServiceProcess, service_env
from cityops import sensors, standins
from cityops.contracts import SensorReading
from cityops.contracts.devices import DeviceRegistered
from cityops.kafka import encode, ensure_topics, make_producer
from cityops.provision import provision
from cityops.settings import CommonSettings

TEMPLATE = 2_000
TARGET_DEVICES = 10_000_000
TARGET_RATE = TARGET_DEVICES / 60  # one reading a minute each
UTILISATION = 0.7  # planned load of a worker's core, headroom for storms and catch-up
Record = tuple[bytes, bytes]


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--readings", type=int, default=50_000, help="readings per step")
    p.add_argument("--sizes", default="1000,10000,100000", help="registered devices per step")
    p.add_argument("--main-size", type=int, default=10_000, help="the step of the ratio")
    p.add_argument("--raw-readings", type=int, default=200_000, help="for the bare consumer")
    p.add_argument("--profile", action="store_true", help="one more step under py-spy")
    p.add_argument("--profile-s", type=float, default=30.0)
    p.add_argument("--step-timeout", type=float, default=1800.0)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--label", default="sensors")
    args = p.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]
    if args.main_size not in args.sizes:
        args.main_size = args.sizes[min(1, len(args.sizes) - 1)]
    return args


# ── the fleet and its readings ──────────────────────────────────────────────────────────


class Fleet:
    """``size`` devices: the simulator's fleet of :data:`TEMPLATE` repeated under new ids,
    each with a tick counter, so every device's readings go on in event-time order."""

    def __init__(self, seed: int, size: int) -> None:
        template = sim.build(seed, TEMPLATE)  # ordered by type: shuffled, so that every
        random.Random(seed).shuffle(template)  # step's first devices are the city's mix
        self.devices = [
            sim.SimDevice(
                t.device.model_copy(update={"device_id": f"{t.device.device_id}.{i // TEMPLATE}"}),
                t.traits,
            )
            for i, t in ((i, template[i % len(template)]) for i in range(size))
        ]
        self.ticks = [0] * size
        start = (datetime.now(UTC) + timedelta(minutes=10)).replace(microsecond=0)
        self.scenario = sim.Scenario(start, seed)
        self.rules = {c.code: c.rules for c in sensors.load().types}
        self.rng = random.Random(seed)

    def registrations(self, lo: int, hi: int) -> list[Record]:
        now = datetime.now(UTC)
        return [
            (
                s.device.device_id.encode(),
                encode(DeviceRegistered(device=s.device, registered_at=now)),
            )
            for s in self.devices[lo:hi]
        ]

    def readings(self, size: int, count: int) -> tuple[list[Record], Counter[str]]:
        """``count`` readings of the first ``size`` devices, each device in turn."""
        out: list[Record] = []
        kinds: Counter[str] = Counter()
        while len(out) < count:
            order = list(range(size))
            self.rng.shuffle(order)
            for i in order:
                for reading in self._tick(i):
                    out.append((reading.device_id.encode(), encode(reading)))
                    kinds[reading.metric] += 1
                if len(out) >= count:
                    return out[:count], kinds
        return out, kinds

    def _tick(self, i: int) -> list[SensorReading]:
        s, k = self.devices[i], self.ticks[i]
        self.ticks[i] += 1
        at = sim.tick(s, k, self.scenario)
        return [
            SensorReading(
                reading_id=f"{s.device.device_id}-{int(at.timestamp())}-{rule.metric}",
                device_id=s.device.device_id,
                device_type=s.device.type,
                metric=rule.metric,
                value=sim.value(s, rule.metric, at, self.scenario),
                unit=rule.unit,
                location=s.device.location,
                observed_at=at,
                received_at=at + timedelta(seconds=1),
            )
            for rule in self.rules[s.device.type]
        ]


def waited_s(pid: int | None) -> float:
    """Seconds the threads of ``pid`` were runnable but waited for a core
    (``/proc/<pid>/task/*/schedstat``, field 2): CPU taken by other work on the machine."""
    total = 0
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            total += int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue  # exited while we looked
    return total / 1e9


def loop_sched(pid: int | None) -> tuple[float, float]:
    """Seconds the main thread of ``pid`` (the worker's event loop) ran on a core, and was
    runnable but waited for one (``/proc/<pid>/schedstat``)."""
    try:
        ran, waited = Path(f"/proc/{pid}/schedstat").read_text().split()[:2]
    except (OSError, ValueError):
        return 0.0, 0.0
    return int(ran) / 1e9, int(waited) / 1e9


def self_cpu() -> float:
    t = os.times()
    return t.user + t.system


# ── Kafka ───────────────────────────────────────────────────────────────────────────────


async def produce(settings: CommonSettings, topic: str, records: list[Record]) -> float:
    """Send every record (the one producer helper) and wait for all acks; seconds taken."""
    producer = make_producer(settings)
    await producer.start()
    t0 = time.monotonic()
    try:
        acks = [await producer.send(topic, value, key=key) for key, value in records]
        await asyncio.gather(*acks)
    finally:
        await producer.stop()
    return time.monotonic() - t0


@dataclass
class Offsets:
    """End offsets of topics and committed offsets of the worker's group."""

    settings: CommonSettings
    group: str
    consumer: AIOKafkaConsumer | None = None
    admin: AIOKafkaAdminClient | None = None
    parts: dict[str, list[TopicPartition]] = field(default_factory=dict)

    async def start(self) -> None:
        self.consumer = AIOKafkaConsumer(bootstrap_servers=self.settings.kafka_bootstrap)
        self.admin = AIOKafkaAdminClient(bootstrap_servers=self.settings.kafka_bootstrap)
        await self.consumer.start()
        await self.admin.start()

    async def stop(self) -> None:
        if self.consumer is not None:
            await self.consumer.stop()
        if self.admin is not None:
            await self.admin.close()

    async def tps(self, topic: str) -> list[TopicPartition]:
        if topic not in self.parts:
            assert self.consumer is not None
            cluster = await self.consumer._client.fetch_all_metadata()
            found = cluster.partitions_for_topic(topic) or set()
            if not found:
                return []
            self.parts[topic] = [TopicPartition(topic, p) for p in sorted(found)]
        return self.parts[topic]

    async def end(self, topic: str) -> int:
        assert self.consumer is not None
        tps = await self.tps(topic)
        return sum((await self.consumer.end_offsets(tps)).values()) if tps else 0

    async def committed(self, topic: str) -> int:
        assert self.admin is not None
        tps = await self.tps(topic)
        got = await self.admin.list_consumer_group_offsets(self.group, partitions=tps)
        return sum(max(m.offset, 0) for m in got.values() if m is not None)

    async def wait_committed(
        self, topic: str, target: int, timeout: float
    ) -> list[tuple[float, int]]:
        """Poll the group's committed offset of ``topic`` until it reaches ``target``:
        the (monotonic time, committed) samples; raises on timeout."""
        samples: list[tuple[float, int]] = []
        deadline = time.monotonic() + timeout
        while True:
            done = await self.committed(topic)
            samples.append((time.monotonic(), done))
            if done >= target:
                return samples
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic}: committed {done} of {target} after {timeout} s")
            await asyncio.sleep(0.2)


async def raw_rate(settings: CommonSettings, topic: str, broker_pid: int | None) -> dict[str, Any]:
    """A bare consumer (assigned, no group, nothing decoded) reads ``topic`` to its end."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        cluster = await consumer._client.fetch_all_metadata()
        tps = [TopicPartition(topic, p) for p in sorted(cluster.partitions_for_topic(topic) or ())]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end = await consumer.end_offsets(tps)
        total, n = sum(end.values()), 0
        b0, c0, t0 = ds.cpu_seconds(broker_pid), self_cpu(), time.monotonic()
        while n < total:
            batch = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            n += sum(len(records) for records in batch.values())
        secs = time.monotonic() - t0
        return {
            "records": n,
            "seconds": round(secs, 3),
            "records_per_s": round(n / secs),
            "consumer_cpu_us_per_record": round(1e6 * (self_cpu() - c0) / n, 2),
            "broker_cpu_us_per_record": round(1e6 * (ds.cpu_seconds(broker_pid) - b0) / n, 2),
        }
    finally:
        await consumer.stop()


# ── the worker and the steps ────────────────────────────────────────────────────────────


def worker(settings: CommonSettings, state: Path, log: Path, prefix: str) -> ServiceProcess:
    env = {
        "CITYOPS_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "CITYOPS_ES_URL": settings.es_url,
        "CITYOPS_TOPIC_PREFIX": settings.topic_prefix,
        "CITYOPS_INDEX_PREFIX": prefix,
        "CITYOPS_KAFKA_SESSION_TIMEOUT_MS": "6000",
        "CITYOPS_SENSORS_WEB_PORT": str(standins.free_port()),
        "CITYOPS_SENSORS_DATA_DIR": str(state / "sensors"),
        "CITYOPS_INSTANCE_ID": f"bench-{prefix}",
        "CITYOPS_LOG_LEVEL": "INFO",
        # no silence scan during the run: a device registered and not yet read would
        # otherwise cost a nudge and a notice that no reading caused (module docstring)
        "CITYOPS_SENSORS_HEARTBEAT_SCAN_S": "86400",
    }
    return ServiceProcess("sensors", service_env(env), log)


def outputs(settings: CommonSettings, group: str) -> dict[str, str]:
    """What the worker writes, by a short name (to count records per step)."""
    t = settings.topics
    return {
        "cases.classified": t.cases_classified,
        "cases.commands": t.cases_commands,
        "sensor.notices": t.sensor_notices,
        "deadletter.sensors": t.dead_letter("sensors"),
        "sensors.rekeyed": t.name("sensors.rekeyed"),
        "sensors.nudges": t.name("sensors.nudges"),
        "device_state changelog": f"{group}-device_state-changelog",
        "devices changelog": f"{group}-devices-changelog",
    }


def steady(samples: list[tuple[float, int]], base: int, n: int) -> float | None:
    """Readings/s between the samples at 10 % and 90 % of the step."""
    lo = next((s for s in samples if s[1] - base >= 0.1 * n), None)
    hi = next((s for s in samples if s[1] - base >= 0.9 * n), None)
    if lo is None or hi is None or hi[0] <= lo[0]:
        return None
    return (hi[1] - lo[1]) / (hi[0] - lo[0])


async def grow(
    off: Offsets, settings: CommonSettings, fleet: Fleet, lo: int, hi: int, timeout: float
) -> dict[str, Any]:
    topic = settings.topics.sensor_devices
    t0 = time.monotonic()
    await produce(settings, topic, fleet.registrations(lo, hi))
    await off.wait_committed(topic, await off.end(topic), timeout)
    return {"registered": hi - lo, "seconds": round(time.monotonic() - t0, 1)}


async def step(
    off: Offsets,
    settings: CommonSettings,
    proc: ServiceProcess,
    broker_pid: int | None,
    records: list[Record],
    timeout: float,
) -> dict[str, Any]:
    topic, n = settings.topics.sensor_readings, len(records)
    names = outputs(settings, off.group)
    before = {k: await off.end(v) for k, v in names.items()}
    base = await off.committed(topic)
    q0, r0, l0 = waited_s(proc.pid), waited_s(broker_pid), loop_sched(proc.pid)
    w0, b0, t0 = ds.cpu_seconds(proc.pid), ds.cpu_seconds(broker_pid), time.monotonic()
    produce_s = await produce(settings, topic, records)
    samples = await off.wait_committed(topic, base + n, timeout)
    secs = samples[-1][0] - t0
    w, b = ds.cpu_seconds(proc.pid) - w0, ds.cpu_seconds(broker_pid) - b0
    rate = steady(samples, base, n)
    qw, qb = waited_s(proc.pid) - q0, waited_s(broker_pid) - r0
    l1 = loop_sched(proc.pid)
    ran, queued = l1[0] - l0[0], l1[1] - l0[1]
    return {
        "readings": n,
        "seconds": round(secs, 2),
        "produce_s": round(produce_s, 2),
        "readings_per_s": round(n / secs, 1),
        "steady_readings_per_s": None if rate is None else round(rate, 1),
        "worker_cpu_ms_per_reading": round(1000 * w / n, 4),
        "broker_cpu_ms_per_reading": round(1000 * b / n, 4),
        "worker_cores": round(w / secs, 2),
        "broker_cores": round(b / secs, 2),
        "worker_waited_for_cpu_s": round(qw, 2),
        "worker_loop": {  # the event loop's thread over the step's wall time
            "running_s": round(ran, 2),
            "waiting_for_cpu_s": round(queued, 2),
            "sleeping_s": round(secs - ran - queued, 2),
        },
        "broker_waited_for_cpu_s": round(qb, 2),
        "machine_load": [round(x, 2) for x in os.getloadavg()],
        "worker_rss_mb": round(ds.rss_mb(proc.pid), 1),
        "broker_rss_mb": round(ds.rss_mb(broker_pid), 1),
        "written": {k: await off.end(v) - before[k] for k, v in names.items()},
        "progress": [
            (round(t - t0, 2), c - base) for t, c in samples[:: max(1, len(samples) // 40)]
        ],
        "worker_alive": proc.running,
    }


def profile(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    """py-spy on the worker, collapsed stacks to ``out`` (started before the step)."""
    spy = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "py-spy"
    argv = [str(spy), "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "100"]
    argv += ["--format", "raw", "-o", str(out), "--nonblocking"]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def hottest(collapsed: Path, top: int = 25) -> dict[str, Any]:
    """Share of samples in which each function is on the stack (inclusive) and on top (self)."""
    project: set[str] = set()
    incl: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = []
        for frame in stack.split(";"):
            name, _, where = frame.rpartition(" (")
            path = where.split(":")[0]
            frames.append(f"{name} ({path.split('/')[-1]})")
            if path.startswith(("services/", "cityops/", "cityctl/")):
                project.add(frames[-1])
        c = int(count)
        total += c
        for f in set(frames):
            incl[f] += c
        own[frames[-1]] += c

    def share(cnt: Counter[str], keep: Any) -> list[tuple[str, float]]:
        rows = [(f, round(v / total, 3)) for f, v in cnt.most_common() if keep(f, v / total)]
        return rows[:top]

    return {
        "samples": total,
        "inclusive": share(incl, lambda f, v: v < 0.85),  # not the event loop and main
        "project": share(incl, lambda f, v: f in project),
        "self": share(own, lambda f, v: True),
    }


# ── the run ─────────────────────────────────────────────────────────────────────────────


async def run(args: argparse.Namespace, result: dict[str, Any]) -> None:
    state = Path(f"/tmp/cityops-bench/sensors-{uuid.uuid4().hex[:6]}")
    log = ds.RESULTS / "logs" / f"{args.label}_sensors.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.unlink(missing_ok=True)
    prefix = f"sb{uuid.uuid4().hex[:6]}"
    kafka_port, es_port = standins.free_port(), standins.free_port()
    broker = standins.noida(state / "noida", kafka_port, es_port)
    settings = CommonSettings(
        kafka_bootstrap=f"127.0.0.1:{kafka_port}",
        es_url=f"http://127.0.0.1:{es_port}",
        topic_prefix=f"{prefix}.",
        index_prefix=prefix,
        kafka_session_timeout_ms=6000,
    )
    group = f"{settings.topic_prefix}cityops-sensors"
    raw_topic = settings.topics.name("bench.raw")
    t0 = time.monotonic()
    fleet = Fleet(args.seed, max(args.sizes))
    raw, _ = Fleet(args.seed + 1, args.main_size).readings(args.main_size, args.raw_readings)
    plan = []
    for size in args.sizes:
        records, kinds = fleet.readings(size, args.readings)
        plan.append((size, records, kinds))
    result["generate_s"] = round(time.monotonic() - t0, 1)
    result["metrics"] = {str(size): dict(kinds) for size, _, kinds in plan}
    say(f"{len(plan)} steps of {args.readings:,} readings generated in {result['generate_s']} s")
    proc = worker(settings, state, log, prefix)
    off = Offsets(settings, group)
    broker.start(timeout=120)
    bpid = broker.process.pid if broker.process else None
    try:
        provision(settings)
        ensure_topics(settings, [raw_topic])
        result["raw_produce_s"] = round(await produce(settings, raw_topic, raw), 2)
        result["raw_before"] = await raw_rate(settings, raw_topic, bpid)
        say(f"raw before: {result['raw_before']}")
        await off.start()
        proc.start()
        ds_wait = time.monotonic()
        registered, steps = 0, []
        for size, records, _ in plan:
            grown = await grow(off, settings, fleet, registered, size, args.step_timeout)
            if registered == 0:
                result["worker_first_registry_s"] = round(time.monotonic() - ds_wait, 1)
            registered = size
            out = {"devices": size, "registry": grown}
            out.update(await step(off, settings, proc, bpid, records, args.step_timeout))
            # a control whose cost does not depend on devices, at the same moment
            out["control_raw"] = await raw_rate(settings, raw_topic, bpid)
            steps.append(out)
            result["steps"] = steps
            say(json.dumps(out))
            save(result, args.label)
        if args.profile:
            records, _ = fleet.readings(registered, args.readings // 2)
            path = ds.RESULTS / f"{args.label}_profile.txt"
            assert proc.pid is not None
            spy = profile(proc.pid, args.profile_s, path)
            extra = await step(off, settings, proc, bpid, records, args.step_timeout)
            spy.wait(args.profile_s + 60)
            result["profile"] = {"step": extra, **hottest(path)}
        result["worker_data_mb"] = round(du(state / "sensors") / 1e6, 1)
        await off.stop()
        t_stop = time.monotonic()
        result["worker_exit"] = proc.stop(timeout=60)
        result["worker_stop_s"] = round(time.monotonic() - t_stop, 1)
        result["raw_after"] = await raw_rate(settings, raw_topic, bpid)
        say(f"raw after: {result['raw_after']}")
    finally:
        proc.stop(timeout=60)
        broker.stop(timeout=120)
        shutil.rmtree(state, ignore_errors=True)


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def say(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


# ── what it means ───────────────────────────────────────────────────────────────────────


def summary(r: dict[str, Any], main_size: int) -> dict[str, Any]:
    """The ratio and the capacity estimate for 10 million devices (assumptions in
    ``capacity["assumptions"]``)."""
    main = next(s for s in r["steps"] if s["devices"] == main_size)
    raws = [r[k]["records_per_s"] for k in ("raw_before", "raw_after") if k in r]
    raw = sum(raws) / len(raws)
    core_rate = 1000 / main["worker_cpu_ms_per_reading"]  # a worker with a core of its own
    per_worker = UTILISATION * core_rate
    workers = math.ceil(TARGET_RATE / per_worker)
    partitions = 2 ** math.ceil(math.log2(2 * workers))
    broker_cores = TARGET_RATE * main["broker_cpu_ms_per_reading"] / 1000
    return {
        "raw_readings_per_s": round(raw),
        "service_readings_per_s": main["readings_per_s"],
        "ratio": round(main["readings_per_s"] / raw, 4),
        "ratio_steady": None
        if main["steady_readings_per_s"] is None
        else round(main["steady_readings_per_s"] / raw, 4),
        "ratio_worker_on_own_core": round(1000 / main["worker_cpu_ms_per_reading"] / raw, 4),
        "capacity": {
            "target_readings_per_s": round(TARGET_RATE),
            "worker_readings_per_core_s": round(core_rate),
            "planned_per_worker": round(per_worker),
            "workers": workers,
            "partitions": partitions,
            "broker_cores_noida": round(broker_cores, 1),
            "state_changelog_records_per_s": round(
                TARGET_RATE * main["written"]["device_state changelog"] / main["readings"]
            ),
            "assumptions": [
                f"a worker's rate is 1 / its CPU per reading at {main_size:,} devices "
                f"({main['worker_cpu_ms_per_reading']} ms): one single-threaded worker per "
                "core, the broker elsewhere",
                f"planned at {UTILISATION:.0%} of that, for storms and catching up after an outage",
                "partitions: the next power of two at or above twice the workers, so the "
                "group can double without re-keying the readings (a device's readings and "
                "state stay on one partition)",
                "the broker figure is noida-db's CPU per reading here (the readings, the "
                "state changelog, the offsets); a real Kafka cluster's differs",
            ],
        },
    }


def markdown(r: dict[str, Any]) -> str:
    s = r.get("summary", {})
    lines = [f"# {r['label']} ({r['date']})", "", f"`{r['command']}`", ""]
    for k in ("raw_before", "raw_after"):
        if k in r:
            v = r[k]
            lines.append(
                f"- {k.replace('_', ' ')}: {v['records_per_s']:,} records/s "
                f"({v['records']:,} in {v['seconds']} s; broker {v['broker_cpu_us_per_record']} "
                f"µs/record, consumer {v['consumer_cpu_us_per_record']} µs/record)"
            )
    lines += [
        "",
        "| devices | readings | readings/s | steady/s | worker CPU ms/reading "
        "| broker CPU ms/reading | worker cores | broker cores "
        "| worker loop run / queued / asleep s "
        "| worker RSS MB | incidents opened | notices | dead letters | control µs/record |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for x in r.get("steps", []):
        w, loop = x["written"], x["worker_loop"]
        lines.append(
            f"| {x['devices']:,} | {x['readings']:,} | {x['readings_per_s']:,} "
            f"| {x['steady_readings_per_s']} | {x['worker_cpu_ms_per_reading']} "
            f"| {x['broker_cpu_ms_per_reading']} | {x['worker_cores']} | {x['broker_cores']} "
            f"| {loop['running_s']} / {loop['waiting_for_cpu_s']} / {loop['sleeping_s']} "
            f"| {x['worker_rss_mb']} "
            f"| {w['cases.classified']:,} | {w['sensor.notices']:,} "
            f"| {w['deadletter.sensors']:,} "
            f"| {x.get('control_raw', {}).get('consumer_cpu_us_per_record', '')} |"
        )
    if s:
        lines += ["", f"summary: `{json.dumps(s, ensure_ascii=False)}`"]
    if "profile" in r:
        p = r["profile"]
        lines += [
            "",
            f"## py-spy ({p['samples']} samples)",
            "",
            "| function | inclusive |",
            "|---|---|",
        ]
        lines += [f"| `{f}` | {v:.1%} |" for f, v in p["inclusive"]]
        lines += ["", "| project function | inclusive |", "|---|---|"]
        lines += [f"| `{f}` | {v:.1%} |" for f, v in p["project"]]
        lines += ["", "| function | self |", "|---|---|"]
        lines += [f"| `{f}` | {v:.1%} |" for f, v in p["self"]]
    return "\n".join(lines) + "\n"


def plot(r: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = r["steps"]
    x = [s["devices"] for s in steps]
    fig, (a, b) = plt.subplots(2, 1, figsize=(8, 7), sharex=True)
    a.plot(x, [s["worker_cpu_ms_per_reading"] for s in steps], "o-", label="sensors worker")
    a.plot(x, [s["broker_cpu_ms_per_reading"] for s in steps], "s--", label="noida-db broker")
    a.set_ylabel("CPU ms per reading")
    a.set_ylim(bottom=0)
    a.legend()
    a.grid(alpha=0.3)
    b.plot(x, [s["readings_per_s"] for s in steps], "o-", color="tab:green", label="service")
    raws = [r[k]["records_per_s"] for k in ("raw_before", "raw_after") if k in r]
    if raws:
        b.axhline(sum(raws) / len(raws), color="grey", ls=":", label="bare consumer (raw)")
        b.set_yscale("log")
    b.set_ylabel("readings/s")
    b.set_xlabel("registered devices")
    b.set_xscale("log")
    b.legend()
    b.grid(alpha=0.3)
    fig.suptitle(f"sensors: cost per reading against registered devices ({r['date'][:10]})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def save(r: dict[str, Any], label: str) -> None:
    ds.RESULTS.mkdir(parents=True, exist_ok=True)
    (ds.RESULTS / f"{label}.json").write_text(json.dumps(r, indent=1, ensure_ascii=False) + "\n")
    (ds.RESULTS / f"{label}.md").write_text(markdown(r))
    if r.get("steps"):
        plot(r, ds.RESULTS / f"{label}.png")


def main() -> None:
    args = parse()
    ds.quiet()
    sizes = ",".join(str(s) for s in args.sizes)
    result: dict[str, Any] = {
        "label": args.label,
        "command": f"bench/sensors.py --readings {args.readings} --sizes {sizes} "
        f"--main-size {args.main_size} --raw-readings {args.raw_readings}"
        + (" --profile" if args.profile else ""),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "loadavg_start": os.getloadavg()},
        "tree": ds_tree(),
    }
    try:
        asyncio.run(ds.until_sigterm(run(args, result)))
        result["machine"]["loadavg_end"] = os.getloadavg()
        result["summary"] = summary(result, args.main_size)
    finally:
        save(result, args.label)
    print(markdown(result))


def ds_tree() -> dict[str, Any]:
    def git(*argv: str) -> str:
        done = subprocess.run(["git", *argv], cwd=ds.REPO, capture_output=True, text=True)
        return done.stdout.strip()

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "uncommitted": git("status", "--porcelain", "--", "services/sensors").splitlines(),
    }


if __name__ == "__main__":
    main()
