"""One pydantic model per Kafka topic. Producers and consumers import these and nothing else.

Every model carries ``schema_version``. A consumer that meets a version it does not
know sends the record to its dead-letter topic instead of guessing.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field

from cityops.contracts import topics
from cityops.contracts.common import (
    Actor,
    AwareDatetime,
    Evidence,
    GeoPoint,
    Photos,
    SourceType,
    Wire,
)
from cityops.contracts.devices import DeviceRegistered
from cityops.contracts.users import UserRecord

Text = Annotated[str, Field(min_length=1, max_length=5000)]


class ReportSubmitted(Wire):
    """``reports.submitted``, keyed by ``report_id``: one human report, as accepted by intake."""

    schema_version: Literal[1] = 1
    report_id: str
    idempotency_key: str
    source_type: SourceType
    text: Text
    location: GeoPoint
    address: str | None = Field(default=None, max_length=200)
    category_hint: str | None = Field(default=None, max_length=32)
    photos: Photos = ()
    reporter: Actor
    occurred_at: AwareDatetime
    received_at: AwareDatetime


class SensorReading(Wire):
    """``sensor.readings``, keyed by ``device_id``: one measurement from an IoT device."""

    schema_version: Literal[1] = 1
    reading_id: str = Field(min_length=1, max_length=128)
    device_id: str = Field(min_length=1, max_length=64)
    device_type: str = Field(min_length=1, max_length=32)
    metric: str = Field(min_length=1, max_length=32)
    value: float
    unit: str | None = Field(default=None, max_length=16)
    location: GeoPoint | None = None
    observed_at: AwareDatetime
    received_at: AwareDatetime


class ReadingPoint(Wire):
    """One reading of a device, as drawn on a case's chart."""

    at: AwareDatetime
    value: float = Field(allow_inf_nan=False)


class SensorContext(Wire):
    """What a sensor-born source carries for the people who read it: the device, the rule's
    levels at the alarm, and the device's readings around it (at most 64, oldest first)."""

    device_id: str = Field(min_length=1, max_length=64)
    device_type: str = Field(min_length=1, max_length=32)
    condition: str = Field(min_length=1, max_length=32)
    metric: str = Field(min_length=1, max_length=32)
    unit: str = Field(max_length=16)
    threshold: float | None = Field(default=None, allow_inf_nan=False)
    clear: float | None = Field(default=None, allow_inf_nan=False)
    readings: tuple[ReadingPoint, ...] = Field(default=(), max_length=64)


class CaseSource(Wire):
    """A source record of a case, whatever its type: report, hotline work order, sensor alarm.

    ``source_id`` is stable, so replays and duplicates of one source never make two cases.
    ``asset_id`` names the 部件 asset watched by a sensor, when known, so that sensor-born
    incidents and human reports of the same asset can merge. ``sensor`` is set on sources
    of type ``sensor``: the device, its levels and its readings around the alarm.
    """

    source_type: SourceType
    source_id: str
    text: Text
    location: GeoPoint
    address: str | None = Field(default=None, max_length=200)
    category_hint: str | None = Field(default=None, max_length=32)
    photos: Photos = ()
    reporter: Actor
    asset_id: str | None = Field(default=None, max_length=64)
    sensor: SensorContext | None = None
    occurred_at: AwareDatetime
    received_at: AwareDatetime


class Suggestion(Wire):
    category: str
    category_name: str
    department: str
    confidence: float = Field(ge=0, le=1)


class Classification(Wire):
    category: str
    category_name: str
    department: str
    dimension: str
    priority: str
    town: str | None
    grid: str | None
    confidence: float = Field(ge=0, le=1)
    top: tuple[Suggestion, ...]
    abstained: bool
    model_version: str


class CaseClassified(Wire):
    """``cases.classified``, keyed by ``source.source_id``: a routed source, not yet a case."""

    schema_version: Literal[1] = 1
    source: CaseSource
    classification: Classification
    classified_at: AwareDatetime


class CommandKind(StrEnum):
    OPEN = "open"
    REGISTER = "register"
    REJECT = "reject"
    DISPATCH = "dispatch"
    REROUTE = "reroute"
    ACCEPT = "accept"
    RETURN = "return"
    REQUEST_EXTENSION = "request_extension"
    DECIDE_EXTENSION = "decide_extension"
    DEFER = "defer"
    RESUME = "resume"
    REPORT_BACK = "report_back"
    VERIFY = "verify"
    CLOSE = "close"
    MERGE = "merge"
    ATTACH = "attach"
    SPLIT = "split"
    SLA_ALERT = "sla_alert"
    SENSOR_SIGNAL = "sensor_signal"


class OpenCase(Wire):
    """Open a case from a classified source, or attach the source if the case exists."""

    kind: Literal[CommandKind.OPEN] = CommandKind.OPEN
    source: CaseSource
    classification: Classification


class RegisterCase(Wire):
    """立案: accept the report as a case, optionally correcting its class."""

    kind: Literal[CommandKind.REGISTER] = CommandKind.REGISTER
    category: str | None = None


class RejectCase(Wire):
    """不予立案: not a case (invalid, duplicate outside the system, not our remit)."""

    kind: Literal[CommandKind.REJECT] = CommandKind.REJECT


class DispatchCase(Wire):
    """派遣: send the case to a department (a dispatcher confirms or overrides the router)."""

    kind: Literal[CommandKind.DISPATCH] = CommandKind.DISPATCH
    department: str
    category: str | None = None


class RerouteCase(Wire):
    """改派: fix a misroute without closing the case."""

    kind: Literal[CommandKind.REROUTE] = CommandKind.REROUTE
    department: str
    category: str | None = None


class AcceptCase(Wire):
    kind: Literal[CommandKind.ACCEPT] = CommandKind.ACCEPT


class ReturnCase(Wire):
    """退单: the department says the case is not theirs; it goes back to the dispatcher."""

    kind: Literal[CommandKind.RETURN] = CommandKind.RETURN


class RequestExtension(Wire):
    """延期申请: the department asks for more time."""

    kind: Literal[CommandKind.REQUEST_EXTENSION] = CommandKind.REQUEST_EXTENSION
    hours: float = Field(gt=0, le=24 * 60)


class DecideExtension(Wire):
    kind: Literal[CommandKind.DECIDE_EXTENSION] = CommandKind.DECIDE_EXTENSION
    approve: bool


class DeferCase(Wire):
    """缓办: pause the case and its clock."""

    kind: Literal[CommandKind.DEFER] = CommandKind.DEFER


class ResumeCase(Wire):
    kind: Literal[CommandKind.RESUME] = CommandKind.RESUME


class ReportBack(Wire):
    """处理反馈: the department reports the work done, with evidence."""

    kind: Literal[CommandKind.REPORT_BACK] = CommandKind.REPORT_BACK


class VerifyCase(Wire):
    """核查: passed → ready to close; failed → 返工, back to the department."""

    kind: Literal[CommandKind.VERIFY] = CommandKind.VERIFY
    passed: bool


class CloseCase(Wire):
    """结案."""

    kind: Literal[CommandKind.CLOSE] = CommandKind.CLOSE


class MergeCase(Wire):
    """Merge this case into ``target_case_id``; its sources move there."""

    kind: Literal[CommandKind.MERGE] = CommandKind.MERGE
    target_case_id: str


class AttachSources(Wire):
    """(system) Sources arriving from a case merged into this one."""

    kind: Literal[CommandKind.ATTACH] = CommandKind.ATTACH
    from_case_id: str
    sources: tuple[CaseSource, ...]
    classification: Classification
    total: int | None = None  # sources the merged case had; only the kept ones travel whole


class SplitCase(Wire):
    """Undo a wrong merge: the source leaves this case and opens its own."""

    kind: Literal[CommandKind.SPLIT] = CommandKind.SPLIT
    source_id: str


class SlaAlert(Wire):
    """(system) A deadline's warning share or the deadline itself has passed."""

    kind: Literal[CommandKind.SLA_ALERT] = CommandKind.SLA_ALERT
    stage: str
    level: Literal["warning", "breach"]
    deadline: AwareDatetime


class SignalKind(StrEnum):
    RECOVERED = "recovered"  # the readings stayed normal for the rule's period (核查 by sensor)
    RELAPSED = "relapsed"  # the condition came back within the rule's relapse window (返工)


class SensorSignal(Wire):
    """(device) What a case's sensor says after its alarm, sent by the sensors service.

    ``source`` is the incident's source (its ``sensor`` readings are those around the
    signal), so a relapse after the case closed can open a new case from it.
    ``closes_case``: the rule says the condition ends by itself (a flooded road drains),
    so a case whose every source is a sensor may close on recovery without a department's
    report; otherwise the recovery verifies the department's report, when it comes.
    """

    kind: Literal[CommandKind.SENSOR_SIGNAL] = CommandKind.SENSOR_SIGNAL
    signal: SignalKind
    source: CaseSource
    classification: Classification
    observed_at: AwareDatetime
    text: Text
    closes_case: bool = False


CommandBody = Annotated[
    OpenCase
    | RegisterCase
    | RejectCase
    | DispatchCase
    | RerouteCase
    | AcceptCase
    | ReturnCase
    | RequestExtension
    | DecideExtension
    | DeferCase
    | ResumeCase
    | ReportBack
    | VerifyCase
    | CloseCase
    | MergeCase
    | AttachSources
    | SplitCase
    | SlaAlert
    | SensorSignal,
    Field(discriminator="kind"),
]


class CaseCommand(Wire):
    """``cases.commands``, keyed by ``case_id``: an action someone asks of a case.

    ``command_id`` is unique per intent; applying the same command twice has no effect.
    """

    schema_version: Literal[1] = 1
    command_id: str
    case_id: str
    actor: Actor
    issued_at: AwareDatetime
    reason: str | None = Field(default=None, max_length=2000)
    evidence: Evidence = Evidence()
    body: CommandBody


class EventKind(StrEnum):
    OPENED = "opened"
    SOURCE_ATTACHED = "source_attached"
    REGISTERED = "registered"
    INVALIDATED = "invalidated"
    DISPATCHED = "dispatched"
    REROUTED = "rerouted"
    ACCEPTED = "accepted"
    RETURNED = "returned"
    EXTENSION_REQUESTED = "extension_requested"
    EXTENSION_APPROVED = "extension_approved"
    EXTENSION_DENIED = "extension_denied"
    DEFERRED = "deferred"
    RESUMED = "resumed"
    REPORTED_BACK = "reported_back"
    VERIFIED = "verified"
    REWORK = "rework"
    CLOSED = "closed"
    MERGED_INTO = "merged_into"
    SOURCES_MERGED = "sources_merged"
    SOURCE_DETACHED = "source_detached"
    SLA_WARNING = "sla_warning"
    SLA_BREACHED = "sla_breached"
    COMMAND_REJECTED = "command_rejected"
    SENSOR_VERIFIED = "sensor_verified"  # 核查 by the case's sensor: back to normal
    SENSOR_RELAPSED = "sensor_relapsed"  # the sensor's condition came back


class CaseEvent(Wire):
    """``cases.events``, keyed by ``case_id``: one state change, append-only.

    ``seq`` counts a case's events from 1; ``event_id`` is ``{case_id}:{seq}``, so a
    re-emitted event is recognisable downstream. ``data`` holds the kind's facts
    (documented in docs/architecture.md).
    """

    schema_version: Literal[1] = 1
    event_id: str
    case_id: str
    seq: int = Field(ge=1)
    kind: EventKind
    at: AwareDatetime
    actor: Actor
    command_id: str | None = None
    reason: str | None = None
    evidence: Evidence = Evidence()
    state: str
    data: dict[str, Any] = Field(default_factory=dict)


class OutcomeStatus(StrEnum):
    APPLIED = "applied"  # the case changed: events first_seq..last_seq
    REJECTED = "rejected"  # the case refused it; ``reason`` says why (also on the timeline)
    DUPLICATE = "duplicate"  # the same command_id was applied before: nothing changed
    UNKNOWN_CASE = "unknown_case"  # no case has this id


class CommandOutcome(Wire):
    """``cases.outcomes``, keyed by ``case_id``: what became of one command.

    Dispatch writes one for every command a person (or a client system) sent, so that its
    sender can learn the outcome even when the case does not exist and no event is written.
    """

    schema_version: Literal[1] = 1
    command_id: str
    case_id: str
    command: CommandKind
    status: OutcomeStatus
    reason: str | None = None
    first_seq: int | None = None
    last_seq: int | None = None
    actor: Actor
    issued_at: AwareDatetime
    decided_at: AwareDatetime


class DeadLetter(Wire):
    """``deadletter.<consumer>``, keyed like the original: a record its consumer could not use.

    The original key and value travel base64-encoded, byte for byte, with the reason.
    """

    schema_version: Literal[1] = 1
    consumer: str
    topic: str
    partition: int
    offset: int
    key_b64: str | None
    value_b64: str
    reason: str
    error_type: str
    failed_at: AwareDatetime


class NoticeKind(StrEnum):
    FAULT = "fault"  # the device went silent (heartbeat missed)
    BACK = "back"  # a silent device was heard from again


class DeviceNotice(Wire):
    """``sensor.notices``, keyed by ``device_id``: news for a device's maintainer, not a
    city incident. ``number`` counts the device's faults from 1 (a ``back`` names the fault
    it ends), so a replay repeats a notice's id rather than making a new one."""

    schema_version: Literal[1] = 1
    notice_id: str  # "<device_id>:fault:<number>" or "<device_id>:back:<number>"
    kind: NoticeKind
    device_id: str
    device_type: str
    maintainer: str
    town: str | None = None
    number: int = Field(ge=1)
    text: Text
    last_received_at: AwareDatetime | None = None
    at: AwareDatetime


TOPIC_MODELS: dict[str, type[Wire]] = {
    topics.REPORTS_SUBMITTED: ReportSubmitted,
    topics.SENSOR_READINGS: SensorReading,
    topics.CASES_CLASSIFIED: CaseClassified,
    topics.CASES_COMMANDS: CaseCommand,
    topics.CASES_EVENTS: CaseEvent,
    topics.CASES_OUTCOMES: CommandOutcome,
    topics.SENSOR_DEVICES: DeviceRegistered,
    topics.SENSOR_NOTICES: DeviceNotice,
    topics.PEOPLE_USERS: UserRecord,
}
