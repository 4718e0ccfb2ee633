"""The wire contracts: one model per topic, and the topic names."""

from cityops.contracts.common import SYSTEM_ACTOR, Actor, Evidence, GeoPoint, Role, SourceType
from cityops.contracts.events import (
    CaseClassified,
    CaseCommand,
    CaseEvent,
    CaseSource,
    Classification,
    CommandKind,
    CommandOutcome,
    DeadLetter,
    DispatchCase,
    EventKind,
    OpenCase,
    OutcomeStatus,
    ReportSubmitted,
    SensorReading,
    Suggestion,
)
from cityops.contracts.states import CaseState
from cityops.contracts.topics import Topics

__all__ = [
    "SYSTEM_ACTOR",
    "Actor",
    "CaseClassified",
    "CaseCommand",
    "CaseEvent",
    "CaseSource",
    "CaseState",
    "Classification",
    "CommandKind",
    "CommandOutcome",
    "DeadLetter",
    "DispatchCase",
    "EventKind",
    "Evidence",
    "GeoPoint",
    "OpenCase",
    "OutcomeStatus",
    "ReportSubmitted",
    "Role",
    "SensorReading",
    "SourceType",
    "Suggestion",
    "Topics",
]
