"""The case's sensor speaks after its alarm: a recovery is 核查 by the sensor (and may close
a case only sensors reported), a relapse is 返工, or a new case once this one is over.

One handler, :func:`sensor_signal`, in the same shape as :mod:`lifecycle`'s."""

from __future__ import annotations

from typing import Any

from cityops.contracts import CaseSource, EventKind
from cityops.contracts.events import SensorSignal, SignalKind
from cityops.contracts.states import TERMINAL, CaseState
from cityops.taxonomy import Taxonomy
from services.dispatch import clocks
from services.dispatch.decision import Emitter, Rejection, Unchanged
from services.dispatch.lifecycle import reopen, rework
from services.dispatch.states import CaseRecord, SensorRecovery

S, E = CaseState, EventKind


def sensor_signal(out: Emitter, body: SensorSignal, taxonomy: Taxonomy) -> None:
    """What the case's sensor says after its alarm: recovered (核查 by the sensor) or
    relapsed (返工, or a follow-up case once this one is over)."""
    _check_sensor(out.case, body.source)
    if body.signal is SignalKind.RELAPSED:
        _relapsed(out, body)
    else:
        _recovered(out, body)


def _check_sensor(case: CaseRecord, source: CaseSource) -> None:
    """The signal's source is the case's, or a source of the same device is (a case keeps
    only MAX_SOURCES of its sources)."""
    if source.source_id in case.source_ids:
        return
    device = source.sensor.device_id if source.sensor else None
    if device is None or not any(s.sensor and s.sensor.device_id == device for s in case.sources):
        raise Rejection(f"案件中没有来源 {source.source_id}，也没有设备 {device} 的来源")


def _recovered(out: Emitter, body: SensorSignal) -> None:
    case = out.case
    closes = body.closes_case and case.sensor_only
    if case.status in TERMINAL or (case.status is S.VERIFIED and not closes):
        raise Unchanged()
    out.emit(E.SENSOR_VERIFIED, closes_case=closes, **_sensor_facts(body))
    if closes:
        _close_by_sensor(out)
    elif case.status is S.REPORTED_BACK:
        out.emit(E.VERIFIED, S.VERIFIED, passed=True, by="sensor")
    elif case.sensor_recovery is None:  # kept from the first recovery until a relapse
        sensor = body.source.sensor
        case.sensor_recovery = SensorRecovery(
            source_id=body.source.source_id,
            device_id=sensor.device_id if sensor else None,
            since=body.observed_at,
        )


def _close_by_sensor(out: Emitter) -> None:
    """The condition ended by itself and only sensors reported it: 核查通过, then 结案."""
    case, at = out.case, out.command.issued_at
    c = case.clock
    on_time = c is None or (not c.breached and (not clocks.running(case) or at <= c.deadline))
    clocks.stop(case)
    case.resume_to = case.pending_extension_h = case.sensor_recovery = None
    if case.status is not S.VERIFIED:
        out.emit(E.VERIFIED, S.VERIFIED, passed=True, by="sensor", auto=True)
    case.clock = None
    out.emit(E.CLOSED, S.CLOSED, on_time=on_time, by="sensor", auto=True)


def _relapsed(out: Emitter, body: SensorSignal) -> None:
    case = out.case
    if case.status in TERMINAL:  # over: the condition is back, as a new case
        raise Unchanged([reopen(body.source, body.classification, case.case_id, out.command)])
    case.sensor_recovery = None
    out.emit(E.SENSOR_RELAPSED, **_sensor_facts(body))
    if case.status in (S.REPORTED_BACK, S.VERIFIED):
        rework(out, by="sensor")


def _sensor_facts(body: SensorSignal) -> dict[str, Any]:
    """The event data of a signal: the source, the device, its levels and its readings
    around the signal (at most 64 points, bounded by the contract)."""
    facts: dict[str, Any] = {
        "source_id": body.source.source_id,
        "text": body.text,
        "by": "sensor",
        "observed_at": body.observed_at.isoformat(),
    }
    sensor = body.source.sensor
    if sensor is not None:
        facts.update(
            device_id=sensor.device_id,
            metric=sensor.metric,
            unit=sensor.unit,
            threshold=sensor.threshold,
            readings=[p.model_dump(mode="json") for p in sensor.readings],
        )
    return facts
