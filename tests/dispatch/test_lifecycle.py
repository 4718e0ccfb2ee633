"""The lifecycle 立案 → 派遣 → 处置 → 核查 → 结案 with 退单, 返工, 延期, 缓办, merge and split."""

from __future__ import annotations

from datetime import datetime, timedelta

from cityops import taxonomy
from cityops.contracts import CaseCommand, EventKind
from cityops.contracts.events import (
    AcceptCase,
    AttachSources,
    CloseCase,
    DecideExtension,
    DeferCase,
    DispatchCase,
    MergeCase,
    OpenCase,
    RegisterCase,
    ReportBack,
    RequestExtension,
    RerouteCase,
    ResumeCase,
    ReturnCase,
    SplitCase,
    VerifyCase,
)
from cityops.contracts.states import CaseState
from services.dispatch.case_ids import open_command
from services.dispatch.escalation import alert_command, due_alert
from services.dispatch.sla import SHANGHAI
from services.dispatch.states import CaseRecord
from services.dispatch.workflow import Decision, decide
from tests.dispatch.builders import DISPATCHER, GRID, cmd, dept
from tests.dispatch.test_workflow import classified

TAX = taxonomy.load()
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)  # a Monday


def opened(abstained: bool = True, source_id: str = "r1") -> CaseRecord:
    command = open_command(classified(abstained=abstained, source_id=source_id))
    command = command.model_copy(update={"issued_at": T0})
    d = decide(None, command, TAX)
    assert d.case is not None
    return d.case


def run(case: CaseRecord, *commands: CaseCommand) -> tuple[CaseRecord, list[Decision]]:
    decisions = []
    for command in commands:
        d = decide(case, command, TAX)
        assert d.case is not None
        decisions.append(d)
        case = d.case
    return case, decisions


def kinds(decisions: list[Decision]) -> list[str]:
    return [e.kind.value for d in decisions for e in d.events]


def test_the_full_lifecycle_with_rework() -> None:
    case = opened()
    cid = case.case_id
    case, ds = run(
        case,
        cmd(cid, RegisterCase(category="C0103")),
        cmd(cid, DispatchCase(department="water")),
        cmd(cid, AcceptCase(), dept("water")),
        cmd(cid, ReportBack(), dept("water")),
        cmd(cid, VerifyCase(passed=False), GRID),
        cmd(cid, ReportBack(), dept("water")),
        cmd(cid, VerifyCase(passed=True)),
        cmd(cid, CloseCase()),
    )
    assert kinds(ds) == [
        "registered",
        "dispatched",
        "accepted",
        "reported_back",
        "rework",
        "reported_back",
        "verified",
        "closed",
    ]
    assert case.status is CaseState.CLOSED and case.rework_count == 1
    assert case.category == "C0103" and case.clock is None
    assert all(not d.rejected for d in ds)


def test_return_reroute_and_misroute_fix_keep_the_case_open() -> None:
    case = opened(abstained=False)
    cid = case.case_id
    case, ds = run(
        case,
        cmd(cid, ReturnCase(), dept("water"), reason="不是我们的井盖"),
        cmd(cid, DispatchCase(department="utilities")),
        cmd(cid, AcceptCase(), dept("utilities")),
        cmd(cid, RerouteCase(department="roads_infrastructure", category="E0301"), reason="改派"),
    )
    assert kinds(ds) == ["returned", "dispatched", "accepted", "rerouted"]
    assert case.status is CaseState.DISPATCHED and case.department == "roads_infrastructure"
    assert case.returned_count == 1 and case.category == "E0301"


def test_rejections_say_why_and_change_nothing_but_the_timeline() -> None:
    case = opened()
    cid = case.case_id
    checks = [
        (cmd(cid, AcceptCase(), dept("water")), "不能执行 accept"),
        (cmd(cid, CloseCase()), "不能执行 close"),
        (cmd(cid, DispatchCase(department="water"), dept("water")), "角色 department"),
        (cmd(cid, DispatchCase(department="nobody")), "未知部门"),
        (cmd(cid, RegisterCase(category="X9999")), "未知类别"),
    ]
    for command, why in checks:
        d = decide(case, command, TAX)
        assert d.rejected and why in d.rejected, (d.rejected, why)
        assert d.case is not None and d.case.status is case.status
        assert [e.kind for e in d.events] == [EventKind.COMMAND_REJECTED]


def test_another_department_cannot_handle_the_case() -> None:
    case = opened(abstained=False)
    d = decide(case, cmd(case.case_id, AcceptCase(), dept("police")), TAX)
    assert d.rejected and "water" in d.rejected


def test_return_and_defer_need_a_reason() -> None:
    case = opened(abstained=False)
    d = decide(case, cmd(case.case_id, ReturnCase(), dept("water"), reason=None), TAX)
    assert d.rejected and "原因" in d.rejected


def test_deferral_pauses_the_clock_and_extension_moves_it() -> None:
    case = opened(abstained=False)  # dispatched at T0 (Monday 09:00); C0102 is working time
    cid = case.case_id
    assert case.clock is not None
    first_deadline = case.clock.deadline
    case, _ = run(case, cmd(cid, AcceptCase(), dept("water"), at=T0))
    # defer at 10:00 Monday for a week; resume the next Monday 10:00: same remaining time
    case, _ = run(case, cmd(cid, DeferCase(), at=T0 + timedelta(hours=1)))
    assert case.status is CaseState.DEFERRED
    assert due_alert(case, T0 + timedelta(days=30), 0.8, TAX) is None  # paused: no alerts
    case, _ = run(case, cmd(cid, ResumeCase(), at=T0 + timedelta(days=7, hours=1)))
    assert case.status is CaseState.IN_PROGRESS
    assert case.clock is not None and case.clock.deadline == first_deadline + timedelta(days=7)
    # an approved 8-working-hour extension moves the deadline by one working day
    case, ds = run(
        case,
        cmd(cid, RequestExtension(hours=8), dept("water"), reason="需要采购配件"),
        cmd(cid, DecideExtension(approve=True)),
    )
    assert kinds(ds) == ["extension_requested", "extension_approved"]
    assert case.clock.deadline == first_deadline + timedelta(days=8)


def test_deadline_warning_then_breach_escalates_once() -> None:
    case = opened(abstained=False)
    assert case.clock is not None
    deadline = case.clock.deadline
    warn_at = deadline - timedelta(minutes=30)
    alert = due_alert(case, warn_at, 0.8, TAX)
    assert alert is not None and alert.level == "warning"
    case, ds = run(case, alert_command(case, alert, warn_at))
    assert kinds(ds) == ["sla_warning"]
    assert due_alert(case, warn_at, 0.8, TAX) is None  # warned once
    breach = due_alert(case, deadline, 0.8, TAX)
    assert breach is not None and breach.level == "breach"
    case, ds = run(case, alert_command(case, breach, deadline))
    assert kinds(ds) == ["sla_breached"] and ds[0].notify
    assert case.priority == "urgent"  # high → urgent
    again = decide(case, alert_command(case, breach, deadline), TAX)
    assert again.events == []  # the same alert, redelivered or rescanned, does nothing


def test_stale_timer_after_extension_is_ignored_silently() -> None:
    case = opened(abstained=False)
    assert case.clock is not None
    stale = due_alert(case, case.clock.deadline, 0.8, TAX)
    assert stale is not None
    cid = case.case_id
    case, _ = run(
        case,
        cmd(cid, AcceptCase(), dept("water")),
        cmd(cid, RequestExtension(hours=8), dept("water"), reason="配件"),
        cmd(cid, DecideExtension(approve=True)),
    )
    d = decide(case, alert_command(case, stale, case.clock.deadline), TAX)  # type: ignore[union-attr]
    assert d.events == [] and d.rejected is None


def test_merge_moves_sources_and_split_undoes_it() -> None:
    a, b = opened(source_id="ra"), opened(source_id="rb")
    merged, ds = run(a, cmd(a.case_id, MergeCase(target_case_id=b.case_id)))
    assert merged.status is CaseState.MERGED
    (attach,) = ds[0].followups
    assert attach.case_id == b.case_id and isinstance(attach.body, AttachSources)
    b2, ds = run(b, attach)
    assert kinds(ds) == ["sources_merged"] and b2.source_ids == ["rb", "ra"]
    b3, ds = run(b2, cmd(b2.case_id, SplitCase(source_id="ra")))
    assert kinds(ds) == ["source_detached"] and b3.source_ids == ["rb"]
    (reopen,) = ds[0].followups
    assert isinstance(reopen.body, OpenCase) and reopen.body.source.source_id == "ra"
    fresh = decide(None, reopen, TAX)
    assert fresh.case is not None and fresh.case.status is CaseState.PENDING


def test_sources_sent_to_a_closed_case_open_their_own() -> None:
    case = opened(abstained=False)
    cid = case.case_id
    case, _ = run(case, cmd(cid, RerouteCase(department="water", category="C0103"), reason="x"))
    late = open_command(classified(source_id="late"), cid)
    closed = case.model_copy(update={"status": CaseState.CLOSED})
    d = decide(closed, late, TAX)
    assert d.events == [] and len(d.followups) == 1
    assert d.followups[0].case_id != cid


def test_attach_to_a_missing_case_loses_nothing() -> None:
    a = opened(source_id="ra")
    _, ds = run(a, cmd(a.case_id, MergeCase(target_case_id="LGNOSUCHCASE00")))
    d = decide(None, ds[0].followups[0], TAX)
    assert d.case is None and d.rejected
    assert [f.body.source.source_id for f in d.followups] == ["ra"]  # type: ignore[union-attr]


def test_grid_worker_verifies_on_site_but_cannot_close() -> None:
    case = opened(abstained=False)
    cid = case.case_id
    case, _ = run(
        case,
        cmd(cid, AcceptCase(), dept("water")),
        cmd(cid, ReportBack(), dept("water")),
        cmd(cid, VerifyCase(passed=True), GRID),
    )
    assert case.status is CaseState.VERIFIED
    d = decide(case, cmd(cid, CloseCase(), GRID), TAX)
    assert d.rejected and "grid_worker" in d.rejected
    assert DISPATCHER.role.value == "dispatcher"
