"""Scoring duplicate merging on a labelled scenario set: pairwise precision and recall.

A pair of reports in one scenario is a true merge when both describe the same incident;
the merger is right about the pair when it put them in the same case. Pure.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import combinations
from typing import Any

from cityops.contracts import Actor, CaseSource, Classification, GeoPoint, Role, SourceType
from cityops.jurisdiction import Jurisdictions
from cityops.taxonomy import Taxonomy
from services.dispatch.dedup import assign

T0 = datetime.fromisoformat("2026-11-30T08:00:00+08:00")


def to_items(
    scenario: dict[str, Any], taxonomy: Taxonomy, places: Jurisdictions
) -> list[tuple[CaseSource, Classification]]:
    items = []
    for r in sorted(scenario["reports"], key=lambda r: r["minutes"]):
        at = T0 + timedelta(minutes=r["minutes"])
        where = places.locate(r["lat"], r["lon"])
        leaf = taxonomy.leaf(r["category"])
        source = CaseSource(
            source_type=SourceType(r["source_type"]),
            source_id=r["id"],
            text=r["text"],
            location=GeoPoint(lat=r["lat"], lon=r["lon"]),
            asset_id=r.get("asset_id"),
            reporter=Actor(id=f"p-{r['id']}", role=Role.CITIZEN),
            occurred_at=at,
            received_at=at,
        )
        cl = Classification(
            category=leaf.code,
            category_name=leaf.name,
            department=leaf.department,
            dimension=leaf.dimension,
            priority=leaf.priority,
            town=where.town.code if where else None,
            grid=where.grid.code if where and where.grid else None,
            confidence=0.9,
            top=(),
            abstained=False,
            model_version="scenario",
        )
        items.append((source, cl))
    return items


def score(
    scenarios: list[dict[str, Any]], taxonomy: Taxonomy, places: Jurisdictions
) -> dict[str, Any]:
    tp = fp = fn = 0
    per_kind: dict[str, dict[str, int]] = {}
    for scenario in scenarios:
        owner = assign(to_items(scenario, taxonomy, places), taxonomy)
        truth = {r["id"]: r["incident"] for r in scenario["reports"]}
        counts = per_kind.setdefault(scenario["kind"], {"tp": 0, "fp": 0, "fn": 0})
        for a, b in combinations(sorted(truth), 2):
            same, merged = truth[a] == truth[b], owner[a] == owner[b]
            key = "tp" if same and merged else "fp" if merged else "fn" if same else None
            if key:
                counts[key] += 1
    for counts in per_kind.values():
        tp, fp, fn = tp + counts["tp"], fp + counts["fp"], fn + counts["fn"]
    return {
        "pairs": {"true_merges": tp, "wrong_merges": fp, "missed_merges": fn},
        "precision": round(tp / (tp + fp), 4) if tp + fp else None,
        "recall": round(tp / (tp + fn), 4) if tp + fn else None,
        "per_kind": per_kind,
    }
