"""services/sensors/devices.py: a device is registered with its place resolved, or refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cityops.contracts import GeoPoint
from services.sensors.devices import Asset, DeviceCreate, DeviceRefused, register
from tests.sensors.builders import POINT, refs


def create(**kw: object) -> DeviceCreate:
    fields: dict[str, object] = {
        "device_id": "mh-1",
        "type": "manhole_cover",
        "location": POINT,
        "maintainer": "临港水务",
        "asset": Asset(category="C0102", asset_id="MH-0001"),
    }
    return DeviceCreate.model_validate({**fields, **kw})


def test_the_location_resolves_to_town_and_grid_and_defaults_fill_in() -> None:
    dev = register(create(), refs())
    assert (dev.town, dev.grid) == ("nanhui_xincheng", "nanhui_xincheng-070")
    assert (dev.interval_s, dev.heartbeat_misses) == (300, 4)
    assert dev.silent_after == timedelta(minutes=20)


def test_an_interval_override_is_kept() -> None:
    assert register(create(interval_s=60), refs()).interval_s == 60


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"type": "weather_station"}, "unknown device type"),
        ({"asset": None}, "watches an asset"),
        ({"asset": Asset(category="C0109", asset_id="LD-1")}, "cannot watch asset class C0109"),
        ({"asset": Asset(category="Z9", asset_id="X")}, "not in the taxonomy"),
        ({"location": GeoPoint(lat=31.23, lon=121.47)}, "outside Lingang"),
        ({"thresholds": {"tilt_deg": {"raise": 5, "clear": 10}}}, "normal side"),
        ({"thresholds": {"pm25": {"raise": 80, "clear": 50}}}, "no metric 'pm25'"),
        ({"acoustic_zone": "2"}, "no use for an acoustic zone"),
    ],
)
def test_a_wrong_device_is_refused_with_the_reason(change: dict[str, object], reason: str) -> None:
    with pytest.raises(DeviceRefused) as refused:
        register(create(**change), refs())
    assert any(reason in r for r in refused.value.reasons), refused.value.reasons


def test_every_reason_is_given_at_once() -> None:
    spec = create(asset=None, location=GeoPoint(lat=31.23, lon=121.47), acoustic_zone="1")
    with pytest.raises(DeviceRefused) as refused:
        register(spec, refs())
    assert len(refused.value.reasons) == 3


def test_a_noise_meter_needs_a_known_zone_and_takes_no_fixed_thresholds() -> None:
    noise = {"device_id": "nm-1", "type": "noise_meter", "asset": None}
    with pytest.raises(DeviceRefused, match="needs the acoustic zone"):
        register(create(**noise), refs())
    with pytest.raises(DeviceRefused, match="unknown acoustic zone '5'"):
        register(create(**noise, acoustic_zone="5"), refs())
    levels = {"noise_laeq": {"raise": 60, "clear": 55}}
    with pytest.raises(DeviceRefused, match="from the acoustic zone"):
        register(create(**noise, acoustic_zone="2", thresholds=levels), refs())
    assert register(create(**noise, acoustic_zone="4a"), refs()).acoustic_zone == "4a"


def test_a_device_id_must_be_plain() -> None:
    with pytest.raises(ValueError, match="device_id"):
        create(device_id="mh 1; drop")
