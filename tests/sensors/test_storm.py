"""A rainstorm floods 40 water-level sensors for an hour: about 40 incidents, not thousands,
and every one of them is recovered (verified by its sensor) after the water recedes."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

from cityops import sensors
from cityops.contracts import GeoPoint, SensorReading
from services.sensors import rules
from services.sensors.devices import Device
from services.sensors.incidents import IncidentOpened, IncidentRecovered
from services.sensors.refusals import Refused
from services.sensors.state import DeviceState
from tests.sensors.builders import T0, device

EVERY = timedelta(seconds=10)
DRY_MIN, RISE_MIN, FLOOD_MIN, RECEDE_MIN, AFTER_MIN = 10, 20, 60, 20, 30


def depth(minute: float, peak: float, rng: random.Random) -> float:
    """Dry, rising, flooded for an hour, receding, dry; with gauge noise of ±3 cm."""
    t = minute - DRY_MIN
    if t < 0:
        level = 0.0
    elif t < RISE_MIN:
        level = peak * t / RISE_MIN
    elif t < RISE_MIN + FLOOD_MIN:
        level = peak
    elif t < RISE_MIN + FLOOD_MIN + RECEDE_MIN:
        level = peak * (1 - (t - RISE_MIN - FLOOD_MIN) / RECEDE_MIN)
    else:
        level = 0.0
    noise = rng.uniform(-3, 3) if level > 0 else rng.uniform(0, 1)
    return max(0.0, level + noise)


def storm(devices: list[Device], rng: random.Random) -> list[SensorReading]:
    """Every device's readings, delivered as a network would: interleaved, each up to 30 s
    out of order, and one in fifty sent twice."""
    peaks = {d.device_id: rng.choice([17.0, 20.0, 30.0, 45.0]) for d in devices}
    total = DRY_MIN + RISE_MIN + FLOOD_MIN + RECEDE_MIN + AFTER_MIN
    arrivals: list[tuple[float, SensorReading]] = []
    for d in devices:
        for i in range(int(total * 60 / EVERY.total_seconds())):
            at = T0 + i * EVERY
            r = SensorReading(
                reading_id=f"{d.device_id}-{i}",
                device_id=d.device_id,
                device_type="water_level",
                metric="water_depth_cm",
                value=round(depth(i * EVERY.total_seconds() / 60, peaks[d.device_id], rng), 1),
                unit="cm",
                observed_at=at,
                received_at=at + timedelta(seconds=2),
            )
            delay = rng.uniform(0, 30)
            arrivals.append((at.timestamp() + delay, r))
            if rng.random() < 0.02:
                arrivals.append((at.timestamp() + delay + rng.uniform(0, 60), r))
    arrivals.sort(key=lambda pair: pair[0])
    return [r for _, r in arrivals]


def test_forty_flooded_sensors_make_forty_to_forty_five_incidents_all_recovered() -> None:
    rng = random.Random(20260701)
    devices = [
        device(device_id=f"wl-{n:03d}", location=GeoPoint(lat=30.89 + n * 1e-4, lon=121.91))
        for n in range(40)
    ]
    by_id = {d.device_id: d for d in devices}
    states = {d.device_id: DeviceState(d.device_id) for d in devices}
    readings = storm(devices, rng)
    assert len(readings) > 40 * 800  # about 34,000 readings

    counts: Counter[str] = Counter()
    opened: dict[str, set[int]] = {d.device_id: set() for d in devices}
    recovered: dict[str, set[int]] = {d.device_id: set() for d in devices}
    catalogue = sensors.load()
    for r in readings:
        d = by_id[r.device_id]
        states[d.device_id], outputs = rules.process(states[d.device_id], r, d, catalogue)
        for o in outputs:
            counts[type(o).__name__] += 1
            if isinstance(o, IncidentOpened):
                opened[d.device_id].add(o.number)
            elif isinstance(o, IncidentRecovered):
                recovered[d.device_id].add(o.number)
            assert not isinstance(o, Refused), o  # nothing is late by 30 s

    assert 40 <= counts["IncidentOpened"] <= 45, counts
    assert all(opened[d] for d in opened), "every flooded sensor opened an incident"
    assert opened == recovered, "every incident was verified by its sensor"
    assert counts["IncidentRecovered"] == counts["IncidentOpened"] + counts["IncidentRelapsed"]
    assert all(not s.open_incidents() for s in states.values())
    assert counts["Skipped"] > 0  # the resent readings were recognised
