"""The intake ledger: which report ids were accepted, and with which body.

One document per report id (``<prefix>-intake``), created with ``op_type=create`` before
the report is produced, holding the fingerprint of the canonical body and the time it was
first received. Any API instance can then tell a retry (same key, same body: answered as
the first time) from a conflict (same key, different body: 409), without state of its own.

A crash between the create and the produce leaves a claim without a record on Kafka. The
client's retry with the same body finds the claim and produces again: producing a report
twice is harmless (its id is deterministic and every consumer downstream is idempotent),
so a retry always produces, with the first ``received_at``, making the copies identical.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from elasticsearch import AsyncElasticsearch, BadRequestError, ConflictError, NotFoundError
from elasticsearch import ConnectionError as EsConnectionError
from elasticsearch import ConnectionTimeout as EsTimeout

from cityops.errors import DependencyUnavailable
from cityops.search import INTAKE_MAPPINGS
from services.ingest.models import ReportCreate

UNAVAILABLE = "上报登记服务暂不可用"


class IdempotencyConflict(ValueError):
    """The idempotency key was used before, by the same reporter, with another body."""


@dataclass(frozen=True)
class Claim:
    report_id: str
    received_at: datetime  # when the report was first received
    first: bool  # False: a retry of a report accepted before


def fingerprint(report: ReportCreate) -> str:
    """The same report, however its JSON is spelled, gives the same fingerprint."""
    canonical = json.dumps(
        report.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class IntakeLedger:
    def __init__(self, es: AsyncElasticsearch, index: str) -> None:
        self.es, self.index = es, index
        self.ready = False  # the index is known to exist (``cityops init`` makes it too)

    async def claim(self, report_id: str, report: ReportCreate, now: datetime) -> Claim:
        """Record the report, or find it recorded; raises :class:`IdempotencyConflict`."""
        mark = fingerprint(report)
        doc = {
            "report_id": report_id,
            "reporter_id": report.who().id,
            "idempotency_key": report.idempotency_key,
            "fingerprint": mark,
            "received_at": now.isoformat(),
            "text": report.text[:120],
        }
        try:
            await self._ensure_index()
            await self.es.create(index=self.index, id=report_id, document=doc)
            return Claim(report_id, now, first=True)
        except ConflictError:
            held = await self._held(report_id)
        except (EsConnectionError, EsTimeout) as exc:  # a timeout is no ConnectionError
            raise DependencyUnavailable(UNAVAILABLE) from exc
        if held["fingerprint"] != mark:
            raise IdempotencyConflict(
                f"幂等键 {report.idempotency_key} 已用于内容不同的另一条上报；"
                "重试请提交完全相同的内容，新的上报请使用新的幂等键"
            )
        return Claim(report_id, datetime.fromisoformat(held["received_at"]), first=False)

    async def _ensure_index(self) -> None:
        if self.ready:
            return
        if not await self.es.indices.exists(index=self.index):
            try:
                await self.es.indices.create(
                    index=self.index, settings={"number_of_shards": 1}, mappings=INTAKE_MAPPINGS
                )
            except BadRequestError as exc:  # another instance made it meanwhile
                if exc.error != "resource_already_exists_exception":
                    raise
        self.ready = True

    async def _held(self, report_id: str) -> dict[str, Any]:
        try:
            found = await self.es.get(index=self.index, id=report_id)
        except (NotFoundError, EsConnectionError) as exc:
            raise DependencyUnavailable(UNAVAILABLE) from exc
        source: dict[str, Any] = found["_source"]
        return source
