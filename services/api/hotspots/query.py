"""The hotspot query: cases with a proactive source, open ones and optionally those closed
since a given time. Pure: no client here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cityops.contracts import SourceType
from services.api.cases.query import DONE

SORT: list[dict[str, Any]] = [{"created_at": "desc"}, {"case_id": "asc"}]
FIELDS = [
    "case_id", "state", "category", "category_name", "town", "grid", "text", "address",
    "location", "report_count", "created_at", "closed_at", "sources.source_id",
    "sources.source_type", "sources.text",
]  # fmt: skip


def hotspot_query(closed_since: datetime | None) -> dict[str, Any]:
    """Open hotspot cases; with ``closed_since``, also those closed since then."""
    proactive = {"term": {"source_types": SourceType.PROACTIVE.value}}
    still_open = {"bool": {"must_not": [{"terms": {"state": DONE}}]}}
    if closed_since is None:
        return {"bool": {"filter": [proactive, still_open]}}
    recently_closed = {
        "bool": {
            "filter": [
                {"term": {"state": "closed"}},
                {"range": {"closed_at": {"gte": closed_since.isoformat()}}},
            ]
        }
    }
    either = {"bool": {"should": [still_open, recently_closed], "minimum_should_match": 1}}
    return {"bool": {"filter": [proactive, either]}}
