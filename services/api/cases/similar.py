"""Duplicate candidates for one case: open cases nearby, in its grid, or alike in text.

One bounded search: open cases (not this one) within ``RADIUS_M`` or in the same unit grid,
scored by the same class and by the likeness of their text; the caller's own scope applies.
"""

from __future__ import annotations

import math
from typing import Any

from cityops.contracts.states import label
from services.api.cases.models import SimilarCase
from services.api.cases.query import DONE

RADIUS_M = 500
SIZE = 5
EARTH_M = 6_371_000


def similar_query(doc: dict[str, Any], scope: list[dict[str, Any]]) -> dict[str, Any]:
    near: list[dict[str, Any]] = []
    location = doc.get("location")
    if location:
        near.append({"geo_distance": {"distance": f"{RADIUS_M}m", "location": location}})
    if doc.get("grid"):
        near.append({"term": {"grid": doc["grid"]}})
    alike: list[dict[str, Any]] = []
    if doc.get("category"):
        alike.append({"term": {"category": {"value": doc["category"], "boost": 2.0}}})
    if doc.get("text"):
        alike.append({"match": {"text": {"query": str(doc["text"])[:500]}}})
    filters = [*scope]
    if near:
        filters.append({"bool": {"should": near, "minimum_should_match": 1}})
    return {
        "bool": {
            "filter": filters,
            "must_not": [{"ids": {"values": [doc["case_id"]]}}, {"terms": {"state": DONE}}],
            "should": alike,
            # without a place, only text or class can make two cases alike
            "minimum_should_match": 0 if near else 1,
        }
    }


def distance_m(a: dict[str, float] | None, b: dict[str, float] | None) -> float | None:
    if not a or not b:
        return None
    lat1, lat2 = math.radians(a["lat"]), math.radians(b["lat"])
    dlat, dlon = lat2 - lat1, math.radians(b["lon"] - a["lon"])
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return round(2 * EARTH_M * math.asin(math.sqrt(h)), 1)


def candidate(doc: dict[str, Any], hit: dict[str, Any], best: float) -> SimilarCase:
    other = hit["_source"]
    return SimilarCase(
        case_id=other["case_id"],
        state=other["state"],
        state_label=label(other["state"]),
        category=other.get("category"),
        category_name=other.get("category_name"),
        text=other.get("text"),
        grid=other.get("grid"),
        distance_m=distance_m(doc.get("location"), other.get("location")),
        score=round(float(hit.get("_score") or 0.0) / best, 3) if best > 0 else 0.0,
        created_at=other["created_at"],
    )
