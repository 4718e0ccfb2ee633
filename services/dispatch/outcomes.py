"""What became of a command, for its sender (``cases.outcomes``). Pure."""

from __future__ import annotations

from datetime import datetime

from cityops.contracts import CaseCommand, CommandKind, CommandOutcome, OutcomeStatus
from services.dispatch.decision import Decision
from services.dispatch.states import CaseRecord

# The system's own commands: their effects are the case's events; nobody waits on them.
INTERNAL = frozenset({CommandKind.OPEN, CommandKind.ATTACH, CommandKind.SLA_ALERT})


def outcome(
    case: CaseRecord | None, command: CaseCommand, decision: Decision, now: datetime
) -> CommandOutcome | None:
    """The outcome of ``command`` on ``case`` (as it was before), or None: for the
    system's internal commands, and for a command the case has already applied (a
    redelivery, or a client sending the same command_id again: its outcome was written
    when it was applied, and the sender finds that one)."""
    if command.body.kind in INTERNAL:
        return None
    if case is not None and command.command_id in case.applied:
        return None
    first = last = None
    if decision.case is None:
        status, reason = OutcomeStatus.UNKNOWN_CASE, f"案件 {command.case_id} 不存在"
    elif decision.rejected:
        status, reason = OutcomeStatus.REJECTED, decision.rejected
    else:
        status, reason = OutcomeStatus.APPLIED, None
    if decision.events:
        first, last = decision.events[0].seq, decision.events[-1].seq
    return CommandOutcome(
        command_id=command.command_id,
        case_id=command.case_id,
        command=command.body.kind,
        status=status,
        reason=reason,
        first_seq=first,
        last_seq=last,
        actor=command.actor,
        issued_at=command.issued_at,
        decided_at=now,
    )
