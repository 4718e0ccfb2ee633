import json
from datetime import UTC, datetime

from cityops import taxonomy
from cityops.contracts import (
    SYSTEM_ACTOR,
    Actor,
    CaseClassified,
    CaseCommand,
    CaseState,
    DispatchCase,
    EventKind,
    Role,
)
from services.dispatch.case_ids import case_id_for, open_command
from services.dispatch.workflow import decide
from tests.conftest import DATA

TAX = taxonomy.load()
DISPATCHER = Actor(id="dsp-1", role=Role.DISPATCHER)


def classified(abstained: bool = False, source_id: str = "r1") -> CaseClassified:
    data = json.loads((DATA / "case_classified.v1.json").read_text())
    data["classification"]["abstained"] = abstained
    data["source"]["source_id"] = source_id
    return CaseClassified.model_validate(data)


def dispatch(case_id: str, department: str = "water", command_id: str = "c-1") -> CaseCommand:
    return CaseCommand(
        command_id=command_id,
        case_id=case_id,
        actor=DISPATCHER,
        issued_at=datetime(2026, 11, 28, 3, tzinfo=UTC),
        body=DispatchCase(department=department),
    )


def test_case_ids_are_stable_and_distinct() -> None:
    assert case_id_for("r1") == case_id_for("r1") != case_id_for("r2")
    assert case_id_for("r1").startswith("LG") and len(case_id_for("r1")) == 14


def test_confident_source_opens_registers_and_dispatches() -> None:
    d = decide(None, open_command(classified()), TAX)
    assert [e.kind for e in d.events] == [
        EventKind.OPENED,
        EventKind.REGISTERED,
        EventKind.DISPATCHED,
    ]
    assert [e.seq for e in d.events] == [1, 2, 3]
    assert d.case is not None and d.case.status is CaseState.DISPATCHED
    assert d.events[-1].data["department"] == "water" and d.events[-1].data["auto"] is True
    assert d.events[-1].data["stage"] == "dispose"
    assert all(e.actor == SYSTEM_ACTOR for e in d.events)


def test_unsure_source_waits_for_a_dispatcher() -> None:
    d = decide(None, open_command(classified(abstained=True)), TAX)
    assert [e.kind for e in d.events] == [EventKind.OPENED]
    assert d.case is not None and d.case.status is CaseState.PENDING
    d2 = decide(d.case, dispatch(d.case.case_id), TAX)
    assert [e.kind for e in d2.events] == [EventKind.REGISTERED, EventKind.DISPATCHED]
    assert [e.seq for e in d2.events] == [2, 3]
    assert d2.case is not None and d2.case.status is CaseState.DISPATCHED


def test_redelivered_commands_change_nothing() -> None:
    command = open_command(classified())
    first = decide(None, command, TAX)
    again = decide(first.case, command, TAX)
    assert again.events == [] and again.case == first.case


def test_the_same_source_twice_makes_one_case() -> None:
    first = decide(None, open_command(classified()), TAX)
    later = open_command(classified()).model_copy(update={"command_id": "other-delivery"})
    assert decide(first.case, later, TAX).events == []


def test_invalid_dispatch_is_rejected_with_a_reason_and_recorded() -> None:
    opened = decide(None, open_command(classified(abstained=True)), TAX)
    assert opened.case is not None
    d = decide(opened.case, dispatch(opened.case.case_id, department="nobody"), TAX)
    assert d.rejected is not None and "nobody" in d.rejected
    assert [e.kind for e in d.events] == [EventKind.COMMAND_REJECTED]
    assert d.case is not None and d.case.status is CaseState.PENDING


def test_command_for_a_missing_case_is_rejected_without_events() -> None:
    d = decide(None, dispatch("LGNOSUCHCASE00"), TAX)
    assert d.case is None and d.events == [] and d.rejected
