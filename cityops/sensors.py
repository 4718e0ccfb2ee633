"""Sensor types and their alarm rules, loaded from versioned data.

``data/sensors.yaml`` holds the device types (water level, manhole cover, smoke, noise, air
quality, bin fill, streetlight), each with its expected reporting interval, the 部件 classes
it may watch, and one rule per metric: thresholds with hysteresis, N breaches out of the
last M readings, an optional rate of change, the recovery period, the lateness bound and
the Chinese texts of its alarms. It also holds the GB 3096-2008 acoustic zone limits and
the day/night split. This module is the only reader of that file; it validates it, checks
its class codes against the shipped taxonomy, and hands out frozen objects.
"""

from __future__ import annotations

import string
from datetime import datetime, time, timedelta, timezone
from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from cityops import taxonomy as taxonomy_module
from cityops.taxonomy import Taxonomy

Direction = Literal["above", "below"]
Period = Literal["day", "night"]

# China has kept UTC+8 without daylight saving since 1991, so a fixed offset is exact and
# needs no tz database.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")

# The largest window of readings a rule may keep per device: the bound of the rules' state.
MAX_WINDOW = 32
CODE_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"

# What a rule's texts may name, with sample values to prove a template renders.
TEXT_FIELDS: dict[str, object] = {
    "value": 23.5,
    "unit": "cm",
    "threshold": 15.0,
    "clear": 5.0,
    "change": 12.0,
    "within_min": 10.0,
    "normal_min": 10.0,
    "device_id": "wl-0001",
    "zone": "2",
    "period": "夜间",
}
FAULT_FIELDS: dict[str, object] = {
    "device_id": "wl-0001",
    "type_name": "道路积水监测仪",
    "silent_min": 5.0,
    "maintainer": "临港水务",
}
PERIOD_NAMES: dict[Period, str] = {"day": "昼间", "night": "夜间"}


def check_template(template: str, fields: dict[str, object]) -> None:
    """Raise ValueError unless ``template`` names only ``fields`` and renders with them."""
    for _, name, _, _ in string.Formatter().parse(template):
        if name is not None and name not in fields:
            raise ValueError(f"template {template!r}: unknown field {name!r}")
    try:
        template.format(**fields)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"template {template!r}: {exc}") from exc


def local_time(at: datetime) -> time:
    """The Shanghai wall-clock time of an aware instant."""
    return at.astimezone(SHANGHAI).time()


def in_span(start: time, end: time, at: time) -> bool:
    """Whether ``at`` lies in [start, end), a span that may wrap past midnight."""
    if start <= end:
        return start <= at < end
    return at >= start or at < end


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Levels(_Frozen):
    """Raise at ``raise`` (reached or passed), clear at ``clear``; in between, neither."""

    raise_: float = Field(alias="raise")
    clear: float

    def check(self, direction: Direction) -> None:
        safe = self.clear < self.raise_ if direction == "above" else self.clear > self.raise_
        if not safe:
            raise ValueError(
                f"levels raise={self.raise_:g} clear={self.clear:g}: the clear level must lie "
                f"on the normal side of the raise level for direction {direction!r}"
            )


class ZoneLevels(_Frozen):
    """Raise at the limit of the device's acoustic zone for the period; clear below it."""

    hysteresis: float = Field(gt=0)


class Breaches(_Frozen):
    n: int = Field(ge=1)
    of: int = Field(ge=1, le=MAX_WINDOW)

    @model_validator(mode="after")
    def _n_of_m(self) -> Breaches:
        if self.n > self.of:
            raise ValueError(f"breaches: n={self.n} cannot exceed of={self.of}")
        return self


class Rate(_Frozen):
    """A change of at least ``delta`` (towards the alarm) within ``within_s`` seconds."""

    delta: float = Field(gt=0)
    within_s: int = Field(gt=0)


class Active(_Frozen):
    """The local hours in which the rule judges readings; outside them readings are neutral."""

    start: time
    end: time

    def contains(self, at: datetime) -> bool:
        return in_span(self.start, self.end, local_time(at))


class DayNight(_Frozen):
    day_from: time
    night_from: time

    def period(self, at: datetime) -> Period:
        return "day" if in_span(self.day_from, self.night_from, local_time(at)) else "night"


class AcousticZone(_Frozen):
    """A GB 3096-2008 acoustic environment zone with its LAeq limits in dB(A)."""

    code: str
    name: str
    day: float = Field(gt=0)
    night: float = Field(gt=0)

    def limit(self, period: Period) -> float:
        return self.day if period == "day" else self.night


class Rule(_Frozen):
    """How one metric of a sensor type becomes incidents of one condition."""

    condition: str = Field(pattern=CODE_PATTERN)
    metric: str = Field(min_length=1, max_length=64)
    unit: str = Field(min_length=1, max_length=16)
    range: tuple[float, float]
    direction: Direction
    levels: Levels | None = None
    zone_levels: ZoneLevels | None = None
    active: Active | None = None
    breaches: Breaches
    rate: Rate | None = None
    recover_after_s: int = Field(ge=0)
    relapse_window_s: int = Field(ge=0)
    lateness_s: int | None = Field(default=None, gt=0)
    category: str
    text: str
    rate_text: str | None = None
    recovered_text: str
    # The condition ends by itself (a flooded road drains, a noise stops): a case whose
    # every source is a sensor closes when the sensor recovers, without a department's report.
    closes_case: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Rule:
        if (self.levels is None) == (self.zone_levels is None):
            raise ValueError(f"{self.condition}: give exactly one of levels and zone_levels")
        if self.levels is not None:
            self.levels.check(self.direction)
        if self.range[0] >= self.range[1]:
            raise ValueError(f"{self.condition}: range must be [low, high] with low < high")
        if self.rate is not None and self.rate_text is None:
            raise ValueError(f"{self.condition}: a rate rule needs a rate_text")
        for template in (self.text, self.rate_text, self.recovered_text):
            if template is not None:
                check_template(template, TEXT_FIELDS)
        return self

    def breaches_level(self, value: float, level: float) -> bool:
        return value >= level if self.direction == "above" else value <= level

    def clears_level(self, value: float, level: float) -> bool:
        return value <= level if self.direction == "above" else value >= level


class SensorType(_Frozen):
    code: str = Field(pattern=CODE_PATTERN)
    name: str
    interval_s: int = Field(gt=0)
    heartbeat_misses: int = Field(ge=1)
    asset_classes: tuple[str, ...] = ()
    asset_required: bool = False
    rules: tuple[Rule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> SensorType:
        if self.asset_required and not self.asset_classes:
            raise ValueError(f"type {self.code}: asset_required needs asset_classes")
        for what in ("metric", "condition"):
            seen = [getattr(r, what) for r in self.rules]
            if len(set(seen)) != len(seen):
                raise ValueError(f"type {self.code}: duplicate {what} among its rules")
        return self

    def rule_for(self, metric: str) -> Rule | None:
        return next((r for r in self.rules if r.metric == metric), None)


class Catalogue(_Frozen):
    version: str
    lateness_s: int = Field(gt=0)
    clock_skew_s: int = Field(gt=0)
    day_night: DayNight
    acoustic_zones: tuple[AcousticZone, ...]
    fault_text: str
    types: tuple[SensorType, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Catalogue:
        for what, codes in (
            ("type", [t.code for t in self.types]),
            ("acoustic zone", [z.code for z in self.acoustic_zones]),
        ):
            if len(set(codes)) != len(codes):
                raise ValueError(f"duplicate {what} codes")
        check_template(self.fault_text, FAULT_FIELDS)
        zoned = [r.condition for t in self.types for r in t.rules if r.zone_levels is not None]
        if zoned and not self.acoustic_zones:
            raise ValueError(f"rules {zoned} use zone_levels but no acoustic_zones are given")
        return self

    def type(self, code: str) -> SensorType:
        for sensor_type in self.types:
            if sensor_type.code == code:
                return sensor_type
        raise KeyError(f"unknown sensor type {code!r}")

    def has_type(self, code: str) -> bool:
        return any(t.code == code for t in self.types)

    def zone(self, code: str) -> AcousticZone:
        for zone in self.acoustic_zones:
            if zone.code == code:
                return zone
        raise KeyError(f"unknown acoustic zone {code!r}")

    def lateness(self, rule: Rule) -> timedelta:
        return timedelta(seconds=rule.lateness_s or self.lateness_s)

    def check_against(self, taxonomy: Taxonomy) -> None:
        """Raise ValueError if a rule's class or a type's asset class is not a taxonomy leaf."""
        for sensor_type in self.types:
            for code in sensor_type.asset_classes:
                if not taxonomy.has_leaf(code):
                    raise ValueError(f"type {sensor_type.code}: unknown asset class {code!r}")
            for rule in sensor_type.rules:
                if not taxonomy.has_leaf(rule.category):
                    raise ValueError(
                        f"type {sensor_type.code}, rule {rule.condition}: "
                        f"unknown category {rule.category!r}"
                    )


def parse(text: str, taxonomy: Taxonomy) -> Catalogue:
    """Validate a sensors file's text against the model and ``taxonomy``."""
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError("sensors.yaml: expected a mapping at the top")
    catalogue = Catalogue.model_validate(data)
    catalogue.check_against(taxonomy)
    return catalogue


@cache
def load() -> Catalogue:
    """The shipped sensor catalogue, validated once per process."""
    text = resources.files("cityops.data").joinpath("sensors.yaml").read_text(encoding="utf-8")
    return parse(text, taxonomy_module.load())
