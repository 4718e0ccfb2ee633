"""Starting, pausing and moving a case's stage deadline. Pure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cityops.taxonomy import Taxonomy
from services.dispatch import sla
from services.dispatch.states import CaseRecord, Clock

PRIORITY_UP = {"low": "normal", "normal": "high", "high": "urgent", "urgent": "urgent"}


def clock_type(case: CaseRecord, taxonomy: Taxonomy) -> str:
    return taxonomy.leaf(case.category).clock


def start(case: CaseRecord, stage: str, at: datetime, taxonomy: Taxonomy) -> dict[str, Any]:
    """Start ``stage`` ('register', 'dispatch' or 'dispose'); return event data naming it."""
    leaf = taxonomy.leaf(case.category)
    hours = getattr(leaf.deadlines, f"{stage}_hours")
    deadline = sla.add_time(at, hours, leaf.clock)
    case.clock = Clock(stage=stage, started_at=at, deadline=deadline)
    return {"stage": stage, "deadline": deadline.isoformat()}


def stop(case: CaseRecord) -> None:
    if case.clock is not None:
        case.clock.paused_remaining_h = 0.0
        case.clock.stage = f"{case.clock.stage}:stopped"


def restart_stopped(case: CaseRecord) -> dict[str, Any]:
    """返工: the disposal clock runs on from where it stopped, to the same deadline."""
    assert case.clock is not None
    case.clock.stage = case.clock.stage.removesuffix(":stopped")
    case.clock.paused_remaining_h = None
    return {"stage": case.clock.stage, "deadline": case.clock.deadline.isoformat()}


def pause(case: CaseRecord, at: datetime, taxonomy: Taxonomy) -> None:
    if case.clock is not None:
        case.clock.paused_remaining_h = sla.elapsed(
            at, case.clock.deadline, clock_type(case, taxonomy)
        )


def resume(case: CaseRecord, at: datetime, taxonomy: Taxonomy) -> dict[str, Any]:
    if case.clock is None or case.clock.paused_remaining_h is None:
        return {}
    remaining = case.clock.paused_remaining_h
    case.clock.deadline = sla.add_time(at, max(remaining, 0.0), clock_type(case, taxonomy))
    case.clock.paused_remaining_h = None
    if remaining > 0:  # a new deadline, not yet reached: its warning and breach are ahead
        case.clock.warned = case.clock.breached = False
    return {"stage": case.clock.stage, "deadline": case.clock.deadline.isoformat()}


def extend(case: CaseRecord, hours: float, taxonomy: Taxonomy) -> dict[str, Any]:
    assert case.clock is not None
    case.clock.deadline = sla.add_time(case.clock.deadline, hours, clock_type(case, taxonomy))
    case.clock.warned = case.clock.breached = False
    return {"stage": case.clock.stage, "deadline": case.clock.deadline.isoformat(), "hours": hours}


def sla_state(case: CaseRecord) -> str:
    """The case's deadline state, the one definition the worker and the read model share
    (every event carries it): 'breached' once the current deadline's breach was raised,
    'warning' once its warning was, else 'ok'. A new deadline (resume with time left,
    an approved extension, a new stage) starts at 'ok'; 返工 keeps the deadline and so
    keeps its state."""
    c = case.clock
    if c is None:
        return "ok"
    return "breached" if c.breached else "warning" if c.warned else "ok"


def running(case: CaseRecord) -> bool:
    c = case.clock
    return c is not None and c.paused_remaining_h is None and not c.stage.endswith(":stopped")
