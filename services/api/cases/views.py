from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request

from cityops.contracts.common import SourceType
from cityops.contracts.states import CaseState
from cityops.taxonomy import Priority
from services.api.auth.deps import Actors, GridWorker, Person, Reporter, Staff
from services.api.cases import mine
from services.api.cases.commands import (
    CommandAccepted,
    CommandCreate,
    CommandRefused,
    CommandService,
    NotAllowed,
    UnknownCase,
    status_url,
)
from services.api.cases.models import (
    CaseFilters,
    CasePage,
    CasePublic,
    CaseSort,
    CommandStatus,
    MyReports,
    ReportStatus,
    SimilarPage,
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


@router.get("/cases", response_model=CasePage, summary="派遣队列（筛选、分页；按角色限定范围）")
async def list_cases(
    cases: Cases,
    principal: Person,
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
        scope=await cases.scope(principal),
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
async def get_case(case_id: str, cases: Cases, principal: Person) -> CasePublic:
    case = await cases.get(case_id, principal)
    if case is None:
        raise HTTPException(404, f"案件 {case_id} 不存在")
    return case


@router.get(
    "/cases/{case_id}/timeline", response_model=TimelinePage, summary="案件时间线（向前翻页）"
)
async def get_timeline(
    case_id: str,
    cases: Cases,
    principal: Person,
    before_seq: Annotated[int | None, Query(ge=1, description="只列出 seq 小于此值的条目")] = None,
    size: Annotated[int, Query(ge=1, le=100)] = TIMELINE_PAGE,
) -> TimelinePage:
    doc = await cases.visible(principal, case_id, excludes=["sources", "suggestions", "milestones"])
    if doc is None:
        raise HTTPException(404, f"案件 {case_id} 不存在")
    page = await cases.timeline(case_id, doc["seq"], before_seq, size)
    if page is None:
        raise HTTPException(404, f"案件 {case_id} 不存在")
    return page


@router.get("/reports/{report_id}", response_model=ReportStatus, summary="上报处理进度")
async def report_status(report_id: str, cases: Cases, principal: Person) -> ReportStatus:
    status = await cases.report_status(report_id)
    if status is None or not await _may_follow(cases, principal, report_id, status):
        raise HTTPException(404, f"上报 {report_id} 尚未立案或不存在，请稍后再查")
    return status


async def _may_follow(
    cases: CaseService, principal: Person, report_id: str, status: ReportStatus
) -> bool:
    """Staff follow every report; others their own reports and the cases they may see."""
    if principal.reads_everything:
        return True
    source = await cases.by_id(cases.model.sources.alias, report_id, ["reporter"])
    if source is not None and source.get("reporter") == principal.user_id:
        return True
    return status.case_id is not None and await cases.visible(principal, status.case_id) is not None


@router.get(
    "/cases/{case_id}/similar",
    response_model=SimilarPage,
    summary="疑似重复：附近、同网格或内容相近的未结案件（可一键合并）",
)
async def similar_cases(case_id: str, cases: Cases, principal: Staff) -> SimilarPage:
    doc = await cases.visible(principal, case_id, excludes=["sources", "suggestions", "milestones"])
    if doc is None:
        raise HTTPException(404, f"案件 {case_id} 不存在")
    return await cases.similar(doc, principal)


@router.get("/me/reports", response_model=MyReports, summary="我的上报（最近 50 条及其进度）")
async def my_reports(request: Request, cases: Cases, principal: Reporter) -> MyReports:
    return await mine.my_reports(cases, request.app.state.ingest.ledger.index, principal)


@router.get("/me/tasks", response_model=CasePage, summary="我的核查任务（本人网格内待核查的案件）")
async def my_tasks(
    cases: Cases,
    principal: GridWorker,
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 50,
) -> CasePage:
    filters = CaseFilters(
        scope=[{"terms": {"grid": list(principal.grids) or ["-"]}}],
        state=[CaseState.REPORTED_BACK],
    )
    return await cases.queue(filters, page, size, CaseSort.QUEUE)


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
    case_id: CaseId, body: CommandCreate, commands: Commands, principal: Actors, request: Request
) -> CommandAccepted:
    photos = getattr(request.app.state, "photos", None)
    ids = [p for p in body.evidence.photos if p.startswith("ph_")]
    try:
        command = await commands.submit(case_id, body, principal)
        if ids and photos is not None:
            await photos.claim(ids, principal, case_id=case_id)
    except CommandRefused as exc:
        raise HTTPException(422, str(exc)) from exc
    except UnknownCase as exc:
        raise HTTPException(404, str(exc)) from exc
    except NotAllowed as exc:
        raise HTTPException(403, str(exc)) from exc
    except ValueError as exc:  # a photo that is not the caller's own upload
        raise HTTPException(422, str(exc)) from exc
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
    cases: Cases,
    principal: Person,
) -> CommandStatus:
    status = await commands.status(case_id, command_id)
    if principal.reads_everything or await commands.issued_by(case_id, command_id) == (
        principal.user_id,
        principal.role,
    ):
        return status  # the one who sent it sees its result, even after the case left them
    if await cases.visible(principal, case_id) is None:
        raise HTTPException(404, f"案件 {case_id} 不存在")
    return status
