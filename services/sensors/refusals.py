"""Why a reading is refused (it goes to the dead-letter topic) or skipped (it is counted).

A **refused** reading can never be used as it is: malformed, from an unknown device, of a
metric or unit its type does not know, not a finite number, outside the sensor's physical
range, observed in the future, or later than the lateness bound. It is dead-lettered with
the reason, so nothing is lost.

A **skipped** reading was understood and changes nothing: a duplicate (same ``reading_id``
or same ``observed_at`` as one in the window), or one older than every reading of a full
window (the last M readings already decided; see docs/sensors.md, "Event time").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from cityops.contracts import SensorReading
from cityops.errors import InvalidMessage
from cityops.kafka import decode
from cityops.sensors import Rule

MAX_READING_ID = 128


class Reason(StrEnum):
    MALFORMED = "malformed"
    UNKNOWN_DEVICE = "unknown_device"
    WRONG_DEVICE = "wrong_device"
    WRONG_TYPE = "wrong_type"
    UNKNOWN_METRIC = "unknown_metric"
    WRONG_UNIT = "wrong_unit"
    NOT_FINITE = "not_finite"
    OUT_OF_RANGE = "out_of_range"
    FUTURE = "future"
    LATE = "late"


class SkipReason(StrEnum):
    DUPLICATE = "duplicate"
    BEFORE_WINDOW = "before_window"


@dataclass(frozen=True, slots=True)
class Refused:
    """Dead-letter this reading with ``reason`` and ``detail``."""

    device_id: str | None
    reading_id: str | None
    reason: Reason
    detail: str


@dataclass(frozen=True, slots=True)
class Skipped:
    """The reading was understood and changes nothing."""

    device_id: str
    reading_id: str
    reason: SkipReason
    detail: str


def parse(raw: bytes | None) -> SensorReading | Refused:
    """A record value as a reading, or its refusal (not JSON, wrong shape, wrong version)."""
    try:
        return decode(SensorReading, raw)
    except InvalidMessage as exc:
        return Refused(None, None, Reason.MALFORMED, str(exc))


def unknown_device(reading: SensorReading) -> Refused:
    return _refuse(reading, Reason.UNKNOWN_DEVICE, f"no device {reading.device_id!r} registered")


def _refuse(reading: SensorReading, reason: Reason, detail: str) -> Refused:
    return Refused(reading.device_id, reading.reading_id, reason, detail)


def check(
    reading: SensorReading, device_id: str, device_type: str, rule: Rule, skew: timedelta
) -> Refused | None:
    """Why ``reading`` cannot go through ``rule`` of this device, or None if it can."""
    if reading.device_id != device_id:
        return _refuse(reading, Reason.WRONG_DEVICE, f"reading is for {reading.device_id!r}")
    if reading.device_type != device_type:
        detail = f"device {device_id} is a {device_type}, not a {reading.device_type}"
        return _refuse(reading, Reason.WRONG_TYPE, detail)
    if not 0 < len(reading.reading_id) <= MAX_READING_ID:
        detail = f"reading_id must have 1 to {MAX_READING_ID} characters"
        return _refuse(reading, Reason.MALFORMED, detail)
    if reading.metric != rule.metric:
        return _refuse(reading, Reason.UNKNOWN_METRIC, f"rule is for {rule.metric}")
    if reading.unit is not None and reading.unit != rule.unit:
        return _refuse(reading, Reason.WRONG_UNIT, f"{rule.metric} is in {rule.unit}")
    if not math.isfinite(reading.value):
        return _refuse(reading, Reason.NOT_FINITE, f"value {reading.value} is not finite")
    low, high = rule.range
    if not low <= reading.value <= high:
        detail = f"{reading.value:g} {rule.unit} is outside [{low:g}, {high:g}]"
        return _refuse(reading, Reason.OUT_OF_RANGE, detail)
    if reading.observed_at > reading.received_at + skew:
        detail = f"observed_at is more than {skew.total_seconds():g} s after received_at"
        return _refuse(reading, Reason.FUTURE, detail)
    return None
