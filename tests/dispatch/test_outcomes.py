"""Outcomes: every command a person sends is answered once, whatever became of it."""

from __future__ import annotations

from datetime import UTC, datetime

from cityops import taxonomy
from cityops.contracts import OutcomeStatus
from cityops.contracts.events import AcceptCase, CloseCase
from services.dispatch.case_ids import open_command
from services.dispatch.outcomes import outcome
from services.dispatch.workflow import decide
from tests.dispatch.builders import cmd, dept
from tests.dispatch.test_workflow import classified

TAX = taxonomy.load()
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def opened():  # type: ignore[no-untyped-def]
    d = decide(None, open_command(classified(abstained=False)), TAX)
    assert d.case is not None
    return d.case


def test_applied_names_the_events_it_made() -> None:
    case = opened()
    command = cmd(case.case_id, AcceptCase(), dept(case.department))
    d = decide(case, command, TAX)
    out = outcome(case, command, d, NOW)
    assert out is not None and out.status is OutcomeStatus.APPLIED
    assert (out.first_seq, out.last_seq) == (case.seq + 1, case.seq + 1)
    assert out.command_id == command.command_id and out.reason is None


def test_rejected_carries_the_reason() -> None:
    case = opened()
    command = cmd(case.case_id, CloseCase())
    d = decide(case, command, TAX)
    out = outcome(case, command, d, NOW)
    assert out is not None and out.status is OutcomeStatus.REJECTED
    assert out.reason == d.rejected and "不能执行 close" in (out.reason or "")


def test_a_command_for_no_case_is_answered_unknown_case() -> None:
    command = cmd("LGNOSUCHCASE00", AcceptCase(), dept("water"))
    d = decide(None, command, TAX)
    out = outcome(None, command, d, NOW)
    assert out is not None and out.status is OutcomeStatus.UNKNOWN_CASE
    assert "LGNOSUCHCASE00" in (out.reason or "")


def test_redelivery_and_system_commands_get_no_second_answer() -> None:
    case = opened()
    command = cmd(case.case_id, AcceptCase(), dept(case.department))
    after = decide(case, command, TAX).case
    assert after is not None
    assert outcome(after, command, decide(after, command, TAX), NOW) is None
    first = open_command(classified(abstained=False))
    assert outcome(None, first, decide(None, first, TAX), NOW) is None
