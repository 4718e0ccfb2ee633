"""One reading through one rule: ``step(state, reading, device, rule, catalogue)``. Pure.

The step checks the reading (:mod:`refusals`), notes that the device was heard from
(:mod:`heartbeat`), places the reading in its condition's event-time window
(:mod:`window`), then decides:

- no incident open, and at least N of the last M readings breach (counting only breaches
  after the condition's last recovery) → :class:`IncidentOpened`, or
  :class:`IncidentRelapsed` when the last recovery is within the rule's relapse window;
- an incident open, and the readings have been clear for ``recover_after_s`` of event time
  → :class:`IncidentRecovered`;
- otherwise nothing: an incident stays open, however many breaches follow, so a device and
  condition never has more than one open incident.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from cityops.contracts import SensorReading
from cityops.sensors import Catalogue, Rule
from services.sensors import heartbeat, window
from services.sensors.devices import Device
from services.sensors.heartbeat import DeviceBack, DeviceFault
from services.sensors.incidents import IncidentOpened, IncidentRecovered, IncidentRelapsed
from services.sensors.refusals import Reason, Refused, Skipped, SkipReason, check
from services.sensors.state import ConditionState, DeviceState
from services.sensors.thresholds import in_force
from services.sensors.window import Placement, Sample, Verdict

Output = (
    IncidentOpened
    | IncidentRelapsed
    | IncidentRecovered
    | DeviceFault
    | DeviceBack
    | Refused
    | Skipped
)
Incident = IncidentOpened | IncidentRelapsed | IncidentRecovered


def process(
    state: DeviceState, reading: SensorReading, device: Device, catalogue: Catalogue
) -> tuple[DeviceState, list[Output]]:
    """Find the rule for the reading's metric in the device's type, then :func:`step`."""
    kind = catalogue.type(device.type)
    rule = kind.rule_for(reading.metric)
    if rule is None and reading.device_type == device.type:
        detail = f"type {device.type} has no rule for metric {reading.metric!r}"
        return state, [Refused(device.device_id, reading.reading_id, Reason.UNKNOWN_METRIC, detail)]
    return step(state, reading, device, rule or kind.rules[0], catalogue)


def step(
    state: DeviceState, reading: SensorReading, device: Device, rule: Rule, catalogue: Catalogue
) -> tuple[DeviceState, list[Output]]:
    """The device's state after ``reading``, and what the reading caused."""
    skew = timedelta(seconds=catalogue.clock_skew_s)
    refusal = check(reading, device.device_id, device.type, rule, skew)
    if refusal is not None:
        return state, [refusal]
    state, back = heartbeat.heard(state, reading.received_at, device)
    outputs: list[Output] = [*back]
    cond = state.condition(rule.condition)
    keep = window.size(rule, device.interval_s)
    placement = window.place(cond.window, reading, keep, catalogue.lateness(rule))
    if placement is Placement.DUPLICATE:
        outputs.append(_skip(reading, SkipReason.DUPLICATE, "same reading_id or observed_at"))
        return state, outputs
    if placement is Placement.LATE:
        bound = catalogue.lateness(rule).total_seconds()
        detail = f"observed more than {bound:g} s before the newest reading of {rule.metric}"
        outputs.append(Refused(device.device_id, reading.reading_id, Reason.LATE, detail))
        return state, outputs
    levels = in_force(rule, device, catalogue, reading.observed_at)
    sample = window.judge(reading, cond.window, rule, levels)
    if placement is Placement.BEFORE_WINDOW:
        since = window.normal_since_after_old(cond.window, sample, cond.normal_since)
        cond = replace(cond, normal_since=since)
        detail = f"older than the last {keep} readings of {rule.metric}"
        outputs.append(_skip(reading, SkipReason.BEFORE_WINDOW, detail))
    else:
        samples = window.insert(cond.window, sample, keep)
        cond = replace(
            cond,
            window=samples,
            normal_since=window.normal_since(samples, cond.normal_since, device.silent_after),
        )
        cond, incidents = decide(cond, rule, device.device_id)
        outputs += incidents
    conditions = {**state.conditions, rule.condition: cond}
    return replace(state, conditions=conditions), outputs


def _skip(reading: SensorReading, reason: SkipReason, detail: str) -> Skipped:
    return Skipped(reading.device_id, reading.reading_id, reason, detail)


def decide(
    cond: ConditionState, rule: Rule, device_id: str
) -> tuple[ConditionState, list[Incident]]:
    """Open (or relapse) then recover, as the window now says."""
    out: list[Incident] = []
    if not cond.open:
        cond, opened = _open(cond, rule, device_id)
        out += opened
    if cond.open:
        cond, recovered = _recover(cond, rule, device_id)
        out += recovered
    return cond, out


def _open(
    cond: ConditionState, rule: Rule, device_id: str
) -> tuple[ConditionState, list[Incident]]:
    recent = cond.window[-rule.breaches.of :]
    breaches = [s for s in recent if _counts(s, cond)]
    if len(breaches) < rule.breaches.n:
        return cond, []
    trigger, start = breaches[-1], breaches[0].observed_at
    relapse_window = timedelta(seconds=rule.relapse_window_s)
    if cond.recovered_at is not None and trigger.observed_at - cond.recovered_at <= relapse_window:
        relapsed = IncidentRelapsed(
            device_id, rule.condition, cond.number, cond.recovered_at, trigger
        )
        return replace(cond, open=True), [relapsed]
    number = cond.number + 1
    opened = IncidentOpened(device_id, rule.condition, number, start, trigger)
    return replace(cond, open=True, number=number, opened_at=start), [opened]


def _counts(s: Sample, cond: ConditionState) -> bool:
    """A breach counts towards N of M unless it is from before the last recovery."""
    after = cond.recovered_at is None or s.observed_at > cond.recovered_at
    return s.verdict is Verdict.BREACH and after


def _recover(
    cond: ConditionState, rule: Rule, device_id: str
) -> tuple[ConditionState, list[Incident]]:
    since = cond.normal_since
    if since is None:
        return cond, []
    newest = cond.window[-1]
    if newest.observed_at - since < timedelta(seconds=rule.recover_after_s):
        return cond, []
    recovered = IncidentRecovered(
        device_id, rule.condition, cond.number, since, newest.observed_at, newest
    )
    return replace(cond, open=False, recovered_at=newest.observed_at), [recovered]
