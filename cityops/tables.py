"""Faust plumbing shared by the stream processors (dispatch, sensors).

- :func:`raw_table`: a table whose values are bytes we encode ourselves (UTF-8 JSON:
  faust's own JSON escapes each Chinese character to six bytes, and pydantic encodes
  faster). Faust takes a table's value codec from its value type only, so it is set
  before first use.
- :func:`as_current`: make an event faust's current event, so that a table write goes to
  the store and changelog partition of that event. Faust sets it only while a stream
  yields one event; a step over a batch writes for many.
- :func:`add_service_pages`: a worker's ``/healthz`` and ``/metrics``.
"""

from __future__ import annotations

import weakref

import faust
from faust.streams import _current_event
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest


def raw_table(app: faust.App, name: str, partitions: int) -> faust.types.TableT:
    table = app.Table(name, default=None, partitions=partitions, value_type=bytes)
    table.value_serializer = "raw"  # type: ignore[attr-defined]  # Collection has it, TableT does not declare it
    return table


def as_current(event: faust.EventT) -> None:
    _current_event.set(weakref.ref(event))


def add_service_pages(app: faust.App, service: str) -> None:
    """``/healthz`` (503 once the worker stops or before it has a consumer) and
    ``/metrics`` on the worker's web port."""

    @app.page("/healthz")
    async def health(web: faust.web.View, request: faust.web.Request) -> faust.web.Response:
        ok = app.consumer is not None and not app.should_stop
        return web.json(
            {"status": "ok" if ok else "degraded", "service": service}, status=200 if ok else 503
        )

    @app.page("/metrics")
    async def metrics(web: faust.web.View, request: faust.web.Request) -> faust.web.Response:
        # the header whole: aiohttp refuses a content_type argument carrying a charset
        return web.bytes(generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})
