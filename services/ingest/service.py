"""Publishing accepted reports to Kafka."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from prometheus_client import Counter

from cityops.contracts import ReportSubmitted, Topics
from cityops.errors import DependencyUnavailable
from cityops.kafka import encode
from services.ingest.models import ReportCreate
from services.ingest.normalise import to_event

log = logging.getLogger(__name__)

ACCEPTED = Counter("cityops_reports_accepted_total", "Reports accepted by intake", ["source_type"])


class IngestService:
    def __init__(self, producer: AIOKafkaProducer, topics: Topics) -> None:
        self.producer = producer
        self.topics = topics

    async def submit(self, report: ReportCreate) -> ReportSubmitted:
        """Accept one report: it is on Kafka (acknowledged by all replicas) when this returns."""
        event = to_event(report, datetime.now(UTC))
        try:
            await self.producer.send_and_wait(
                self.topics.reports_submitted, encode(event), key=event.report_id.encode()
            )
        except KafkaError as exc:
            raise DependencyUnavailable(f"消息队列暂不可用: {exc}") from exc
        ACCEPTED.labels(event.source_type.value).inc()
        log.info(
            "report accepted",
            extra={"report_id": event.report_id, "source_type": event.source_type.value},
        )
        return event
