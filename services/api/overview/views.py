from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from cityops import jurisdiction
from services.api.auth.deps import Person, Staff
from services.api.overview.geo import outlines
from services.api.overview.models import OpenCountsPublic
from services.api.overview.service import OverviewService

router = APIRouter(tags=["overview"])
GRIDS_MAX_AGE_S = 3600  # the shipped polygons change only with a new build


def overview_service(request: Request) -> OverviewService:
    return OverviewService(request.app.state.cases)


Overview = Annotated[OverviewService, Depends(overview_service)]


@cache
def grid_outlines() -> dict[str, Any]:
    return outlines(jurisdiction.load())


@router.get("/overview", response_class=HTMLResponse, include_in_schema=False)
async def overview_page() -> str:
    return resources.files("services.api").joinpath("static/overview.html").read_text("utf-8")


@router.get("/api/v1/geo/grids", summary="街镇与单元网格边界（GeoJSON，简化）")
async def get_grids(_: Person) -> JSONResponse:
    return JSONResponse(
        grid_outlines(),
        media_type="application/geo+json",
        headers={"Cache-Control": f"private, max-age={GRIDS_MAX_AGE_S}"},
    )


@router.get(
    "/api/v1/overview/open-cases",
    response_model=OpenCountsPublic,
    summary="在办案件：各单元网格数量，各维度超期最多的类别",
)
async def get_open_counts(
    _: Staff,
    overview: Overview,
    worst: Annotated[int, Query(ge=1, le=20, description="每个维度列出的类别数")] = 3,
) -> OpenCountsPublic:
    return await overview.open_counts(worst)
