"""Sensor readings through the whole stack: sensors → dispatch → indexer, each in its own
process, on the real broker.

- a storm: 40 water-level sensors flooded for an hour of event time make 40–45 cases, and
  every one is verified by its sensor once the water recedes;
- an independent producer (``kcat``) writes readings that become a case;
- bad readings reach ``deadletter.sensors`` with their reason, and nothing else is lost.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from prometheus_client.parser import text_string_to_metric_families

from cityops import jurisdiction
from cityops.contracts import (
    CaseEvent,
    DeadLetter,
    DeviceNotice,
    EventKind,
    GeoPoint,
    Role,
    SensorReading,
)
from cityops.contracts.devices import Device, DeviceRegistered
from cityops.kafka import decode, encode, make_consumer, make_producer
from services.sensors.devices import Asset, Catalogues, DeviceCreate, register
from tests.e2e.conftest import Stack
from tests.integration.conftest import eventually

pytestmark = pytest.mark.e2e

STEP = timedelta(seconds=10)


def grid_points(n: int, stride: int = 9) -> list[GeoPoint]:
    """``n`` points, each inside a different unit grid (the grids' representative points)."""
    grids = list(jurisdiction.load().grids.values())[::stride][:n]
    points = [g.polygon.representative_point() for g in grids]
    return [GeoPoint(lat=p.y, lon=p.x) for p in points]


def devices(kind: str, points: Iterable[GeoPoint], prefix: str, **extra: object) -> list[Device]:
    refs = Catalogues.shipped()
    return [
        register(
            DeviceCreate(
                device_id=f"{prefix}-{i:03d}",
                type=kind,
                location=point,
                maintainer="lingang-iot",
                **extra,  # type: ignore[arg-type]
            ),
            refs,
        )
        for i, point in enumerate(points)
    ]


def reading(device: Device, at: datetime, value: float, metric: str, unit: str) -> SensorReading:
    return SensorReading(
        reading_id=f"{device.device_id}-{int(at.timestamp())}",
        device_id=device.device_id,
        device_type=device.type,
        metric=metric,
        value=value,
        unit=unit,
        observed_at=at,
        received_at=at + timedelta(seconds=1),
    )


async def produce(stack: Stack, topic: str, records: Iterable[tuple[str, bytes]]) -> None:
    producer = make_producer(stack.settings)
    await producer.start()
    try:
        sent = [await producer.send(topic, value, key=key.encode()) for key, value in records]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def register_all(stack: Stack, fleet: list[Device]) -> None:
    now = datetime.now(UTC)
    records = [(d.device_id, encode(DeviceRegistered(device=d, registered_at=now))) for d in fleet]
    await produce(stack, stack.settings.topics.sensor_devices, records)


class Events:
    """Every case event so far, read from ``cases.events`` by a real consumer."""

    def __init__(self, stack: Stack) -> None:
        # no consumer group: every partition from the start, and no rebalance can move the
        # position while the test is busy producing or killing a worker
        self.consumer = AIOKafkaConsumer(
            stack.settings.topics.cases_events,
            bootstrap_servers=stack.settings.kafka_bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            isolation_level="read_committed",
        )
        self.by_case: dict[str, list[CaseEvent]] = defaultdict(list)

    async def __aenter__(self) -> Events:
        await self.consumer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.consumer.stop()

    async def poll(self) -> None:
        batch = await self.consumer.getmany(timeout_ms=300)
        for records in batch.values():
            for r in records:
                event = decode(CaseEvent, r.value)
                self.by_case[event.case_id].append(event)

    def case_of(self, source_id: str) -> str | None:
        """The case that holds ``source_id`` now (the last event naming it wins)."""
        owner = None
        for case_id, events in self.by_case.items():
            for e in events:
                sources = [e.data["source"]] if "source" in e.data else e.data.get("sources", [])
                if any(s and s.get("source_id") == source_id for s in sources or []):
                    owner = case_id
        return owner

    def kinds(self, case_id: str) -> list[EventKind]:
        return [e.kind for e in self.by_case[case_id]]

    def sensor_cases(self, prefix: str) -> dict[str, list[str]]:
        """case id → the sensor source ids it holds, for devices named ``prefix``."""
        out: dict[str, list[str]] = defaultdict(list)
        for case_id, events in self.by_case.items():
            for e in events:
                sources = (
                    [e.data.get("source")] if "source" in e.data else e.data.get("sources", [])
                )
                for s in sources or []:
                    if s and s["source_id"].startswith(f"sensor:{prefix}-"):
                        out[case_id].append(s["source_id"])
        return out


def storm_depth(minute: float) -> float:
    """Dry, flooded from minute 10 to 40 (25 cm against the 15 cm threshold), drained."""
    if minute < 10:
        return 2.0
    if minute < 40:
        return 25.0
    return 1.0


async def test_a_storm_over_40_sensors_makes_about_40_cases_each_verified_by_its_sensor(
    stack: Stack,
) -> None:
    fleet = devices("water_level", grid_points(40), "storm")
    await register_all(stack, fleet)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=62)
    records = [
        (
            d.device_id,
            encode(reading(d, start + i * STEP, storm_depth(i / 6), "water_depth_cm", "cm")),
        )
        for i in range(360)  # one hour at one reading every 10 s
        for d in fleet
    ]
    await produce(stack, stack.settings.topics.sensor_readings, records)

    async with Events(stack) as events:

        async def all_verified() -> bool:
            await events.poll()
            cases = events.sensor_cases("storm")
            return len(cases) >= 40 and all(
                EventKind.SENSOR_VERIFIED in events.kinds(c) for c in cases
            )

        await eventually(all_verified, timeout=300, interval=0.2)
        await asyncio.sleep(3)  # anything late (a second case for one device) shows up now
        await events.poll()
        cases = events.sensor_cases("storm")
    assert 40 <= len(cases) <= 45, stack.logs()
    devices_with_a_case = {sid.split(":")[1] for sids in cases.values() for sid in sids}
    assert devices_with_a_case == {d.device_id for d in fleet}
    for case_id in cases:
        kinds = events.kinds(case_id)
        assert kinds.count(EventKind.SENSOR_VERIFIED) == 1, kinds
        assert kinds[-1] is EventKind.CLOSED, kinds  # the water drained: the case closes itself


async def test_readings_from_kcat_become_a_case(stack: Stack) -> None:
    kcat = shutil.which("kcat") or shutil.which("kafkacat")
    if kcat is None:
        pytest.skip("kcat is not installed (make test-deps installs it on Debian)")
    (device,) = devices(
        "manhole_cover",
        grid_points(1, stride=17),
        "kcat",
        asset=Asset(category="C0101", asset_id="JG-KCAT-1"),
    )
    await register_all(stack, [device])
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=20)
    lines = [
        reading(device, start + timedelta(minutes=5 * i), 40.0, "tilt_deg", "deg").model_dump_json()
        for i in range(3)
    ]
    # kcat's own partitioner (not Java's): no key at all; the service moves the readings
    # to their device's partition
    subprocess.run(
        [
            kcat,
            "-P",
            "-b",
            stack.settings.kafka_bootstrap,
            "-t",
            stack.settings.topics.sensor_readings,
        ],
        input="\n".join(lines).encode(),
        check=True,
        timeout=60,
    )
    async with Events(stack) as events:

        async def opened() -> bool:
            await events.poll()
            return len(events.sensor_cases("kcat")) == 1

        await eventually(opened, timeout=120, interval=0.2)
    ((case_id, sources),) = events.sensor_cases("kcat").items()
    assert sources == [f"sensor:{device.device_id}:cover_tilted:1"]
    opened_event = events.by_case[case_id][0]
    assert opened_event.data["classification"]["category"] == "E0507"
    assert opened_event.data["source"]["sensor"]["readings"], "the chart's readings travel"


async def test_bad_readings_are_dead_lettered_with_their_reason(stack: Stack) -> None:
    (device,) = devices("water_level", grid_points(1, stride=23), "bad")
    await register_all(stack, [device])
    now = datetime.now(UTC).replace(microsecond=0)
    good = reading(device, now, 3.0, "water_depth_cm", "cm")
    future = reading(device, now + timedelta(minutes=30), 3.0, "water_depth_cm", "cm")
    future = future.model_copy(update={"received_at": now})
    unknown = good.model_copy(update={"device_id": "nobody-1", "reading_id": "x-1"})
    out_of_range = reading(device, now + timedelta(seconds=10), 9999.0, "water_depth_cm", "cm")
    late = reading(device, now - timedelta(minutes=10), 3.0, "water_depth_cm", "cm")
    bad = {
        "malformed": (device.device_id, b"{not json"),
        "unknown": ("nobody-1", encode(unknown)),
        "future": (device.device_id, encode(future)),
        "range": (device.device_id, encode(out_of_range)),
        "late": (device.device_id, encode(late)),  # 10 min before the newest: past 300 s
    }
    resent = (device.device_id, encode(good))  # a duplicate is skipped, not dead-lettered
    await produce(
        stack,
        stack.settings.topics.sensor_readings,
        [(device.device_id, encode(good)), *bad.values(), resent],
    )
    topic = stack.settings.topics.dead_letter("sensors")
    consumer = make_consumer(stack.settings, "test-letters", [topic])
    await consumer.start()
    letters: list[DeadLetter] = []
    try:

        async def five() -> bool:
            batch = await consumer.getmany(timeout_ms=300)
            letters.extend(decode(DeadLetter, r.value) for rs in batch.values() for r in rs)
            return len(letters) >= 5

        await eventually(five, timeout=120, interval=0.1)
        await asyncio.sleep(2)  # a sixth (the duplicate) would show up now
        batch = await consumer.getmany(timeout_ms=500)
        letters.extend(decode(DeadLetter, r.value) for rs in batch.values() for r in rs)
    finally:
        await consumer.stop()
    reasons = sorted(letter.reason for letter in letters)
    assert len(letters) == 5, reasons
    assert any(r.startswith("late") for r in reasons), reasons
    assert any("unknown device" in r for r in reasons), reasons
    assert any("JSON" in r or "json" in r for r in reasons), reasons
    assert any("future" in r or "skew" in r or "ahead" in r for r in reasons), reasons
    assert any("range" in r for r in reasons), reasons


def grid_worker_report(point: GeoPoint, key: str) -> dict[str, object]:
    """A grid worker's photo report of a lifted cover a few metres from ``point``."""
    return {
        "idempotency_key": key,
        "source_type": "grid_worker",
        "text": "巡查发现路口井盖翘起移位，车辆经过有响声，已拍照，请尽快处理",
        "location": {"lat": point.lat + 0.00004, "lon": point.lon},
        "category_hint": "E0507",
        "photos": [f"https://photos.example/{key}.jpg"],
    }  # the reporter is the signed-in grid worker


def cover_readings(device: Device, start: datetime) -> list[tuple[str, bytes]]:
    """Three tilted readings, five minutes apart: 2 of 3 breaches open the incident."""
    return [
        (
            device.device_id,
            encode(reading(device, start + timedelta(minutes=5 * i), 35.0, "tilt_deg", "deg")),
        )
        for i in range(3)
    ]


async def test_a_cover_alarm_and_a_grid_workers_report_make_one_case_in_either_order(
    stack: Stack,
) -> None:
    first, second = grid_points(2, stride=31)
    alarm_first, report_first = (
        devices(
            "manhole_cover",
            [point],
            name,
            asset=Asset(category="C0101", asset_id=f"JG-{name}"),
        )[0]
        for point, name in ((first, "order-a"), (second, "order-b"))
    )
    await register_all(stack, [alarm_first, report_first])
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=12)
    readings = stack.settings.topics.sensor_readings
    async with (
        Events(stack) as events,
        httpx.AsyncClient(
            base_url=stack.api_url, timeout=30, headers=stack.auth(Role.DISPATCHER)
        ) as client,
    ):
        # order A: the sensor's alarm opens the case, the grid worker's report joins it
        await produce(stack, readings, cover_readings(alarm_first, start))

        async def alarm_opened() -> bool:
            await events.poll()
            return len(events.sensor_cases("order-a")) == 1

        await eventually(alarm_opened, timeout=120, interval=0.2)
        answer = await client.post(
            "/api/v1/reports",
            json=grid_worker_report(first, "corr-order-a"),
            headers=stack.auth(Role.GRID_WORKER),
        )
        assert answer.status_code == 202, answer.text
        report_a = answer.json()["report_id"]

        # order B: the report opens the case, the alarm joins it
        answer = await client.post(
            "/api/v1/reports",
            json=grid_worker_report(second, "corr-order-b"),
            headers=stack.auth(Role.GRID_WORKER),
        )
        assert answer.status_code == 202, answer.text
        report_b = answer.json()["report_id"]

        async def report_opened() -> bool:
            await events.poll()
            return events.case_of(report_b) is not None

        await eventually(report_opened, timeout=120, interval=0.2)
        await produce(stack, readings, cover_readings(report_first, start))

        async def both_joined() -> bool:
            await events.poll()
            return len(events.sensor_cases("order-b")) == 1 and events.case_of(report_a) is not None

        await eventually(both_joined, timeout=120, interval=0.2)
        for report_id, prefix in ((report_a, "order-a"), (report_b, "order-b")):
            ((case_id, _),) = events.sensor_cases(prefix).items()
            assert events.case_of(report_id) == case_id, stack.logs()

            async def shows_both(case_id: str = case_id) -> bool:
                answer = await client.get(f"/api/v1/cases/{case_id}")
                return answer.status_code == 200 and answer.json()["report_count"] == 2

            await eventually(shows_both, timeout=60, interval=0.5)
            case = (await client.get(f"/api/v1/cases/{case_id}")).json()
            assert sorted(s["source_type"] for s in case["sources"]) == ["grid_worker", "sensor"]


async def read_notices(stack: Stack, n: int) -> list[DeviceNotice]:
    topic = stack.settings.topics.sensor_notices
    consumer = make_consumer(stack.settings, "test-notices", [topic])
    await consumer.start()
    found: list[DeviceNotice] = []
    try:

        async def enough() -> bool:
            batch = await consumer.getmany(timeout_ms=300)
            found.extend(decode(DeviceNotice, r.value) for rs in batch.values() for r in rs)
            return len(found) >= n

        await eventually(enough, timeout=120, interval=0.1)
    finally:
        await consumer.stop()
    return found


async def test_a_silent_device_raises_one_fault_for_its_maintainer_and_is_back_when_heard(
    stack: Stack,
) -> None:
    # reports every 2 s, so it is silent after 5 missed intervals: 10 s
    (device,) = devices("water_level", grid_points(1, stride=41), "mute", interval_s=2)
    await register_all(stack, [device])
    (fault,) = await read_notices(stack, 1)
    assert (fault.kind, fault.device_id, fault.maintainer) == (
        "fault",
        device.device_id,
        "lingang-iot",
    )
    assert "未上报数据" in fault.text
    now = datetime.now(UTC).replace(microsecond=0)
    await produce(
        stack,
        stack.settings.topics.sensor_readings,
        [(device.device_id, encode(reading(device, now, 3.0, "water_depth_cm", "cm")))],
    )
    notices = await read_notices(stack, 2)
    assert [n.kind for n in notices][:2] == ["fault", "back"], notices
    assert notices[1].number == fault.number == 1


def episodes(device: Device, start: datetime, gap: timedelta, n: int) -> list[tuple[str, bytes]]:
    """``n`` floods at one sensor, each 20 minutes deep then 20 minutes dry, ``gap`` apart
    (longer than the rule's relapse window, so each is a new incident)."""
    out = []
    for e in range(n):
        t0 = start + e * gap
        for i in range(40):  # one reading a minute
            depth = 25.0 if i < 20 else 1.0
            at = t0 + timedelta(minutes=i)
            out.append(
                (device.device_id, encode(reading(device, at, depth, "water_depth_cm", "cm")))
            )
    return out


async def test_the_third_flood_at_one_place_in_30_days_opens_a_proactive_case(
    stack: Stack,
) -> None:
    (device,) = devices("water_level", grid_points(1, stride=53), "often")
    await register_all(stack, [device])
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=16)
    floods = episodes(device, start, timedelta(hours=7), 3)

    def proactive(events: Events) -> list[CaseEvent]:
        return [
            e
            for evs in events.by_case.values()
            for e in evs
            if e.kind is EventKind.OPENED and e.data["source"]["source_type"] == "proactive"
        ]

    async with Events(stack) as events:
        for n in range(3):  # each flood drains (its case closes) before the next one comes
            await produce(
                stack, stack.settings.topics.sensor_readings, floods[n * 40 : n * 40 + 40]
            )

            async def closed(n: int = n) -> bool:
                await events.poll()
                cases = events.sensor_cases("often")
                done = [c for c in cases if EventKind.CLOSED in events.kinds(c)]
                return len(done) == n + 1

            await eventually(closed, timeout=120, interval=0.2)

        async def hotspot() -> bool:
            await events.poll()
            return bool(proactive(events))

        await eventually(hotspot, timeout=120, interval=0.2)
    assert len(events.sensor_cases("often")) == 3
    (opened,) = proactive(events)
    assert opened.data["source"]["text"].startswith("近30天第3次道路积水："), opened.data
    assert opened.data["classification"]["category"] == "E0503"
    assert opened.data["classification"]["grid"] == device.grid


async def sent_to_wait(stack: Stack, n: int) -> bool:
    """Whether the sensors worker has sent ``n`` readings to wait for their device (its
    own count, on its metrics page)."""
    async with httpx.AsyncClient(timeout=10) as client:
        page = (await client.get(f"http://127.0.0.1:{stack.ports['sensors']}/metrics")).text
    waited = [
        sample.value
        for family in text_string_to_metric_families(page)
        for sample in family.samples
        if sample.name == "cityops_sensor_readings_processed_total"
        and sample.labels.get("outcome") == "waiting_for_device"
    ]
    return sum(waited) >= n


async def test_readings_sent_just_before_their_device_is_registered_wait_for_it(
    stack: Stack,
) -> None:
    """A cover's readings sent before its registration make its case. A water gauge's
    flood is sent before its registration and its draining right after: the drained
    readings, though judged after the device is known, queue behind the flooded ones, so
    none is overtaken and refused as late, and the case is opened and then verified."""
    (cover,) = devices(
        "manhole_cover",
        grid_points(1, stride=61),
        "early",
        asset=Asset(category="C0101", asset_id="JG-EARLY-1"),
    )
    (gauge,) = devices("water_level", grid_points(1, stride=67), "backlog")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=62)
    depths = [
        (gauge.device_id, encode(reading(gauge, start + i * STEP, storm_depth(i / 6),
                                         "water_depth_cm", "cm")))
        for i in range(60 * 6)
    ]  # fmt: skip
    readings = stack.settings.topics.sensor_readings
    await produce(stack, readings, cover_readings(cover, start) + depths[: 40 * 6])
    await eventually(lambda: sent_to_wait(stack, 40 * 6 + 3), timeout=60, interval=0.1)
    await register_all(stack, [cover, gauge])  # well inside the e2e stack's wait (15 s)
    # read by now, most likely, while the first readings wait their 2 s: the rest (dry), 20
    # minutes on, would overtake them and make them late
    await asyncio.sleep(0.5)
    await produce(stack, readings, depths[40 * 6 :])
    async with Events(stack) as events:

        async def verified() -> bool:
            await events.poll()
            gauge_cases = list(events.sensor_cases("backlog"))
            return len(events.sensor_cases("early")) == 1 and any(
                EventKind.SENSOR_VERIFIED in events.kinds(c) for c in gauge_cases
            )

        await eventually(verified, timeout=120, interval=0.2)
        assert len(events.sensor_cases("backlog")) == 1, events.sensor_cases("backlog")


async def test_a_sensors_worker_killed_mid_storm_loses_no_incident_and_makes_none_twice(
    stack: Stack,
) -> None:
    fleet = devices("water_level", grid_points(12, stride=19), "killed")
    await register_all(stack, fleet)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=62)

    def minutes(first: int, last: int) -> list[tuple[str, bytes]]:
        return [
            (
                d.device_id,
                encode(reading(d, start + i * STEP, storm_depth(i / 6), "water_depth_cm", "cm")),
            )
            for i in range(first * 6, last * 6)
            for d in fleet
        ]

    readings = stack.settings.topics.sensor_readings
    await produce(stack, readings, minutes(0, 25))  # flooded since minute 10
    async with Events(stack) as events:

        async def some_opened() -> bool:
            await events.poll()
            return len(events.sensor_cases("killed")) >= 3

        await eventually(some_opened, timeout=120, interval=0.2)
        worker = stack.processes["sensors"]
        worker.kill()  # SIGKILL: no clean shutdown, offsets and tables as they were
        await produce(stack, readings, minutes(25, 60))  # the rest, while it is down
        worker.start()

        async def all_verified() -> bool:
            await events.poll()
            cases = events.sensor_cases("killed")
            return len(cases) >= 12 and all(
                EventKind.SENSOR_VERIFIED in events.kinds(c) for c in cases
            )

        try:
            await eventually(all_verified, timeout=240, interval=0.3)
        except AssertionError:
            cases = events.sensor_cases("killed")
            states = {c: [k.value for k in events.kinds(c)] for c in cases}
            raise AssertionError(f"{len(cases)} cases: {states}\n{stack.logs()}") from None
        await asyncio.sleep(3)
        await events.poll()
    cases = events.sensor_cases("killed")
    assert 12 <= len(cases) <= 13, stack.logs()
    per_device: dict[str, set[str]] = defaultdict(set)
    for sids in cases.values():
        for sid in sids:
            per_device[sid.split(":")[1]].add(sid)
    assert all(len(s) == 1 for s in per_device.values()), per_device  # one incident each
