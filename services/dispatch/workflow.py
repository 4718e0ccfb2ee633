"""The case state machine: (case, command) -> new case, events and follow-up commands, or a
rejection with its reason. Pure: no clock is read, no I/O is done.

Every accepted command yields events numbered from the case's ``seq``. A command whose id
the case has already applied yields nothing, so redelivery is harmless. Follow-ups are
commands for *other* cases (a merge moves sources, a split opens a new case); the app
sends them to ``cases.commands``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cityops.contracts import CaseCommand, CommandKind, EventKind, OpenCase
from cityops.taxonomy import Taxonomy
from services.dispatch import lifecycle, sensing
from services.dispatch.decision import Decision, Emitter, Rejection, Unchanged
from services.dispatch.permissions import NEEDS_REASON, RULES
from services.dispatch.states import CaseRecord

Handler = Callable[[Emitter, Any, Taxonomy], list[CaseCommand] | None]


def decide(case: CaseRecord | None, command: CaseCommand, taxonomy: Taxonomy) -> Decision:
    if case is not None and command.command_id in case.applied:
        return Decision(case)
    body = command.body
    if isinstance(body, OpenCase):
        return lifecycle.open_case(case, command, body, taxonomy)
    if case is None:
        return _orphan(command)
    try:
        _check(case, command)
        work = case.model_copy(deep=True)
        out = Emitter(work, command)
        followups = HANDLERS[body.kind](out, body, taxonomy) or []
    except Rejection as exc:
        return _reject(case, command, str(exc))
    except Unchanged as quiet:
        return Decision(case, followups=quiet.followups)
    work.updated_at = max(work.updated_at, command.issued_at)
    work.remember(command.command_id)
    notify = [e for e in out.events if e.kind is EventKind.SLA_BREACHED]
    return Decision(work, out.events, followups=followups, notify=notify)


def _check(case: CaseRecord, command: CaseCommand) -> None:
    kind, actor = command.body.kind, command.actor
    roles, states = RULES[kind]
    if actor.role not in roles:
        raise Rejection(f"角色 {actor.role.value} 不能执行 {kind.value}")
    if case.status not in states:
        raise Rejection(f"案件状态为 {case.status.value}，不能执行 {kind.value}")
    if kind in NEEDS_REASON and not (command.reason and command.reason.strip()):
        raise Rejection(f"{kind.value} 需要填写原因")
    if actor.role.value == "department" and actor.department != case.department:
        raise Rejection(f"案件属于 {case.department}，{actor.department} 不能处理")


def _orphan(command: CaseCommand) -> Decision:
    """A command for a case that does not exist. Sources on their way in are not lost."""
    reason = f"案件 {command.case_id} 不存在"
    return Decision(None, rejected=reason, followups=lifecycle.rehome(command))


def _reject(case: CaseRecord, command: CaseCommand, reason: str) -> Decision:
    if command.body.kind is CommandKind.SLA_ALERT:
        return Decision(case)  # a stale timer: the stage moved on, nothing to record
    work = case.model_copy(deep=True)
    out = Emitter(work, command)
    out.emit(EventKind.COMMAND_REJECTED, command=command.body.kind.value, reason=reason)
    work.remember(command.command_id)
    return Decision(work, out.events, rejected=reason, followups=lifecycle.rehome(command))


HANDLERS: dict[CommandKind, Handler] = {
    CommandKind.REGISTER: lifecycle.register,
    CommandKind.REJECT: lifecycle.reject,
    CommandKind.DISPATCH: lifecycle.dispatch,
    CommandKind.REROUTE: lifecycle.reroute,
    CommandKind.ACCEPT: lifecycle.accept,
    CommandKind.RETURN: lifecycle.give_back,
    CommandKind.REQUEST_EXTENSION: lifecycle.request_extension,
    CommandKind.DECIDE_EXTENSION: lifecycle.decide_extension,
    CommandKind.DEFER: lifecycle.defer,
    CommandKind.RESUME: lifecycle.resume,
    CommandKind.REPORT_BACK: lifecycle.report_back,
    CommandKind.VERIFY: lifecycle.verify,
    CommandKind.CLOSE: lifecycle.close,
    CommandKind.MERGE: lifecycle.merge,
    CommandKind.ATTACH: lifecycle.attach,
    CommandKind.SPLIT: lifecycle.split,
    CommandKind.SLA_ALERT: lifecycle.sla_alert,
    CommandKind.SENSOR_SIGNAL: sensing.sensor_signal,
}

__all__ = ["Decision", "Rejection", "decide"]
