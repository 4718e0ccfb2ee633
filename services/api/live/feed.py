"""The one change feed of an API process: polls the case index, fans changes out.

However many screens follow the feed, one task reads the index: it starts with the first
subscriber, polls every ``poll_s`` while anyone is subscribed, and stops with the last.
A new subscriber gets ``ready`` once the feed knows where the index ends; every change
after that reaches it as a ``case`` frame, if its principal may see the case.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from elasticsearch import ApiError, AsyncElasticsearch, NotFoundError, TransportError
from prometheus_client import Counter, Gauge
from pydantic import ValidationError

from cityops.errors import DependencyUnavailable
from cityops.search import ReadModel
from services.api.auth.principal import Principal
from services.api.cases.models import CaseSummary
from services.api.live.audience import Subscriber, fan_out
from services.api.live.cursor import MAX_PAGES, PAGE, ChangeCursor, sort_after
from services.api.live.mailbox import Frame

log = logging.getLogger(__name__)

SUBSCRIBERS = Gauge("cityops_live_subscribers", "Streams following the live case feed")
CHANGES = Counter("cityops_live_changes_total", "Changed case documents the live feed read")
RESYNCS = Counter("cityops_live_resyncs_total", "Streams told to resync after falling behind")
UNREADABLE = Counter("cityops_live_poll_failures_total", "Live feed polls Elasticsearch refused")

POLL_S = 0.75
RETRY_S = 5.0  # after Elasticsearch failed to answer


class CaseSource(Protocol):
    """The part of ``CaseService`` the feed reads."""

    es: AsyncElasticsearch
    model: ReadModel

    def summary(self, doc: dict[str, Any]) -> CaseSummary: ...

    async def own_cases(self, principal: Principal) -> frozenset[str]: ...


class CaseFeed:
    def __init__(
        self,
        source: Callable[[], CaseSource],
        poll_s: float = POLL_S,
        cursor: Callable[[], ChangeCursor] = ChangeCursor,
    ) -> None:
        # the case service is made when the app starts, after the routes: read it late
        self.source, self.poll_s, self.new_cursor = source, poll_s, cursor
        self.subscribers: set[Subscriber] = set()
        self.primed = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def subscribe(self, principal: Principal) -> Subscriber:
        """Adds a subscriber; returns once the feed is reading (then send ``ready``)."""
        subscriber = Subscriber(principal)
        await self._refresh_own_cases([subscriber])
        self.subscribers.add(subscriber)
        SUBSCRIBERS.set(len(self.subscribers))
        if self.task is None or self.task.done():
            self.primed = asyncio.Event()
            self.task = asyncio.create_task(self._run(), name="live-case-feed")
        await self.primed.wait()
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)
        SUBSCRIBERS.set(len(self.subscribers))
        if not self.subscribers and self.task is not None:
            self.task.cancel()  # the next subscriber starts a fresh one
            self.task = None

    async def close(self) -> None:
        """Ends every stream (each gets ``bye``) and stops polling."""
        self._end_streams()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None

    async def _run(self) -> None:
        cursor = self.new_cursor()
        try:
            await self._until_read(self._prime, cursor)
            self.primed.set()
            log.info("live feed started", extra={"subscribers": len(self.subscribers)})
            while self.subscribers:
                await asyncio.sleep(self.poll_s)
                await self._refresh_own_cases(self.subscribers)
                await self._until_read(self.poll, cursor)
        except asyncio.CancelledError:
            log.info("live feed stopped")
            raise
        except Exception:  # the task's boundary: streams end and clients reconnect
            log.exception("live feed failed")
            self._end_streams()
            self.primed.set()

    def _end_streams(self) -> None:
        for subscriber in self.subscribers:
            subscriber.mailbox.close()
        self.subscribers.clear()
        SUBSCRIBERS.set(0)

    async def _until_read(
        self, read: Callable[[ChangeCursor], Awaitable[object]], cursor: ChangeCursor
    ) -> None:
        """``read(cursor)``, retried while Elasticsearch does not answer."""
        while True:
            try:
                await read(cursor)
                return
            except (TransportError, ApiError) as exc:
                UNREADABLE.inc()
                log.warning("live feed: case index unreadable", extra={"error": str(exc)})
                await asyncio.sleep(RETRY_S)

    async def _prime(self, cursor: ChangeCursor) -> None:
        """Finds the end of the index; what is there already is sent to nobody."""
        source = self.source()
        try:
            found = await source.es.search(
                index=source.model.cases.alias, **ChangeCursor.latest_search()
            )
            cursor.start_at(found["hits"]["hits"])
        except NotFoundError:
            pass  # no case index yet: every case will be new
        while not cursor.caught_up:
            await self.poll(cursor, fan=False)

    async def poll(self, cursor: ChangeCursor, fan: bool = True) -> int:
        """Reads the changes since the last poll; returns how many documents changed."""
        source = self.source()
        after: list[Any] | None = None
        changed = 0
        for _ in range(MAX_PAGES):
            hits = await self._page(source, cursor, after)
            docs = cursor.take(hits)
            changed += len(docs)
            CHANGES.inc(len(docs) if fan else 0)
            if fan and docs:
                fan_out(docs, self.subscribers, lambda doc: render(source, doc))
            after = sort_after(hits)
            if len(hits) < PAGE:
                cursor.settle(complete=True)
                return changed
        cursor.settle(complete=False)
        return changed

    async def _page(
        self, source: CaseSource, cursor: ChangeCursor, after: list[Any] | None
    ) -> list[dict[str, Any]]:
        try:
            found = await source.es.search(index=source.model.cases.alias, **cursor.search(after))
        except NotFoundError:
            return []  # no case index yet
        hits: list[dict[str, Any]] = found["hits"]["hits"]
        return hits

    async def _refresh_own_cases(self, subscribers: set[Subscriber] | list[Subscriber]) -> None:
        now = asyncio.get_running_loop().time()
        for subscriber in list(subscribers):
            if not subscriber.own_cases_due(now):
                continue
            try:
                subscriber.own_cases = await self.source().own_cases(subscriber.principal)
            except (TransportError, ApiError, DependencyUnavailable) as exc:  # keep the last set
                log.warning("live feed: own cases unreadable", extra={"error": str(exc)})
            subscriber.own_cases_at = now


def render(source: CaseSource, doc: dict[str, Any]) -> Frame | None:
    try:
        return Frame("case", source.summary(doc).model_dump_json())
    except ValidationError as exc:  # one bad document must not stop the feed
        log.warning(
            "live feed: not a case summary",
            extra={"case_id": doc.get("case_id"), "error": str(exc)},
        )
        return None
