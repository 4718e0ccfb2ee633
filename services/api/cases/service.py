"""Reading cases from the read model and shaping them for the API."""

from __future__ import annotations

from typing import Any

from elasticsearch import AsyncElasticsearch, NotFoundError
from elasticsearch import ConnectionError as EsConnectionError

from cityops.contracts.states import label
from cityops.errors import DependencyUnavailable
from cityops.jurisdiction import Jurisdictions
from cityops.taxonomy import Taxonomy
from services.api.cases.models import (
    CaseFilters,
    CasePage,
    CasePublic,
    CaseSort,
    CaseSummary,
    ReportStatus,
)
from services.api.cases.query import SORTS, case_query

MAX_WINDOW = 10_000  # Elasticsearch's default max_result_window


class CaseService:
    def __init__(
        self, es: AsyncElasticsearch, index: str, taxonomy: Taxonomy, places: Jurisdictions
    ) -> None:
        self.es, self.index, self.taxonomy, self.places = es, index, taxonomy, places

    async def queue(self, filters: CaseFilters, page: int, size: int, sort: CaseSort) -> CasePage:
        start = (page - 1) * size
        if start + size > MAX_WINDOW:
            raise ValueError(f"分页超出范围：最多浏览前 {MAX_WINDOW} 条，请增加筛选条件")
        try:
            found = await self.es.search(
                index=self.index,
                query=case_query(filters),
                sort=SORTS[sort],
                from_=start,
                size=size,
                track_total_hits=True,
                source_excludes=["timeline", "sources", "suggestions"],
            )
        except NotFoundError:
            return CasePage(items=[], total=0, page=page, size=size)
        except EsConnectionError as exc:
            raise DependencyUnavailable("案件检索服务暂不可用") from exc
        items = [self.summary(hit["_source"]) for hit in found["hits"]["hits"]]
        return CasePage(items=items, total=found["hits"]["total"]["value"], page=page, size=size)

    async def get(self, case_id: str) -> CasePublic | None:
        try:
            found = await self.es.get(index=self.index, id=case_id)
        except NotFoundError:
            return None
        except EsConnectionError as exc:
            raise DependencyUnavailable("案件检索服务暂不可用") from exc
        doc = found["_source"]
        return CasePublic(
            **self.summary(doc).model_dump(),
            model_version=doc.get("model_version"),
            suggestions=doc.get("suggestions") or [],
            sources=doc.get("sources") or [],
            timeline=doc.get("timeline") or [],
        )

    async def report_status(self, report_id: str) -> ReportStatus | None:
        try:
            found = await self.es.search(
                index=self.index,
                query={
                    "bool": {
                        "filter": [{"term": {"source_ids": report_id}}],
                        # a merged case hands its reports to the case it merged into
                        "must_not": [{"term": {"state": "merged"}}],
                    }
                },
                size=1,
                source_includes=["case_id", "state"],
            )
        except NotFoundError:
            return None
        except EsConnectionError as exc:
            raise DependencyUnavailable("案件检索服务暂不可用") from exc
        hits = found["hits"]["hits"]
        if not hits:
            return None
        doc = hits[0]["_source"]
        return ReportStatus(
            report_id=report_id,
            case_id=doc["case_id"],
            state=doc["state"],
            state_label=label(doc["state"]),
        )

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
