"""The levels in force for one device's rule at one instant.

Fixed levels come from the device's override or else the type's default. Zoned levels (the
noise rule) are the GB 3096 limit of the device's acoustic zone for the period (昼间
06:00–22:00, 夜间 22:00–06:00, Shanghai time) at the reading's event time, cleared at the
limit minus the rule's hysteresis. A rule with active hours (the streetlight's night) has no
levels outside them: its readings there are neutral.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cityops.sensors import PERIOD_NAMES, Catalogue, Period, Rule
from services.sensors.devices import Device


@dataclass(frozen=True, slots=True)
class InForce:
    threshold: float  # raise at this level (reached or passed)
    clear: float  # back to normal at this level
    period: Period
    zone: str | None

    @property
    def period_name(self) -> str:
        return PERIOD_NAMES[self.period]


def in_force(rule: Rule, device: Device, catalogue: Catalogue, at: datetime) -> InForce | None:
    """The levels of ``rule`` for ``device`` at event time ``at``, or None when inactive."""
    if rule.active is not None and not rule.active.contains(at):
        return None
    period = catalogue.day_night.period(at)
    if rule.zone_levels is not None:
        if device.acoustic_zone is None:
            raise ValueError(f"device {device.device_id} has no acoustic zone")  # registry bug
        limit = catalogue.zone(device.acoustic_zone).limit(period)
        gap = rule.zone_levels.hysteresis
        clear = limit - gap if rule.direction == "above" else limit + gap
        return InForce(limit, clear, period, device.acoustic_zone)
    levels = device.thresholds.get(rule.metric) or rule.levels
    assert levels is not None  # a rule has levels or zone_levels (validated at load)
    return InForce(levels.raise_, levels.clear, period, None)
