"""One condition's window: its last readings in event-time order, at most a fixed number.

A reading is judged once, when it is admitted, against the levels in force at its own
event time (:mod:`thresholds`) and, for a rate rule, against the readings before it in the
window then: a **breach**, a **clear** reading (back on the normal side of the clear level),
or **neutral** (between the levels, or outside the rule's active hours).

Where an arriving reading goes (:func:`place`): a duplicate of one in the window is
skipped; one more than the lateness bound older than the newest is late (refused); one older
than every reading of a full window is skipped (the window's readings are the last ones in
event time, and it is not among them); any other is inserted at its event-time place and the
oldest reading falls out.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum, StrEnum
from math import ceil
from typing import Literal

from cityops.contracts import SensorReading
from cityops.sensors import MAX_WINDOW, Period, Rule
from services.sensors.thresholds import InForce


class Verdict(StrEnum):
    BREACH = "breach"
    CLEAR = "clear"
    NEUTRAL = "neutral"


@dataclass(frozen=True, slots=True)
class Sample:
    """A reading as the window keeps it: its ids, times, value, and how it was judged."""

    reading_id: str
    observed_at: datetime
    received_at: datetime
    value: float
    verdict: Verdict
    cause: Literal["level", "rate"] | None = None  # why a breach is one
    threshold: float | None = None  # levels in force at observed_at (None: inactive)
    clear: float | None = None
    change: float | None = None  # a rate breach's change towards the alarm
    period: Period | None = None
    zone: str | None = None


class Placement(Enum):
    INSIDE = "inside"
    DUPLICATE = "duplicate"
    LATE = "late"
    BEFORE_WINDOW = "before_window"


def size(rule: Rule, interval_s: int) -> int:
    """How many readings the window keeps: M, or enough to look back over a rate rule's
    span at the device's reporting interval; never more than ``MAX_WINDOW``."""
    span = ceil(rule.rate.within_s / interval_s) + 1 if rule.rate else 0
    return min(MAX_WINDOW, max(rule.breaches.of, span))


def place(
    window: Sequence[Sample], reading: SensorReading, keep: int, lateness: timedelta
) -> Placement:
    at = reading.observed_at
    for s in window:
        if s.reading_id == reading.reading_id or s.observed_at == at:
            return Placement.DUPLICATE
    if window and at < window[-1].observed_at - lateness:
        return Placement.LATE
    if len(window) >= keep and at < window[0].observed_at:
        return Placement.BEFORE_WINDOW
    return Placement.INSIDE


def _rate_change(value: float, earlier: Sequence[Sample], rule: Rule, at: datetime) -> float:
    assert rule.rate is not None
    since = at - timedelta(seconds=rule.rate.within_s)
    values = [s.value for s in earlier if since <= s.observed_at < at]
    if not values:
        return 0.0
    return value - min(values) if rule.direction == "above" else max(values) - value


def judge(
    reading: SensorReading, window: Sequence[Sample], rule: Rule, levels: InForce | None
) -> Sample:
    """The sample ``reading`` becomes, judged at its event time."""
    sample = Sample(
        reading.reading_id, reading.observed_at, reading.received_at, reading.value, Verdict.NEUTRAL
    )
    if levels is None:
        return sample
    sample = replace(
        sample,
        threshold=levels.threshold,
        clear=levels.clear,
        period=levels.period,
        zone=levels.zone,
    )
    if rule.breaches_level(reading.value, levels.threshold):
        return replace(sample, verdict=Verdict.BREACH, cause="level")
    if rule.clears_level(reading.value, levels.clear):
        return replace(sample, verdict=Verdict.CLEAR)
    if rule.rate is not None:
        change = _rate_change(reading.value, window, rule, reading.observed_at)
        if change >= rule.rate.delta:
            return replace(sample, verdict=Verdict.BREACH, cause="rate", change=change)
    return sample


def insert(window: tuple[Sample, ...], sample: Sample, keep: int) -> tuple[Sample, ...]:
    """``window`` with ``sample`` at its event-time place, trimmed to the newest ``keep``."""
    at = bisect.bisect([s.observed_at for s in window], sample.observed_at)
    return (*window[:at], sample, *window[at:])[-keep:]


def normal_since(
    window: Sequence[Sample], before: datetime | None, max_gap: timedelta
) -> datetime | None:
    """Since when the readings have been clear, in event time, given the window just
    changed and ``before`` was the answer for the window before it.

    The trailing run of clear readings starts at its first reading; a run that fills the
    whole window may have started earlier, at ``before``. A gap of more than ``max_gap``
    between two readings (the device was silent) ends a run: nobody saw those hours."""
    start: datetime | None = None
    for s in reversed(window):
        if s.verdict is not Verdict.CLEAR:
            return start
        if start is not None and start - s.observed_at > max_gap:
            return start
        start = s.observed_at
    if start is not None and before is not None and before <= start:
        return before
    return start


def normal_since_after_old(
    window: Sequence[Sample], old: Sample, current: datetime | None
) -> datetime | None:
    """``current`` corrected for a reading older than the whole window: one that is not
    clear and falls inside the run means the run began later, at the latest at the window's
    first reading."""
    if current is None or old.verdict is Verdict.CLEAR or old.observed_at < current:
        return current
    return window[0].observed_at
