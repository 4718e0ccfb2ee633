"""Devices, readings and a runner for the sensor tests."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from cityops import sensors
from cityops.contracts import GeoPoint, SensorReading
from services.sensors import rules
from services.sensors.devices import Asset, Catalogues, Device, DeviceCreate, register
from services.sensors.rules import Output
from services.sensors.state import DeviceState

T0 = datetime(2026, 7, 1, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai: day
POINT = GeoPoint(lat=30.8991, lon=121.9102)  # nanhui_xincheng-070
_ids = itertools.count()


def refs() -> Catalogues:
    return Catalogues.shipped()


def catalogue() -> sensors.Catalogue:
    return sensors.load()


def device(device_type: str = "water_level", device_id: str = "wl-1", **kw: Any) -> Device:
    spec: dict[str, Any] = {
        "device_id": device_id,
        "type": device_type,
        "location": POINT,
        "maintainer": "临港水务",
    }
    if device_type == "manhole_cover":
        spec["asset"] = Asset(category="C0102", asset_id="MH-0001")
    if device_type == "noise_meter":
        spec["acoustic_zone"] = "2"
    if device_type == "streetlight":
        spec["asset"] = Asset(category="C0109", asset_id="LD-0001")
    if device_type == "bin_fill":
        spec["asset"] = Asset(category="C0302", asset_id="BIN-0001")
    return register(DeviceCreate.model_validate({**spec, **kw}), refs())


def reading(
    dev: Device,
    value: float,
    at: datetime,
    *,
    metric: str | None = None,
    reading_id: str | None = None,
    received_at: datetime | None = None,
    **kw: Any,
) -> SensorReading:
    kind = sensors.load().type(dev.type)
    metric = metric or kind.rules[0].metric
    rule = kind.rule_for(metric)
    fields: dict[str, Any] = {
        "reading_id": reading_id or f"{dev.device_id}-{next(_ids)}",
        "device_id": dev.device_id,
        "device_type": dev.type,
        "metric": metric,
        "value": value,
        "unit": rule.unit if rule else None,
        "observed_at": at,
        "received_at": received_at or at + timedelta(seconds=1),
    }
    return SensorReading.model_validate({**fields, **kw})


def series(
    dev: Device, values: Iterable[float], start: datetime = T0, every_s: float = 60, **kw: Any
) -> list[SensorReading]:
    """One reading per value, ``every_s`` seconds apart from ``start``."""
    return [
        reading(dev, v, start + timedelta(seconds=i * every_s), **kw) for i, v in enumerate(values)
    ]


def run(
    dev: Device, readings: Iterable[SensorReading], state: DeviceState | None = None
) -> tuple[DeviceState, list[Output]]:
    """Feed readings through the rules in the order given; all outputs in order."""
    state = state or DeviceState(dev.device_id)
    out: list[Output] = []
    for r in readings:
        state, produced = rules.process(state, r, dev, sensors.load())
        out += produced
    return state, out


def kinds(outputs: Iterable[Output]) -> list[str]:
    return [type(o).__name__ for o in outputs]
