"""API shapes for cases (separate from the wire events and the index document)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class CaseSort(StrEnum):
    QUEUE = "queue"  # most urgent first, then the longest waiting
    NEWEST = "newest"
    OLDEST = "oldest"


class CaseFilters(BaseModel):
    state: list[str] = Field(default_factory=list)
    department: str | None = None
    town: str | None = None
    category: str | None = None
    dimension: str | None = None
    priority: str | None = None
    sla_state: str | None = None
    auto_dispatched: bool | None = None
    q: str | None = Field(default=None, max_length=200)
    created_from: datetime | None = None
    created_to: datetime | None = None


class Location(BaseModel):
    lat: float
    lon: float


class CaseSummary(BaseModel):
    case_id: str
    state: str
    state_label: str
    priority: str | None
    category: str | None
    category_name: str | None
    dimension: str | None
    department: str | None
    department_name: str | None
    town: str | None
    town_name: str | None
    assignee: str | None = Field(default=None, description="责任单位：街镇 + 部门")
    grid: str | None
    text: str | None
    address: str | None
    location: Location | None
    report_count: int
    auto_dispatched: bool
    confidence: float | None
    stage: str | None = None
    deadline: datetime | None = None
    sla_state: str = "ok"
    rework_count: int = 0
    returned_count: int = 0
    merged_into: str | None = None
    created_at: datetime
    updated_at: datetime


class TimelineEntry(BaseModel):
    seq: int
    kind: str
    state: str
    at: datetime
    actor: dict[str, Any]
    reason: str | None = None
    evidence: dict[str, Any] = Field(default_factory=dict)
    data: dict[str, Any] = Field(default_factory=dict)


class CasePublic(CaseSummary):
    model_version: str | None
    suggestions: list[dict[str, Any]]
    sources: list[dict[str, Any]]
    timeline: list[TimelineEntry]


class CasePage(BaseModel):
    items: list[CaseSummary]
    total: int
    page: int
    size: int


class ReportStatus(BaseModel):
    report_id: str
    case_id: str | None
    state: str
    state_label: str
