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


def test_share_used_counts_working_time_only() -> None:
    monday = at("2025-11-17", "09:00")
    deadline = add_time(monday, 8, "working")
    assert deadline == at("2025-11-17", "17:00")
    assert share_used(monday, deadline, at("2025-11-17", "15:24"), "working") == pytest.approx(0.8)
    # the night after the deadline is not working time; Tuesday 10:00 is 9 of 8 hours
    assert share_used(monday, deadline, at("2025-11-17", "23:00"), "working") == pytest.approx(1.0)
    assert share_used(monday, deadline, at("2025-11-18", "10:00"), "working") == pytest.approx(
        9 / 8
    )
    # Friday 15:00 + 4 working hours is Monday 11:00; on Saturday half is used, not more
    friday = at("2025-11-14", "15:00")
    weekend_deadline = add_time(friday, 4, "working")
    assert weekend_deadline == at("2025-11-17", "11:00")
    saturday = at("2025-11-15", "12:00")
    assert share_used(friday, weekend_deadline, saturday, "working") == pytest.approx(0.5)
    assert share_used(friday, weekend_deadline, saturday, "wall") == pytest.approx(21 / 68)


def test_a_deadline_at_or_before_its_start_is_all_used() -> None:
    start = at("2025-11-17", "10:00")
    assert share_used(start, start, start, "working") == 1.0
    # Saturday to Sunday: no working time at all in the budget
    assert share_used(at("2025-11-15"), at("2025-11-16"), at("2025-11-15"), "working") == 1.0


def test_elapsed_is_negative_backwards() -> None:
    assert elapsed(at("2025-11-17", "10:00"), at("2025-11-14", "16:00"), "working") == (
        pytest.approx(-2.0)
    )
