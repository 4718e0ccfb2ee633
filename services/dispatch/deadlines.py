"""The deadline index: which cases a worker must look at, and when. In memory, rebuilt.

The SLA timer asks :meth:`DeadlineIndex.due` for the cases whose next check time has
come, so a scan touches only the cases due, never every case the worker owns. Each case
has at most one entry that counts (``_when``); older heap entries for it are skipped when
popped and the heap is compacted when stale entries outnumber live ones, so the index
holds O(cases with a running clock) entries.

It is not a table: it is derived from the ``cases`` table, rebuilt from it after every
recovery or rebalance, and kept up to date by the command agent as cases change.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from datetime import datetime


class DeadlineIndex:
    def __init__(self) -> None:
        self._heap: list[tuple[datetime, str]] = []
        self._when: dict[str, datetime] = {}

    def __len__(self) -> int:
        return len(self._when)

    def schedule(self, case_id: str, when: datetime | None) -> None:
        """Check ``case_id`` at ``when`` (None: nothing to check, forget it)."""
        if when is None:
            self._when.pop(case_id, None)
            return
        if self._when.get(case_id) == when:
            return
        self._when[case_id] = when
        heapq.heappush(self._heap, (when, case_id))
        if len(self._heap) > 2 * len(self._when) + 64:
            self._compact()

    def due(self, now: datetime, limit: int = 10_000) -> list[str]:
        """Pop and return the cases whose check time is ``now`` or earlier (at most
        ``limit``; the rest stay for the next call)."""
        out: list[str] = []
        while self._heap and self._heap[0][0] <= now and len(out) < limit:
            when, case_id = heapq.heappop(self._heap)
            if self._when.get(case_id) == when:
                del self._when[case_id]
                out.append(case_id)
        return out

    def rebuild(self, entries: Iterable[tuple[str, datetime | None]]) -> None:
        self._when = {case_id: when for case_id, when in entries if when is not None}
        self._compact()

    def _compact(self) -> None:
        self._heap = [(when, case_id) for case_id, when in self._when.items()]
        heapq.heapify(self._heap)
