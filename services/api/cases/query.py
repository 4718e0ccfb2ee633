"""Building Elasticsearch queries from API filters. Pure: no client here.

User text goes only into ``match`` queries as a value, never into query-string syntax,
so it cannot change the query's structure.
"""

from __future__ import annotations

from typing import Any

from cityops.contracts.states import TERMINAL
from services.api.cases.models import CaseFilters, CaseSort

# Without a state filter the queue shows the work to do; finished cases need a state filter.
DONE = sorted(s.value for s in TERMINAL)

SORTS: dict[CaseSort, list[dict[str, Any]]] = {
    CaseSort.QUEUE: [
        {"sla_rank": {"order": "asc", "missing": "_last"}},
        {"priority_rank": {"order": "asc", "missing": "_last"}},
        {"deadline": {"order": "asc", "missing": "_last"}},  # the nearest deadline first
        {"created_at": "asc"},
        {"case_id": "asc"},
    ],
    CaseSort.NEWEST: [{"created_at": "desc"}, {"case_id": "asc"}],
    CaseSort.OLDEST: [{"created_at": "asc"}, {"case_id": "asc"}],
}


def case_query(filters: CaseFilters) -> dict[str, Any]:
    clauses: list[dict[str, Any]] = list(filters.scope)
    must_not: list[dict[str, Any]] = []
    if filters.state:
        clauses.append({"terms": {"state": [s.value for s in filters.state]}})
    else:
        must_not.append({"terms": {"state": DONE}})
    for field in ("department", "town", "category", "dimension", "priority", "sla_state"):
        value = getattr(filters, field)
        if value:
            clauses.append({"term": {field: value}})
    if filters.source_type:
        clauses.append({"terms": {"source_types": [t.value for t in filters.source_type]}})
    if filters.auto_dispatched is not None:
        clauses.append({"term": {"auto_dispatched": filters.auto_dispatched}})
    created: dict[str, str] = {}
    if filters.created_from:
        created["gte"] = filters.created_from.isoformat()
    if filters.created_to:
        created["lt"] = filters.created_to.isoformat()
    if created:
        clauses.append({"range": {"created_at": created}})
    must: list[dict[str, Any]] = []
    if filters.q:
        must.append({"multi_match": {"query": filters.q, "fields": ["text", "address"]}})
    query: dict[str, Any] = {"filter": clauses, "must": must or [{"match_all": {}}]}
    if must_not:
        query["must_not"] = must_not
    return {"bool": query}
