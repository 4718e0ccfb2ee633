"""The breach webhook, against a real HTTP server on loopback."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from aiohttp import web

from cityops.contracts import SYSTEM_ACTOR, CaseEvent, EventKind
from cityops.standins import free_port
from services.dispatch.notifier import Notifier


def breach() -> CaseEvent:
    return CaseEvent(
        event_id="LGX:5",
        case_id="LGX",
        seq=5,
        kind=EventKind.SLA_BREACHED,
        at=datetime(2026, 11, 30, 2, tzinfo=UTC),
        actor=SYSTEM_ACTOR,
        state="in_progress",
        data={
            "stage": "dispose",
            "deadline": "2026-11-30T10:00:00+08:00",
            "priority": "urgent",
            "department": "water",
        },
    )


async def test_breach_is_posted_to_the_supervisor_webhook() -> None:
    received: list[dict] = []  # type: ignore[type-arg]
    got = asyncio.Event()
    attempts = 0

    async def hook(request: web.Request) -> web.Response:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            return web.Response(status=503)  # the first try fails; the notifier retries
        received.append(await request.json())
        got.set()
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        Notifier(f"http://127.0.0.1:{port}/hook").breach(breach())
        await asyncio.wait_for(got.wait(), timeout=30)
    finally:
        await runner.cleanup()
    assert attempts == 2  # the 503, then the retry that was accepted
    assert received == [
        {
            "type": "sla_breached",
            "case_id": "LGX",
            "at": "2026-11-30T02:00:00+00:00",
            "stage": "dispose",
            "deadline": "2026-11-30T10:00:00+08:00",
            "priority": "urgent",
            "department": "water",
        }
    ]


async def test_no_webhook_configured_schedules_nothing() -> None:
    before = asyncio.all_tasks()
    Notifier(None).breach(breach())
    Notifier("").breach(breach())
    assert asyncio.all_tasks() == before  # no post was started, so none can fail later
