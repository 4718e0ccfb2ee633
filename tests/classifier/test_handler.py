"""The classifier's batch handler: one scorer call per batch, rejects only the invalid."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import ConsumerRecord

from cityops import jurisdiction, taxonomy
from cityops.contracts import CaseClassified, ReportSubmitted, Topics
from cityops.errors import UnsupportedSchema
from cityops.kafka import Outbox
from services.classifier.handler import ClassifyReports, Router, classify_batch, source_of
from services.classifier.routing import KeywordScorer, Ranked, route

TAX = taxonomy.load()
PLACES = jurisdiction.load()
NOW = datetime(2026, 11, 28, tzinfo=UTC)
GOLDEN = json.loads(
    (Path(__file__).parent.parent / "data" / "report_submitted.v1.json").read_text("utf-8")
)


class CountingScorer(KeywordScorer):
    """The keyword scorer, counting how often it is asked."""

    def __init__(self) -> None:
        super().__init__(TAX)
        self.calls: list[int] = []

    def rank_many(self, texts: Sequence[str]) -> list[Ranked]:
        self.calls.append(len(texts))
        return super().rank_many(texts)


def report(i: int, text: str | None = None) -> ReportSubmitted:
    leaf = TAX.leaves[i % len(TAX.leaves)]
    words = "、".join(leaf.keywords[:2]) or leaf.name
    return ReportSubmitted.model_validate(
        {**GOLDEN, "report_id": f"r{i}", "text": text or f"路口{words}，请尽快处理"}
    )


def record(offset: int, value: bytes | None) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic="reports.submitted",
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=f"k{offset}".encode(),
        value=value,
        checksum=None,
        serialized_key_size=3,
        serialized_value_size=len(value or b""),
        headers=(),
    )


class RecordingProducer:
    """Stands in for the producer an Outbox sends through (no broker in a unit test)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes]] = []

    async def send(self, topic: str, value: bytes, key: bytes) -> asyncio.Future[None]:
        self.sent.append((topic, key, value))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


def test_a_batch_is_scored_with_one_call_and_routes_as_one_by_one() -> None:
    scorer = CountingScorer()
    router = Router(scorer, TAX, PLACES, 0.3)
    reports = [report(i) for i in range(40)]
    out = classify_batch(reports, router, NOW)
    assert scorer.calls == [40]
    one_by_one = [route(source_of(r), KeywordScorer(TAX), TAX, PLACES, 0.3) for r in reports]
    assert [c.classification for c in out] == one_by_one
    assert [c.source.source_id for c in out] == [r.report_id for r in reports]
    assert all(c.classified_at == NOW for c in out)


def test_an_empty_batch_needs_no_model() -> None:
    scorer = CountingScorer()
    assert classify_batch([], Router(scorer, TAX, PLACES, 0.3), NOW) == []


async def test_handler_rejects_only_the_invalid_records_and_sends_the_rest_in_order() -> None:
    topics = Topics("")
    good = [report(i) for i in range(5)]
    unsupported = json.dumps({**GOLDEN, "schema_version": 99}).encode()
    values = [
        good[0].model_dump_json().encode(),
        b"not json",
        good[1].model_dump_json().encode(),
        unsupported,
        *(r.model_dump_json().encode() for r in good[2:]),
        None,
    ]
    records = [record(i, v) for i, v in enumerate(values)]
    scorer = CountingScorer()
    producer = RecordingProducer()
    handler = ClassifyReports(topics, Router(scorer, TAX, PLACES, 0.3))
    rejected = await handler(records, Outbox(producer))  # type: ignore[arg-type]  # records sends
    assert [r.record.offset for r in rejected] == [1, 3, 7]
    assert isinstance(rejected[1].error, UnsupportedSchema)
    assert scorer.calls == [5]
    assert [(t, k) for t, k, _ in producer.sent] == [
        (topics.cases_classified, r.report_id.encode()) for r in good
    ]
    sent = [CaseClassified.model_validate_json(v) for _, _, v in producer.sent]
    assert [c.source.text for c in sent] == [r.text for r in good]
