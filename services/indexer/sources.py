"""Which case holds each source record: the sources index, ``_id`` = ``source_id``.

A source changes hands when it opens a case (``opened``), joins one (``source_attached``),
arrives with a merge (``sources_merged``), or opens a new case after a split (the new case's
``opened``). Those events live on different cases, hence on different partitions, so they
reach the indexer in no fixed order, and a replay delivers them again.

Versioning: each write carries ``version = the event's time in microseconds`` with
``version_type=external``, so Elasticsearch keeps the assignment of the latest event and
refuses any older one (409, ignored). An event's time is the time of the command that
caused it, so a later merge or split always outranks the opening, whatever the order of
delivery, and a replay rewrites nothing. Should clocks disagree so that a merge carries
an earlier time than the source's arrival, the source stays on the merged case, and
readers follow its ``merged_into`` to the surviving case (``services/api``), as they do
when the target refused the merge.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cityops.contracts import CaseEvent, EventKind

E = EventKind


def version(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000)


def assignments(event: CaseEvent) -> list[dict[str, Any]]:
    """The source documents ``event`` writes (empty for events that move no source)."""
    if event.kind in (E.OPENED, E.SOURCE_ATTACHED):
        sources = [event.data["source"]]
    elif event.kind is E.SOURCES_MERGED:
        sources = list(event.data["sources"])
    else:
        return []
    return [
        {
            "source_id": s["source_id"],
            "case_id": event.case_id,
            "source_type": s["source_type"],
            "event_id": event.event_id,
            "at": event.at.isoformat(),
            "reporter": (s.get("reporter") or {}).get("id"),
        }
        for s in sources
    ]
