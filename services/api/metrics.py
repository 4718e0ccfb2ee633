"""The API's own Prometheus figures: HTTP requests by route template, and consumer lag.

:class:`RequestMetrics` is a pure ASGI middleware (no body buffering). Its labels are
bounded: ``route`` is the route *template* (``/api/v1/cases/{case_id}``), never the path
a client sent; paths no route matches share ``other``; unknown methods share ``other``.

:func:`export_lag` runs in the API process and publishes :mod:`cityops.lag`'s reading
every ``lag_scrape_s`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable, MutableMapping
from typing import Any

from aiokafka.errors import KafkaError
from kafka.errors import KafkaError as KafkaPythonError
from prometheus_client import Counter, Gauge, Histogram
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cityops.lag import LagReader, LagReading, service_groups
from cityops.settings import CommonSettings

log = logging.getLogger(__name__)

OTHER = "other"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = Counter(
    "cityops_http_requests_total", "HTTP requests answered", ["route", "method", "status"]
)
DURATION = Histogram(
    "cityops_http_request_duration_seconds",
    "Time to answer an HTTP request (to the end of the response body)",
    ["route", "method"],
)
LAG = Gauge(
    "cityops_consumer_lag_records",
    "Records not yet committed by a consumer group: true end offset - committed offset",
    ["group", "topic", "partition"],
)
LAG_ERRORS = Counter(
    "cityops_consumer_lag_scrape_errors_total",
    "Lag scrapes that failed or left a partition out (its end offset unknown)",
)


def route_label(scope: MutableMapping[str, Any], routes: Iterable[BaseRoute]) -> str:
    """The template of the route that answered ``scope`` (the router leaves it in
    ``scope["route"]``, also for a 405), else of the first route whose path matches (a
    request refused before routing, such as a 413), else ``other``."""
    route = scope.get("route")
    if route is None:
        route = next((r for r in routes if r.matches(scope)[0] is not Match.NONE), None)
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else OTHER


def method_label(method: str) -> str:
    return method if method in METHODS else OTHER


class RequestMetrics:
    """Counts each HTTP request by (route, method, status) and times it by (route, method).
    An exception that escapes the app counts as a 500 and goes on up."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = route_label(scope, scope["app"].routes if "app" in scope else [])
            method = method_label(scope["method"])
            REQUESTS.labels(route, method, str(status)).inc()
            DURATION.labels(route, method).observe(time.perf_counter() - started)


def publish(reading: LagReading) -> None:
    """Replace the lag series by ``reading``'s: a partition no longer read leaves none."""
    LAG.clear()
    for p in reading.lags:
        LAG.labels(p.group, p.topic, str(p.partition)).set(p.lag)
    if reading.unknown:
        LAG_ERRORS.inc()
        log.warning("lag: end offsets unknown", extra={"partitions": len(reading.unknown)})


async def export_lag(settings: CommonSettings, interval_s: float) -> None:
    """Publish consumer lag every ``interval_s`` until cancelled; a broker that does not
    answer counts a scrape error and is asked again at the next interval."""
    reader: LagReader | None = None
    try:
        while True:
            try:
                if reader is None:
                    reader = LagReader(settings, service_groups(settings.topic_prefix))
                    await reader.start()
                publish(await reader.read())
            except (KafkaError, KafkaPythonError, OSError, TimeoutError) as exc:
                LAG_ERRORS.inc()
                log.warning("lag scrape failed", extra={"error": f"{type(exc).__name__}: {exc}"})
                if reader is not None:
                    with contextlib.suppress(KafkaError, KafkaPythonError, OSError):
                        await reader.stop()
                    reader = None
            await asyncio.sleep(interval_s)
    finally:
        if reader is not None:
            await reader.stop()
