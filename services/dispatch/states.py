"""The internal case record held in the faust table (not a wire contract)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from cityops.contracts.states import CaseState

APPLIED_MEMORY = 200  # command ids remembered per case, to make redelivery a no-op


class CaseRecord(BaseModel):
    case_id: str
    status: CaseState
    seq: int
    category: str
    department: str
    priority: str
    source_ids: list[str]
    applied: list[str] = Field(default_factory=list)
    opened_at: datetime
    updated_at: datetime

    def remember(self, command_id: str) -> None:
        self.applied = [*self.applied, command_id][-APPLIED_MEMORY:]
