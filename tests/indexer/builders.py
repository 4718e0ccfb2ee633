"""Case events and outcomes built by hand, independent of the workflow's rules."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from cityops.contracts import (
    SYSTEM_ACTOR,
    CaseClassified,
    CaseEvent,
    CommandKind,
    CommandOutcome,
    OutcomeStatus,
)
from tests.conftest import DATA

T0 = datetime.fromisoformat("2026-11-30T09:00:00+08:00")
_CLASSIFIED = json.loads((DATA / "case_classified.v1.json").read_text())


def source(source_id: str, source_type: str = "citizen_app") -> dict[str, Any]:
    data = CaseClassified.model_validate(_CLASSIFIED).source.model_dump(mode="json")
    return {**data, "source_id": source_id, "source_type": source_type, "text": f"上报 {source_id}"}


def sensor_context(device_id: str = "wl-001", points: int = 64) -> dict[str, Any]:
    """A water-level sensor's context: dry, then 25 cm from the middle of the window on."""
    readings = [
        {
            "at": (T0 + timedelta(seconds=10 * i)).isoformat(),
            "value": 2.0 if i < points // 2 else 25.0,
        }
        for i in range(points)
    ]
    return {
        "device_id": device_id, "device_type": "water_level", "condition": "waterlogging",
        "metric": "water_depth_cm", "unit": "cm", "threshold": 15.0, "clear": 5.0,
        "readings": readings,
    }  # fmt: skip


def sensor_source(source_id: str, device_id: str = "wl-001") -> dict[str, Any]:
    return {
        **source(source_id, "sensor"),
        "text": f"设备 {device_id} 积水 25 cm",
        "reporter": {"id": device_id, "role": "device"},
        "sensor": sensor_context(device_id),
    }


def proactive_source(place: str, number: int, text: str) -> dict[str, Any]:
    """A hotspot's source as the sensors service writes it (``place`` = ``<class>|grid:<g>``)."""
    return {
        **source(f"hotspot:{place}:{number}", "proactive"),
        "text": text,
        "reporter": {"id": "cityops", "role": "system"},
    }


def classification() -> dict[str, Any]:
    return CaseClassified.model_validate(_CLASSIFIED).classification.model_dump(mode="json")


def event(
    case_id: str, seq: int, kind: str, state: str, minutes: float = 0, **data: Any
) -> CaseEvent:
    return CaseEvent(
        event_id=f"{case_id}:{seq}",
        case_id=case_id,
        seq=seq,
        kind=kind,  # type: ignore[arg-type]
        at=T0 + timedelta(minutes=minutes),
        actor=SYSTEM_ACTOR,
        command_id=f"cmd-{case_id}-{seq}",
        state=state,
        data=data,
    )


def opened(case_id: str, source_id: str, minutes: float = 0, **data: Any) -> CaseEvent:
    return event(
        case_id, 1, "opened", "pending", minutes,
        source=source(source_id), classification=classification(), **data,
    )  # fmt: skip


def outcome(case_id: str, command_id: str, status: str, **over: Any) -> CommandOutcome:
    fields: dict[str, Any] = {
        "command_id": command_id,
        "case_id": case_id,
        "command": CommandKind.DISPATCH,
        "status": OutcomeStatus(status),
        "actor": SYSTEM_ACTOR,
        "issued_at": T0,
        "decided_at": T0 + timedelta(seconds=1),
    }
    return CommandOutcome(**{**fields, **over})
