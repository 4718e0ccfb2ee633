"""The indexer's batch step: events in, case documents written with external versions.

Each document is written with ``version = seq`` and ``version_type = external``, so a
write older than what the index holds is refused by Elasticsearch itself: replays and
redeliveries cannot move a case backwards.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence

from aiokafka import ConsumerRecord
from elasticsearch import AsyncElasticsearch, ConnectionError, TransportError
from elasticsearch.helpers import async_bulk

from cityops.contracts import CaseEvent
from cityops.errors import DependencyUnavailable, InvalidMessage
from cityops.kafka import Outbox, Rejected, decode
from services.indexer.document import Doc, fold_all

log = logging.getLogger(__name__)


class IndexCaseEvents:
    def __init__(self, es: AsyncElasticsearch, index: str) -> None:
        self.es = es
        self.index = index

    async def __call__(self, records: Sequence[ConsumerRecord], outbox: Outbox) -> list[Rejected]:
        rejected: list[Rejected] = []
        by_case: dict[str, list[tuple[ConsumerRecord, CaseEvent]]] = defaultdict(list)
        for record in records:
            try:
                event = decode(CaseEvent, record.value)
            except InvalidMessage as exc:
                rejected.append(Rejected(record, exc))
                continue
            by_case[event.case_id].append((record, event))
        if not by_case:
            return rejected
        try:
            failures = await self.write(
                {cid: [e for _, e in items] for cid, items in by_case.items()}
            )
        except (ConnectionError, TransportError) as exc:
            raise DependencyUnavailable(f"elasticsearch: {exc}") from exc
        for case_id, reason in failures.items():
            for record, _ in by_case[case_id]:
                rejected.append(Rejected(record, InvalidMessage(f"index {case_id}: {reason}")))
        return rejected

    async def write(self, events: dict[str, list[CaseEvent]]) -> dict[str, str]:
        """Fold and write; return the cases Elasticsearch refused, with its reason."""
        current = await self.current(list(events))
        actions = []
        for case_id, case_events in events.items():
            before = current.get(case_id)
            doc = fold_all(before, case_events)
            if doc is None or (before is not None and doc["seq"] == before["seq"]):
                continue
            actions.append(
                {
                    "_op_type": "index",
                    "_index": self.index,
                    "_id": case_id,
                    "_version": doc["seq"],
                    "_version_type": "external",
                    "_source": doc,
                }
            )
        if not actions:
            return {}
        _, errors = await async_bulk(
            self.es, actions, raise_on_error=False, raise_on_exception=True
        )
        failures = {}
        for item in errors if isinstance(errors, list) else []:
            info = item.get("index", {})
            if info.get("status") == 409:
                continue  # the index already holds this version or a newer one
            failures[info.get("_id", "?")] = str(info.get("error"))
        log.info(
            "cases indexed",
            extra={"case_ids": [a["_id"] for a in actions][:50], "failed": len(failures)},
        )
        return failures

    async def current(self, case_ids: list[str]) -> dict[str, Doc]:
        response = await self.es.mget(index=self.index, ids=case_ids)
        return {d["_id"]: d["_source"] for d in response["docs"] if d.get("found")}
