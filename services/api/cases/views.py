from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request

from cityops.contracts.common import SourceType
from cityops.contracts.states import CaseState
from cityops.taxonomy import Priority
from services.api.cases.commands import (
    CommandAccepted,
    CommandCreate,
    CommandRefused,
    CommandService,
    UnknownCase,
    status_url,
)
from services.api.cases.models import (
    CaseFilters,
    CasePage,
    CasePublic,
    CaseSort,
    CommandStatus,
    ReportStatus,
    SlaState,
    TimelinePage,
)
from services.api.cases.service import TIMELINE_PAGE, CaseService, QueryOutOfRange

router = APIRouter(prefix="/api/v1", tags=["cases"])

CaseId = Annotated[str, Path(pattern=r"^LG[A-Z2-7]{12}$", description="案件号")]


def case_service(request: Request) -> CaseService:
    service: CaseService = request.app.state.cases
    return service


Cases = Annotated[CaseService, Depends(case_service)]


@router.get("/cases", response_model=CasePage, summary="派遣队列（筛选、分页）")
async def list_cases(
    cases: Cases,
    state: Annotated[
        list[CaseState], Query(description="不填：待办（不含已结案、不予立案、已合并）")
    ] = [],  # noqa: B006 - FastAPI reads the default, never mutates it
    department: str | None = None,
    town: str | None = None,
    category: str | None = None,
    dimension: str | None = None,
    priority: Priority | None = None,
    sla_state: SlaState | None = None,
    auto_dispatched: bool | None = None,
    source_type: Annotated[
        list[SourceType], Query(description="来源类型（可多选）：含任一所选类型的案件")
    ] = [],  # noqa: B006 - FastAPI reads the default, never mutates it
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
        sla_state=sla_state,
        auto_dispatched=auto_dispatched,
        source_type=source_type,
        q=q,
        created_from=created_from,
        created_to=created_to,
    )
    try:
        return await cases.queue(filters, page, size, sort)
    except QueryOutOfRange as exc:
        raise HTTPException(422, str(exc)) from exc


@router.get("/cases/{case_id}", response_model=CasePublic, summary="案件详情与最近的时间线")
async def get_case(case_id: str, cases: Cases) -> CasePublic:
    case = await cases.get(case_id)
    if case is None:
        raise HTTPException(404, f"案件 {case_id} 不存在")
    return case


@router.get(
    "/cases/{case_id}/timeline", response_model=TimelinePage, summary="案件时间线（向前翻页）"
)
async def get_timeline(
    case_id: str,
    cases: Cases,
    before_seq: Annotated[int | None, Query(ge=1, description="只列出 seq 小于此值的条目")] = None,
    size: Annotated[int, Query(ge=1, le=100)] = TIMELINE_PAGE,
) -> TimelinePage:
    page = await cases.timeline_page(case_id, before_seq, size)
    if page is None:
        raise HTTPException(404, f"案件 {case_id} 不存在")
    return page


@router.get("/reports/{report_id}", response_model=ReportStatus, summary="上报处理进度")
async def report_status(report_id: str, cases: Cases) -> ReportStatus:
    status = await cases.report_status(report_id)
    if status is None:
        raise HTTPException(404, f"上报 {report_id} 尚未立案或不存在，请稍后再查")
    return status


def command_service(request: Request) -> CommandService:
    service: CommandService = request.app.state.commands
    return service


Commands = Annotated[CommandService, Depends(command_service)]


@router.post(
    "/cases/{case_id}/commands",
    status_code=202,
    response_model=CommandAccepted,
    summary="案件操作（立案、派遣、改派、受理、退单、延期、缓办、反馈、核查、结案、合并、拆分）",
)
async def post_command(
    case_id: CaseId, request: CommandCreate, commands: Commands
) -> CommandAccepted:
    try:
        command = await commands.submit(case_id, request)
    except CommandRefused as exc:
        raise HTTPException(422, str(exc)) from exc
    except UnknownCase as exc:
        raise HTTPException(404, str(exc)) from exc
    return CommandAccepted(
        command_id=command.command_id,
        case_id=case_id,
        status_url=status_url(case_id, command.command_id),
    )


@router.get(
    "/cases/{case_id}/commands/{command_id}",
    response_model=CommandStatus,
    summary="操作处理结果（pending 表示尚未处理完）",
)
async def get_command(
    case_id: str,
    command_id: Annotated[str, Path(max_length=128)],
    commands: Commands,
) -> CommandStatus:
    return await commands.status(case_id, command_id)
