"""The classifier's in-process rate: one model call per report against one per poll batch.

    .venv/bin/python bench/classifier_batch.py [--reports 2000] [--batch 500 100 20]

Both paths route the same reports with the shipped model and produce the same
classifications (checked): the reference is :func:`services.classifier.routing.route`
per report (what the service did before), then
:func:`services.classifier.handler.classify_batch` for each batch size. Decoding and
Kafka are left out: this is the model and routing step only. ``rate(...)`` is importable
(e.g. by a pipeline bench). Results: ``bench/results/classifier_batch.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from cityops import jurisdiction, taxonomy
from cityops.contracts import ReportSubmitted
from services.classifier.handler import Router, classify_batch, source_of
from services.classifier.model.predictor import Predictor
from services.classifier.routing import route

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
GOLDEN = ROOT / "tests" / "data" / "report_submitted.v1.json"


def reports(count: int) -> list[ReportSubmitted]:
    """``count`` reports: the golden report with the texts of the router's test split."""
    texts = []
    for path in sorted((ROOT / "data" / "router" / "test").glob("*.csv")):
        with path.open(encoding="utf-8") as handle:
            texts.extend(row["text"] for row in csv.DictReader(handle))
    base = json.loads(GOLDEN.read_text(encoding="utf-8"))
    return [
        ReportSubmitted.model_validate(
            {**base, "report_id": f"r{i}", "text": texts[i % len(texts)]}
        )
        for i in range(count)
    ]


def one_by_one(items: Sequence[ReportSubmitted], router: Router) -> list[object]:
    return [
        route(source_of(r), router.scorer, router.taxonomy, router.places, router.threshold)
        for r in items
    ]


def batched(size: int) -> Callable[[Sequence[ReportSubmitted], Router], list[object]]:
    def run(items: Sequence[ReportSubmitted], router: Router) -> list[object]:
        now = datetime.now(UTC)
        out: list[object] = []
        for start in range(0, len(items), size):
            out.extend(
                c.classification for c in classify_batch(items[start : start + size], router, now)
            )
        return out

    return run


def rate(
    run: Callable[[Sequence[ReportSubmitted], Router], list[object]],
    items: Sequence[ReportSubmitted],
    router: Router,
) -> tuple[float, list[object]]:
    """Reports per second of ``run`` over ``items`` (best of three), and its output."""
    best, out = 0.0, []
    for _ in range(3):
        started = time.perf_counter()
        out = run(items, router)
        best = max(best, len(items) / (time.perf_counter() - started))
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--batch", type=int, nargs="+", default=[500, 100, 20])
    args = parser.parse_args()
    tax = taxonomy.load()
    predictor = Predictor.load(None, tax)
    router = Router(predictor, tax, jurisdiction.load(), predictor.threshold)
    items = reports(args.reports)
    reference, expected = rate(one_by_one, items, router)
    result: dict[str, object] = {
        "model_version": predictor.version,
        "reports": len(items),
        "one_by_one_per_s": round(reference),
    }
    for size in args.batch:
        per_s, out = rate(batched(size), items, router)
        assert out == expected, f"batch {size} classified differently"
        result[f"batch_{size}_per_s"] = round(per_s)
        result[f"batch_{size}_speedup"] = round(per_s / reference, 2)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "classifier_batch.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
