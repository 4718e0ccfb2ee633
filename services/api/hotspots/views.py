from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from services.api.auth.deps import STAFF, require
from services.api.hotspots.models import HotspotList
from services.api.hotspots.service import HotspotService

router = APIRouter(prefix="/api/v1", tags=["hotspots"], dependencies=[Depends(require(*STAFF))])


def hotspot_service(request: Request) -> HotspotService:
    return HotspotService(request.app.state.cases)


Hotspots = Annotated[HotspotService, Depends(hotspot_service)]


@router.get("/hotspots", response_model=HotspotList, summary="热点：同一地点反复发生的问题")
async def list_hotspots(
    hotspots: Hotspots,
    include_closed: Annotated[bool, Query(description="同时列出近期已结案的热点")] = False,
    days: Annotated[int, Query(ge=1, le=365, description="「近期」的天数")] = 30,
    size: Annotated[int, Query(ge=1, le=100)] = 50,
) -> HotspotList:
    since = datetime.now(UTC) - timedelta(days=days) if include_closed else None
    return await hotspots.find(since, size)
