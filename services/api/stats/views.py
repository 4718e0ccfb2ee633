from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from cityops.figures import GroupBy
from services.api.auth.deps import STAFF, require
from services.api.stats.service import StatsPublic, StatsService, as_aware, check_window

router = APIRouter(prefix="/api/v1", tags=["stats"], dependencies=[Depends(require(*STAFF))])
DEFAULT_WINDOW = timedelta(days=30)


def stats_service(request: Request) -> StatsService:
    service: StatsService = request.app.state.stats
    return service


Stats = Annotated[StatsService, Depends(stats_service)]


@router.get(
    "/stats",
    response_model=StatsPublic,
    summary="案件绩效（立案数、结案数、应结案数、结案率、按期结案率、返工率、退单率、各环节用时）",
)
async def get_stats(
    stats: Stats,
    group_by: GroupBy = "none",
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
) -> StatsPublic:
    end = as_aware(end) if end else datetime.now(UTC)
    start = as_aware(start) if start else end - DEFAULT_WINDOW
    try:
        check_window(start, end)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    try:
        return await stats.figures(start, end, group_by)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
