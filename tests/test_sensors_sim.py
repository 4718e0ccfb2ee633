"""The sensor simulator: its fleet, its pure signal model, its flaky deliveries, its dry run."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest

from cityctl.cli import main
from cityctl.sensors_sim import (
    Scenario,
    SimDevice,
    build,
    deliveries,
    fate,
    fleet,
    readings,
    schedule,
    tick,
    value,
)
from cityops import jurisdiction, sensors
from cityops.contracts import SensorReading
from services.sensors.devices import Catalogues, register

# 12:00 in Shanghai: the storm comes at 12:10 and lasts an hour.
NOON = datetime(2026, 7, 1, 4, 0, tzinfo=UTC)
SCENARIO = Scenario(NOON, seed=7, storm_at=timedelta(minutes=10), storm_for=timedelta(hours=1))


@cache
def devices() -> tuple[SimDevice, ...]:
    return tuple(build(7, 300))


def of(kind: str, **traits: bool) -> list[SimDevice]:
    return [
        s
        for s in devices()
        if s.device.type == kind and all(getattr(s.traits, k) == v for k, v in traits.items())
    ]


def test_the_fleet_covers_every_type_and_town_and_registers() -> None:
    specs = fleet(7, 300)
    assert len(specs) == 300
    refs = Catalogues.shipped()
    registered = [register(spec, refs) for spec in specs]  # raises if one is refused
    assert {d.type for d in registered} == {t.code for t in sensors.load().types}
    assert {d.town for d in registered} == set(jurisdiction.load().towns)
    assert len({d.device_id for d in registered}) == 300
    assert len(devices()) == 300


def test_the_fleet_is_the_same_for_a_seed_and_differs_for_another() -> None:
    assert fleet(7, 120) == fleet(7, 120)
    assert fleet(7, 120) != fleet(8, 120)


def test_the_storm_floods_the_low_lying_grids_then_recedes() -> None:
    low = of("water_level", low_lying=True, drifting=False)
    high = of("water_level", low_lying=False, drifting=False)
    assert len(low) >= 10 and high
    before, height, after = (NOON + timedelta(minutes=m) for m in (5, 40, 75))
    rule = sensors.load().type("water_level").rules[0]
    assert rule.levels is not None
    for sim in low:
        assert value(sim, "water_depth_cm", before, SCENARIO) < rule.levels.clear
        assert value(sim, "water_depth_cm", height, SCENARIO) > rule.levels.raise_
        assert value(sim, "water_depth_cm", after, SCENARIO) < rule.levels.clear
    for sim in high:
        assert value(sim, "water_depth_cm", height, SCENARIO) < rule.levels.raise_


def test_the_model_is_pure() -> None:
    sim = of("noise_meter")[0]
    at = NOON + timedelta(minutes=3)
    assert value(sim, "noise_laeq", at, SCENARIO) == value(sim, "noise_laeq", at, SCENARIO)


def test_streetlights_burn_at_night_only_and_a_couple_are_dark() -> None:
    night = NOON + timedelta(hours=11)  # 23:00 local
    lit, dark = of("streetlight", faulty=False), of("streetlight", faulty=True)
    assert len(dark) == 2
    for sim in lit:
        assert 55 <= value(sim, "lamp_power_w", night, SCENARIO) <= 125
        assert value(sim, "lamp_power_w", NOON, SCENARIO) == 0
    for sim in dark:
        assert value(sim, "lamp_power_w", night, SCENARIO) < 5


def test_noise_is_louder_by_day_and_bins_fill_until_emptied() -> None:
    night = NOON + timedelta(hours=14)  # 02:00 local
    for sim in of("noise_meter", drifting=False):
        assert value(sim, "noise_laeq", NOON, SCENARIO) > value(sim, "noise_laeq", night, SCENARIO)
    bins = of("bin_fill")
    morning = NOON - timedelta(hours=4, minutes=30)  # 07:30 local, after the round
    evening = NOON + timedelta(hours=8)
    for sim in bins:
        assert value(sim, "fill_pct", morning, SCENARIO) < 30
        assert value(sim, "fill_pct", evening, SCENARIO) > value(sim, "fill_pct", morning, SCENARIO)
    dawn = NOON + timedelta(hours=16)  # 04:00 local, before the round: the busy ones overflow
    assert 0 < sum(value(s, "fill_pct", dawn, SCENARIO) >= 90 for s in bins) < len(bins)


def test_a_couple_of_covers_tilt_for_a_while() -> None:
    tilted = of("manhole_cover", faulty=True)
    assert len(tilted) == 2
    for sim in tilted:
        angles = [value(sim, "tilt_deg", NOON + timedelta(minutes=m), SCENARIO) for m in range(120)]
        assert max(angles) > 15 and angles[-1] < 5


def test_flaky_devices_leave_gaps_resend_and_go_out_of_order() -> None:
    flaky = [s for s in devices() if s.traits.flaky]
    assert flaky
    fates = {fate(s, k, SCENARIO) for s in flaky for k in range(300)}
    assert {"silent", "drop", "late", "dup", "ok"} <= fates
    for sim in flaky:
        sent = [j for k in range(300) for j in deliveries(sim, k, SCENARIO)]
        assert set(range(300)) - set(sent)  # gaps
        gaps = [b - a for a, b in zip(sorted(set(sent)), sorted(set(sent))[1:], strict=False)]
        silence = max(gaps) * sim.device.interval_s
        assert silence > sim.device.silent_after.total_seconds()  # a heartbeat fault fires
    steady = [s for s in devices() if not s.traits.flaky][:20]
    for sim in steady:
        assert [j for k in range(100) for j in deliveries(sim, k, SCENARIO)] == list(range(100))


def test_observed_at_is_never_ahead_of_received_at() -> None:
    skew = timedelta(seconds=sensors.load().clock_skew_s)
    stream = schedule(list(devices()), SCENARIO)
    seen = 0
    for at, batch in (next(stream) for _ in range(5000)):
        for reading in batch:
            assert reading.observed_at <= reading.received_at + skew
            assert reading.observed_at <= reading.received_at  # a late send is only later
            assert reading.received_at == at
            seen += 1
    assert seen > 4000


def test_reading_ids_are_unique_per_device_except_resends() -> None:
    for sim in devices()[:40]:
        sent = [r for k in range(200) for r in readings(sim, k, SCENARIO)]
        by_id = {r.reading_id: r for r in sent}
        assert len(by_id) == len({(r.observed_at, r.metric) for r in sent})
        assert all(tick(sim, 0, SCENARIO) <= r.observed_at for r in sent)


def test_dry_run_prints_readings_as_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sensors", "simulate", "--dry-run", "--devices", "40", "--count", "30"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 30
    parsed = [SensorReading.model_validate(json.loads(line)) for line in lines]
    assert len({r.device_id for r in parsed}) > 5
    assert "40 devices" in err and "readings/s" in err
