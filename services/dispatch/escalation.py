"""Which deadline alerts are due for a case now. Pure; the app's timer calls it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from cityops.contracts import SYSTEM_ACTOR, CaseCommand
from cityops.contracts.events import SlaAlert
from cityops.taxonomy import Taxonomy
from services.dispatch import clocks, sla
from services.dispatch.states import CaseRecord


def due_alert(
    case: CaseRecord, now: datetime, warn_share: float, taxonomy: Taxonomy
) -> SlaAlert | None:
    c = case.clock
    if c is None or not clocks.running(case) or c.breached:
        return None
    if now >= c.deadline:
        return SlaAlert(stage=c.stage, level="breach", deadline=c.deadline)
    kind = clocks.clock_type(case, taxonomy)
    if not c.warned and sla.share_used(c.started_at, c.deadline, now, kind) >= warn_share:
        return SlaAlert(stage=c.stage, level="warning", deadline=c.deadline)
    return None


ROUNDING = timedelta(seconds=1)  # past the share's float rounding: due_alert agrees then


def next_check(case: CaseRecord | None, warn_share: float, taxonomy: Taxonomy) -> datetime | None:
    """When :func:`due_alert` can next return an alert for ``case`` (None: never, until the
    case changes). The deadline index schedules the timer's look at the case for then."""
    if case is None or case.clock is None or not clocks.running(case) or case.clock.breached:
        return None
    c = case.clock
    if c.warned:
        return c.deadline
    kind = clocks.clock_type(case, taxonomy)
    budget = sla.elapsed(c.started_at, c.deadline, kind)
    if budget <= 0:
        return c.deadline
    warn_at = sla.add_time(c.started_at, warn_share * budget, kind) + ROUNDING
    return min(warn_at, c.deadline)


def stored_next_check(value: bytes, warn_share: float, taxonomy: Taxonomy) -> datetime | None:
    """The next check of a case as stored (``CaseRecord.next_check``), read without
    validating the whole record: a restarted worker reads every case it owns, and working
    hours cost ~0.3 ms a case to recompute. A record written before the field is computed."""
    fields = json.loads(value)
    if "next_check" not in fields:
        return scheduled_check(CaseRecord.model_validate(fields), warn_share, taxonomy)
    at = fields["next_check"]
    return datetime.fromisoformat(at) if at else None


def scheduled_check(
    case: CaseRecord | None, warn_share: float, taxonomy: Taxonomy
) -> datetime | None:
    """The next check a case carries (``CaseRecord.next_check``, set by every step that
    changes it); computed for a record written before the field."""
    if case is not None and case.next_check is None and case.clock is not None:
        return next_check(case, warn_share, taxonomy)
    return case.next_check if case is not None else None


def alert_command(case: CaseRecord, alert: SlaAlert, now: datetime) -> CaseCommand:
    """One command id per (stage, level, deadline): repeated scans send the same command."""
    return CaseCommand(
        command_id=f"sla:{alert.stage}:{alert.level}:{alert.deadline.isoformat()}",
        case_id=case.case_id,
        actor=SYSTEM_ACTOR,
        issued_at=now,
        body=alert,
        reason="超过处置时限" if alert.level == "breach" else "临近处置时限",
    )
