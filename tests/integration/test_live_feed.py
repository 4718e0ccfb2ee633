"""The live feed against a real Elasticsearch (the stand-in): the one poller reads the case
index the indexer writes, and each subscriber receives the changes it may see."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import uvicorn

from cityops import jurisdiction, standins, taxonomy
from cityops.contracts import Role
from cityops.search import ReadModel, make_async_client
from cityops.settings import CommonSettings
from services.api.auth.principal import Principal
from services.api.cases.service import CaseService
from services.api.live.audience import Subscriber
from services.api.live.feed import CaseFeed
from services.api.main import create_app
from services.api.settings import ApiSettings
from tests.conftest import Infra
from tests.indexer.builders import event, opened
from tests.integration.conftest import eventually, index_items

pytestmark = pytest.mark.integration
OLD, NEW = "LGOLDAAAAAAAAA", "LGNEWAAAAAAAAA"
WATER = Principal("u-water", Role.DEPARTMENT, department="water", town="nanhui_xincheng")
PARKS = Principal("u-parks", Role.DEPARTMENT, department="parks", town="nanhui_xincheng")


@pytest.fixture
async def cases(settings: CommonSettings) -> AsyncIterator[CaseService]:
    es = make_async_client(settings)
    yield CaseService(es, ReadModel(settings.index_prefix), taxonomy.load(), jurisdiction.load())
    await es.close()


def seen(subscriber: Subscriber) -> list[tuple[str, str, str]]:
    frames = subscriber.mailbox.drain()
    return [
        (f.event, json.loads(f.data).get("case_id"), json.loads(f.data).get("state_label"))
        for f in frames
    ]


async def test_subscribers_receive_the_changes_after_they_joined(
    settings: CommonSettings, cases: CaseService
) -> None:
    await index_items(settings, [opened(OLD, "r-old")])
    feed = CaseFeed(lambda: cases, poll_s=0.1)
    everyone = await feed.subscribe(Principal("u-disp", Role.DISPATCHER))
    water, parks = await feed.subscribe(WATER), await feed.subscribe(PARKS)
    assert feed.task is not None and len(feed.subscribers) == 3  # one poller for all

    await index_items(settings, [opened(NEW, "r-new", minutes=5)])
    got: list[tuple[str, str, str]] = []

    async def arrived() -> bool:
        got.extend(seen(everyone))
        return any(case_id == NEW for _, case_id, _ in got)

    await eventually(arrived, timeout=20, interval=0.1)
    assert [case_id for _, case_id, _ in got] == [NEW]  # the case already there is not news
    assert [c for _, c, _ in seen(water)] == [NEW] and seen(parks) == []

    await index_items(settings, [event(NEW, 2, "registered", "dispatched", 6)])
    later: list[tuple[str, str, str]] = []

    async def registered() -> bool:
        later.extend(seen(water))
        return bool(later)

    await eventually(registered, timeout=20, interval=0.1)
    assert later == [("case", NEW, later[0][2])] and later[0][2] != got[0][2]

    for subscriber in (everyone, water, parks):
        feed.unsubscribe(subscriber)
    assert feed.task is None  # the last one out stops the poller


class Server:
    """The whole API on a free port (an SSE stream needs a real socket to stay open)."""

    def __init__(self, settings: ApiSettings) -> None:
        config = uvicorn.Config(create_app(settings), port=settings.api_port, log_config=None)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{settings.api_port}"

    def __enter__(self) -> Server:
        self.thread.start()
        for _ in range(200):
            if self.server.started:
                return self
            self.thread.join(0.05)
        raise AssertionError("the API did not start")

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)


@pytest.fixture
def api(infra: Infra, prefix: str) -> Iterator[tuple[str, ApiSettings]]:
    extra = {"api_port": standins.free_port(), "admin_token": "live-test-token"}
    settings = ApiSettings(**infra.settings(prefix, **extra))  # type: ignore[arg-type]
    with Server(settings) as server:
        yield server.url, settings


async def test_the_stream_over_http(api: tuple[str, ApiSettings]) -> None:
    url, settings = api
    headers = {"X-Admin-Token": "live-test-token", "Accept": "text/event-stream"}
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        assert (await client.get("/api/v1/live/cases")).status_code == 401
        async with client.stream("GET", "/api/v1/live/cases", headers=headers) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.aiter_lines()
            ready = [await anext(lines) for _ in range(3)]
            assert ready[0] == "event: ready" and "retry: 3000" in ready
            await index_items(settings, [opened(NEW, "r-http")])
            frame = await asyncio.wait_for(next_frame(lines, "case"), timeout=20)
    assert frame["case_id"] == NEW and frame["state"] == "pending"


async def next_frame(lines: AsyncIterator[str], kind: str) -> dict[str, object]:
    event = None
    async for line in lines:
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: ") and event == kind:
            found: dict[str, object] = json.loads(line.removeprefix("data: "))
            return found
    raise AssertionError("the stream ended")


async def test_closing_the_feed_ends_every_stream(
    settings: CommonSettings, cases: CaseService
) -> None:
    feed = CaseFeed(lambda: cases, poll_s=0.1)  # no case index yet: it waits for one
    subscriber = await feed.subscribe(Principal("u-disp", Role.DISPATCHER))
    await feed.close()
    assert [f.event for f in subscriber.mailbox.drain()] == ["bye"]
    assert feed.task is None and not feed.subscribers
