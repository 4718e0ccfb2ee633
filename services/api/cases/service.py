"""Reading cases from the read model and shaping them for the API.

Everything that serves one case, report or command reads by id (``get``/``mget``); only the
queue (filters, full text) searches. See ``cityops/search.py`` for why.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from elasticsearch import AsyncElasticsearch, NotFoundError
from elasticsearch import ConnectionError as EsConnectionError
from elasticsearch import ConnectionTimeout as EsTimeout

from cityops.contracts import Role
from cityops.contracts.states import label
from cityops.errors import DependencyUnavailable
from cityops.jurisdiction import Jurisdictions
from cityops.search import ReadModel, timeline_page_ids
from cityops.taxonomy import Taxonomy
from services.api.auth.principal import Principal
from services.api.auth.scope import can_see, case_filter
from services.api.cases import mine
from services.api.cases.models import (
    CaseFilters,
    CasePage,
    CasePublic,
    CaseSort,
    CaseSummary,
    ReportStatus,
    SimilarPage,
    TimelineEntry,
    TimelinePage,
)
from services.api.cases.query import SORTS, case_query
from services.api.cases.similar import SIZE as SIMILAR
from services.api.cases.similar import candidate, similar_query

MAX_WINDOW = 10_000  # Elasticsearch's default max_result_window
TIMELINE_PAGE = 50  # timeline entries shown with a case
MAX_MERGE_HOPS = 3  # a report of a merged case follows merged_into at most this far
UNAVAILABLE = "案件检索服务暂不可用"


class QueryOutOfRange(ValueError):
    """The query asks for more than the read model can answer; the message says why."""


class CaseService:
    def __init__(
        self, es: AsyncElasticsearch, model: ReadModel, taxonomy: Taxonomy, places: Jurisdictions
    ) -> None:
        self.es, self.model, self.taxonomy, self.places = es, model, taxonomy, places

    async def queue(self, filters: CaseFilters, page: int, size: int, sort: CaseSort) -> CasePage:
        start = (page - 1) * size
        if start + size > MAX_WINDOW:
            raise QueryOutOfRange(f"分页超出范围：最多浏览前 {MAX_WINDOW} 条，请增加筛选条件")
        try:
            found = await self.es.search(
                index=self.model.cases.alias,
                query=case_query(filters),
                sort=SORTS[sort],
                from_=start,
                size=size,
                track_total_hits=True,
                source_excludes=["sources", "suggestions", "milestones"],
            )
        except NotFoundError:
            return CasePage(items=[], total=0, page=page, size=size)
        except (EsConnectionError, EsTimeout) as exc:  # a timeout is no ConnectionError
            raise DependencyUnavailable(UNAVAILABLE) from exc
        items = [self.summary(hit["_source"]) for hit in found["hits"]["hits"]]
        return CasePage(items=items, total=found["hits"]["total"]["value"], page=page, size=size)

    async def get(self, case_id: str, principal: Principal) -> CasePublic | None:
        doc = await self.visible(principal, case_id, excludes=["milestones"])
        if doc is None:
            return None
        page = await self.timeline(case_id, doc["seq"], None, TIMELINE_PAGE)
        return CasePublic(
            **self.summary(doc).model_dump(),
            model_version=doc.get("model_version"),
            suggestions=doc.get("suggestions") or [],
            sources=doc.get("sources") or [],
            timeline=page.items,
            timeline_before_seq=page.before_seq,
        )

    async def timeline_page(
        self, case_id: str, before_seq: int | None, size: int
    ) -> TimelinePage | None:
        doc = await self.document(case_id, includes=["seq"])
        if doc is None:
            return None
        return await self.timeline(case_id, doc["seq"], before_seq, size)

    async def timeline(
        self, case_id: str, last_seq: int, before_seq: int | None, size: int
    ) -> TimelinePage:
        ids = timeline_page_ids(case_id, last_seq, before_seq, size)
        entries = await self.mget(self.model.events.alias, ids)
        items = [TimelineEntry.model_validate(e) for e in entries]
        first = int(ids[0].rsplit(":", 1)[1]) if ids else 1
        return TimelinePage(case_id=case_id, items=items, before_seq=first if first > 1 else None)

    async def own_cases(self, principal: Principal) -> frozenset[str]:
        """The cases holding ``principal``'s reports (grid workers; empty for other roles)."""
        if principal.role != Role.GRID_WORKER:
            return frozenset()
        return await mine.own_cases(self, principal)

    async def scope(self, principal: Principal) -> list[dict[str, Any]]:
        return case_filter(principal, await self.own_cases(principal))

    async def visible(
        self, principal: Principal, case_id: str, excludes: list[str] | None = None
    ) -> dict[str, Any] | None:
        """The case document if it exists and ``principal`` may see it, else ``None``."""
        doc = await self.document(case_id, excludes=excludes)
        if doc is None or not can_see(principal, doc, await self.own_cases(principal)):
            return None
        return doc

    async def similar(self, doc: dict[str, Any], principal: Principal) -> SimilarPage:
        try:
            found = await self.es.search(
                index=self.model.cases.alias,
                query=similar_query(doc, await self.scope(principal)),
                size=SIMILAR,
                source_excludes=["sources", "suggestions", "milestones"],
            )
        except NotFoundError:
            return SimilarPage(case_id=doc["case_id"], items=[])
        except (EsConnectionError, EsTimeout) as exc:
            raise DependencyUnavailable(UNAVAILABLE) from exc
        hits = found["hits"]["hits"]
        best = max((float(h.get("_score") or 0.0) for h in hits), default=0.0)
        items = [candidate(doc, hit, best) for hit in hits]
        return SimilarPage(case_id=doc["case_id"], items=items)

    async def exists(self, case_id: str) -> bool:
        return await self.document(case_id, includes=["case_id"]) is not None

    async def report_status(self, report_id: str) -> ReportStatus | None:
        source = await self.by_id(self.model.sources.alias, report_id, ["case_id"])
        if source is None:
            return None
        doc = await self._follow_merges(source["case_id"])
        if doc is None:
            return None  # the case is not in the read model yet
        return ReportStatus(
            report_id=report_id,
            case_id=doc["case_id"],
            state=doc["state"],
            state_label=label(doc["state"]),
        )

    async def _follow_merges(self, case_id: str) -> dict[str, Any] | None:
        """The case, or the case it was merged into (at most ``MAX_MERGE_HOPS`` away)."""
        fields = ["case_id", "state", "merged_into"]
        doc = await self.document(case_id, includes=fields)
        for _ in range(MAX_MERGE_HOPS):
            if doc is None or doc["state"] != "merged" or not doc.get("merged_into"):
                return doc
            target = await self.document(doc["merged_into"], includes=fields)
            if target is None:
                return doc  # the surviving case is not indexed yet: show the merged one
            doc = target
        return doc

    async def document(
        self,
        case_id: str,
        includes: list[str] | None = None,
        excludes: list[str] | None = None,
    ) -> dict[str, Any] | None:
        return await self.by_id(self.model.cases.alias, case_id, includes, excludes)

    async def by_id(
        self,
        index: str,
        doc_id: str,
        includes: list[str] | None = None,
        excludes: list[str] | None = None,
    ) -> dict[str, Any] | None:
        try:
            found = await self.es.get(
                index=index, id=doc_id, source_includes=includes, source_excludes=excludes
            )
        except NotFoundError:
            return None
        except (EsConnectionError, EsTimeout) as exc:  # a timeout is no ConnectionError
            raise DependencyUnavailable(UNAVAILABLE) from exc
        source: dict[str, Any] = found["_source"]
        return source

    async def mget(self, index: str, ids: Sequence[str]) -> list[dict[str, Any]]:
        if not ids:
            return []
        try:
            found = await self.es.mget(index=index, ids=list(ids))
        except NotFoundError:
            return []
        except (EsConnectionError, EsTimeout) as exc:  # a timeout is no ConnectionError
            raise DependencyUnavailable(UNAVAILABLE) from exc
        return [d["_source"] for d in found["docs"] if d.get("found")]

    def summary(self, doc: dict[str, Any]) -> CaseSummary:
        dept = doc.get("department")
        fields = {k: doc.get(k) for k in CaseSummary.model_fields if k in doc}
        department_name = self._department_name(dept)
        town_name = self.places.town_name(doc.get("town"))
        return CaseSummary.model_validate(
            {
                **fields,
                "state_label": label(doc["state"]),
                "department_name": department_name,
                "town_name": town_name,
                "assignee": f"{town_name}{department_name}"
                if town_name and department_name
                else None,
            }
        )

    def _department_name(self, code: str | None) -> str | None:
        if code is None:
            return None
        try:
            return self.taxonomy.department(code).name
        except KeyError:
            return code
