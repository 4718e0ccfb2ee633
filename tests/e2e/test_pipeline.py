"""One report travels the whole pipeline: API → Kafka → classifier → dispatch → indexer →
Elasticsearch → queue API, with every service in its own process."""

from __future__ import annotations

import asyncio
import base64
import random
import signal
from typing import Any

import httpx
import pytest
from elasticsearch import Elasticsearch

from cityctl.simulate import reports
from cityops import jurisdiction, taxonomy
from cityops.contracts import DeadLetter, Role
from cityops.kafka import decode, make_consumer, make_producer
from cityops.search import CaseIndex, make_client
from services.indexer.replay import replay
from tests.e2e.conftest import Stack
from tests.integration.conftest import eventually

pytestmark = pytest.mark.e2e


def distinct_and_repeated(n: int) -> tuple[list[dict[str, Any]], int]:
    stream = reports(
        taxonomy.load(), jurisdiction.load(), seed=11, repeat_share=0.0, worker_share=0.0
    )
    distinct = [next(stream) for _ in range(int(n * 0.85))]
    rng = random.Random(3)
    repeats = [rng.choice(distinct) for _ in range(n - len(distinct))]
    posts = distinct + repeats
    rng.shuffle(posts)
    return posts, len(distinct)


def snapshot(es: Elasticsearch, index: str) -> dict[str, Any]:
    es.indices.refresh(index=index)
    hits = es.search(index=index, query={"match_all": {}}, size=10_000)["hits"]["hits"]
    # indexed_at is when the document was written (the live feed's cursor): a replay writes
    # later by design; everything else must be the same
    return {h["_id"]: {k: v for k, v in h["_source"].items() if k != "indexed_at"} for h in hits}


async def all_cases(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        body = (await client.get("/api/v1/cases", params={"page": page, "size": 100})).json()
        items += body["items"]
        if page * 100 >= body["total"]:
            return items
        page += 1


async def test_200_reports_make_one_case_each(stack: Stack) -> None:
    posts, distinct = distinct_and_repeated(200)
    async with httpx.AsyncClient(
        base_url=stack.api_url, timeout=30, headers=stack.auth(Role.DISPATCHER)
    ) as client:
        ids = []
        for body in posts:
            response = await client.post("/api/v1/reports", json=body)
            assert response.status_code == 202, response.text
            ids.append(response.json()["report_id"])
        assert len(set(ids)) == distinct

        async def queue_complete() -> bool:
            body = (await client.get("/api/v1/cases", params={"size": 1})).json()
            return body["total"] >= distinct

        try:
            await eventually(queue_complete, timeout=180, interval=2)
        except AssertionError:
            pytest.fail(f"queue incomplete\n{stack.logs()}")
        await asyncio.sleep(3)  # let any duplicate that would wrongly appear, appear
        cases = await all_cases(client)
        assert len(cases) == distinct
        assert all(c["department"] and c["category"] for c in cases)

        sample = random.Random(5).sample(cases, 10)
        for case in sample:
            detail = (await client.get(f"/api/v1/cases/{case['case_id']}")).json()
            kinds = [t["kind"] for t in detail["timeline"]]
            assert kinds[0] == "opened" and len(kinds) in (1, 3), kinds
            assert detail["report_count"] == 1

        status = await client.get(f"/api/v1/reports/{ids[0]}")
        assert status.status_code == 200 and status.json()["case_id"].startswith("LG")

    # replay of cases.events yields an index identical to the live one
    es = make_client(stack.settings)
    try:
        live_alias = CaseIndex(stack.settings.index_prefix).alias
        rebuilt, count = replay(stack.settings, es, lambda m: None, swap=False)
        assert count == distinct
        assert snapshot(es, rebuilt) == snapshot(es, live_alias)
    finally:
        es.close()

    for name, proc in stack.processes.items():
        # uvicorn re-raises the SIGTERM it handled once shutdown is complete, hence -15.
        assert proc.stop() in (0, -signal.SIGTERM), f"{name} was killed\n{stack.logs()}"
        assert '"msg": "service stopped"' in proc.log_path.read_text(), f"{name}: no clean stop"


async def test_bad_records_reach_each_dead_letter_topic(stack: Stack) -> None:
    topics = stack.settings.topics
    producer = make_producer(stack.settings)
    await producer.start()
    bad = {
        topics.reports_submitted: b"{not json",
        topics.cases_classified: b'{"schema_version": 9}',
        topics.cases_commands: b'{"schema_version": 1, "case_id": "LG1"}',
        topics.cases_events: b"\xff\xfe",
    }
    try:
        for topic, value in bad.items():
            await producer.send_and_wait(topic, value, key=b"bad-key")
    finally:
        await producer.stop()

    expected = {
        "classifier": [topics.reports_submitted],
        "dispatch": [topics.cases_classified, topics.cases_commands],
        "indexer": [topics.cases_events],
    }
    for consumer_name, sources in expected.items():
        letters = await read_letters(stack, topics.dead_letter(consumer_name), len(sources))
        assert sorted(d.topic for d in letters) == sorted(sources), stack.logs()
        for letter in letters:
            assert base64.b64decode(letter.value_b64) == bad[letter.topic]
            assert letter.reason and letter.consumer == consumer_name

    # and the pipeline still works afterwards
    async with httpx.AsyncClient(
        base_url=stack.api_url, timeout=30, headers=stack.auth(Role.DISPATCHER)
    ) as client:
        body = next(reports(taxonomy.load(), jurisdiction.load(), seed=99, worker_share=0.0))
        report_id = (await client.post("/api/v1/reports", json=body)).json()["report_id"]

        async def indexed() -> bool:
            return (await client.get(f"/api/v1/reports/{report_id}")).status_code == 200

        await eventually(indexed, timeout=120, interval=1)


async def read_letters(stack: Stack, topic: str, n: int) -> list[DeadLetter]:
    consumer = make_consumer(stack.settings, f"reader-{topic}", [topic])
    await consumer.start()
    found: list[DeadLetter] = []
    try:

        async def enough() -> bool:
            batch = await consumer.getmany(timeout_ms=500)
            found.extend(decode(DeadLetter, r.value) for rs in batch.values() for r in rs)
            return len(found) >= n

        await eventually(enough, timeout=120, interval=0.1)
    finally:
        await consumer.stop()
    return found
