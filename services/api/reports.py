"""``POST /api/v1/reports``: the intake route the API hosts (the rules live in services/ingest)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request

from cityops.contracts import Role, SourceType
from services.api.auth.deps import Reporter
from services.api.auth.principal import Principal
from services.ingest.ledger import IdempotencyConflict
from services.ingest.models import ReportAccepted, ReportCreate, ReporterIn
from services.ingest.normalise import report_id_for
from services.ingest.service import IngestService

router = APIRouter(prefix="/api/v1", tags=["intake"])


def ingest_service(request: Request) -> IngestService:
    service: IngestService = request.app.state.ingest
    return service


Ingest = Annotated[IngestService, Depends(ingest_service)]


def as_reported_by(report: ReportCreate, principal: Principal) -> ReportCreate:
    """The report with its reporter from the token. A grid worker reports as themselves; a
    dispatcher (or admin) enters a 12345 caller's report for a citizen, or their own."""
    given = report.reporter
    if principal.role == Role.GRID_WORKER:
        if given is not None and given.id != principal.user_id:
            raise HTTPException(422, "上报人取自登录令牌，不能代他人上报")
        if report.source_type not in (None, SourceType.GRID_WORKER):
            raise HTTPException(422, "网格员上报的来源类型只能是 grid_worker")
        who = ReporterIn(id=principal.user_id, role=Role.GRID_WORKER, name=principal.name)
        return report.model_copy(update={"reporter": who, "source_type": SourceType.GRID_WORKER})
    if given is not None and given.role != Role.CITIZEN:
        raise HTTPException(422, "代录上报时上报人只能是市民（role=citizen）")
    who = given or ReporterIn(id=principal.user_id, role=Role.DISPATCHER, name=principal.name)
    return report.model_copy(update={"reporter": who})


@router.post("/reports", status_code=202, response_model=ReportAccepted, summary="上报问题")
async def submit_report(
    body: ReportCreate, principal: Reporter, ingest: Ingest, request: Request
) -> ReportAccepted:
    report = as_reported_by(body, principal)
    report_id = report_id_for(report.who().id, report.idempotency_key)
    photos = getattr(request.app.state, "photos", None)
    ids = [p for p in report.photos if p.startswith("ph_")]
    if ids and photos is not None:
        try:
            await photos.claim(ids, principal, report_id=report_id)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc
    try:
        event = await ingest.submit(report)
    except IdempotencyConflict as exc:
        raise HTTPException(409, str(exc)) from exc
    return ReportAccepted(
        report_id=event.report_id, status_url=f"/api/v1/reports/{event.report_id}"
    )
