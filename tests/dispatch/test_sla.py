"""Deadlines on China's working calendar: holidays off, adjusted weekend workdays on."""

from datetime import datetime, timedelta

import pytest

from services.dispatch.sla import SHANGHAI, add_time, elapsed, is_workday, share_used


def at(day: str, hm: str = "09:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{hm}:00").replace(tzinfo=SHANGHAI)


def test_national_day_holiday_and_its_adjusted_workday_2025() -> None:
    # 2025: Oct 1–8 off; Sunday Sep 28 and Saturday Oct 11 are adjusted workdays.
    assert not is_workday(at("2025-10-01").date())
    assert is_workday(at("2025-09-28").date())  # a Sunday that is worked
    assert is_workday(at("2025-10-11").date())  # a Saturday that is worked
    # 4 working hours from Tuesday Sep 30, 15:00: 2 h that day, then the holiday,
    # then Thursday Oct 9 from 09:00 for the other 2 h.
    assert add_time(at("2025-09-30", "15:00"), 4, "working") == at("2025-10-09", "11:00")


def test_working_hours_skip_nights_and_weekends() -> None:
    friday = at("2025-11-14", "16:00")
    assert add_time(friday, 2, "working") == at("2025-11-17", "10:00")
    assert add_time(at("2025-11-15", "10:00"), 1, "working") == at("2025-11-17", "10:00")
    assert elapsed(friday, at("2025-11-17", "10:00"), "working") == pytest.approx(2.0)


def test_wall_clock_runs_through_holidays() -> None:
    start = at("2025-10-01", "09:00")
    assert add_time(start, 4, "wall") == start + timedelta(hours=4)
    assert elapsed(start, start + timedelta(hours=30), "wall") == pytest.approx(30)


def test_elapsed_inverts_add_time() -> None:
    start = at("2025-09-26", "13:30")
    for hours in (0.5, 3, 8, 17, 40):
        assert elapsed(start, add_time(start, hours, "working"), "working") == pytest.approx(hours)


def test_share_used_for_warnings() -> None:
    start = at("2025-11-17", "09:00")
    deadline = add_time(start, 8, "working")
    assert share_used(start, deadline, at("2025-11-17", "15:24"), "working") == pytest.approx(0.8)
    assert share_used(start, deadline, deadline, "working") == pytest.approx(1.0)
