"""Publishing accepted reports to Kafka."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from prometheus_client import Counter

from cityops.contracts import ReportSubmitted, Topics
from cityops.kafka import BackgroundProducer, encode
from services.ingest.models import ReportCreate
from services.ingest.normalise import to_event

log = logging.getLogger(__name__)

ACCEPTED = Counter("cityops_reports_accepted_total", "Reports accepted by intake", ["source_type"])


class IngestService:
    def __init__(self, producer: BackgroundProducer, topics: Topics) -> None:
        self.producer = producer
        self.topics = topics

    async def submit(self, report: ReportCreate) -> ReportSubmitted:
        """Accept one report: it is on Kafka (acknowledged by all replicas) when this returns;
        raises :class:`DependencyUnavailable` when the broker cannot take it."""
        event = to_event(report, datetime.now(UTC))
        await self.producer.send_and_wait(
            self.topics.reports_submitted, encode(event), key=event.report_id.encode()
        )
        ACCEPTED.labels(event.source_type.value).inc()
        log.info(
            "report accepted",
            extra={"report_id": event.report_id, "source_type": event.source_type.value},
        )
        return event
