"""API shapes for cases (separate from the wire events and the index document)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from cityops.contracts import OutcomeStatus
from cityops.contracts.common import SourceType
from cityops.contracts.states import CaseState
from cityops.taxonomy import Priority


class CaseSort(StrEnum):
    QUEUE = "queue"  # most urgent first, then the longest waiting
    NEWEST = "newest"
    OLDEST = "oldest"


class SlaState(StrEnum):
    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"


class CaseFilters(BaseModel):
    """Queue filters. No ``state``: the work to do (every state but closed, invalid, merged).
    ``scope``: the caller's role's own filter clauses (services/api/auth/scope.py)."""

    scope: list[dict[str, Any]] = Field(default_factory=list)
    state: list[CaseState] = Field(default_factory=list)
    department: str | None = None
    town: str | None = None
    category: str | None = None
    dimension: str | None = None
    priority: Priority | None = None
    sla_state: SlaState | None = None
    auto_dispatched: bool | None = None
    source_type: list[SourceType] = Field(default_factory=list)
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
    sources: list[dict[str, Any]] = Field(description="首条与最近的上报（最多 10 条）")
    timeline: list[TimelineEntry] = Field(description="最近的时间线（按 seq 升序）")
    timeline_before_seq: int | None = Field(
        default=None,
        description="更早的时间线：GET .../timeline?before_seq=此值；null 表示已是全部",
    )


class TimelinePage(BaseModel):
    case_id: str
    items: list[TimelineEntry]
    before_seq: int | None = Field(description="下一页（更早）的 before_seq；null 表示没有更早的")


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


class CommandStatus(BaseModel):
    """What became of a command; ``pending`` until the workflow's outcome is indexed."""

    case_id: str
    command_id: str
    status: OutcomeStatus | Literal["pending"]
    command: str | None = None
    reason: str | None = None
    first_seq: int | None = None
    last_seq: int | None = None
    issued_at: datetime | None = None
    decided_at: datetime | None = None


class SimilarCase(BaseModel):
    case_id: str
    state: str
    state_label: str
    category: str | None
    category_name: str | None
    text: str | None
    grid: str | None
    distance_m: float | None = Field(description="与本案的距离（米）")
    score: float = Field(description="相似度：0–1，与本组中最像的一件相比（1 为最像）")
    created_at: datetime


class SimilarPage(BaseModel):
    case_id: str
    items: list[SimilarCase]


class MyReport(BaseModel):
    report_id: str
    received_at: datetime
    text: str | None = None
    case_id: str | None
    state: str | None = Field(description="null：尚未立案（分拣中）")
    state_label: str


class MyReports(BaseModel):
    items: list[MyReport]
