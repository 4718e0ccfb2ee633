"""The indexer's batch step: case events and command outcomes in, one bulk request out.

The batch mixes ``cases.events`` and ``cases.outcomes`` records (one consumer group reads
both); each is decoded by its topic's contract and the whole batch is planned by
``services/indexer/batch.py``. Every write is idempotent (external versions, or create),
so a replayed or redelivered batch changes nothing: Elasticsearch answers 409, which is
success here. A write refused for good dead-letters the records it came from; a refusal
that may pass later (429, 5xx) retries the whole batch.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord
from elasticsearch import AsyncElasticsearch, ConnectionError, TransportError

from cityops.contracts import CaseEvent, CommandOutcome, Topics
from cityops.errors import DependencyUnavailable, InvalidMessage
from cityops.kafka import Outbox, Rejected, decode
from services.indexer.batch import Item, Targets, Write, operations, plan
from services.indexer.document import Doc

log = logging.getLogger(__name__)


class IndexReadModel:
    def __init__(self, es: AsyncElasticsearch, to: Targets, topics: Topics) -> None:
        self.es, self.to = es, to
        self.models: dict[str, type[CaseEvent] | type[CommandOutcome]] = {
            topics.cases_events: CaseEvent,
            topics.cases_outcomes: CommandOutcome,
        }

    async def __call__(self, records: Sequence[ConsumerRecord], outbox: Outbox) -> list[Rejected]:
        rejected: list[Rejected] = []
        kept: list[ConsumerRecord] = []
        items: list[Item] = []
        for record in records:
            try:
                items.append(self.decode(record))
                kept.append(record)
            except InvalidMessage as exc:
                rejected.append(Rejected(record, exc))
        if not items:
            return rejected
        failures = await self.write(items)
        for pos, reason in failures.items():
            rejected.append(Rejected(kept[pos], InvalidMessage(reason)))
        return rejected

    def decode(self, record: ConsumerRecord) -> Item:
        model = self.models.get(record.topic)
        if model is None:
            raise InvalidMessage(f"the indexer does not read topic {record.topic}")
        return decode(model, record.value)

    async def write(self, items: Sequence[Item]) -> dict[int, str]:
        """Plan and write; return the positions of the items Elasticsearch refused, with why.

        Raises :class:`DependencyUnavailable` when the batch should be retried."""
        try:
            case_ids = sorted({i.case_id for i in items if isinstance(i, CaseEvent)})
            writes = plan(items, await self.current(case_ids), self.to)
            if not writes:
                return {}
            stamp(writes, self.to.cases, datetime.now(UTC))
            response = await self.es.bulk(operations=operations(writes))
        except (ConnectionError, TransportError) as exc:
            raise DependencyUnavailable(f"elasticsearch: {exc}") from exc
        failures = refused(writes, response["items"])
        log.info(
            "read model written",
            extra={"case_ids": case_ids[:50], "writes": len(writes), "failed": len(failures)},
        )
        return failures

    async def current(self, case_ids: list[str]) -> dict[str, Doc]:
        if not case_ids:
            return {}
        response = await self.es.mget(index=self.to.cases, ids=case_ids)
        return {d["_id"]: d["_source"] for d in response["docs"] if d.get("found")}


def stamp(writes: Sequence[Write], cases: str, now: datetime) -> None:
    """Marks each case document with when it is written (``indexed_at``): the live feed
    reads changes by it, since a document is searchable only after it is written, and an
    event's own time (``updated_at``) can be older by as long as the indexer lagged."""
    for write in writes:
        if write.meta["_index"] == cases:
            write.doc["indexed_at"] = now.isoformat()


def refused(
    writes: Sequence[Write], answers: Sequence[dict[str, dict[str, Any]]]
) -> dict[int, str]:
    """Item positions whose write failed for good; raises when a failure may pass."""
    failures: dict[int, str] = {}
    for write, answer in zip(writes, answers, strict=True):
        info = next(iter(answer.values()))
        status = int(info.get("status", 200))
        if status < 300 or status == 409:  # 409: the index holds this version or a newer one
            continue
        if status == 429 or status >= 500:
            raise DependencyUnavailable(f"elasticsearch refused a write ({status}): retrying")
        reason = f"index {write.meta['_index']}/{write.meta['_id']}: {info.get('error')}"
        for pos in write.origins:
            failures.setdefault(pos, reason)
    return failures
