from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent

from services.api.auth.deps import Person
from services.api.live.feed import RESYNCS, CaseFeed
from services.api.live.mailbox import BYE, RESYNC, frame

router = APIRouter(prefix="/api/v1", tags=["live"])

PING_S = 15.0
RETRY_MS = 3000  # how long a client waits before it reconnects


@router.get(
    "/live/cases",
    response_class=EventSourceResponse,
    summary="案件实时推送（SSE）",
    description=(
        "连接后先收到 ready，此后每当有权查看的案件发生变化即收到 case（数据同案件列表的条目），"
        "每 15 秒一次 ping；收到 resync 时请重新加载案件列表。"
    ),
)
async def live_cases(principal: Person, request: Request) -> AsyncIterator[ServerSentEvent]:
    feed: CaseFeed = request.app.state.live
    subscriber = await feed.subscribe(principal)
    try:
        ready = frame("ready", ping_s=PING_S)
        yield ServerSentEvent(event=ready.event, raw_data=ready.data, retry=RETRY_MS)
        while True:
            for item in await subscriber.mailbox.wait(PING_S):
                yield ServerSentEvent(event=item.event, raw_data=item.data)
                if item is RESYNC:
                    RESYNCS.inc()
                if item is BYE:
                    return
    finally:
        feed.unsubscribe(subscriber)
