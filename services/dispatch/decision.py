"""What the workflow returns, and how events are numbered."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cityops.contracts import CaseCommand, CaseEvent, EventKind
from cityops.contracts.states import CaseState
from services.dispatch import clocks
from services.dispatch.states import CaseRecord


class Rejection(Exception):
    """A command that does not apply to the case as it stands; the message says why."""


class Unchanged(Exception):
    """A command that applies but leaves the case as it is: no event, not remembered (a
    redelivery does the same again), maybe follow-ups for other cases."""

    def __init__(self, followups: list[CaseCommand] | None = None) -> None:
        super().__init__("unchanged")
        self.followups = followups or []


@dataclass
class Decision:
    case: CaseRecord | None
    events: list[CaseEvent] = field(default_factory=list)
    rejected: str | None = None
    followups: list[CaseCommand] = field(default_factory=list)
    notify: list[CaseEvent] = field(default_factory=list)  # breaches for the supervisor


class Emitter:
    """Numbers the events of one decision and keeps the case's status in step."""

    def __init__(self, case: CaseRecord, command: CaseCommand) -> None:
        self.case, self.command = case, command
        self.events: list[CaseEvent] = []

    def emit(self, kind: EventKind, status: CaseState | None = None, **data: Any) -> CaseEvent:
        if status is not None:
            self.case.status = status
        self.case.seq += 1
        c = self.command
        event = CaseEvent(
            event_id=f"{self.case.case_id}:{self.case.seq}",
            case_id=self.case.case_id,
            seq=self.case.seq,
            kind=kind,
            at=c.issued_at,
            actor=c.actor,
            command_id=c.command_id,
            reason=c.reason,
            evidence=c.evidence,
            state=self.case.status.value,
            data={**data, "sla_state": clocks.sla_state(self.case)},
        )
        self.events.append(event)
        return event
