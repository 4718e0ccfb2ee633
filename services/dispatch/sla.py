"""Deadline arithmetic on China's working calendar. Pure.

Urgent classes run on the wall clock. The others run on working time: 09:00–17:00
Asia/Shanghai on working days as ``chinese_calendar`` knows them (national holidays off,
adjusted weekend workdays on).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY_START, DAY_END = time(9, 0), time(17, 0)
MAX_DAYS = 3 * 366  # no deadline is further out; guards the loops


def is_workday(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # outside the package's calendar years: plain weekdays
        return day.weekday() < 5


def _window(day: date) -> tuple[datetime, datetime]:
    return (datetime.combine(day, DAY_START, SHANGHAI), datetime.combine(day, DAY_END, SHANGHAI))


def add_time(start: datetime, hours: float, clock: str) -> datetime:
    """The moment ``hours`` of ``clock`` time ('wall' or 'working') after ``start``."""
    if clock == "wall":
        return start + timedelta(hours=hours)
    remaining = timedelta(hours=hours)
    local = start.astimezone(SHANGHAI)
    day = local.date()
    for _ in range(MAX_DAYS):
        if is_workday(day):
            open_, close = _window(day)
            begin = max(local, open_)
            if begin < close:
                available = close - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(start.tzinfo)
                remaining -= available
        day += timedelta(days=1)
    raise ValueError(f"deadline more than {MAX_DAYS} days out")


def elapsed(start: datetime, end: datetime, clock: str) -> float:
    """Hours of ``clock`` time between ``start`` and ``end`` (negative if end < start)."""
    if end < start:
        return -elapsed(end, start, clock)
    if clock == "wall":
        return (end - start).total_seconds() / 3600
    total = timedelta()
    a, b = start.astimezone(SHANGHAI), end.astimezone(SHANGHAI)
    day = a.date()
    while day <= b.date():
        if is_workday(day):
            open_, close = _window(day)
            lo, hi = max(a, open_), min(b, close)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total.total_seconds() / 3600


def share_used(started: datetime, deadline: datetime, now: datetime, clock: str) -> float:
    budget = elapsed(started, deadline, clock)
    if budget <= 0:
        return 1.0
    return elapsed(started, now, clock) / budget
