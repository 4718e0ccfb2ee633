"""What the rules say about incidents, their Chinese texts, and the case source they make.

- :class:`IncidentOpened` — a condition began; it becomes a ``CaseSource`` of type sensor.
- :class:`IncidentRecovered` — the readings stayed back to normal for the rule's period: the
  verification signal (核查, confirmed by the sensor) for the incident's case.
- :class:`IncidentRelapsed` — the condition came back within the rule's relapse window
  after a recovery: the same incident again (返工 of its case), not a new one.

An incident is numbered per device and condition from 1, and its ``source_id`` is
``sensor:<device>:<condition>:<number>``: replaying the readings from the start gives the
same numbers, so a replay never makes a second case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cityops.contracts import Actor, CaseSource, Role, SourceType
from cityops.sensors import PERIOD_NAMES, Rule
from services.sensors.devices import Device
from services.sensors.window import Sample


@dataclass(frozen=True, slots=True)
class IncidentOpened:
    device_id: str
    condition: str
    number: int
    occurred_at: datetime  # the first breach counted towards N of M
    trigger: Sample  # the breach that completed N of M


@dataclass(frozen=True, slots=True)
class IncidentRelapsed:
    device_id: str
    condition: str
    number: int  # the recovered incident that came back
    recovered_at: datetime
    trigger: Sample


@dataclass(frozen=True, slots=True)
class IncidentRecovered:
    device_id: str
    condition: str
    number: int
    normal_since: datetime
    at: datetime  # event time of the reading that completed the period
    last: Sample


def source_id(device_id: str, condition: str, number: int) -> str:
    return f"sensor:{device_id}:{condition}:{number}"


def _fields(sample: Sample, rule: Rule, device: Device) -> dict[str, object]:
    within = rule.rate.within_s / 60 if rule.rate else 0.0
    return {
        "value": sample.value,
        "unit": rule.unit,
        "threshold": sample.threshold if sample.threshold is not None else float("nan"),
        "clear": sample.clear if sample.clear is not None else float("nan"),
        "change": sample.change or 0.0,
        "within_min": within,
        "normal_min": 0.0,
        "device_id": device.device_id,
        "zone": sample.zone or "",
        "period": PERIOD_NAMES[sample.period] if sample.period else "",
    }


def alarm_text(trigger: Sample, rule: Rule, device: Device) -> str:
    """The Chinese text of an alarm, e.g. "积水深度 23.5 cm，超过阈值 15 cm（设备 wl-1）"."""
    template = rule.rate_text if trigger.cause == "rate" and rule.rate_text else rule.text
    return template.format(**_fields(trigger, rule, device))


def recovered_text(recovered: IncidentRecovered, rule: Rule, device: Device) -> str:
    fields = _fields(recovered.last, rule, device)
    fields["normal_min"] = (recovered.at - recovered.normal_since).total_seconds() / 60
    return rule.recovered_text.format(**fields)


def case_source(
    incident: IncidentOpened | IncidentRelapsed, rule: Rule, device: Device
) -> CaseSource:
    """The case source of an incident: class from the rule, place and asset from the device.

    A relapse names the same source as its incident's opening, so it can only ever reopen
    that incident's case."""
    trigger = incident.trigger
    occurred = incident.occurred_at if isinstance(incident, IncidentOpened) else trigger.observed_at
    return CaseSource(
        source_type=SourceType.SENSOR,
        source_id=source_id(device.device_id, rule.condition, incident.number),
        text=alarm_text(trigger, rule, device),
        location=device.location,
        category_hint=rule.category,
        reporter=Actor(id=device.device_id, role=Role.DEVICE),
        asset_id=device.asset.asset_id if device.asset else None,
        occurred_at=occurred,
        received_at=trigger.received_at,
    )
