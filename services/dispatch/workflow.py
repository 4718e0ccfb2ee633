"""The case state machine: (case, command) -> new case and events, or a rejection. Pure.

Every accepted command yields events numbered from the case's ``seq``; a command whose
id the case has already applied yields nothing, so redelivery is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cityops.contracts import (
    CaseCommand,
    CaseEvent,
    DispatchCase,
    EventKind,
    OpenCase,
)
from cityops.contracts.states import CaseState
from cityops.taxonomy import Taxonomy
from services.dispatch.states import CaseRecord


class Rejection(Exception):
    """A command that does not apply to the case as it stands; the reason says why."""


@dataclass
class Decision:
    case: CaseRecord | None
    events: list[CaseEvent] = field(default_factory=list)
    rejected: str | None = None


class _Emitter:
    """Numbers the events of one decision."""

    def __init__(self, command: CaseCommand, seq: int) -> None:
        self.command, self.seq = command, seq
        self.events: list[CaseEvent] = []

    def emit(self, kind: EventKind, status: CaseState, **data: Any) -> None:
        self.seq += 1
        c = self.command
        self.events.append(
            CaseEvent(
                event_id=f"{c.case_id}:{self.seq}",
                case_id=c.case_id,
                seq=self.seq,
                kind=kind,
                at=c.issued_at,
                actor=c.actor,
                command_id=c.command_id,
                reason=c.reason,
                evidence=c.evidence,
                state=status.value,
                data=data,
            )
        )


def decide(case: CaseRecord | None, command: CaseCommand, taxonomy: Taxonomy) -> Decision:
    if case is not None and command.command_id in case.applied:
        return Decision(case)
    body = command.body
    try:
        if isinstance(body, OpenCase):
            return _open(case, command, body)
        if case is None:
            raise Rejection(f"案件 {command.case_id} 不存在")
        if isinstance(body, DispatchCase):
            return _dispatch(case, command, body, taxonomy)
        raise Rejection(f"unsupported command {body.kind}")
    except Rejection as exc:
        return _reject(case, command, str(exc))


def _open(case: CaseRecord | None, command: CaseCommand, body: OpenCase) -> Decision:
    source, cls = body.source, body.classification
    if case is not None:
        if source.source_id in case.source_ids:
            return Decision(case)
        out = _Emitter(command, case.seq)
        out.emit(EventKind.SOURCE_ATTACHED, case.status, source=source.model_dump(mode="json"))
        updated = case.model_copy(deep=True)
        updated.source_ids.append(source.source_id)
        return _commit(updated, command, out)
    out = _Emitter(command, 0)
    status = CaseState.PENDING if cls.abstained else CaseState.DISPATCHED
    out.emit(
        EventKind.OPENED,
        CaseState.PENDING,
        source=source.model_dump(mode="json"),
        classification=cls.model_dump(mode="json"),
    )
    if not cls.abstained:
        out.emit(EventKind.REGISTERED, CaseState.REGISTERED, category=cls.category)
        out.emit(EventKind.DISPATCHED, status, department=cls.department, auto=True)
    new = CaseRecord(
        case_id=command.case_id,
        status=status,
        seq=0,
        category=cls.category,
        department=cls.department,
        priority=cls.priority,
        source_ids=[source.source_id],
        opened_at=command.issued_at,
        updated_at=command.issued_at,
    )
    return _commit(new, command, out)


def _dispatch(
    case: CaseRecord, command: CaseCommand, body: DispatchCase, taxonomy: Taxonomy
) -> Decision:
    if case.status is CaseState.DISPATCHED:
        raise Rejection("案件已派遣，改派请使用 reroute")
    try:
        taxonomy.department(body.department)
        category = taxonomy.leaf(body.category or case.category)
    except KeyError as exc:
        raise Rejection(str(exc.args[0])) from None
    out = _Emitter(command, case.seq)
    if case.status is CaseState.PENDING:
        out.emit(EventKind.REGISTERED, CaseState.REGISTERED, category=category.code)
    out.emit(EventKind.DISPATCHED, CaseState.DISPATCHED, department=body.department, auto=False)
    updated = case.model_copy(
        update={
            "status": CaseState.DISPATCHED,
            "department": body.department,
            "category": category.code,
            "priority": category.priority,
        }
    )
    return _commit(updated, command, out)


def _reject(case: CaseRecord | None, command: CaseCommand, reason: str) -> Decision:
    if case is None:
        return Decision(None, rejected=reason)
    out = _Emitter(command, case.seq)
    out.emit(
        EventKind.COMMAND_REJECTED, case.status, command=command.body.kind.value, reason=reason
    )
    decision = _commit(case.model_copy(deep=True), command, out)
    decision.rejected = reason
    return decision


def _commit(case: CaseRecord, command: CaseCommand, out: _Emitter) -> Decision:
    case.seq = out.seq
    case.updated_at = max(case.updated_at, command.issued_at)
    case.remember(command.command_id)
    if out.events:
        case.status = CaseState(out.events[-1].state)
    return Decision(case, out.events)
