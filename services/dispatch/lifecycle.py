"""One handler per command: check what only the case can tell, move it, emit events.

Each handler gets an :class:`Emitter` over a private copy of the case, the command body
and the taxonomy, and returns follow-up commands for other cases (or nothing).
"""

from __future__ import annotations

from typing import Any

from cityops.contracts import SYSTEM_ACTOR, CaseCommand, CaseSource, EventKind, OpenCase
from cityops.contracts.events import (
    AttachSources,
    DecideExtension,
    DispatchCase,
    MergeCase,
    RegisterCase,
    RequestExtension,
    RerouteCase,
    SlaAlert,
    SplitCase,
    VerifyCase,
)
from cityops.contracts.states import TERMINAL, CaseState
from cityops.taxonomy import Taxonomy
from services.dispatch import clocks
from services.dispatch.case_ids import case_id_for
from services.dispatch.decision import Decision, Emitter, Rejection
from services.dispatch.states import CaseRecord

S, E = CaseState, EventKind


def open_case(
    case: CaseRecord | None, command: CaseCommand, body: OpenCase, taxonomy: Taxonomy
) -> Decision:
    source, cls = body.source, body.classification
    if case is not None:
        if source.source_id in case.source_ids:
            return Decision(case)
        if case.status in TERMINAL:  # too late to join: the source opens its own case
            return Decision(case, followups=[reopen(source, cls, case.case_id, command)])
        work = case.model_copy(deep=True)
        out = Emitter(work, command)
        work.add_sources([source])
        out.emit(
            E.SOURCE_ATTACHED, source=source.model_dump(mode="json"), report_count=work.source_count
        )
        work.remember(command.command_id)
        return Decision(work, out.events)
    new = CaseRecord(
        case_id=command.case_id,
        status=S.PENDING,
        seq=0,
        category=cls.category,
        department=cls.department,
        priority=cls.priority,
        town=cls.town,
        sources=[source],
        opened_at=command.issued_at,
        updated_at=command.issued_at,
        classification=cls,
    )
    out = Emitter(new, command)
    at = command.issued_at
    if cls.abstained:
        deadline = clocks.start(new, "register", at, taxonomy)
        out.emit(
            E.OPENED,
            S.PENDING,
            source=source.model_dump(mode="json"),
            classification=cls.model_dump(mode="json"),
            **deadline,
        )
    else:
        out.emit(
            E.OPENED,
            S.PENDING,
            source=source.model_dump(mode="json"),
            classification=cls.model_dump(mode="json"),
        )
        out.emit(E.REGISTERED, S.REGISTERED, category=cls.category, auto=True)
        deadline = clocks.start(new, "dispose", at, taxonomy)
        out.emit(E.DISPATCHED, S.DISPATCHED, department=cls.department, auto=True, **deadline)
    new.remember(command.command_id)
    return Decision(new, out.events)


def reopen(source: CaseSource, cls: Any, old_case: str, command: CaseCommand) -> CaseCommand:
    case_id = case_id_for(f"{source.source_id}#after#{old_case}")
    return CaseCommand(
        command_id=f"open:{source.source_id}:{case_id}",
        case_id=case_id,
        actor=SYSTEM_ACTOR,
        issued_at=command.issued_at,
        body=OpenCase(source=source, classification=cls),
    )


def rehome(command: CaseCommand) -> list[CaseCommand]:
    """Sources sent to a case that cannot take them get cases of their own."""
    body = command.body
    if not isinstance(body, AttachSources):
        return []
    return [reopen(s, body.classification, command.case_id, command) for s in body.sources]


def _category(body_category: str | None, case: CaseRecord, taxonomy: Taxonomy) -> str:
    code = body_category or case.category
    if not taxonomy.has_leaf(code):
        raise Rejection(f"未知类别 {code}")
    return code


def _department(code: str, taxonomy: Taxonomy) -> str:
    try:
        return taxonomy.department(code).code
    except KeyError:
        raise Rejection(f"未知部门 {code}") from None


def _set_class(case: CaseRecord, category: str, taxonomy: Taxonomy) -> None:
    if category != case.category:
        case.category = category
        case.priority = taxonomy.leaf(category).priority


def register(out: Emitter, body: RegisterCase, taxonomy: Taxonomy) -> None:
    case = out.case
    _set_class(case, _category(body.category, case, taxonomy), taxonomy)
    deadline = clocks.start(case, "dispatch", out.command.issued_at, taxonomy)
    out.emit(E.REGISTERED, S.REGISTERED, category=case.category, auto=False, **deadline)


def reject(out: Emitter, body: Any, taxonomy: Taxonomy) -> None:
    out.case.clock = None
    out.emit(E.INVALIDATED, S.INVALID)


def dispatch(out: Emitter, body: DispatchCase, taxonomy: Taxonomy) -> None:
    case = out.case
    department = _department(body.department, taxonomy)
    category = _category(body.category, case, taxonomy)
    _set_class(case, category, taxonomy)
    if case.status is S.PENDING:
        out.emit(E.REGISTERED, S.REGISTERED, category=case.category, auto=False)
    case.department = department
    deadline = clocks.start(case, "dispose", out.command.issued_at, taxonomy)
    out.emit(
        E.DISPATCHED,
        S.DISPATCHED,
        department=department,
        category=case.category,
        auto=False,
        **deadline,
    )


def reroute(out: Emitter, body: RerouteCase, taxonomy: Taxonomy) -> None:
    case = out.case
    department = _department(body.department, taxonomy)
    category = _category(body.category, case, taxonomy)
    if department == case.department and category == case.category:
        raise Rejection("改派的部门和类别与现在相同")
    previous = case.department
    _set_class(case, category, taxonomy)
    case.department = department
    deadline = clocks.start(case, "dispose", out.command.issued_at, taxonomy)
    out.emit(
        E.REROUTED,
        S.DISPATCHED,
        department=department,
        previous_department=previous,
        category=case.category,
        **deadline,
    )


def accept(out: Emitter, body: Any, taxonomy: Taxonomy) -> None:
    out.emit(E.ACCEPTED, S.IN_PROGRESS, department=out.case.department)


def give_back(out: Emitter, body: Any, taxonomy: Taxonomy) -> None:
    case = out.case
    case.returned_count += 1
    deadline = clocks.start(case, "dispatch", out.command.issued_at, taxonomy)
    out.emit(E.RETURNED, S.REGISTERED, department=case.department, **deadline)


def request_extension(out: Emitter, body: RequestExtension, taxonomy: Taxonomy) -> None:
    if out.case.pending_extension_h is not None:
        raise Rejection("已有待审批的延期申请")
    out.case.pending_extension_h = body.hours
    out.emit(E.EXTENSION_REQUESTED, hours=body.hours)


def decide_extension(out: Emitter, body: DecideExtension, taxonomy: Taxonomy) -> None:
    case = out.case
    hours = case.pending_extension_h
    if hours is None:
        raise Rejection("没有待审批的延期申请")
    case.pending_extension_h = None
    if body.approve and case.clock is not None:
        out.emit(E.EXTENSION_APPROVED, **clocks.extend(case, hours, taxonomy))
    else:
        out.emit(E.EXTENSION_DENIED, hours=hours)


def defer(out: Emitter, body: Any, taxonomy: Taxonomy) -> None:
    case = out.case
    case.resume_to = case.status
    clocks.pause(case, out.command.issued_at, taxonomy)
    out.emit(E.DEFERRED, S.DEFERRED)


def resume(out: Emitter, body: Any, taxonomy: Taxonomy) -> None:
    case = out.case
    back = case.resume_to or S.IN_PROGRESS
    case.resume_to = None
    out.emit(E.RESUMED, back, **clocks.resume(case, out.command.issued_at, taxonomy))


def report_back(out: Emitter, body: Any, taxonomy: Taxonomy) -> None:
    case = out.case
    on_time = case.clock is None or out.command.issued_at <= case.clock.deadline
    clocks.stop(case)
    out.emit(E.REPORTED_BACK, S.REPORTED_BACK, on_time=on_time)
    recovery, case.sensor_recovery = case.sensor_recovery, None
    if recovery is not None:  # the sensor verified the work before the report came
        out.emit(
            E.VERIFIED,
            S.VERIFIED,
            passed=True,
            by="sensor",
            on_report=True,
            source_id=recovery.source_id,
            device_id=recovery.device_id,
            normal_since=recovery.since.isoformat(),
        )


def verify(out: Emitter, body: VerifyCase, taxonomy: Taxonomy) -> None:
    if body.passed:
        out.emit(E.VERIFIED, S.VERIFIED, passed=True)
    else:
        rework(out)


def rework(out: Emitter, **data: Any) -> None:
    """返工: back to the department, the disposal clock running on to its deadline."""
    case = out.case
    case.rework_count += 1
    deadline = clocks.restart_stopped(case) if case.clock else {}
    out.emit(
        E.REWORK, S.IN_PROGRESS, passed=False, rework_count=case.rework_count, **deadline, **data
    )


def close(out: Emitter, body: Any, taxonomy: Taxonomy) -> None:
    case = out.case
    on_time = case.clock is None or not case.clock.breached
    case.clock = None
    out.emit(E.CLOSED, S.CLOSED, on_time=on_time)


def merge(out: Emitter, body: MergeCase, taxonomy: Taxonomy) -> list[CaseCommand]:
    case = out.case
    if body.target_case_id == case.case_id:
        raise Rejection("不能合并到自身")
    moved = tuple(case.sources)
    case.clock = None
    out.emit(
        E.MERGED_INTO,
        S.MERGED,
        target_case_id=body.target_case_id,
        source_ids=[s.source_id for s in moved],
        report_count=case.source_count,
    )
    attach = AttachSources(
        from_case_id=case.case_id,
        sources=moved,
        classification=case.classification,
        total=case.source_count,
    )
    return [
        CaseCommand(
            command_id=f"attach:{case.case_id}:{out.command.command_id}",
            case_id=body.target_case_id,
            actor=out.command.actor,
            issued_at=out.command.issued_at,
            reason=out.command.reason,
            body=attach,
        )
    ]


def attach(out: Emitter, body: AttachSources, taxonomy: Taxonomy) -> None:
    case = out.case
    if case.status in TERMINAL:
        raise Rejection(f"目标案件 {case.case_id} 已是 {case.status.value}，不能合并")
    new = [s for s in body.sources if s.source_id not in case.source_ids]
    known = len(body.sources) - len(new)  # a redelivered half of a merge adds nothing twice
    case.add_sources(new, None if body.total is None else body.total - known)
    out.emit(
        E.SOURCES_MERGED,
        from_case_id=body.from_case_id,
        sources=[s.model_dump(mode="json") for s in new],
        report_count=case.source_count,
    )


def split(out: Emitter, body: SplitCase, taxonomy: Taxonomy) -> list[CaseCommand]:
    case = out.case
    source = next((s for s in case.sources if s.source_id == body.source_id), None)
    if source is None:
        raise Rejection(f"案件中没有来源 {body.source_id}")
    if case.source_count < 2:
        raise Rejection("案件只有一个来源，不能拆分")
    case.drop_source(body.source_id)
    new_id = case_id_for(f"{body.source_id}#split#{case.case_id}")
    out.emit(
        E.SOURCE_DETACHED,
        source_id=body.source_id,
        new_case_id=new_id,
        report_count=case.source_count,
    )
    unsure = case.classification.model_copy(update={"abstained": True})
    return [
        CaseCommand(
            command_id=f"open:{body.source_id}:{new_id}",
            case_id=new_id,
            actor=out.command.actor,
            issued_at=out.command.issued_at,
            reason=out.command.reason,
            body=OpenCase(source=source, classification=unsure),
        )
    ]


def sla_alert(out: Emitter, body: SlaAlert, taxonomy: Taxonomy) -> None:
    case = out.case
    c = case.clock
    if (
        c is None
        or not clocks.running(case)
        or c.stage != body.stage
        or c.deadline != body.deadline
    ):
        raise Rejection("stale timer")
    if body.level == "warning" and not c.warned and not c.breached:
        c.warned = True
        out.emit(E.SLA_WARNING, stage=c.stage, deadline=c.deadline.isoformat())
    elif body.level == "breach" and not c.breached:
        c.breached = c.warned = True
        case.priority = clocks.PRIORITY_UP[case.priority]
        out.emit(
            E.SLA_BREACHED,
            stage=c.stage,
            deadline=c.deadline.isoformat(),
            priority=case.priority,
            department=case.department,
        )
    else:
        raise Rejection("stale timer")
