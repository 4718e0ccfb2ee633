from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request

from services.ingest.ledger import IdempotencyConflict
from services.ingest.models import ReportAccepted, ReportCreate
from services.ingest.service import IngestService

router = APIRouter(prefix="/api/v1", tags=["intake"])


def ingest_service(request: Request) -> IngestService:
    service: IngestService = request.app.state.ingest
    return service


Ingest = Annotated[IngestService, Depends(ingest_service)]


@router.post("/reports", status_code=202, response_model=ReportAccepted, summary="上报问题")
async def submit_report(report: ReportCreate, ingest: Ingest) -> ReportAccepted:
    try:
        event = await ingest.submit(report)
    except IdempotencyConflict as exc:
        raise HTTPException(409, str(exc)) from exc
    return ReportAccepted(
        report_id=event.report_id, status_url=f"/api/v1/reports/{event.report_id}"
    )
