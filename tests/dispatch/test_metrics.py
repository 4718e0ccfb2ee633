from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityops import taxonomy
from cityops.contracts import (
    SYSTEM_ACTOR,
    Actor,
    CaseCommand,
    CaseEvent,
    Role,
)
from cityops.contracts.events import (
    AcceptCase,
    CloseCase,
    CommandBody,
    DispatchCase,
    ReportBack,
    ReturnCase,
    SlaAlert,
    VerifyCase,
)
from cityops.figures import (
    ALL,
    STAGES,
    CaseTimeline,
    Entry,
    Figures,
    GroupBy,
    compute,
    from_document,
)
from services.api.stats.service import with_timeline
from services.dispatch.case_ids import open_command
from services.dispatch.sla import SHANGHAI
from services.dispatch.workflow import decide
from services.indexer.document import fold_all
from tests.dispatch.test_workflow import DISPATCHER, classified

T0 = datetime(2026, 11, 2, 9, tzinfo=SHANGHAI)  # a Monday morning


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def ev(kind: str, state: str, hours: float, **data: Any) -> Entry:
    return Entry(kind, state, at(hours), data)


def auto_opened(hours: float = 0, deadline_h: float = 24) -> list[Entry]:
    return [
        ev("opened", "pending", hours),
        ev("registered", "registered", hours, category="C0102", auto=True),
        ev(
            "dispatched",
            "dispatched",
            hours,
            department="water",
            auto=True,
            stage="dispose",
            deadline=at(hours + deadline_h).isoformat(),
        ),
    ]


def handled(report_h: float, close_h: float, on_time: bool = True) -> list[Entry]:
    return [
        ev("accepted", "in_progress", report_h - 1),
        ev("reported_back", "reported_back", report_h, on_time=on_time),
        ev("verified", "verified", close_h, passed=True),
        ev("closed", "closed", close_h, on_time=on_time),
    ]


def case(
    case_id: str,
    entries: list[Entry],
    department: str | None = "water",
    town: str | None = "nanhui_xincheng",
    dimension: str | None = "宁",
) -> CaseTimeline:
    return CaseTimeline(case_id, department, town, dimension, entries[0].at, tuple(entries))


def overall(cases: list[CaseTimeline], start_h: float = -24, end_h: float = 24 * 7) -> Figures:
    [group] = compute(cases, at(start_h), at(end_h))
    assert group.key == ALL
    return group.figures


def test_a_case_closed_in_time_counts_everywhere() -> None:
    f = overall([case("a", auto_opened() + handled(report_h=5, close_h=8))])
    assert (f.cases, f.registered, f.closed, f.closed_on_time, f.due) == (1, 1, 1, 1, 1)
    assert f.close_rate == f.on_time_rate == 1.0
    assert (f.dispatched, f.auto_dispatched, f.auto_dispatch_share) == (1, 1, 1.0)
    assert (f.rework_rate, f.return_rate) == (0.0, 0.0)
    hours = {stage: t.mean_h for stage, t in f.stage_hours.items()}
    assert hours == {
        "report_to_register": 0.0,
        "register_to_dispatch": 0.0,
        "dispatch_to_handled": 5.0,
        "handled_to_closed": 3.0,
        "report_to_closed": 8.0,
    }
    assert f.states["closed"] == 1 and sum(f.states.values()) == 1


def test_on_time_rate_counts_open_overdue_cases_not_only_closed_ones() -> None:
    """The trap: the two quick cases closed on time, three late ones are still open."""
    quick = [case(f"q{i}", auto_opened() + handled(2, 3)) for i in range(2)]
    late = [case(f"l{i}", auto_opened(deadline_h=24)) for i in range(3)]
    f = overall(quick + late, start_h=0, end_h=48)
    assert f.closed_on_time / f.closed == 1.0  # what a naive board would show
    assert (f.closed, f.open_overdue, f.due) == (2, 3, 5)
    assert f.on_time_rate == pytest.approx(0.4)
    assert f.close_rate == pytest.approx(0.4)


def test_open_case_inside_its_deadline_is_not_due_yet() -> None:
    f = overall([case("a", auto_opened(deadline_h=24))], start_h=0, end_h=23)
    assert (f.open_overdue, f.due, f.close_rate, f.on_time_rate) == (0, 0, None, None)
    f = overall([case("a", auto_opened(deadline_h=24))], start_h=0, end_h=25)
    assert (f.open_overdue, f.due, f.on_time_rate) == (1, 1, 0.0)


def test_a_case_closed_late_is_due_but_not_on_time() -> None:
    f = overall([case("a", auto_opened(deadline_h=4) + handled(6, 7, on_time=False))])
    assert (f.closed, f.closed_on_time, f.open_overdue, f.on_time_rate) == (1, 0, 0, 0.0)
    assert f.close_rate == 1.0


def test_reported_back_stops_the_disposal_clock() -> None:
    in_time = auto_opened(deadline_h=4) + handled(3, 99)[:2]
    late = auto_opened(deadline_h=4) + handled(6, 99, on_time=False)[:2]
    f = overall([case("in_time", in_time), case("late", late)], start_h=0, end_h=48)
    assert f.open_overdue == 1 and f.states["reported_back"] == 2


def test_deferred_clock_is_paused_and_a_returned_case_waits_for_the_dispatcher() -> None:
    deferred = [*auto_opened(deadline_h=4), ev("deferred", "deferred", 2)]
    late_deferred = [*auto_opened(deadline_h=4), ev("deferred", "deferred", 5)]
    returned = [
        *auto_opened(deadline_h=4),
        ev("returned", "registered", 1, stage="dispatch", deadline=at(2).isoformat()),
    ]
    cases = [case("d", deferred), case("ld", late_deferred), case("r", returned)]
    f = overall(cases, start_h=0, end_h=48)
    assert f.open_overdue == 1  # only the one deferred after its deadline had passed
    assert (f.returned, f.dispatched, f.return_rate) == (1, 3, pytest.approx(1 / 3))


def test_rework_rate_is_over_cases_that_were_checked() -> None:
    reworked = [
        *auto_opened(),
        ev("reported_back", "reported_back", 2, on_time=True),
        ev("rework", "in_progress", 3, passed=False, rework_count=1),
        ev("reported_back", "reported_back", 5, on_time=True),
        ev("verified", "verified", 6, passed=True),
    ]
    passed = auto_opened() + handled(2, 3)
    unchecked = auto_opened()
    f = overall([case("rw", reworked), case("ok", passed), case("open", unchecked)])
    assert (f.reworked, f.verified_or_reworked, f.rework_rate) == (1, 2, 0.5)
    handled_h = f.stage_hours["dispatch_to_handled"]
    assert (handled_h.count, handled_h.mean_h) == (2, 2.0)  # the first report-back counts


def test_auto_dispatch_share_looks_at_the_first_dispatch_only() -> None:
    manual = [
        ev("opened", "pending", 0),
        ev("registered", "registered", 1, auto=False),
        ev("dispatched", "dispatched", 2, auto=False, stage="dispose", deadline=at(30).isoformat()),
    ]
    again = [
        *auto_opened(),
        ev("returned", "registered", 1, stage="dispatch", deadline=at(2).isoformat()),
        ev("dispatched", "dispatched", 2, auto=False, stage="dispose", deadline=at(30).isoformat()),
    ]
    f = overall([case("m", manual), case("a", again), case("n", auto_opened())])
    assert (f.dispatched, f.auto_dispatched) == (3, 2)
    assert f.auto_dispatch_share == pytest.approx(2 / 3)
    assert f.stage_hours["report_to_register"].median_h == 0.0
    assert f.stage_hours["report_to_register"].mean_h == pytest.approx(1 / 3)


def test_zero_denominators_give_none() -> None:
    f = overall([])
    assert f.cases == 0 and sum(f.states.values()) == 0
    assert all(
        rate is None
        for rate in (
            f.close_rate,
            f.on_time_rate,
            f.rework_rate,
            f.return_rate,
            f.auto_dispatch_share,
        )
    )
    assert all(
        t.count == 0 and t.mean_h is None and t.median_h is None for t in f.stage_hours.values()
    )
    assert compute([], at(0), at(1), "department") == []
    pending = overall([case("p", [ev("opened", "pending", 0)])])
    assert (pending.cases, pending.due, pending.dispatched, pending.close_rate) == (1, 0, 0, None)


def test_the_window_is_start_inclusive_end_exclusive() -> None:
    before = case("before", auto_opened(-50) + handled(-45, -40))  # closed before the window
    edge = case("edge", auto_opened(0) + handled(5, 10))
    after = case("after", auto_opened(10))  # opens exactly at the end
    f = overall([before, edge, after], start_h=0, end_h=10)
    assert (f.cases, f.registered, f.dispatched, f.closed) == (1, 1, 1, 0)
    assert f.states["reported_back"] == 1
    g = overall([before, edge, after], start_h=10, end_h=11)
    assert (g.cases, g.registered, g.closed, g.stage_hours["report_to_closed"].mean_h) == (
        2,
        1,
        1,
        10.0,
    )


@pytest.mark.parametrize(
    ("group_by", "expected"),
    [  # key: (cases, closed), in the order compute returns the groups
        ("department", {"roads_infrastructure": (1, 0), "water": (2, 1), None: (1, 0)}),
        ("town", {"lingang_xincheng": (1, 0), "nanhui_xincheng": (2, 1), None: (1, 0)}),
        ("dimension", {"宁": (2, 1), "畅": (1, 0), None: (1, 0)}),
        ("day", {"2026-11-02": (3, 1), "2026-11-03": (1, 0)}),
    ],
)
def test_grouping(group_by: GroupBy, expected: dict[str | None, tuple[int, int]]) -> None:
    cases = [
        case("a", auto_opened(0) + handled(2, 3)),  # 2026-11-02 09:00 Shanghai
        case("b", auto_opened(14.5), department="roads_infrastructure", dimension="畅"),
        case("c", auto_opened(16), town="lingang_xincheng", department=None, dimension=None),
        case("d", auto_opened(1), town=None),
    ]  # b at 23:30 Shanghai is still the 2nd (15:30 UTC); c at 01:00 the 3rd (17:00 UTC)
    in_utc = [replace(c, created_at=c.created_at.astimezone(UTC)) for c in cases]  # as stored
    groups = compute(in_utc, at(-24), at(48), group_by)
    assert [(g.key, (g.figures.cases, g.figures.closed)) for g in groups] == list(expected.items())


def test_unknown_grouping_is_refused() -> None:
    with pytest.raises(ValueError, match="grouping"):
        compute([], at(0), at(1), "category")  # type: ignore[arg-type]  # the point of the test


MIXED = [
    case("closed", auto_opened(0) + handled(5, 8)),
    case("late", auto_opened(2, deadline_h=3)),
    case("pending", [ev("opened", "pending", 4)]),
    case("invalid", [ev("opened", "pending", 1), ev("invalidated", "invalid", 3)]),
    case("merged", [*auto_opened(6), ev("merged_into", "merged", 9, target_case_id="x")]),
    case("deferred", [*auto_opened(3), ev("deferred", "deferred", 7)]),
]


# Worked by hand from MIXED (hours after T0): the cases considered, what happened in the
# window, and the state of each case at the window's end.
@pytest.mark.parametrize(
    ("start", "end", "counts", "states"),
    [
        # all six; "late" ran past its deadline (5 h) with nobody reporting back
        (
            0,
            12,
            (6, 4, 1, 1, 1, 2, 4),
            {"closed": 1, "dispatched": 1, "pending": 1, "invalid": 1, "merged": 1, "deferred": 1},
        ),
        # "invalid" ended at 3, before the window; only "merged" registers in it
        (
            6,
            12,
            (5, 1, 1, 1, 1, 2, 1),
            {"closed": 1, "dispatched": 1, "pending": 1, "merged": 1, "deferred": 1},
        ),
        # "closed" ended at 8; "merged" merges at 9, inside the window, so it still counts
        (9, 10, (4, 0, 0, 0, 1, 1, 0), {"dispatched": 1, "pending": 1, "merged": 1, "deferred": 1}),
        # before its 24 h deadline, "closed" is only dispatched; "invalid" opens at 1 = end
        (-5, 1, (1, 1, 0, 0, 0, 0, 1), {"dispatched": 1}),
        # "late" is not late yet at 5, its deadline; by 6 it is
        (4, 5, (4, 0, 0, 0, 0, 0, 0), {"in_progress": 1, "dispatched": 2, "pending": 1}),
        (4, 6, (4, 0, 0, 0, 1, 1, 0), {"reported_back": 1, "dispatched": 2, "pending": 1}),
    ],
)
def test_mixed_cases_in_hand_worked_windows(
    start: int, end: int, counts: tuple[int, ...], states: dict[str, int]
) -> None:
    f = overall(MIXED, start_h=start, end_h=end)
    got = (f.cases, f.registered, f.closed, f.closed_on_time, f.open_overdue, f.due, f.dispatched)
    assert got == counts
    assert {k: v for k, v in f.states.items() if v} == states


@settings(max_examples=200, deadline=None)
@given(start=st.integers(-5, 12), cut=st.integers(1, 10), length=st.integers(1, 10))
def test_event_counts_add_up_over_adjacent_windows(start: int, cut: int, length: int) -> None:
    """Each event lies in exactly one of [a, b) and [b, c): an event at b is counted once,
    and a case that closed in the first window is not counted again in the second."""
    mid, end = start + min(cut, length), start + length
    whole = overall(MIXED, start_h=start, end_h=end)
    first, second = overall(MIXED, start, mid), overall(MIXED, mid, end)
    for name in ("registered", "closed", "closed_on_time", "dispatched", "verified_or_reworked"):
        parts = getattr(first, name) + getattr(second, name)
        assert getattr(whole, name) == parts, name


# --- timelines made by the workflow itself, read back from read-model documents ----------

TAX = taxonomy.load()
START = datetime(2026, 11, 30, 9, tzinfo=SHANGHAI)  # Monday; the class runs on working time


def department(code: str) -> Actor:
    return Actor(id=f"{code}-1", role=Role.DEPARTMENT, department=code)


Step = tuple[datetime, Actor, CommandBody]


def run(source_id: str, abstained: bool, steps: list[Step]) -> list[CaseEvent]:
    source = classified(abstained, source_id).model_copy(update={"classified_at": START})
    decision = decide(None, open_command(source), TAX)
    events = list(decision.events)
    for n, (when, actor, body) in enumerate(steps):
        assert decision.case is not None
        command = CaseCommand(
            command_id=f"{source_id}-{n}",
            case_id=decision.case.case_id,
            actor=actor,
            issued_at=when,
            reason="测试原因",
            body=body,
        )
        decision = decide(decision.case, command, TAX)
        assert decision.rejected is None, decision.rejected
        events += decision.events
    return events


def disposal_deadline(events: list[CaseEvent]) -> datetime:
    dispatched = next(e for e in events if e.kind == "dispatched")
    return datetime.fromisoformat(dispatched.data["deadline"])


def workflow_events() -> tuple[list[list[CaseEvent]], datetime]:
    """Four water cases opened at START; ``d`` is their common disposal deadline.

    quick: closed in 5 hours; bounced: 退单 by roads, re-dispatched to water, in progress;
    slow: breached, reported back late, 返工, closed late; idle: never touched.
    """
    water, roads = department("water"), department("roads_infrastructure")
    h = timedelta(hours=1)
    quick = run(
        "quick",
        False,
        [
            (START + h, water, AcceptCase()),
            (START + 3 * h, water, ReportBack()),
            (START + 4 * h, DISPATCHER, VerifyCase(passed=True)),
            (START + 5 * h, DISPATCHER, CloseCase()),
        ],
    )
    bounced = run(
        "bounced",
        True,
        [
            (START + h, DISPATCHER, DispatchCase(department="roads_infrastructure")),
            (START + 2 * h, roads, ReturnCase()),
            (START + 3 * h, DISPATCHER, DispatchCase(department="water")),
            (START + 4 * h, water, AcceptCase()),
        ],
    )
    d = disposal_deadline(quick)  # the same class and start: the same deadline everywhere
    slow = run(
        "slow",
        False,
        [
            (START + h, water, AcceptCase()),
            (d, SYSTEM_ACTOR, SlaAlert(stage="dispose", level="breach", deadline=d)),
            (d + h, water, ReportBack()),
            (d + 2 * h, DISPATCHER, VerifyCase(passed=False)),
            (d + 3 * h, water, ReportBack()),
            (d + 4 * h, DISPATCHER, VerifyCase(passed=True)),
            (d + 5 * h, DISPATCHER, CloseCase()),
        ],
    )
    idle = run("idle", False, [])
    return [quick, bounced, slow, idle], d


def workflow_cases() -> tuple[list[CaseTimeline], datetime]:
    events, d = workflow_events()
    docs = [fold_all(None, case_events) for case_events in events]
    # read as the stats service reads them: documents carry milestones, not a timeline
    return [from_document(with_timeline(doc)) for doc in docs if doc is not None], d


def test_figures_of_timelines_made_by_the_workflow() -> None:
    cases, d = workflow_cases()
    end = d + timedelta(hours=6)  # the idle case is overdue; the bounced one is not yet
    [group] = compute(cases, START - timedelta(days=1), end)
    f = group.figures
    assert (f.cases, f.registered, f.closed, f.closed_on_time) == (4, 4, 2, 1)
    assert (f.open_overdue, f.due) == (1, 3)
    assert f.close_rate == pytest.approx(2 / 3) and f.on_time_rate == pytest.approx(1 / 3)
    assert (f.reworked, f.verified_or_reworked, f.rework_rate) == (1, 2, 0.5)
    assert (f.dispatched, f.returned, f.auto_dispatched) == (4, 1, 3)
    assert f.return_rate == 0.25 and f.auto_dispatch_share == 0.75
    assert {k: v for k, v in f.states.items() if v} == {
        "closed": 2,
        "in_progress": 1,
        "dispatched": 1,
    }
    hours = (d - START).total_seconds() / 3600
    assert f.stage_hours["report_to_register"].mean_h == pytest.approx(0.25)
    assert f.stage_hours["handled_to_closed"].mean_h == pytest.approx((2 + 4) / 2)
    assert f.stage_hours["report_to_closed"].median_h == pytest.approx((5 + hours + 5) / 2)
    assert set(f.stage_hours) == set(STAGES)


def test_workflow_cases_grouped_by_department_and_day() -> None:
    cases, d = workflow_cases()
    [water] = compute(cases, START, d + timedelta(hours=6), "department")
    assert (water.key, water.figures.cases, water.figures.returned) == ("water", 4, 1)
    [day] = compute(cases, START, d + timedelta(hours=6), "day")
    assert day.key == "2026-11-30"
