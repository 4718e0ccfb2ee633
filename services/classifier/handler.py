"""The classifier's consumer step: report in, classified source out."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from aiokafka import ConsumerRecord

from cityops.contracts import CaseClassified, CaseSource, ReportSubmitted, Topics
from cityops.jurisdiction import Jurisdictions
from cityops.kafka import Outbox, decode
from cityops.taxonomy import Taxonomy
from services.classifier.routing import Scorer, route

log = logging.getLogger(__name__)


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


class ClassifyReports:
    def __init__(
        self,
        topics: Topics,
        scorer: Scorer,
        taxonomy: Taxonomy,
        places: Jurisdictions,
        threshold: float,
    ) -> None:
        self.topics = topics
        self.scorer = scorer
        self.taxonomy = taxonomy
        self.places = places
        self.threshold = threshold

    async def __call__(self, record: ConsumerRecord, outbox: Outbox) -> None:
        report = decode(ReportSubmitted, record.value)
        source = source_of(report)
        result = route(source, self.scorer, self.taxonomy, self.places, self.threshold)
        out = CaseClassified(source=source, classification=result, classified_at=datetime.now(UTC))
        await outbox.send(self.topics.cases_classified, source.source_id, out)
        log.info(
            "report classified",
            extra={
                "report_id": report.report_id,
                "category": result.category,
                "department": result.department,
                "confidence": result.confidence,
                "abstained": result.abstained,
            },
        )
