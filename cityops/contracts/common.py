"""Value types shared by several topic contracts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp must carry a timezone offset, e.g. 2026-11-28T10:00:00+08:00")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]


class Wire(BaseModel):
    """Base of every wire model: unknown fields are rejected, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Role(StrEnum):
    GRID_WORKER = "grid_worker"
    CITIZEN = "citizen"
    DISPATCHER = "dispatcher"
    DEPARTMENT = "department"
    MANAGER = "manager"
    ADMIN = "admin"
    DEVICE = "device"
    SYSTEM = "system"


class SourceType(StrEnum):
    """Where a case's information came from; every source record can open or join a case."""

    GRID_WORKER = "grid_worker"
    CITIZEN_APP = "citizen_app"
    HOTLINE_12345 = "hotline_12345"
    SENSOR = "sensor"
    PROACTIVE = "proactive"


class GeoPoint(Wire):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Actor(Wire):
    """Who did something. Carried by every command and event, before authentication exists."""

    id: str = Field(min_length=1, max_length=128)
    role: Role
    name: str | None = Field(default=None, max_length=64)
    department: str | None = Field(default=None, max_length=64)
    town: str | None = Field(default=None, max_length=64)


SYSTEM_ACTOR = Actor(id="cityops", role=Role.SYSTEM, name="系统")


PhotoRef = Annotated[str, Field(min_length=1, max_length=2048)]
Photos = Annotated[tuple[PhotoRef, ...], Field(max_length=9)]


class Evidence(Wire):
    notes: str | None = Field(default=None, max_length=4000)
    photos: Photos = ()
