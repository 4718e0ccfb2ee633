"""What the rules' outputs become on the wire. Pure: no clock is read, no I/O is done.

- an opened incident → a ``CaseClassified`` (class known from the rule: no text classifier,
  confidence 1), which the dispatch pipeline opens or merges like any other source;
- a recovery or a relapse → a ``SensorSignal`` command for the case holding the incident;
- a silent device, or its return → a ``DeviceNotice`` for its maintainer.

Every source carries a :class:`SensorContext`: the device, the levels in force and the
readings of the window, so the console can draw the chart around the alarm.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cityops.contracts import (
    Actor,
    CaseClassified,
    CaseCommand,
    CaseSource,
    Classification,
    DeviceNotice,
    ReadingPoint,
    Role,
    SensorContext,
    SensorSignal,
    SignalKind,
    SourceType,
    Suggestion,
)
from cityops.contracts.devices import Device
from cityops.contracts.events import NoticeKind
from cityops.sensors import Catalogue, Rule
from cityops.taxonomy import Taxonomy
from services.sensors import incidents
from services.sensors.heartbeat import DeviceBack, DeviceFault, fault_text
from services.sensors.incidents import IncidentOpened, IncidentRecovered, IncidentRelapsed
from services.sensors.window import Sample


def model_version(catalogue: Catalogue) -> str:
    return f"sensor-rules-{catalogue.version}"


def classification(rule: Rule, device: Device, taxonomy: Taxonomy, version: str) -> Classification:
    """The rule's class, its department, and the device's registered town and grid."""
    return classification_of(rule.category, device.town, device.grid, taxonomy, version)


def classification_of(
    category: str, town: str | None, grid: str | None, taxonomy: Taxonomy, version: str
) -> Classification:
    """A class known without a text classifier (a rule's, a hotspot's): confidence 1."""
    leaf = taxonomy.leaf(category)
    return Classification(
        category=leaf.code,
        category_name=leaf.name,
        department=leaf.department,
        dimension=leaf.dimension,
        priority=leaf.priority,
        town=town,
        grid=grid,
        confidence=1.0,
        top=(
            Suggestion(
                category=leaf.code,
                category_name=leaf.name,
                department=leaf.department,
                confidence=1.0,
            ),
        ),
        abstained=False,
        model_version=version,
    )


def context(rule: Rule, device: Device, window: Sequence[Sample]) -> SensorContext:
    """The device, the levels at the newest reading, and the window's readings."""
    newest = window[-1] if window else None
    return SensorContext(
        device_id=device.device_id,
        device_type=device.type,
        condition=rule.condition,
        metric=rule.metric,
        unit=rule.unit,
        threshold=newest.threshold if newest else None,
        clear=newest.clear if newest else None,
        readings=tuple(ReadingPoint(at=s.observed_at, value=s.value) for s in window),
    )


def opened(
    incident: IncidentOpened | IncidentRelapsed,
    rule: Rule,
    device: Device,
    window: Sequence[Sample],
    cls: Classification,
    now: datetime,
) -> CaseClassified:
    source = incidents.case_source(incident, rule, device)
    source = source.model_copy(update={"sensor": context(rule, device, window)})
    return CaseClassified(source=source, classification=cls, classified_at=now)


def signal_source(
    device: Device, rule: Rule, number: int, text: str, at: datetime, window: Sequence[Sample]
) -> CaseSource:
    """The incident's source as a signal carries it: same id, the signal's text, the
    window's readings (so a relapse after the case closed can open a new case from it)."""
    return CaseSource(
        source_type=SourceType.SENSOR,
        source_id=incidents.source_id(device.device_id, rule.condition, number),
        text=text,
        location=device.location,
        category_hint=rule.category,
        reporter=Actor(id=device.device_id, role=Role.DEVICE),
        asset_id=device.asset.asset_id if device.asset else None,
        sensor=context(rule, device, window),
        occurred_at=at,
        received_at=window[-1].received_at if window else at,
    )


def signal_text(incident: IncidentRecovered | IncidentRelapsed, rule: Rule, device: Device) -> str:
    if isinstance(incident, IncidentRecovered):
        return incidents.recovered_text(incident, rule, device)
    return "复发：" + incidents.alarm_text(incident.trigger, rule, device)


def signal_at(incident: IncidentRecovered | IncidentRelapsed) -> datetime:
    return incident.at if isinstance(incident, IncidentRecovered) else incident.trigger.observed_at


def signal_kind(incident: IncidentRecovered | IncidentRelapsed) -> SignalKind:
    if isinstance(incident, IncidentRecovered):
        return SignalKind.RECOVERED
    return SignalKind.RELAPSED


def signal_command(
    case_id: str,
    kind: SignalKind,
    source: CaseSource,
    cls: Classification,
    rule: Rule,
    issued_at: datetime,
) -> CaseCommand:
    """The command for the case; its id names the signal (``sensor:<source>:<kind>:<at>``),
    so a replay of the readings sends the same command and the case applies it once."""
    stamp = source.occurred_at.isoformat()
    return CaseCommand(
        command_id=f"{source.source_id}:{kind.value}:{stamp}",
        case_id=case_id,
        actor=Actor(id=source.reporter.id, role=Role.DEVICE),
        issued_at=issued_at,
        body=SensorSignal(
            signal=kind,
            source=source,
            classification=cls,
            observed_at=source.occurred_at,
            text=source.text,
            closes_case=rule.closes_case,
        ),
    )


def notice(event: DeviceFault | DeviceBack, device: Device, catalogue: Catalogue) -> DeviceNotice:
    name = catalogue.type(device.type).name
    if isinstance(event, DeviceFault):
        return DeviceNotice(
            notice_id=f"{device.device_id}:fault:{event.number}",
            kind=NoticeKind.FAULT,
            device_id=device.device_id,
            device_type=device.type,
            maintainer=device.maintainer,
            town=device.town,
            number=event.number,
            text=fault_text(event, device, catalogue),
            last_received_at=event.last_received_at,
            at=event.detected_at,
        )
    return DeviceNotice(
        notice_id=f"{device.device_id}:back:{event.number}",
        kind=NoticeKind.BACK,
        device_id=device.device_id,
        device_type=device.type,
        maintainer=device.maintainer,
        town=device.town,
        number=max(event.number, 1),
        text=f"设备 {device.device_id}（{name}）已恢复上报",
        last_received_at=event.at,
        at=event.at,
    )
