"""Who may see a photo: the rule of the case it belongs to.

The uploader always; dispatchers, managers and admins always; anyone else only when the
photo is attached to a case they can see (``scope.can_see``), found from its case id or,
for a photo of a report, from the case the report became. A photo attached to nothing
is its uploader's alone.
"""

from __future__ import annotations

from typing import Any, Protocol

from services.api.auth.principal import Principal
from services.api.auth.scope import can_see
from services.api.cases.models import ReportStatus
from services.api.photos.models import PhotoRecord


class CaseReader(Protocol):
    """The part of ``CaseService`` the rule reads."""

    async def document(self, case_id: str) -> dict[str, Any] | None: ...

    async def report_status(self, report_id: str) -> ReportStatus | None: ...

    async def own_cases(self, principal: Principal) -> frozenset[str]: ...


def sees_without_case(principal: Principal, record: PhotoRecord) -> bool:
    return principal.reads_everything or record.owner == principal.user_id


async def may_view(cases: CaseReader, principal: Principal, record: PhotoRecord) -> bool:
    if sees_without_case(principal, record):
        return True
    case_id = record.case_id
    if case_id is None and record.report_id is not None:
        status = await cases.report_status(record.report_id)
        case_id = status.case_id if status is not None else None
    if case_id is None:
        return False
    doc = await cases.document(case_id)
    if doc is None:
        return False
    return can_see(principal, doc, await cases.own_cases(principal))
