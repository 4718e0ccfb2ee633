"""The case figures, defined once: the API's /stats, the published daily series (the
Grafana boards) and the demo's overview page all compute them here. Pure: plain data in,
plain data out. It belongs to no service (HOUSE_STYLE habit 13): the figures are read from
the case read model that the indexer writes from dispatch's events.

Every figure is computed for a window ``[start, end)`` from the events of each case, so the
same timelines always give the same figures, whatever is read from.

- 立案数 ``registered``: cases with a ``registered`` event in the window.
- 结案数 ``closed``: cases with a ``closed`` event in the window.
- ``open_overdue``: cases open at ``end`` whose disposal clock ran past its deadline.
- 应结案数 ``due`` = ``closed`` + ``open_overdue``.
- 结案率 ``close_rate`` = ``closed`` / ``due`` (结案数 / 应结案数, not / 立案数).
- 按期结案率 ``on_time_rate`` = ``closed_on_time`` / ``due`` (see :func:`on_time_rate`).
- 返工率 ``rework_rate``: cases with a ``rework`` event in the window / cases with a
  ``verified`` or ``rework`` event in the window.
- ``dispatched``: cases whose *first* ``dispatched`` event is in the window (a re-dispatch
  after 退单 does not make a case new). 退单率 ``return_rate`` is the share of them with a
  ``returned`` event before ``end``; ``auto_dispatch_share`` the share whose first dispatch
  was automatic.
- ``stage_hours``: wall-clock hours of each stage *completed* in the window (its end event
  is in the window), mean and median. Report time is the ``opened`` event's time (the
  source's ``received_at`` is not in the timeline); dispatch is the first ``dispatched``,
  handled the first ``reported_back``.
- ``states``: each case's state at ``end``, every case in exactly one state.

The cases considered are those that exist at ``end`` and were not already closed, invalid
or merged at ``start``; ``cases`` counts them. Rates are ``None`` when the denominator is 0.
Every rate is a ratio of two counts of :class:`Figures`, named in :data:`RATES`; a rate over
several groups of one window (towns, departments) is the sum of its numerators over the sum
of its denominators, never a mean of rates (:func:`combined_rate`). Days do not add up that
way: a case open past its deadline for three days is in each day's 应结案数, so the figures
of a longer window are computed for that window (``/api/v1/stats?from=&to=``).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from cityops.contracts.events import EventKind
from cityops.contracts.states import TERMINAL, CaseState

# The city's calendar day: "today", ``group_by=day`` and the published days.
SHANGHAI = ZoneInfo("Asia/Shanghai")

E = EventKind
GroupBy = Literal["none", "department", "town", "dimension", "day"]
GROUP_BYS: tuple[GroupBy, ...] = get_args(GroupBy)
ALL = "all"  # the key of the one group when grouping by "none"
STAGES: dict[str, tuple[EventKind, EventKind]] = {
    "report_to_register": (E.OPENED, E.REGISTERED),
    "register_to_dispatch": (E.REGISTERED, E.DISPATCHED),
    "dispatch_to_handled": (E.DISPATCHED, E.REPORTED_BACK),
    "handled_to_closed": (E.REPORTED_BACK, E.CLOSED),
    "report_to_closed": (E.OPENED, E.CLOSED),
}


@dataclass(frozen=True)
class RateDefinition:
    """A rate as a ratio of two counts of :class:`Figures`, with the names screens show."""

    name: str
    numerator: str
    numerator_name: str
    denominator: str
    denominator_name: str


RATES: dict[str, RateDefinition] = {
    "close_rate": RateDefinition("结案率", "closed", "结案数", "due", "应结案数"),
    "on_time_rate": RateDefinition("按期结案率", "closed_on_time", "按期结案数", "due", "应结案数"),
    "rework_rate": RateDefinition(
        "返工率", "reworked", "返工数", "verified_or_reworked", "核查数（通过或返工）"
    ),
    "return_rate": RateDefinition("退单率", "returned", "退单数", "dispatched", "首次派遣数"),
    "auto_dispatch_share": RateDefinition(
        "自动派遣占比", "auto_dispatched", "自动派遣数", "dispatched", "首次派遣数"
    ),
}
# 立案数 and 应结案数, the counts screens name beside the rates.
COUNT_NAMES: dict[str, str] = {
    "registered": "立案数",
    "closed": "结案数",
    "closed_on_time": "按期结案数",
    "open_overdue": "超期未结数",
    "due": "应结案数",
    "reworked": "返工数",
    "verified_or_reworked": "核查数（通过或返工）",
    "dispatched": "首次派遣数",
    "returned": "退单数",
    "auto_dispatched": "自动派遣数",
}
STAGE_NAMES: dict[str, str] = {
    "report_to_register": "上报→立案",
    "register_to_dispatch": "立案→派遣",
    "dispatch_to_handled": "派遣→处置反馈",
    "handled_to_closed": "处置反馈→结案",
    "report_to_closed": "上报→结案",
}


@dataclass(frozen=True)
class Entry:
    """One timeline entry: an event's kind, the state it left, when, and its data."""

    kind: str
    state: str
    at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CaseTimeline:
    """A case's static facts and its timeline, oldest entry first."""

    case_id: str
    department: str | None
    town: str | None
    dimension: str | None
    created_at: datetime
    entries: tuple[Entry, ...]


def from_document(doc: Mapping[str, Any]) -> CaseTimeline:
    """The timeline of a case document of the read model (``services/indexer/document.py``)."""
    timeline = sorted(doc.get("timeline") or [], key=lambda t: t.get("seq", 0))
    return CaseTimeline(
        case_id=doc["case_id"],
        department=doc.get("department"),
        town=doc.get("town"),
        dimension=doc.get("dimension"),
        created_at=datetime.fromisoformat(doc["created_at"]),
        entries=tuple(
            Entry(t["kind"], t["state"], datetime.fromisoformat(t["at"]), t.get("data") or {})
            for t in timeline
        ),
    )


@dataclass(frozen=True)
class StageTime:
    count: int
    mean_h: float | None
    median_h: float | None


@dataclass(frozen=True)
class Figures:
    cases: int
    registered: int
    closed: int
    closed_on_time: int
    open_overdue: int
    due: int
    close_rate: float | None
    on_time_rate: float | None
    reworked: int
    verified_or_reworked: int
    rework_rate: float | None
    dispatched: int
    returned: int
    return_rate: float | None
    auto_dispatched: int
    auto_dispatch_share: float | None
    stage_hours: dict[str, StageTime]
    states: dict[str, int]


@dataclass(frozen=True)
class Group:
    key: str | None  # None: the cases that have no value for the grouping field
    figures: Figures


@dataclass(frozen=True)
class _Facts:
    """What one case contributes to the figures of one window."""

    state: str
    registered: bool
    closed: bool
    closed_on_time: bool
    open_overdue: bool
    reworked: bool
    verified_or_reworked: bool
    dispatched: bool
    returned: bool
    auto_dispatched: bool
    stage_hours: dict[str, float]


def compute(
    cases: Iterable[CaseTimeline], start: datetime, end: datetime, group_by: GroupBy = "none"
) -> list[Group]:
    """The figures of ``[start, end)`` per group, groups sorted by key (``None`` last).

    Grouping by ``none`` always yields one group (key ``"all"``), even with no cases.
    """
    if group_by not in GROUP_BYS:
        raise ValueError(f"unknown grouping {group_by!r}")
    groups: dict[str | None, list[_Facts]] = defaultdict(list)
    if group_by == "none":
        groups[ALL] = []
    for case in cases:
        facts = _facts(case, start, end)
        if facts is not None:
            groups[group_key(case, group_by)].append(facts)
    order = sorted(groups, key=lambda k: (k is None, k or ""))
    return [Group(key, _figures(groups[key])) for key in order]


def group_key(case: CaseTimeline, group_by: GroupBy) -> str | None:
    if group_by == "none":
        return ALL
    if group_by == "day":
        return case.created_at.astimezone(SHANGHAI).date().isoformat()
    value: str | None = getattr(case, group_by)
    return value


def on_time_rate(closed_on_time: int, closed: int, open_overdue: int) -> float | None:
    """按期结案率: closed on time / (closed + still open past the disposal deadline).

    Dividing by ``closed`` alone is a trap: the cases closed in a recent window are mostly
    the quick, punctual ones, while the late ones are still open, so on-time/closed reads
    close to 100% exactly when a backlog is building. Counting the open overdue cases in
    the denominator charges every late case to the window it is late in, closed or not.
    """
    return _rate(closed_on_time, closed + open_overdue)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _facts(case: CaseTimeline, start: datetime, end: datetime) -> _Facts | None:
    before_end = [e for e in case.entries if e.at < end]
    before_start = [e for e in before_end if e.at < start]
    if not before_end or (before_start and before_start[-1].state in TERMINAL):
        return None
    state = before_end[-1].state
    in_window = [e for e in before_end if e.at >= start]
    kinds = {e.kind for e in in_window}
    closed = next((e for e in in_window if e.kind == E.CLOSED), None)
    first_dispatch = _first(before_end, E.DISPATCHED)
    dispatched = first_dispatch is not None and first_dispatch.at >= start
    auto = first_dispatch is not None and first_dispatch.data.get("auto") is True
    return _Facts(
        state=state,
        registered=E.REGISTERED in kinds,
        closed=closed is not None,
        closed_on_time=closed is not None and closed.data.get("on_time") is True,
        open_overdue=state not in TERMINAL and _ran_late(before_end, end),
        reworked=E.REWORK in kinds,
        verified_or_reworked=bool(kinds & {E.VERIFIED, E.REWORK}),
        dispatched=dispatched,
        returned=dispatched and _first(before_end, E.RETURNED) is not None,
        auto_dispatched=dispatched and auto,
        stage_hours=_stage_hours(before_end, start),
    )


def _first(entries: Sequence[Entry], kind: str) -> Entry | None:
    return next((e for e in entries if e.kind == kind), None)


def _ran_late(entries: Sequence[Entry], end: datetime) -> bool:
    """Whether the case's current disposal clock ran past its deadline before ``end``.

    The current deadline is the one of the latest entry naming a stage; it is a disposal
    deadline only if that stage is ``dispose`` (after 退单 the clock is the dispatcher's).
    The clock runs until the department reports back or the case is deferred (缓办; a
    resume sets a new deadline), else until ``end``.
    """
    last = next((i for i in range(len(entries) - 1, -1, -1) if "stage" in entries[i].data), -1)
    clock = entries[last].data if last >= 0 else {}
    if clock.get("stage") != "dispose" or not clock.get("deadline"):
        return False
    deadline = datetime.fromisoformat(clock["deadline"])
    stops = (E.REPORTED_BACK, E.DEFERRED)
    stop = next((e.at for e in entries[last + 1 :] if e.kind in stops), end)
    return stop > deadline


def _stage_hours(entries: Sequence[Entry], start: datetime) -> dict[str, float]:
    hours: dict[str, float] = {}
    for stage, (begin_kind, end_kind) in STAGES.items():
        begin, finish = _first(entries, begin_kind), _first(entries, end_kind)
        if begin is not None and finish is not None and finish.at >= start:
            hours[stage] = (finish.at - begin.at).total_seconds() / 3600
    return hours


def _figures(facts: Sequence[_Facts]) -> Figures:
    def count(name: str) -> int:
        return sum(1 for f in facts if getattr(f, name))

    closed, overdue = count("closed"), count("open_overdue")
    counts = {
        "closed": closed,
        "due": closed + overdue,
        "closed_on_time": count("closed_on_time"),
        "reworked": count("reworked"),
        "verified_or_reworked": count("verified_or_reworked"),
        "dispatched": count("dispatched"),
        "returned": count("returned"),
        "auto_dispatched": count("auto_dispatched"),
    }

    def rate(name: str) -> float | None:
        return combined_rate(name, [counts])

    return Figures(
        cases=len(facts),
        registered=count("registered"),
        closed=closed,
        closed_on_time=counts["closed_on_time"],
        open_overdue=overdue,
        due=counts["due"],
        close_rate=rate("close_rate"),
        on_time_rate=rate("on_time_rate"),
        reworked=counts["reworked"],
        verified_or_reworked=counts["verified_or_reworked"],
        rework_rate=rate("rework_rate"),
        dispatched=counts["dispatched"],
        returned=counts["returned"],
        return_rate=rate("return_rate"),
        auto_dispatched=counts["auto_dispatched"],
        auto_dispatch_share=rate("auto_dispatch_share"),
        stage_hours={stage: _stage_time(facts, stage) for stage in STAGES},
        states=_states(facts),
    )


def combined_rate(name: str, parts: Iterable[Mapping[str, Any]]) -> float | None:
    """Rate ``name`` of :data:`RATES` over ``parts``, figures of disjoint groups of cases in
    one window as mappings (e.g. the published documents of each town for one day): the sum
    of numerators over the sum of denominators."""
    rate = RATES[name]
    part = whole = 0
    for p in parts:
        part += p.get(rate.numerator) or 0
        whole += p.get(rate.denominator) or 0
    return _rate(part, whole)


def _stage_time(facts: Sequence[_Facts], stage: str) -> StageTime:
    values = [f.stage_hours[stage] for f in facts if stage in f.stage_hours]
    if not values:
        return StageTime(0, None, None)
    return StageTime(len(values), statistics.fmean(values), statistics.median(values))


def _states(facts: Sequence[_Facts]) -> dict[str, int]:
    counts = dict.fromkeys((s.value for s in CaseState), 0)
    for f in facts:
        counts[f.state] = counts.get(f.state, 0) + 1
    return counts


__all__ = [
    "ALL",
    "COUNT_NAMES",
    "GROUP_BYS",
    "RATES",
    "SHANGHAI",
    "STAGES",
    "STAGE_NAMES",
    "CaseTimeline",
    "Entry",
    "Figures",
    "Group",
    "GroupBy",
    "RateDefinition",
    "StageTime",
    "combined_rate",
    "compute",
    "from_document",
    "group_key",
    "on_time_rate",
]
