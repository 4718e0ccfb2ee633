"""API shapes of hotspots (separate from the case document they are read from)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from services.api.cases.models import Location


class HotspotPublic(BaseModel):
    case_id: str
    state: str
    state_label: str
    category: str | None
    category_name: str | None
    town: str | None
    town_name: str | None
    grid: str | None
    place_kind: str | None = Field(description="grid（网格）或 asset（部件）")
    place_id: str | None
    place: str | None = Field(description="地点名称：地址、部件或网格")
    count: int | None = Field(description="时间窗内该地点的案件数")
    window: str | None = Field(description="时间窗，如「30天」")
    text: str | None
    location: Location | None
    report_count: int
    created_at: datetime
    closed_at: datetime | None = None


class HotspotList(BaseModel):
    items: list[HotspotPublic]
    total: int
