"""The internal case record held in the faust table (not a wire contract)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from cityops.contracts import CaseSource, Classification
from cityops.contracts.states import CaseState

APPLIED_MEMORY = 200  # command ids remembered per case, to make redelivery a no-op


class Clock(BaseModel):
    """The deadline of the stage the case is in (register, dispatch or dispose)."""

    stage: str
    started_at: datetime
    deadline: datetime
    warned: bool = False
    breached: bool = False
    paused_remaining_h: float | None = None  # set while deferred (缓办)


class CaseRecord(BaseModel):
    case_id: str
    status: CaseState
    seq: int
    category: str
    department: str
    priority: str
    town: str | None = None
    sources: list[CaseSource] = Field(default_factory=list)
    classification: Classification
    applied: list[str] = Field(default_factory=list)
    opened_at: datetime
    updated_at: datetime
    clock: Clock | None = None
    resume_to: CaseState | None = None
    pending_extension_h: float | None = None
    rework_count: int = 0
    returned_count: int = 0

    @property
    def source_ids(self) -> list[str]:
        return [s.source_id for s in self.sources]

    def remember(self, command_id: str) -> None:
        self.applied = [*self.applied, command_id][-APPLIED_MEMORY:]
