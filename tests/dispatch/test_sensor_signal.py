"""The case workflow and its sensor: 核查 by recovery, 返工 or a follow-up case on relapse."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from cityops import taxonomy
from cityops.contracts import (
    SYSTEM_ACTOR,
    Actor,
    CaseClassified,
    CaseCommand,
    CaseSource,
    EventKind,
    GeoPoint,
    OpenCase,
    ReadingPoint,
    Role,
    SensorContext,
    SensorSignal,
    SignalKind,
    SourceType,
)
from cityops.contracts.events import (
    AcceptCase,
    DeferCase,
    MergeCase,
    RegisterCase,
    RejectCase,
    ReportBack,
    SlaAlert,
    VerifyCase,
)
from cityops.contracts.states import CaseState
from services.dispatch import clocks
from services.dispatch.case_ids import case_id_for, open_command
from services.dispatch.sla import SHANGHAI
from services.dispatch.states import CaseRecord
from services.dispatch.workflow import decide
from tests.dispatch.builders import DISPATCHER, cmd, dept
from tests.dispatch.test_workflow import classified

TAX = taxonomy.load()
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)  # a Monday
S, E = CaseState, EventKind
DEVICE = "wl-017"
AT = T0 + timedelta(minutes=30)  # within every first deadline of the class


def sensor_source(source_id: str = "sensor:wl-017:1", device: str = DEVICE) -> CaseSource:
    readings = tuple(ReadingPoint(at=T0 + timedelta(minutes=i), value=20.0 - i) for i in range(3))
    return CaseSource(
        source_type=SourceType.SENSOR,
        source_id=source_id,
        text="积水监测：水位超过 15 cm",
        location=GeoPoint(lat=30.9052, lon=121.9281),
        reporter=Actor(id=device, role=Role.DEVICE),
        sensor=SensorContext(
            device_id=device,
            device_type="water_level",
            condition="flooding",
            metric="water_level",
            unit="cm",
            threshold=15.0,
            clear=5.0,
            readings=readings,
        ),
        occurred_at=T0,
        received_at=T0,
    )


def opened(abstained: bool = False, human_too: bool = False) -> CaseRecord:
    """A case opened by the sensor (and joined by a human report when ``human_too``)."""
    cls = classified(abstained=abstained).classification
    first = CaseClassified(source=sensor_source(), classification=cls, classified_at=T0)
    case = step(None, open_command(first).model_copy(update={"issued_at": T0}))
    if human_too:
        report = classified(source_id="r-human").source
        case = step(
            case, cmd(case.case_id, OpenCase(source=report, classification=cls), SYSTEM_ACTOR)
        )
    return case


def step(case: CaseRecord | None, command: CaseCommand) -> CaseRecord:
    d = decide(case, command, TAX)
    assert d.case is not None and not d.rejected, d.rejected
    return d.case


def in_state(state: CaseState, human_too: bool = False) -> CaseRecord:
    case = opened(abstained=state in (S.PENDING, S.REGISTERED, S.INVALID), human_too=human_too)
    cid = case.case_id
    paths: dict[CaseState, list[CaseCommand]] = {
        S.PENDING: [],
        S.REGISTERED: [cmd(cid, RegisterCase())],
        S.DISPATCHED: [],
        S.IN_PROGRESS: [cmd(cid, AcceptCase(), dept())],
        S.DEFERRED: [cmd(cid, AcceptCase(), dept()), cmd(cid, DeferCase())],
        S.REPORTED_BACK: [cmd(cid, AcceptCase(), dept()), cmd(cid, ReportBack(), dept())],
        S.VERIFIED: [
            cmd(cid, AcceptCase(), dept()),
            cmd(cid, ReportBack(), dept()),
            cmd(cid, VerifyCase(passed=True)),
        ],
        S.INVALID: [cmd(cid, RejectCase())],
        S.MERGED: [cmd(cid, MergeCase(target_case_id="LGOTHERCASE000"))],
    }
    if state is S.CLOSED:
        return step(in_state(S.VERIFIED, human_too), signal(cid, SignalKind.RECOVERED, True))
    for command in paths[state]:
        case = step(case, command)
    assert case.status is state
    return case


def signal(
    case_id: str,
    kind: SignalKind,
    closes: bool = False,
    source: CaseSource | None = None,
    actor: Actor | None = None,
    at: datetime = AT,
) -> CaseCommand:
    body = SensorSignal(
        signal=kind,
        source=source or sensor_source(),
        classification=classified().classification,
        observed_at=at - timedelta(minutes=1),
        text="水位已恢复正常" if kind is SignalKind.RECOVERED else "水位再次超限",
        closes_case=closes,
    )
    return cmd(case_id, body, actor or Actor(id=DEVICE, role=Role.DEVICE), at=at, reason=None)


def kinds_of(case: CaseRecord, command: CaseCommand) -> tuple[CaseRecord, list[EventKind]]:
    d = decide(case, command, TAX)
    assert d.case is not None and not d.rejected, d.rejected
    return d.case, [e.kind for e in d.events]


def test_recovery_verifies_a_reported_back_case_with_the_sensor_facts() -> None:
    case = in_state(S.REPORTED_BACK, human_too=True)
    d = decide(case, signal(case.case_id, SignalKind.RECOVERED, closes=True), TAX)
    assert [e.kind for e in d.events] == [E.SENSOR_VERIFIED, E.VERIFIED]
    assert d.case is not None and d.case.status is S.VERIFIED
    facts = d.events[0].data
    assert facts["by"] == "sensor" and facts["device_id"] == DEVICE
    assert facts["source_id"] == "sensor:wl-017:1" and facts["text"] == "水位已恢复正常"
    assert facts["metric"] == "water_level" and facts["unit"] == "cm"
    assert facts["threshold"] == 15.0 and len(facts["readings"]) == 3
    assert facts["readings"][0] == {"at": T0.isoformat(), "value": 20.0}
    assert d.events[0].state == "reported_back" and d.events[1].data["by"] == "sensor"


@pytest.mark.parametrize(
    "state",
    [S.PENDING, S.REGISTERED, S.DISPATCHED, S.IN_PROGRESS, S.DEFERRED, S.REPORTED_BACK],
)
def test_a_sensor_only_case_closes_on_recovery_from_any_open_state(state: CaseState) -> None:
    case = in_state(state)
    after, kinds = kinds_of(case, signal(case.case_id, SignalKind.RECOVERED, closes=True))
    assert kinds == [E.SENSOR_VERIFIED, E.VERIFIED, E.CLOSED]
    assert after.status is S.CLOSED and after.clock is None and after.resume_to is None
    closed = decide(case, signal(case.case_id, SignalKind.RECOVERED, closes=True), TAX).events
    assert closed[-1].data["on_time"] is True and closed[-1].data["auto"] is True
    assert closed[-1].data["by"] == "sensor"


def test_a_verified_sensor_only_case_closes_on_recovery() -> None:
    case = in_state(S.VERIFIED)
    after, kinds = kinds_of(case, signal(case.case_id, SignalKind.RECOVERED, closes=True))
    assert kinds == [E.SENSOR_VERIFIED, E.CLOSED] and after.status is S.CLOSED


def test_closing_after_the_deadline_is_not_on_time() -> None:
    case = in_state(S.DISPATCHED)
    assert case.clock is not None
    late = case.clock.deadline + timedelta(minutes=5)
    d = decide(case, signal(case.case_id, SignalKind.RECOVERED, closes=True, at=late), TAX)
    assert d.events[-1].kind is E.CLOSED and d.events[-1].data["on_time"] is False


def test_closing_a_breached_case_is_not_on_time() -> None:
    case = in_state(S.IN_PROGRESS)
    assert case.clock is not None
    alert = SlaAlert(stage=case.clock.stage, level="breach", deadline=case.clock.deadline)
    case = step(case, cmd(case.case_id, alert, SYSTEM_ACTOR))
    d = decide(case, signal(case.case_id, SignalKind.RECOVERED, closes=True), TAX)
    assert d.events[-1].kind is E.CLOSED and d.events[-1].data["on_time"] is False


def test_a_case_with_a_human_report_waits_for_the_department() -> None:
    case = in_state(S.IN_PROGRESS, human_too=True)
    case, kinds = kinds_of(case, signal(case.case_id, SignalKind.RECOVERED, closes=True))
    assert kinds == [E.SENSOR_VERIFIED] and case.status is S.IN_PROGRESS
    assert case.sensor_recovery is not None
    assert case.sensor_recovery.since == AT - timedelta(minutes=1)
    d = decide(case, cmd(case.case_id, ReportBack(), dept()), TAX)
    assert [e.kind for e in d.events] == [E.REPORTED_BACK, E.VERIFIED]
    assert d.case is not None and d.case.status is S.VERIFIED and d.case.sensor_recovery is None
    verified = d.events[1].data
    assert verified["by"] == "sensor" and verified["on_report"] is True
    assert verified["device_id"] == DEVICE and verified["source_id"] == "sensor:wl-017:1"
    assert verified["normal_since"] == case.sensor_recovery.since.isoformat()


def test_without_closes_case_a_sensor_only_case_waits_too() -> None:
    case = in_state(S.DISPATCHED)
    case, kinds = kinds_of(case, signal(case.case_id, SignalKind.RECOVERED))
    assert kinds == [E.SENSOR_VERIFIED] and case.status is S.DISPATCHED
    assert case.sensor_recovery is not None


def test_a_report_without_a_recovery_waits_for_verification() -> None:
    case = in_state(S.IN_PROGRESS)
    case, kinds = kinds_of(case, cmd(case.case_id, ReportBack(), dept()))
    assert kinds == [E.REPORTED_BACK] and case.status is S.REPORTED_BACK


@pytest.mark.parametrize("state", [S.CLOSED, S.INVALID, S.MERGED, S.VERIFIED])
def test_recovery_on_a_finished_or_verified_case_changes_nothing(state: CaseState) -> None:
    case = in_state(state)
    d = decide(case, signal(case.case_id, SignalKind.RECOVERED), TAX)
    assert d.case == case and d.events == [] and d.followups == [] and not d.rejected


def test_a_relapse_forgets_the_recovery() -> None:
    case = in_state(S.IN_PROGRESS)
    case = step(case, signal(case.case_id, SignalKind.RECOVERED))
    d = decide(case, signal(case.case_id, SignalKind.RELAPSED), TAX)
    assert [e.kind for e in d.events] == [E.SENSOR_RELAPSED]
    assert d.case is not None and d.case.status is S.IN_PROGRESS and d.case.sensor_recovery is None
    relapse = d.events[0].data
    assert relapse["source_id"] == "sensor:wl-017:1" and relapse["text"] == "水位再次超限"
    assert len(relapse["readings"]) == 3 and relapse["by"] == "sensor"
    _, kinds = kinds_of(d.case, cmd(case.case_id, ReportBack(), dept()))
    assert kinds == [E.REPORTED_BACK]


@pytest.mark.parametrize("state", [S.REPORTED_BACK, S.VERIFIED])
def test_a_relapse_after_the_report_is_rework(state: CaseState) -> None:
    case = in_state(state, human_too=True)
    d = decide(case, signal(case.case_id, SignalKind.RELAPSED), TAX)
    assert [e.kind for e in d.events] == [E.SENSOR_RELAPSED, E.REWORK]
    assert d.case is not None and d.case.status is S.IN_PROGRESS and d.case.rework_count == 1
    assert clocks.running(d.case)
    rework = d.events[1].data
    assert rework["by"] == "sensor" and rework["passed"] is False and rework["rework_count"] == 1
    assert rework["stage"] == "dispose" and case.clock is not None
    assert rework["deadline"] == case.clock.deadline.isoformat()


def test_a_relapse_before_the_report_keeps_the_state() -> None:
    case = in_state(S.DISPATCHED)
    case, kinds = kinds_of(case, signal(case.case_id, SignalKind.RELAPSED))
    assert kinds == [E.SENSOR_RELAPSED] and case.status is S.DISPATCHED and case.rework_count == 0


@pytest.mark.parametrize("state", [S.CLOSED, S.INVALID, S.MERGED])
def test_a_relapse_after_the_end_opens_a_follow_up_case(state: CaseState) -> None:
    case = in_state(state)
    command = signal(case.case_id, SignalKind.RELAPSED)
    d = decide(case, command, TAX)
    assert d.case == case and d.events == [] and not d.rejected
    [follow] = d.followups
    assert follow.case_id == case_id_for(f"sensor:wl-017:1#after#{case.case_id}")
    sent = command.body
    assert isinstance(follow.body, OpenCase) and isinstance(sent, SensorSignal)
    assert follow.body.source == sent.source and follow.body.classification == sent.classification
    assert decide(case, command, TAX).followups == [follow]  # redelivered: the same case
    reopened = step(None, follow)
    assert reopened.status is S.DISPATCHED and reopened.source_ids == ["sensor:wl-017:1"]


def test_only_a_device_or_the_system_may_signal() -> None:
    case = in_state(S.REPORTED_BACK)
    d = decide(case, signal(case.case_id, SignalKind.RECOVERED, actor=DISPATCHER), TAX)
    assert d.rejected and "角色 dispatcher" in d.rejected
    assert [e.kind for e in d.events] == [E.COMMAND_REJECTED]
    d = decide(case, signal(case.case_id, SignalKind.RECOVERED, actor=SYSTEM_ACTOR), TAX)
    assert not d.rejected and d.case is not None and d.case.status is S.VERIFIED


def test_a_signal_of_another_source_of_the_same_device_applies() -> None:
    case = in_state(S.REPORTED_BACK)
    later = sensor_source("sensor:wl-017:2")
    d = decide(case, signal(case.case_id, SignalKind.RECOVERED, source=later), TAX)
    assert not d.rejected and d.case is not None and d.case.status is S.VERIFIED


def test_a_signal_of_another_device_is_rejected() -> None:
    case = in_state(S.REPORTED_BACK)
    other = sensor_source("sensor:wl-999:1", device="wl-999")
    d = decide(case, signal(case.case_id, SignalKind.RECOVERED, source=other), TAX)
    assert d.rejected and "sensor:wl-999:1" in d.rejected and "wl-999" in d.rejected
    assert d.case is not None and d.case.status is S.REPORTED_BACK
    human = classified(source_id="r-other").source
    d = decide(case, signal(case.case_id, SignalKind.RELAPSED, source=human), TAX)
    assert d.rejected and "r-other" in d.rejected


def test_a_redelivered_signal_changes_nothing() -> None:
    case = in_state(S.IN_PROGRESS, human_too=True)
    command = signal(case.case_id, SignalKind.RECOVERED)
    once = step(case, command)
    again = decide(once, command, TAX)
    assert again.case is once and again.events == []


def test_a_signal_for_an_unknown_case_is_an_orphan() -> None:
    d = decide(None, signal("LGNOSUCHCASE00", SignalKind.RELAPSED), TAX)
    assert d.case is None and d.rejected and "不存在" in d.rejected and d.followups == []
