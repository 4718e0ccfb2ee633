"""Duplicate-merge quality on the labelled scenario set (tests/data/dedup_scenarios.json).

    .venv/bin/python bench/dedup_quality.py [--scenarios FILE]

Prints the size of the scenario set (scenarios per kind, reports), then pairwise precision
and recall of merging, overall and per scenario kind, and the same for a reference rule
measured in the same run: "merge anything of a related class within the radius and window"
(distance only, no text).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

from cityops import jurisdiction, taxonomy
from services.dispatch import dedup, merge_quality


def describe(scenarios: list[dict[str, Any]]) -> dict[str, Any]:
    """How many scenarios of each kind, and how many reports, the figures are over."""
    kinds = Counter(str(scenario["kind"]) for scenario in scenarios)
    return {
        "scenarios": len(scenarios),
        "reports": sum(len(scenario["reports"]) for scenario in scenarios),
        "per_kind": dict(kinds.most_common()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenarios", default="tests/data/dedup_scenarios.json")
    args = parser.parse_args()
    scenarios = json.loads(Path(args.scenarios).read_text(encoding="utf-8"))["scenarios"]
    tax, places = taxonomy.load(), jurisdiction.load()
    result: dict[str, Any] = {"scenario_set": describe(scenarios)}
    result["cityops"] = merge_quality.score(scenarios, tax, places)
    saved = dedup.SAME_CLASS_MIN_SIMILARITY, dedup.RELATED_CLASS_MIN_SIMILARITY
    dedup.SAME_CLASS_MIN_SIMILARITY = dedup.RELATED_CLASS_MIN_SIMILARITY = 0.0
    try:
        result["distance_only_reference"] = merge_quality.score(scenarios, tax, places)
    finally:
        dedup.SAME_CLASS_MIN_SIMILARITY, dedup.RELATED_CLASS_MIN_SIMILARITY = saved
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
