"""Accepting reports: validate, record in the intake ledger, publish to Kafka."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from prometheus_client import Counter

from cityops.contracts import ReportSubmitted, Topics
from cityops.kafka import BackgroundProducer, encode
from services.ingest.ledger import IntakeLedger
from services.ingest.models import ReportCreate
from services.ingest.normalise import report_id_for, to_event

log = logging.getLogger(__name__)

ACCEPTED = Counter(
    "cityops_reports_accepted_total",
    "Reports accepted by intake (retries of an accepted report not counted again)",
    ["channel", "source_type"],
)
CHANNEL = "http"  # the only way in so far: POST /api/v1/reports


class IngestService:
    def __init__(self, producer: BackgroundProducer, topics: Topics, ledger: IntakeLedger) -> None:
        self.producer = producer
        self.topics = topics
        self.ledger = ledger

    async def submit(self, report: ReportCreate) -> ReportSubmitted:
        """Accept one report: it is on Kafka (acknowledged by all replicas) when this returns.

        Raises :class:`RejectedReport` for a report that breaks an intake rule,
        :class:`IdempotencyConflict` for a reused key with another body, and
        :class:`DependencyUnavailable` when the ledger or the broker cannot take it."""
        now = datetime.now(UTC)
        to_event(report, now)  # refuse a bad report before recording anything
        report_id = report_id_for(report.who().id, report.idempotency_key)
        claim = await self.ledger.claim(report_id, report, now)
        event = to_event(report, claim.received_at)  # a retry repeats the first record
        await self.producer.send_and_wait(
            self.topics.reports_submitted, encode(event), key=event.report_id.encode()
        )
        if claim.first:
            ACCEPTED.labels(CHANNEL, event.source_type.value).inc()
        log.info(
            "report accepted",
            extra={
                "report_id": event.report_id,
                "source_type": event.source_type.value,
                "retry": not claim.first,
            },
        )
        return event
