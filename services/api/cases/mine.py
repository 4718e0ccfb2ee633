"""A grid worker's own: the cases that hold their reports, and "my reports" with status.

Both read who reported what from the sources index (``reporter``) and the intake ledger
(``reporter_id``), newest first and bounded (``OWN_CASES``, ``MY_REPORTS``): the cost of a
request does not grow with how many reports the worker ever made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from elasticsearch import ConnectionError as EsConnectionError
from elasticsearch import ConnectionTimeout as EsTimeout
from elasticsearch import NotFoundError

from cityops.contracts.states import label
from cityops.errors import DependencyUnavailable
from services.api.auth.principal import Principal
from services.api.auth.scope import OWN_CASES
from services.api.cases.models import MyReport, MyReports

if TYPE_CHECKING:
    from services.api.cases.service import CaseService

MY_REPORTS = 50
UNAVAILABLE = "案件检索服务暂不可用"


async def _search(cases: CaseService, index: str, **kwargs: Any) -> list[dict[str, Any]]:
    try:
        found = await cases.es.search(index=index, **kwargs)
    except NotFoundError:
        return []
    except (EsConnectionError, EsTimeout) as exc:
        raise DependencyUnavailable(UNAVAILABLE) from exc
    return [hit["_source"] for hit in found["hits"]["hits"]]


async def own_cases(cases: CaseService, principal: Principal) -> frozenset[str]:
    """The cases that hold ``principal``'s latest reports (at most ``OWN_CASES``)."""
    hits = await _search(
        cases,
        cases.model.sources.alias,
        query={"term": {"reporter": principal.user_id}},
        sort=[{"at": "desc"}],
        size=OWN_CASES,
        source_includes=["case_id"],
    )
    return frozenset(h["case_id"] for h in hits)


async def my_reports(cases: CaseService, intake: str, principal: Principal) -> MyReports:
    ledger = await _search(
        cases,
        intake,
        query={"term": {"reporter_id": principal.user_id}},
        sort=[{"received_at": "desc"}],
        size=MY_REPORTS,
    )
    sources = {
        s["source_id"]: s["case_id"]
        for s in await cases.mget(cases.model.sources.alias, [r["report_id"] for r in ledger])
    }
    docs = {
        d["case_id"]: d
        for d in await cases.mget(cases.model.cases.alias, sorted(set(sources.values())))
    }
    merged = sorted({d["merged_into"] for d in docs.values() if d.get("merged_into")} - set(docs))
    docs.update({d["case_id"]: d for d in await cases.mget(cases.model.cases.alias, merged)})
    items = []
    for entry in ledger:
        case = docs.get(sources.get(entry["report_id"], ""))
        if case is not None and case.get("merged_into") in docs:
            case = docs[case["merged_into"]]  # the case that now holds the report
        items.append(
            MyReport(
                report_id=entry["report_id"],
                received_at=entry["received_at"],
                text=entry.get("text"),
                case_id=case["case_id"] if case else None,
                state=case["state"] if case else None,
                state_label=label(case["state"]) if case else "分拣中",
            )
        )
    return MyReports(items=items)
