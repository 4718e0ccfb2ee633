"""The intake API's own shapes (not the wire contract, which is ``ReportSubmitted``)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from cityops.contracts import Role, SourceType

REPORTER_ROLES = (Role.GRID_WORKER, Role.CITIZEN, Role.DISPATCHER)
PHOTO_ID = re.compile(r"^ph_[0-9a-f]{32}$")
PHOTO_URL = re.compile(r"^https?://[^\s]{3,2000}$")


def _photo_ref(photo: str) -> str:
    if not (PHOTO_ID.match(photo) or PHOTO_URL.match(photo)):
        raise ValueError("照片须为上传得到的 photo_id（ph_…）或 http(s) 地址")
    return photo


PhotoRefIn = Annotated[str, AfterValidator(_photo_ref)]


class LocationIn(BaseModel):
    lat: float = Field(ge=-90, le=90, description="纬度 (WGS84)")
    lon: float = Field(ge=-180, le=180, description="经度 (WGS84)")


class ReporterIn(BaseModel):
    id: str = Field(min_length=1, max_length=128)
    role: Role = Role.CITIZEN
    name: str | None = Field(default=None, max_length=64)

    @field_validator("role")
    @classmethod
    def _may_report(cls, role: Role) -> Role:
        if role not in REPORTER_ROLES:
            raise ValueError(f"role {role.value} cannot submit reports")
        return role


class ReportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    idempotency_key: str = Field(
        min_length=8,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.:\-]+$",
        description="客户端生成的幂等键；同一上报人重复提交同一键只产生一个案件",
    )
    text: str = Field(min_length=1, max_length=5000, description="问题描述")
    location: LocationIn
    address: str | None = Field(default=None, max_length=200)
    category_hint: str | None = Field(default=None, max_length=32)
    photos: list[PhotoRefIn] = Field(
        default_factory=list,
        max_length=9,
        description="照片：先上传（POST /api/v1/photos）得到的 photo_id，或外部 http(s) 地址",
    )
    reporter: ReporterIn | None = Field(
        default=None,
        description="上报人取自登录令牌；派遣员代 12345 来电市民录入时填写市民（role=citizen）",
    )
    source_type: SourceType | None = None
    occurred_at: datetime | None = None

    def who(self) -> ReporterIn:
        """The reporter, set from the caller's token by the intake route before submission."""
        if self.reporter is None:
            raise ValueError("the report has no reporter (the intake route sets it)")
        return self.reporter


class ReportAccepted(BaseModel):
    report_id: str
    status: str = "accepted"
    status_url: str
