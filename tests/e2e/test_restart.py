"""SIGKILL the dispatch worker while 1,000 reports stream through; restart it; every report
belongs to exactly one case and no transition is lost or applied twice."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter, defaultdict

import httpx
import pytest
from elasticsearch import Elasticsearch

from cityctl.processes import ServiceProcess
from cityctl.simulate import reports
from cityops import jurisdiction, taxonomy
from cityops.contracts import CaseEvent, Role
from cityops.search import CaseIndex, ReadModel, event_id, make_client
from services.indexer.replay import read_events
from tests.e2e.conftest import Stack
from tests.integration.conftest import eventually

pytestmark = pytest.mark.e2e

N = 1000


def all_docs(es: Elasticsearch, index: str) -> dict[str, dict]:
    es.indices.refresh(index=index)
    found = es.search(index=index, query={"match_all": {}}, size=10_000)
    return {h["_id"]: h["_source"] for h in found["hits"]["hits"]}


async def post_all(stack: Stack, bodies: list[dict], kill_at: int, on_kill) -> list[str]:  # type: ignore[no-untyped-def]
    ids: list[str] = []
    headers = stack.auth(Role.DISPATCHER)
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=30, headers=headers) as client:
        for i, body in enumerate(bodies):
            if i == kill_at:
                await on_kill()
            response = await client.post("/api/v1/reports", json=body)
            assert response.status_code == 202, response.text
            ids.append(response.json()["report_id"])
    return ids


async def test_sigkill_dispatch_mid_stream(stack: Stack) -> None:
    stream = reports(
        taxonomy.load(), jurisdiction.load(), seed=23, repeat_share=0.0, worker_share=0.0
    )
    bodies = [next(stream) for _ in range(N)]
    dispatch = stack.processes["dispatch"]

    async def kill_and_restart() -> None:
        dispatch.signal(signal.SIGKILL)
        assert dispatch.process is not None
        dispatch.process.wait()
        await asyncio.sleep(1)
        fresh = ServiceProcess("dispatch", dispatch.env, dispatch.log_path)
        fresh.start()
        stack.processes["dispatch"] = fresh

    ids = await post_all(stack, bodies, kill_at=N // 3, on_kill=kill_and_restart)
    assert len(set(ids)) == N
    es = make_client(stack.settings)
    alias = CaseIndex(stack.settings.index_prefix).alias

    async def all_placed() -> bool:
        docs = await asyncio.to_thread(all_docs, es, alias)
        return sum(d["report_count"] for d in docs.values() if d["state"] != "merged") >= N

    try:
        await eventually(all_placed, timeout=300, interval=3)
    except AssertionError:
        pytest.fail(f"not every report placed\n{stack.logs()}")
    await asyncio.sleep(3)
    docs = all_docs(es, alias)
    model = ReadModel(stack.settings.index_prefix)

    # every report belongs to exactly one case: one source document each, naming a live case
    owners = all_docs(es, model.sources.alias)
    assert set(owners) == set(ids)
    assert sum(d["report_count"] for d in docs.values() if d["state"] != "merged") == N

    # each case's timeline is 1..n with one "opened" and no source attached twice
    for doc in docs.values():
        want = [event_id(doc["case_id"], s) for s in range(1, doc["seq"] + 1)]
        found = es.mget(index=model.events.alias, ids=want)["docs"]
        timeline = [d["_source"] for d in found if d["found"]]
        assert [t["seq"] for t in timeline] == list(range(1, doc["seq"] + 1)), doc["case_id"]
        kinds = Counter(t["kind"] for t in timeline)
        assert kinds["opened"] == 1 and kinds["dispatched"] <= 1, timeline
    es.close()

    # the log: a re-emitted event (same id after the crash) is identical, never different
    events: dict[str, list[CaseEvent]] = defaultdict(list)
    for event in await asyncio.to_thread(lambda: list(read_events(stack.settings, lambda m: None))):
        events[event.event_id].append(event)
    for eid, copies in events.items():
        assert all(c == copies[0] for c in copies), f"{eid} applied differently twice"
