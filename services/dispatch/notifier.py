"""Telling a supervisor about a breach through a configurable webhook. Best effort: a
webhook that is down is logged and retried, never allowed to stop the workflow."""

from __future__ import annotations

import asyncio
import logging

import httpx

from cityops.contracts import CaseEvent

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self, url: str | None, attempts: int = 3) -> None:
        self.url, self.attempts = url, attempts
        self._tasks: set[asyncio.Task[None]] = set()

    def breach(self, event: CaseEvent) -> None:
        if not self.url:
            return
        task = asyncio.ensure_future(self._post(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post(self, event: CaseEvent) -> None:
        payload = {
            "type": "sla_breached",
            "case_id": event.case_id,
            "at": event.at.isoformat(),
            **{k: event.data.get(k) for k in ("stage", "deadline", "priority", "department")},
        }
        async with httpx.AsyncClient(timeout=5) as client:
            for attempt in range(1, self.attempts + 1):
                try:
                    response = await client.post(str(self.url), json=payload)
                    response.raise_for_status()
                    log.info("supervisor notified", extra={"case_id": event.case_id})
                    return
                except httpx.HTTPError as exc:
                    log.warning(
                        "webhook failed",
                        extra={"case_id": event.case_id, "attempt": attempt, "error": str(exc)},
                    )
                    await asyncio.sleep(2**attempt)
