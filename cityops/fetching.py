"""Quiet fetch: an idle aiokafka consumer waits between empty fetches, even on a broker that
does not.

Why. A Kafka Fetch is a long poll: with nothing to return, the broker holds the request
for ``fetch.max.wait.ms`` before answering empty. aiokafka's fetcher
(``aiokafka/consumer/fetcher.py``, ``Fetcher._fetch_requests_routine``) sends the next
Fetch to a node as soon as the previous one (``Fetcher._proc_fetch_request``) completes.
noida-db, our stand-in, answers an empty Fetch at once, so every idle consumer loops
request, response, request without pause: about 45% of a core per service process, and
the broker busy answering them (its raw rates fell to a quarter).

What. :func:`install_quiet_fetch` wraps ``Fetcher._proc_fetch_request``. When a fetch
brought no records and came back sooner than the pause floor
(``min(fetch_max_wait_ms, max_pause_ms)``), the fetch task sleeps for the rest of the
floor before it completes. While it sleeps the node still counts as in flight, so the
fetcher sends it nothing else: exactly as if the broker had held the request.

- On a real broker an empty fetch already takes ``fetch_max_wait_ms`` (>= the floor), so
  the pause is zero and nothing changes, latency included.
- A fetch that brought records (or an error to report) never pauses.
- On a broker that answers at once, a record produced to an idle consumer is fetched at
  most one floor (plus a round trip) later. Nothing is lost: the pause only delays the
  next fetch, from the same position.
- Unassignment and ``close()`` cancel the fetch task; a cancelled pause ends at once and
  the task returns as aiokafka's own does when cancelled.

Scope. The patch is process-wide: every aiokafka consumer in the process, faust's worker
consumer included (it is an ``AIOKafkaConsumer``, whichever thread runs it). Install it
once at service start (``cityops.runtime.run`` does for the consumer services; the faust
worker calls it in its ``main``). It was checked against the aiokafka versions in
:data:`CHECKED_AIOKAFKA` and refuses any other with :class:`QuietFetchUnsupported`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
import re
from collections.abc import Awaitable, Callable
from importlib.metadata import version
from typing import Any

from aiokafka.consumer.fetcher import Fetcher
from prometheus_client import Counter
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from cityops.errors import CityopsError

__all__ = [
    "CHECKED_AIOKAFKA",
    "QuietFetchSettings",
    "QuietFetchUnsupported",
    "install_quiet_fetch",
    "pause_after_fetch",
    "quiet_fetch_installed",
    "uninstall_quiet_fetch",
]

log = logging.getLogger(__name__)

# Read in 0.11.0, 0.12.0, 0.13.0 and 0.14.0: ``_proc_fetch_request(self, assignment,
# node_id, request)`` returns True when it buffered records or an error for the caller,
# swallows its own cancellation, and ``_fetch_max_wait_ms`` / ``_closed`` are attributes.
CHECKED_AIOKAFKA = ((0, 11, 0), (0, 15, 0))  # [low, high)
_SIGNATURE = ["self", "assignment", "node_id", "request"]

PAUSES = Counter(
    "cityops_kafka_quiet_fetch_pauses_total",
    "Empty fetches the broker answered sooner than fetch_max_wait_ms, followed by a "
    "client-side pause (zero on a broker that long-polls)",
)

ProcFetch = Callable[[Fetcher, Any, int, Any], Awaitable[bool]]
_original: ProcFetch | None = None


class QuietFetchUnsupported(CityopsError):
    """The installed aiokafka is not one the quiet-fetch patch was checked against."""


class QuietFetchSettings(BaseSettings):
    """``CITYOPS_KAFKA_QUIET_FETCH`` (on by default) and its pause ceiling."""

    model_config = SettingsConfigDict(env_prefix="CITYOPS_", extra="ignore")

    kafka_quiet_fetch: bool = Field(
        default=True, description="pause after an empty fetch the broker answered at once"
    )
    kafka_quiet_fetch_max_pause_ms: int = Field(
        default=100,
        ge=1,
        le=5_000,
        description="the pause floor is min(fetch_max_wait_ms, this): the most a record "
        "produced to an idle consumer waits on a broker that does not long-poll",
    )


def pause_after_fetch(
    elapsed_s: float, got_records: bool, max_wait_s: float, max_pause_s: float
) -> float:
    """Seconds to wait before the next fetch to the same node: the rest of the floor
    ``min(max_wait_s, max_pause_s)`` after an empty fetch, nothing after records."""
    if got_records:
        return 0.0
    return max(0.0, min(max_wait_s, max_pause_s) - elapsed_s)


def _parse(text: str) -> tuple[int, ...]:
    """``"0.14.0"`` -> ``(0, 14, 0)``; a pre-release suffix is ignored (``0.14.0rc1``)."""
    parts = [re.match(r"\d*", piece) for piece in text.split(".")[:3]]
    return tuple(int(m.group() or 0) if m else 0 for m in parts)


def _check_aiokafka(original: ProcFetch) -> None:
    installed = _parse(version("aiokafka"))
    low, high = CHECKED_AIOKAFKA
    if not low <= installed < high:
        raise QuietFetchUnsupported(
            f"aiokafka {version('aiokafka')} is outside the checked range "
            f"[{'.'.join(map(str, low))}, {'.'.join(map(str, high))}): re-read "
            "Fetcher._proc_fetch_request, then widen CHECKED_AIOKAFKA"
        )
    if list(inspect.signature(original).parameters) != _SIGNATURE:
        raise QuietFetchUnsupported("Fetcher._proc_fetch_request changed its signature")


def _cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _quiet(original: ProcFetch, max_pause_s: float) -> ProcFetch:
    @functools.wraps(original)
    async def proc_fetch_request(
        self: Fetcher, assignment: Any, node_id: int, request: Any
    ) -> bool:
        loop = asyncio.get_running_loop()
        started = loop.time()
        got = await original(self, assignment, node_id, request)
        max_wait_s = self._fetch_max_wait_ms / 1000
        pause = pause_after_fetch(loop.time() - started, got, max_wait_s, max_pause_s)
        if pause <= 0 or _cancelling() or self._closed or not assignment.active:
            return got
        PAUSES.inc()
        # Cancelled means unassigned or closing: return, as aiokafka's own fetch task does
        # (close() awaits it and would otherwise get the CancelledError).
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(pause)
        return got

    return proc_fetch_request


def install_quiet_fetch(settings: QuietFetchSettings | None = None) -> bool:
    """Patch aiokafka's fetcher process-wide (see the module docstring); call once at
    service start, before consumers start. ``settings`` default to the environment.
    Returns whether quiet fetch is on. Installing again replaces the ceiling."""
    global _original
    settings = settings or QuietFetchSettings()
    if not settings.kafka_quiet_fetch:
        uninstall_quiet_fetch()
        log.info("quiet fetch off")
        return False
    original = _original or Fetcher._proc_fetch_request
    _check_aiokafka(original)
    max_pause_s = settings.kafka_quiet_fetch_max_pause_ms / 1000
    Fetcher._proc_fetch_request = _quiet(original, max_pause_s)
    _original = original
    log.info("quiet fetch on", extra={"max_pause_ms": settings.kafka_quiet_fetch_max_pause_ms})
    return True


def uninstall_quiet_fetch() -> None:
    """Give aiokafka its own fetch back (tests, and ``CITYOPS_KAFKA_QUIET_FETCH=false``)."""
    global _original
    if _original is not None:
        Fetcher._proc_fetch_request = _original
        _original = None


def quiet_fetch_installed() -> bool:
    return _original is not None
