"""Dispatch's figures (services/dispatch/gauges.py), on plain data from the workflow.

(Here rather than under tests/dispatch/ only because this change was limited to these
test files; it belongs in tests/dispatch/test_gauges.py.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from cityops import taxonomy
from cityops.contracts import Actor, CaseClassified, CaseCommand, DispatchCase, OutcomeStatus, Role
from services.dispatch.case_ids import open_command
from services.dispatch.gauges import (
    OPEN_STATES,
    OpenCases,
    command_result,
    report_to_case_s,
    stored_state,
)
from services.dispatch.workflow import decide
from tests.conftest import DATA

TAX = taxonomy.load()


def classified(abstained: bool) -> CaseClassified:
    data = json.loads((DATA / "case_classified.v1.json").read_text())
    data["classification"]["abstained"] = abstained
    return CaseClassified.model_validate(data)


def dispatch(case_id: str, department: str) -> CaseCommand:
    return CaseCommand(
        command_id="c-dispatch-1",
        case_id=case_id,
        actor=Actor(id="dsp-1", role=Role.DISPATCHER),
        issued_at=datetime(2026, 11, 28, 3, tzinfo=UTC),
        body=DispatchCase(department=department),
    )


def test_open_states_are_the_states_that_are_not_finished() -> None:
    assert "pending" in OPEN_STATES and "dispatched" in OPEN_STATES
    assert not {"closed", "invalid", "merged"} & set(OPEN_STATES)


def test_open_cases_move_with_their_state_and_leave_when_finished() -> None:
    gauge = OpenCases()
    gauge.move(None, "pending")
    gauge.move(None, "pending")
    gauge.move("pending", "dispatched")
    assert gauge.counts["pending"] == 1 and gauge.counts["dispatched"] == 1
    gauge.move("dispatched", "closed")
    gauge.move("pending", "pending")  # a command that left the state alone
    assert gauge.counts["dispatched"] == 0 and gauge.counts["pending"] == 1
    assert "closed" not in gauge.counts
    gauge.move("in_progress", None)  # never counted here: no negative figure
    assert min(gauge.counts.values()) == 0


def test_a_rebuild_counts_the_table_afresh() -> None:
    gauge = OpenCases()
    gauge.move(None, "verified")
    gauge.rebuild(["pending", "pending", "closed", None, "in_progress"])
    assert gauge.counts["pending"] == 2 and gauge.counts["in_progress"] == 1
    assert gauge.counts["verified"] == 0 and sum(gauge.counts.values()) == 3


def test_the_state_is_read_from_the_stored_case() -> None:
    opened = decide(None, open_command(classified(abstained=True)), TAX).case
    assert opened is not None
    assert stored_state(opened.model_dump_json().encode()) == "pending"


def test_each_command_gets_its_outcome_status() -> None:
    command = open_command(classified(abstained=True))
    first = decide(None, command, TAX)
    assert command_result(False, first) is OutcomeStatus.APPLIED
    assert first.case is not None
    again = decide(first.case, command, TAX)
    assert command_result(command.command_id in first.case.applied, again) is (
        OutcomeStatus.DUPLICATE
    )
    refused = decide(first.case, dispatch(first.case.case_id, "nobody"), TAX)
    assert command_result(False, refused) is OutcomeStatus.REJECTED
    missing = decide(None, dispatch("LGNOSUCHCASE00", "water"), TAX)
    assert command_result(False, missing) is OutcomeStatus.UNKNOWN_CASE


def test_report_to_case_runs_from_receipt_to_the_open_and_only_once() -> None:
    item = classified(abstained=False)
    command = open_command(item)
    decision = decide(None, command, TAX)
    now = item.source.received_at + timedelta(seconds=2.5)
    assert report_to_case_s(command, decision, now) == 2.5
    assert report_to_case_s(command, decide(decision.case, command, TAX), now) is None
    assert decision.case is not None
    other = decide(decision.case, dispatch(decision.case.case_id, "water"), TAX)
    assert report_to_case_s(dispatch(decision.case.case_id, "water"), other, now) is None
