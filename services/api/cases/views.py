from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from services.api.cases.models import (
    CaseFilters,
    CasePage,
    CasePublic,
    CaseSort,
    ReportStatus,
)
from services.api.cases.service import CaseService

router = APIRouter(prefix="/api/v1", tags=["cases"])


def case_service(request: Request) -> CaseService:
    service: CaseService = request.app.state.cases
    return service


Cases = Annotated[CaseService, Depends(case_service)]


@router.get("/cases", response_model=CasePage, summary="派遣队列（筛选、分页）")
async def list_cases(
    cases: Cases,
    state: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI reads the default, never mutates it
    department: str | None = None,
    town: str | None = None,
    category: str | None = None,
    dimension: str | None = None,
    priority: str | None = None,
    auto_dispatched: bool | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
    sort: CaseSort = CaseSort.QUEUE,
) -> CasePage:
    filters = CaseFilters(
        state=state,
        department=department,
        town=town,
        category=category,
        dimension=dimension,
        priority=priority,
        auto_dispatched=auto_dispatched,
        q=q,
        created_from=created_from,
        created_to=created_to,
    )
    try:
        return await cases.queue(filters, page, size, sort)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from exc


@router.get("/cases/{case_id}", response_model=CasePublic, summary="案件详情与时间线")
async def get_case(case_id: str, cases: Cases) -> CasePublic:
    case = await cases.get(case_id)
    if case is None:
        raise HTTPException(404, f"案件 {case_id} 不存在")
    return case


@router.get("/reports/{report_id}", response_model=ReportStatus, summary="上报处理进度")
async def report_status(report_id: str, cases: Cases) -> ReportStatus:
    status = await cases.report_status(report_id)
    if status is None:
        raise HTTPException(404, f"上报 {report_id} 尚未立案或不存在，请稍后再查")
    return status
