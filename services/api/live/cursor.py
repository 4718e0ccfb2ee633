"""How far the live feed has read the case index: pure, no I/O.

Each poll asks for the cases with ``indexed_at >= since``, sorted by (``indexed_at``,
``case_id``), a page at a time. ``indexed_at`` is when the indexer wrote the document
(``services/indexer/writer.py``), not the event's time: an indexer that lags behind the
workflow would otherwise write documents whose time the cursor has already passed.
``since`` trails the newest ``indexed_at`` seen by ``lookback``, because a written document
becomes searchable a little later (the index refreshes about once a second, slower under
load). What was already sent is remembered by (case id, seq) for exactly as long as it can
come back (its ``indexed_at`` is at or after ``since``), so nothing is sent twice and the
memory holds only the changes of the last ``lookback``.

The cost of a poll is the number of changes within ``lookback``: it does not grow with the
number of cases in the index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LOOKBACK_MS = 5_000
PAGE = 500
MAX_PAGES = 10  # a poll reads at most this many pages; the next poll goes on

Doc = dict[str, Any]
Hit = dict[str, Any]  # an Elasticsearch hit: ``_source`` and ``sort`` ([indexed_at ms, case_id])
FIELD = "indexed_at"
SORT = [{FIELD: "asc"}, {"case_id": "asc"}]
# a case summary needs none of these (the list route leaves them out too)
EXCLUDES = ["sources", "suggestions", "milestones"]


@dataclass
class ChangeCursor:
    lookback_ms: int = LOOKBACK_MS
    since_ms: int | None = None  # None: from the start of the index
    newest_ms: int | None = None
    sent: dict[tuple[str, int], int] = field(default_factory=dict)  # (case, seq) → ms
    caught_up: bool = False  # the last poll read to the end of the index

    @staticmethod
    def latest_search() -> dict[str, Any]:
        """The keyword arguments of ``es.search`` for the newest ``indexed_at``."""
        return {
            "query": {"exists": {"field": FIELD}},
            "sort": [{FIELD: "desc"}],
            "size": 1,
            "source_includes": ["case_id"],
            "track_total_hits": False,
        }

    def start_at(self, latest: list[Hit]) -> None:
        """Starts at the end of the index (``latest``: the answer to :meth:`latest_search`)."""
        if latest:
            self.newest_ms = int(latest[0]["sort"][0])
            self.since_ms = self.newest_ms - self.lookback_ms

    def search(self, after: list[Any] | None = None, size: int = PAGE) -> dict[str, Any]:
        """The keyword arguments of ``es.search`` for the next page of this poll."""
        query: dict[str, Any] = (
            {"exists": {"field": FIELD}}
            if self.since_ms is None
            else {"range": {FIELD: {"gte": self.since_ms, "format": "epoch_millis"}}}
        )
        request: dict[str, Any] = {
            "query": query,
            "sort": SORT,
            "size": size,
            "source_excludes": EXCLUDES,
            "track_total_hits": False,
        }
        if after is not None:
            request["search_after"] = after
        return request

    def take(self, hits: list[Hit]) -> list[Doc]:
        """The documents of ``hits`` not sent yet (in order); they count as sent now."""
        fresh: list[Doc] = []
        for hit in hits:
            doc = hit["_source"]
            at_ms = int(hit["sort"][0])
            key = (str(doc.get("case_id")), int(doc.get("seq") or 0))
            self.newest_ms = at_ms if self.newest_ms is None else max(self.newest_ms, at_ms)
            if key in self.sent:
                continue
            self.sent[key] = at_ms
            fresh.append(doc)
        return fresh

    def settle(self, complete: bool = True) -> None:
        """Moves ``since`` up after a poll and forgets what can no longer come back.

        ``complete=False`` (the poll stopped at ``MAX_PAGES``): no look back this time, so
        a burst larger than a poll cannot keep the feed reading the same window.
        """
        self.caught_up = complete
        if self.newest_ms is None:
            return
        lookback = self.lookback_ms if complete else 0
        since = self.newest_ms - lookback
        self.since_ms = since if self.since_ms is None else max(self.since_ms, since)
        floor = self.since_ms
        self.sent = {key: at for key, at in self.sent.items() if at >= floor}


def sort_after(hits: list[Hit]) -> list[Any] | None:
    """The ``search_after`` value that continues after ``hits`` (None: nothing more)."""
    return list(hits[-1]["sort"]) if hits else None
