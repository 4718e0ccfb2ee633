"""A due-time index: which keys a worker must look at, and when. In memory, rebuilt.

A timer asks :meth:`DueIndex.due` for the keys whose time has come, so a scan touches only
what is due, never every key the worker owns. Each key has at most one entry that counts
(``_when``); older heap entries for it are skipped when popped and the heap is compacted
when stale entries outnumber live ones, so the index holds O(keys scheduled) entries.

Dispatch keeps one for case deadlines, the sensors service one for silent devices. It is
not a table: it is derived from one, rebuilt after every recovery or rebalance.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from datetime import datetime


class DueIndex:
    def __init__(self) -> None:
        self._heap: list[tuple[datetime, str]] = []
        self._when: dict[str, datetime] = {}

    def __len__(self) -> int:
        return len(self._when)

    def schedule(self, key: str, when: datetime | None) -> None:
        """Look at ``key`` at ``when`` (None: nothing to look at, forget it)."""
        if when is None:
            self._when.pop(key, None)
            return
        if self._when.get(key) == when:
            return
        self._when[key] = when
        heapq.heappush(self._heap, (when, key))
        if len(self._heap) > 2 * len(self._when) + 64:
            self._compact()

    def due(self, now: datetime, limit: int = 10_000) -> list[str]:
        """Pop and return the keys whose time is ``now`` or earlier (at most ``limit``;
        the rest stay for the next call)."""
        out: list[str] = []
        while self._heap and self._heap[0][0] <= now and len(out) < limit:
            when, key = heapq.heappop(self._heap)
            if self._when.get(key) == when:
                del self._when[key]
                out.append(key)
        return out

    def rebuild(self, entries: Iterable[tuple[str, datetime | None]]) -> None:
        self._when = {key: when for key, when in entries if when is not None}
        self._compact()

    def _compact(self) -> None:
        self._heap = [(when, key) for key, when in self._when.items()]
        heapq.heapify(self._heap)
