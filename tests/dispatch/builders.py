"""Building commands for workflow tests."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from cityops.contracts import Actor, CaseCommand, Role
from cityops.contracts.events import (
    AcceptCase,
    CloseCase,
    DecideExtension,
    DeferCase,
    DispatchCase,
    MergeCase,
    RegisterCase,
    RejectCase,
    ReportBack,
    RequestExtension,
    RerouteCase,
    ResumeCase,
    ReturnCase,
    SplitCase,
    VerifyCase,
)

DISPATCHER = Actor(id="dsp-1", role=Role.DISPATCHER, name="调度员")
GRID = Actor(id="gw-1", role=Role.GRID_WORKER)
_ids = itertools.count()


def dept(code: str = "water") -> Actor:
    return Actor(id=f"{code}-staff", role=Role.DEPARTMENT, department=code)


def cmd(
    case_id: str,
    body: Any,
    actor: Actor = DISPATCHER,
    at: datetime | None = None,
    reason: str | None = "说明",
) -> CaseCommand:
    return CaseCommand(
        command_id=f"c-{next(_ids)}",
        case_id=case_id,
        actor=actor,
        issued_at=at or datetime.fromisoformat("2026-11-30T10:00:00+08:00"),
        reason=reason,
        body=body,
    )


BODIES = {
    "register": lambda: RegisterCase(),
    "reject": lambda: RejectCase(),
    "dispatch": lambda: DispatchCase(department="water"),
    "reroute": lambda: RerouteCase(department="roads_infrastructure", category="E0301"),
    "accept": lambda: AcceptCase(),
    "return": lambda: ReturnCase(),
    "request_extension": lambda: RequestExtension(hours=8),
    "approve_extension": lambda: DecideExtension(approve=True),
    "deny_extension": lambda: DecideExtension(approve=False),
    "defer": lambda: DeferCase(),
    "resume": lambda: ResumeCase(),
    "report_back": lambda: ReportBack(),
    "verify_pass": lambda: VerifyCase(passed=True),
    "verify_fail": lambda: VerifyCase(passed=False),
    "close": lambda: CloseCase(),
    "merge": lambda: MergeCase(target_case_id="LGOTHERCASE000"),
    "split": lambda: SplitCase(source_id="nope"),
}

LATER = timedelta(hours=1)
