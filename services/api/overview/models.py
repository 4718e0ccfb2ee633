"""API shapes of the overview's counts (separate from the case documents they count)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ClassCountPublic(BaseModel):
    category: str
    category_name: str | None
    open: int = Field(description="在办案件数")
    breached: int = Field(description="其中已超期")


class DimensionCountPublic(BaseModel):
    dimension: str = Field(description="净、畅、宁、和、美")
    open: int
    worst_classes: list[ClassCountPublic] = Field(description="超期最多、其次在办最多的类别")


class OpenCountsPublic(BaseModel):
    total: int = Field(description="在办案件总数（派遣队列默认所列：除已结案、不予立案、已合并外）")
    grids: dict[str, int] = Field(description="各单元网格的在办案件数（无网格的案件不计）")
    dimensions: list[DimensionCountPublic]
