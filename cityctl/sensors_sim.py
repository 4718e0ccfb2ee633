"""Simulated IoT devices of Lingang: a fleet, a signal model and a producer.

:func:`fleet` makes a deterministic set of devices across every town (water levels in the
low-lying grids and elsewhere, manhole covers, smoke detectors, noise meters, air-quality
stations, bins and streetlights). :func:`value` is the pure signal model: day and night,
bins filling and emptied, a rainstorm that floods the low-lying grids and recedes, a couple
of tilted covers and dark lamps, a slow drift on a few sensors. :func:`deliveries` decides,
also purely, what a flaky device sends: dropped readings, a silence long enough for a
heartbeat fault, a duplicate, a reading out of order. :func:`run` registers the fleet on
``sensor.devices`` and produces readings to ``sensor.readings`` (kafka-python).

Time is simulated: ``speed`` multiplies the clock. ``observed_at`` follows simulated time
and ``received_at`` is ``observed_at`` plus a network delay (or, for a reading sent out of
order, its late delivery), so a reading never comes from the future.
"""

from __future__ import annotations

import hashlib
import heapq
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shapely.geometry import Point

from cityops import jurisdiction, sensors
from cityops.contracts import GeoPoint, SensorReading
from cityops.contracts.devices import Asset, Device, DeviceRegistered
from cityops.jurisdiction import Jurisdictions
from cityops.kafka import encode
from cityops.settings import CommonSettings
from services.sensors.devices import Catalogues, DeviceCreate, DeviceRefused, register

log = logging.getLogger(__name__)

DEFAULT_SIZE = 300
# Real time: readings carry true times, so the heartbeat, the case timeline and a restarted
# demo all agree with the clock. The demo's storm is short instead (see DEMO_STORM_*).
DEMO_SPEED = 1.0
DEMO_STORM_AT_MIN = 1.0  # the demo's rainstorm starts a minute in
DEMO_STORM_FOR_MIN = 12.0  # rising 3 min, 6 min at its height, receding 3 min
LOW_LYING_PER_TOWN = 3
# Share of the fleet per type, and the prefix of its device ids.
MIX: dict[str, tuple[float, str, str]] = {
    "water_level": (0.15, "wl", "临港水务"),
    "manhole_cover": (0.15, "mc", "临港市政"),
    "smoke_detector": (0.12, "sd", "临港消防"),
    "noise_meter": (0.13, "nm", "临港生态环境"),
    "air_quality": (0.08, "aq", "临港生态环境"),
    "bin_fill": (0.20, "bf", "临港环卫"),
    "streetlight": (0.17, "sl", "临港路灯所"),
}
ZONES = ("1", "2", "3", "4a")
DRIFT_PER_H = {"water_depth_cm": 0.5, "noise_laeq": 0.4, "pm25": 1.5}
FLAKY_ODDS = {"drop": 0.10, "late": 0.05, "dup": 0.05}


def _unit(*parts: object) -> float:
    """A deterministic draw in [0, 1) for ``parts`` (no state: the model stays pure)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass(frozen=True)
class Traits:
    """What the simulator knows of a device that the registry does not."""

    phase: float  # per-device spread in [0, 1): offsets, rated power, fill rate
    low_lying: bool = False
    flaky: bool = False
    faulty: bool = False  # a dark lamp or a tilted cover
    drifting: bool = False  # its zero creeps up slowly (DRIFT_PER_H)


@dataclass(frozen=True)
class SimDevice:
    device: Device
    traits: Traits


@dataclass(frozen=True)
class Scenario:
    """Simulated time starts at ``start``; the storm at ``storm_at`` after it."""

    start: datetime
    seed: int = 7
    storm_at: timedelta = timedelta(minutes=10)
    storm_for: timedelta = timedelta(minutes=60)


def low_lying_grids(places: Jurisdictions, seed: int) -> frozenset[str]:
    """A few grids of every town that flood first."""
    chosen: set[str] = set()
    for town in sorted(places.towns):
        codes = sorted(g.code for g in places.grids.values() if g.town == town)
        chosen.update(
            random.Random(f"{seed}:{town}").sample(codes, min(LOW_LYING_PER_TOWN, len(codes)))
        )
    return frozenset(chosen)


def _counts(size: int) -> dict[str, int]:
    counts = {code: max(1, round(share * size)) for code, (share, _, _) in MIX.items()}
    counts["bin_fill"] += size - sum(counts.values())
    return counts


def _point(polygon, rng: random.Random) -> GeoPoint:  # type: ignore[no-untyped-def]
    minx, miny, maxx, maxy = polygon.bounds
    for _ in range(100):
        lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if polygon.contains(Point(lon, lat)):
            return GeoPoint(lat=round(lat, 6), lon=round(lon, 6))
    centre = polygon.representative_point()
    return GeoPoint(lat=round(centre.y, 6), lon=round(centre.x, 6))


def _spec(
    code: str,
    number: int,
    town: str,
    places: Jurisdictions,
    low: frozenset[str],
    rng: random.Random,
) -> DeviceCreate:
    _, prefix, maintainer = MIX[code]
    grids = sorted(g for g, grid in places.grids.items() if grid.town == town)
    if code == "water_level" and number % 2 == 0:
        grids = sorted(set(grids) & low) or grids
    where = _point(places.grids[rng.choice(grids)].polygon, rng)
    kind = sensors.load().type(code)
    asset = None
    if kind.asset_required:
        asset = Asset(
            category=rng.choice(kind.asset_classes), asset_id=f"{prefix.upper()}-{number:05d}"
        )
    zone = rng.choice(ZONES) if code == "noise_meter" else None
    return DeviceCreate(
        device_id=f"{prefix}-{number:04d}",
        type=code,
        location=where,
        maintainer=maintainer,
        asset=asset,
        acoustic_zone=zone,
    )


def fleet(seed: int = 7, size: int = DEFAULT_SIZE) -> list[DeviceCreate]:
    """``size`` devices of every type, spread over every town in turn; the same for a seed."""
    places = jurisdiction.load()
    low = low_lying_grids(places, seed)
    towns = sorted(places.towns)
    rng = random.Random(seed)
    specs, index = [], 0
    for code, count in _counts(size).items():
        for number in range(1, count + 1):
            specs.append(_spec(code, number, towns[index % len(towns)], places, low, rng))
            index += 1
    return specs


def _picked(devices: list[Device], seed: int, what: str, count: int) -> set[str]:
    ranked = sorted(devices, key=lambda d: _unit(seed, what, d.device_id))
    return {d.device_id for d in ranked[:count]}


def build(seed: int = 7, size: int = DEFAULT_SIZE) -> list[SimDevice]:
    """The fleet registered (devices outside the towns are skipped), with their traits."""
    refs = Catalogues.shipped()
    devices = []
    for spec in fleet(seed, size):
        try:
            devices.append(register(spec, refs))
        except DeviceRefused as exc:
            log.warning(
                "simulated device skipped", extra={"device_id": spec.device_id, "reason": str(exc)}
            )
    low = low_lying_grids(refs.places, seed)
    by_type = {code: [d for d in devices if d.type == code] for code in MIX}
    flooded = {d.device_id for d in by_type["water_level"] if d.grid in low}
    drifters = [
        d
        for d in devices
        if d.type in ("noise_meter", "air_quality")
        or (d.type == "water_level" and d.device_id not in flooded)
    ]
    flaky = _picked(devices, seed, "flaky", max(2, len(devices) // 50))
    faulty = _picked(by_type["streetlight"], seed, "dark", 2) | _picked(
        by_type["manhole_cover"], seed, "tilted", 2
    )
    drifting = _picked(drifters, seed, "drift", max(3, len(devices) // 60))
    return [
        SimDevice(
            d,
            Traits(
                phase=_unit(seed, "phase", d.device_id),
                low_lying=d.device_id in flooded,
                flaky=d.device_id in flaky,
                faulty=d.device_id in faulty,
                drifting=d.device_id in drifting,
            ),
        )
        for d in devices
    ]


# --- The signal model: pure functions of a device, a metric and a simulated instant. ---


def storm_level(at: datetime, scenario: Scenario) -> float:
    """The storm's water, 0 to 1: rising for a quarter of it, a half at its height, a
    quarter receding; 0 before and after."""
    share = (at - scenario.start - scenario.storm_at) / scenario.storm_for
    if share <= 0 or share >= 1:
        return 0.0
    return min(1.0, share / 0.25, (1 - share) / 0.25)


def _local_hours(at: datetime) -> float:
    local = sensors.local_time(at)
    return local.hour + local.minute / 60 + local.second / 3600


def _jitter(sim: SimDevice, metric: str, at: datetime, scenario: Scenario) -> float:
    """Measurement noise in [-1, 1)."""
    return 2 * _unit(scenario.seed, sim.device.device_id, metric, at.timestamp()) - 1


def _water(sim: SimDevice, at: datetime, scenario: Scenario) -> float:
    peak = 20 + 20 * sim.traits.phase if sim.traits.low_lying else 1 + 2 * sim.traits.phase
    return 1.0 + sim.traits.phase * 0.5 + peak * storm_level(at, scenario)


def _tilted(sim: SimDevice, at: datetime, scenario: Scenario) -> bool:
    since = at - scenario.start - timedelta(minutes=15 + 30 * sim.traits.phase)
    return sim.traits.faulty and timedelta(0) <= since < timedelta(minutes=30)


def _noise(sim: SimDevice, at: datetime) -> float:
    catalogue = sensors.load()
    zone = catalogue.zone(sim.device.acoustic_zone or "2")
    period = catalogue.day_night.period(at)
    return zone.limit(period) - (8 if period == "day" else 7) + 2 * sim.traits.phase


def _pm25(sim: SimDevice, at: datetime) -> float:
    hours = _local_hours(at)
    rush = 1.0 if 7 <= hours < 9 or 17 <= hours < 19 else 0.0
    return 20 + 20 * sim.traits.phase + 10 * rush


def _fill(sim: SimDevice, at: datetime) -> float:
    """Filled at 1.5-4.5 %/h since the daily round at 05:00-07:00; the fast ones overflow."""
    emptied_at = 5 + 2 * sim.traits.phase
    since = (_local_hours(at) - emptied_at) % 24
    return 3 + (1.5 + 3 * sim.traits.phase) * since


def _lamp(sim: SimDevice, at: datetime) -> float:
    """On from about 18:00 to 05:30 at 60-120 W; a dark lamp draws nothing."""
    hours = _local_hours(at)
    on = hours >= 18 + 0.5 * sim.traits.phase or hours < 5.5 + 0.5 * sim.traits.phase
    return 60 + 60 * sim.traits.phase if on and not sim.traits.faulty else 0.0


def _signal(sim: SimDevice, metric: str, at: datetime, scenario: Scenario) -> tuple[float, float]:
    """The true value of ``metric`` and the size of its noise."""
    if metric == "water_depth_cm":
        return _water(sim, at, scenario), 0.5
    if metric == "tilt_deg":
        return (25 + 15 * sim.traits.phase if _tilted(sim, at, scenario) else 1.5), 1.0
    if metric == "displacement_mm":
        return (40 + 40 * sim.traits.phase if _tilted(sim, at, scenario) else 1.5), 1.5
    if metric == "smoke_obscuration":
        return 0.5, 0.3
    if metric == "noise_laeq":
        return _noise(sim, at), 2.0
    if metric == "pm25":
        return _pm25(sim, at), 3.0
    if metric == "fill_pct":
        return _fill(sim, at), 1.0
    if metric == "lamp_power_w":
        power = _lamp(sim, at)
        return power, 2.0 if power else 0.0
    raise KeyError(f"no signal model for metric {metric!r}")


def value(sim: SimDevice, metric: str, at: datetime, scenario: Scenario) -> float:
    """What the device measures of ``metric`` at ``at``: the same for the same arguments."""
    true, noise = _signal(sim, metric, at, scenario)
    if sim.traits.drifting:
        true += DRIFT_PER_H.get(metric, 0.0) * (at - scenario.start) / timedelta(hours=1)
    rule = sensors.load().type(sim.device.type).rule_for(metric)
    low, high = rule.range if rule else (float("-inf"), float("inf"))
    return round(min(high, max(low, true + noise * _jitter(sim, metric, at, scenario))), 2)


# --- Delivery: when a device reports, and what a flaky one gets wrong. ---


def tick(sim: SimDevice, k: int, scenario: Scenario) -> datetime:
    """When the device takes its ``k``-th measurement (devices spread over their interval)."""
    interval = sim.device.interval_s
    return scenario.start + timedelta(seconds=int(sim.traits.phase * interval) + k * interval)


def silent(sim: SimDevice, at: datetime, scenario: Scenario) -> bool:
    """A flaky device goes quiet once, for twice the silence that makes a heartbeat fault."""
    since = at - scenario.start - timedelta(minutes=20 + 40 * sim.traits.phase)
    quiet = 2 * sim.device.silent_after + timedelta(seconds=sim.device.interval_s)
    return sim.traits.flaky and timedelta(0) <= since < quiet


def fate(sim: SimDevice, k: int, scenario: Scenario) -> str:
    """What becomes of measurement ``k``: ok, silent, drop, late (sent after the next
    one), or dup (sent twice)."""
    if not sim.traits.flaky:
        return "ok"
    if silent(sim, tick(sim, k, scenario), scenario):
        return "silent"
    draw = _unit(scenario.seed, "fate", sim.device.device_id, k)
    for what, odds in FLAKY_ODDS.items():
        if draw < odds:
            return what
        draw -= odds
    return "ok"


def deliveries(sim: SimDevice, k: int, scenario: Scenario) -> list[int]:
    """The measurements the device sends at its ``k``-th tick, in the order sent."""
    now = fate(sim, k, scenario)
    sent = {"ok": [k], "dup": [k, k]}.get(now, [])
    if k > 0 and now != "silent" and fate(sim, k - 1, scenario) == "late":
        sent.append(k - 1)
    return sent


def received(sim: SimDevice, k: int, scenario: Scenario) -> datetime:
    """When the platform receives what the device sends at tick ``k``: 0.2-2 s later."""
    delay = 0.2 + 1.8 * _unit(scenario.seed, "delay", sim.device.device_id, k)
    return tick(sim, k, scenario) + timedelta(seconds=round(delay, 3))


def readings(sim: SimDevice, k: int, scenario: Scenario) -> list[SensorReading]:
    """The readings the device sends at tick ``k``, one per metric of each measurement."""
    device, at = sim.device, received(sim, k, scenario)
    rules = sensors.load().type(device.type).rules
    out = []
    for j in deliveries(sim, k, scenario):
        observed = tick(sim, j, scenario)
        for rule in rules:
            out.append(
                SensorReading(
                    reading_id=f"{device.device_id}-{int(observed.timestamp())}-{rule.metric}",
                    device_id=device.device_id,
                    device_type=device.type,
                    metric=rule.metric,
                    value=value(sim, rule.metric, observed, scenario),
                    unit=rule.unit,
                    location=device.location,
                    observed_at=observed,
                    received_at=at,
                )
            )
    return out


def schedule(
    devices: list[SimDevice], scenario: Scenario
) -> Iterator[tuple[datetime, list[SensorReading]]]:
    """Every device's sends, in the order the platform receives them; endless."""
    due = [(received(sim, 0, scenario), i, 0) for i, sim in enumerate(devices)]
    heapq.heapify(due)
    while due:
        at, i, k = heapq.heappop(due)
        heapq.heappush(due, (received(devices[i], k + 1, scenario), i, k + 1))
        yield at, readings(devices[i], k, scenario)


def per_second(devices: list[SimDevice], speed: float = 1.0) -> float:
    """Readings a second the fleet sends at ``speed`` (flaky losses aside)."""
    catalogue = sensors.load()
    rate = sum(len(catalogue.type(s.device.type).rules) / s.device.interval_s for s in devices)
    return rate * speed


# --- The edge: options, the fleet summary, the dry run and the producer loop. ---


@dataclass(frozen=True)
class SimOptions:
    devices: int = DEFAULT_SIZE
    seed: int = 7
    speed: float = DEMO_SPEED  # simulated seconds per wall-clock second
    storm_at_min: float = 10.0  # simulated minutes after the start
    storm_for_min: float = 60.0
    duration_s: float | None = None  # wall-clock seconds to run; None: until stopped
    count: int | None = None  # readings to send; None: no limit

    def scenario(self, start: datetime) -> Scenario:
        return Scenario(
            start.replace(microsecond=0),
            self.seed,
            timedelta(minutes=self.storm_at_min),
            timedelta(minutes=self.storm_for_min),
        )


def summary(devices: list[SimDevice], options: SimOptions) -> list[str]:
    """What the fleet is, in a few lines for people."""
    types = Counter(s.device.type for s in devices)
    towns = Counter(s.device.town for s in devices)
    marked = {
        what: sum(getattr(s.traits, what) for s in devices)
        for what in ("low_lying", "flaky", "faulty", "drifting")
    }
    storm_at, storm_for = (
        m * 60 / options.speed for m in (options.storm_at_min, options.storm_for_min)
    )
    return [
        f"{len(devices)} devices: " + ", ".join(f"{t} {n}" for t, n in types.items()),
        "towns: " + ", ".join(f"{t} {n}" for t, n in sorted(towns.items())),
        f"water levels in low-lying grids {marked['low_lying']}, flaky {marked['flaky']}, "
        f"dark lamps or tilted covers {marked['faulty']}, drifting {marked['drifting']}",
        f"speed x{options.speed:g}: {per_second(devices, options.speed):.1f} readings/s; "
        f"rainstorm after {storm_at:.0f} s for {storm_for:.0f} s",
    ]


def dry_run(options: SimOptions, out: Callable[[str], None], note: Callable[[str], None]) -> int:
    """The fleet summary to ``note`` and the first readings to ``out`` as JSON lines."""
    devices = build(options.seed, options.devices)
    for line in summary(devices, options):
        note(line)
    scenario = options.scenario(datetime.now(UTC))
    limit, made = options.count or 50, 0
    for _, batch in schedule(devices, scenario):
        for reading in batch[: limit - made]:
            out(reading.model_dump_json())
            made += 1
        if made >= limit:
            break
    return made


def _register_all(producer, devices: list[SimDevice], topic: str) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    for sim in devices:
        record = DeviceRegistered(device=sim.device, registered_at=now)
        producer.send(topic, key=sim.device.device_id.encode(), value=encode(record))
    producer.flush()


def run(
    settings: CommonSettings,
    options: SimOptions,
    stop: threading.Event | None = None,
    devices: list[SimDevice] | None = None,
) -> int:
    """Register the fleet, then send its readings paced by ``options.speed`` until ``stop``
    is set, ``duration_s`` has passed or ``count`` readings are sent. Returns the count."""
    from kafka import KafkaProducer  # the command-line client; loaded only to produce

    stop = stop or threading.Event()
    devices = devices if devices is not None else build(options.seed, options.devices)
    scenario = options.scenario(datetime.now(UTC))
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        linger_ms=20,
        client_id="cityops-sensors-sim",
    )
    topic, made = settings.topics.sensor_readings, 0
    log.info("sensor simulator starting", extra={"devices": len(devices), "speed": options.speed})
    try:
        _register_all(producer, devices, settings.topics.sensor_devices)
        origin = time.monotonic()
        for at, batch in schedule(devices, scenario):
            wall = (at - scenario.start).total_seconds() / options.speed
            if options.duration_s is not None and wall > options.duration_s:
                break
            if stop.wait(max(0.0, wall - (time.monotonic() - origin))):
                break
            for reading in batch:
                producer.send(topic, key=reading.device_id.encode(), value=encode(reading))
            made += len(batch)
            if options.count is not None and made >= options.count:
                break
    finally:
        producer.flush(timeout=10)
        producer.close(timeout=10)
        log.info("sensor simulator stopped", extra={"readings": made})
    return made
