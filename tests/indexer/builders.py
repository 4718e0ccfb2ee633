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
