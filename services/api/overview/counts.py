"""Open cases counted per unit grid and per class, for the overview's map and its worst
classes. Pure: the aggregation query, and reading its answer.

"Open" is what the dispatcher queue shows without a state filter: every state but the
terminal ones (``services/api/cases/query.py``). A class is worse than another when more of
its open cases are past their deadline (超期), then when more are open.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.api.cases.query import DONE

MAX_GRIDS = 2_000  # more than the jurisdictions hold, so no grid is cut off
MAX_CLASSES = 500  # more than the taxonomy holds
BREACHED = "breached"


@dataclass(frozen=True)
class ClassCount:
    category: str
    open: int
    breached: int


def open_counts_query() -> dict[str, Any]:
    """The query and aggregations of one search (``size`` 0)."""
    return {
        "query": {"bool": {"must_not": [{"terms": {"state": DONE}}]}},
        "aggs": {
            "grids": {"terms": {"field": "grid", "size": MAX_GRIDS}},
            "dimensions": {
                "terms": {"field": "dimension", "size": 10},
                "aggs": {
                    "classes": {
                        "terms": {"field": "category", "size": MAX_CLASSES},
                        "aggs": {BREACHED: {"filter": {"term": {"sla_state": BREACHED}}}},
                    }
                },
            },
        },
    }


def buckets(aggs: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    found: list[Mapping[str, Any]] = (aggs.get(name) or {}).get("buckets") or []
    return found


def by_grid(aggs: Mapping[str, Any]) -> dict[str, int]:
    return {str(b["key"]): int(b["doc_count"]) for b in buckets(aggs, "grids")}


def worst(classes: list[ClassCount], limit: int) -> list[ClassCount]:
    """The ``limit`` worst classes: most past deadline, then most open, then by code."""
    return sorted(classes, key=lambda c: (-c.breached, -c.open, c.category))[:limit]


def by_dimension(aggs: Mapping[str, Any]) -> dict[str, tuple[int, list[ClassCount]]]:
    """Each dimension's open cases and its classes (unsorted)."""
    found: dict[str, tuple[int, list[ClassCount]]] = {}
    for dim in buckets(aggs, "dimensions"):
        classes = [
            ClassCount(str(c["key"]), int(c["doc_count"]), int(c[BREACHED]["doc_count"]))
            for c in buckets(dim, "classes")
        ]
        found[str(dim["key"])] = (int(dim["doc_count"]), classes)
    return found
