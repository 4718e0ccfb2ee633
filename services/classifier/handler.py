"""The classifier's consumer step: a poll batch of reports in, classified sources out.

The whole batch is scored with one model call (:func:`classify_batch`): the model answers
a batch several times faster than the same texts one by one (bench/classifier_batch.py).
Only the records that do not decode are rejected (dead-lettered by the loop); the rest of
the batch goes on.

Metrics: the latency of a report is its batch's model and routing time divided by the
batch size (the reports of a batch are scored together); confidence and the decision
(``auto``: routed at or above the threshold; ``abstain``: left for a dispatcher) per report.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import ConsumerRecord
from prometheus_client import Counter, Histogram

from cityops.contracts import CaseClassified, CaseSource, ReportSubmitted, Topics
from cityops.jurisdiction import Jurisdictions
from cityops.kafka import Outbox, Rejected, decode_batch
from cityops.taxonomy import Taxonomy
from services.classifier.routing import Scorer, route_ranked

log = logging.getLogger(__name__)

LATENCY = Histogram(
    "cityops_classifier_latency_seconds",
    "Model and routing time per report (its batch's time / the batch size)",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
CONFIDENCE = Histogram(
    "cityops_classifier_confidence",
    "The router's confidence in the class it chose",
    buckets=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
)
DECISIONS = Counter(
    "cityops_classifier_decisions_total",
    "Reports routed automatically (auto) or left for a dispatcher (abstain)",
    ["outcome"],
)
for _outcome in ("auto", "abstain"):
    DECISIONS.labels(_outcome)  # both series exist from the start: rates need no gap


def source_of(report: ReportSubmitted) -> CaseSource:
    return CaseSource(
        source_type=report.source_type,
        source_id=report.report_id,
        text=report.text,
        location=report.location,
        address=report.address,
        category_hint=report.category_hint,
        photos=report.photos,
        reporter=report.reporter,
        occurred_at=report.occurred_at,
        received_at=report.received_at,
    )


@dataclass(frozen=True)
class Router:
    """What routing a report needs: the scorer, the taxonomy, the map, the threshold."""

    scorer: Scorer
    taxonomy: Taxonomy
    places: Jurisdictions
    threshold: float


def classify_batch(
    reports: Sequence[ReportSubmitted], router: Router, now: datetime
) -> list[CaseClassified]:
    """Classify ``reports`` in order, with one call to the scorer. Pure but for the model."""
    sources = [source_of(report) for report in reports]
    ranked = router.scorer.rank_many([source.text for source in sources])
    version = router.scorer.version
    return [
        CaseClassified(
            source=source,
            classification=route_ranked(
                source, r, version, router.taxonomy, router.places, router.threshold
            ),
            classified_at=now,
        )
        for source, r in zip(sources, ranked, strict=True)
    ]


def observe(classified: Sequence[CaseClassified], elapsed_s: float) -> None:
    for out in classified:
        LATENCY.observe(elapsed_s / len(classified))
        CONFIDENCE.observe(out.classification.confidence)
        DECISIONS.labels("abstain" if out.classification.abstained else "auto").inc()


class ClassifyReports:
    """The classifier's batch handler (a :data:`cityops.kafka.BatchHandler`)."""

    def __init__(self, topics: Topics, router: Router) -> None:
        self.topics = topics
        self.router = router

    async def __call__(self, records: Sequence[ConsumerRecord], outbox: Outbox) -> list[Rejected]:
        reports, rejected = decode_batch(ReportSubmitted, records)
        started = time.perf_counter()
        classified = classify_batch(reports, self.router, datetime.now(UTC))
        observe(classified, time.perf_counter() - started)
        for out in classified:
            await outbox.send(self.topics.cases_classified, out.source.source_id, out)
            result = out.classification
            log.info(
                "report classified",
                extra={
                    "report_id": out.source.source_id,
                    "category": result.category,
                    "department": result.department,
                    "confidence": result.confidence,
                    "abstained": result.abstained,
                },
            )
        return rejected
