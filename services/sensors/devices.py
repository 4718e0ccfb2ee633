"""A device as registered: its type, where it is (town and unit grid), what it watches.

:func:`register` turns a :class:`DeviceCreate` (what a caller asks for) into a
:class:`Device` (what the rules read), checking it against the reference data in
:class:`Catalogues` and giving every reason it refuses at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from cityops import jurisdiction, sensors, taxonomy
from cityops.contracts import GeoPoint
from cityops.contracts.devices import DEVICE_ID_PATTERN, Asset, Device, KeyHash
from cityops.errors import CityopsError
from cityops.jurisdiction import Jurisdictions
from cityops.sensors import Catalogue, Levels
from cityops.taxonomy import Taxonomy


class DeviceRefused(CityopsError):
    """A device cannot be registered; ``reasons`` says every way it is wrong."""

    def __init__(self, reasons: tuple[str, ...]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


@dataclass(frozen=True)
class Catalogues:
    """The reference data a device is checked against."""

    sensors: Catalogue
    places: Jurisdictions
    taxonomy: Taxonomy

    @classmethod
    def shipped(cls) -> Catalogues:
        return cls(sensors.load(), jurisdiction.load(), taxonomy.load())


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeviceCreate(_Frozen):
    """What a caller asks to register (the API and the CSV import build this)."""

    device_id: str = Field(pattern=DEVICE_ID_PATTERN)
    type: str
    location: GeoPoint
    maintainer: str = Field(min_length=1, max_length=64)
    asset: Asset | None = None
    thresholds: dict[str, Levels] = Field(default_factory=dict)
    acoustic_zone: str | None = None
    interval_s: int | None = Field(default=None, gt=0, le=7 * 86400)
    gateway_id: str | None = Field(default=None, pattern=DEVICE_ID_PATTERN)


def _asset_reasons(spec: DeviceCreate, kind: sensors.SensorType, tax: Taxonomy) -> list[str]:
    if spec.asset is None:
        if kind.asset_required:
            return [f"type {kind.code} watches an asset: give its class and id"]
        return []
    if not tax.has_leaf(spec.asset.category):
        return [f"asset class {spec.asset.category!r} is not in the taxonomy"]
    if kind.asset_classes and spec.asset.category not in kind.asset_classes:
        allowed = ", ".join(kind.asset_classes)
        return [f"type {kind.code} cannot watch asset class {spec.asset.category} ({allowed})"]
    return []


def _threshold_reasons(spec: DeviceCreate, kind: sensors.SensorType) -> list[str]:
    reasons = []
    for metric, levels in spec.thresholds.items():
        rule = kind.rule_for(metric)
        if rule is None:
            reasons.append(f"type {kind.code} has no metric {metric!r} to set thresholds for")
        elif rule.levels is None:
            reasons.append(f"{metric}: thresholds come from the acoustic zone, not the device")
        else:
            try:
                levels.check(rule.direction)
            except ValueError as exc:
                reasons.append(f"{metric}: {exc}")
    return reasons


def _zone_reasons(spec: DeviceCreate, kind: sensors.SensorType, cat: Catalogue) -> list[str]:
    zoned = any(rule.zone_levels is not None for rule in kind.rules)
    codes = [z.code for z in cat.acoustic_zones]
    if zoned and spec.acoustic_zone is None:
        return [f"type {kind.code} needs the acoustic zone of its place ({', '.join(codes)})"]
    if not zoned and spec.acoustic_zone is not None:
        return [f"type {kind.code} has no use for an acoustic zone"]
    if zoned and spec.acoustic_zone not in codes:
        return [f"unknown acoustic zone {spec.acoustic_zone!r} ({', '.join(codes)})"]
    return []


def register(spec: DeviceCreate, refs: Catalogues, api_key: KeyHash | None = None) -> Device:
    """The device ``spec`` describes, or :class:`DeviceRefused` with every reason."""
    if not refs.sensors.has_type(spec.type):
        known = ", ".join(t.code for t in refs.sensors.types)
        raise DeviceRefused((f"unknown device type {spec.type!r} ({known})",))
    kind = refs.sensors.type(spec.type)
    reasons = _asset_reasons(spec, kind, refs.taxonomy)
    reasons += _threshold_reasons(spec, kind)
    reasons += _zone_reasons(spec, kind, refs.sensors)
    place = refs.places.locate(spec.location.lat, spec.location.lon)
    if place is None:
        reasons.append(f"({spec.location.lat}, {spec.location.lon}) is outside Lingang's towns")
    if reasons or place is None:
        raise DeviceRefused(tuple(reasons))
    return Device(
        device_id=spec.device_id,
        type=spec.type,
        location=spec.location,
        town=place.town.code,
        grid=place.grid.code if place.grid else None,
        maintainer=spec.maintainer,
        asset=spec.asset,
        thresholds=spec.thresholds,
        acoustic_zone=spec.acoustic_zone,
        interval_s=spec.interval_s or kind.interval_s,
        heartbeat_misses=kind.heartbeat_misses,
        api_key=api_key,
        gateway_id=spec.gateway_id,
    )
