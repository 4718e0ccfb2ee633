"""services/sensors/thresholds.py: the levels in force at an instant."""

from __future__ import annotations

from datetime import datetime

import pytest

from cityops import sensors
from cityops.sensors import SHANGHAI
from services.sensors.thresholds import in_force
from tests.sensors.builders import device


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 1, 15, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("zone", "hour", "limit"),
    [
        ("0", 12, 50),
        ("0", 23, 40),
        ("1", 12, 55),
        ("1", 3, 45),
        ("2", 12, 60),
        ("2", 22, 50),
        ("3", 12, 65),
        ("3", 5, 55),
        ("4a", 12, 70),
        ("4a", 23, 55),
        ("4b", 12, 70),
        ("4b", 23, 60),
    ],
)
def test_noise_limit_is_the_zone_limit_for_the_period(zone: str, hour: int, limit: float) -> None:
    dev = device("noise_meter", f"nm-{zone}", acoustic_zone=zone)
    rule = sensors.load().type("noise_meter").rules[0]
    levels = in_force(rule, dev, sensors.load(), at(hour))
    assert levels is not None
    assert (levels.threshold, levels.clear, levels.zone) == (limit, limit - 3, zone)
    assert levels.period_name == ("昼间" if 6 <= hour < 22 else "夜间")


@pytest.mark.parametrize(
    ("hour", "minute", "active"),
    [(19, 59, False), (20, 0, True), (23, 0, True), (3, 59, True), (4, 0, False), (12, 0, False)],
)
def test_the_streetlight_is_judged_only_in_its_night_hours(
    hour: int, minute: int, active: bool
) -> None:
    dev = device("streetlight", "sl-1")
    rule = sensors.load().type("streetlight").rules[0]
    assert (in_force(rule, dev, sensors.load(), at(hour, minute)) is not None) is active


def test_a_device_override_replaces_the_type_default() -> None:
    rule = sensors.load().type("water_level").rules[0]
    plain = in_force(rule, device(), sensors.load(), at(12))
    tuned = device(thresholds={"water_depth_cm": {"raise": 25, "clear": 10}})
    custom = in_force(rule, tuned, sensors.load(), at(12))
    assert plain is not None and (plain.threshold, plain.clear) == (15, 5)
    assert custom is not None and (custom.threshold, custom.clear) == (25, 10)
