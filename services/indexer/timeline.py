"""One document per case event in the events index: a case's timeline, read page by page.

``_id`` is the ``event_id`` (``{case_id}:{seq}``), so the API fetches any page of a timeline
by ``mget`` of computed ids, never by search. Written with ``op_type=create``: an event is
immutable, a redelivered or replayed copy conflicts (409) and changes nothing.
"""

from __future__ import annotations

from typing import Any

from cityops.contracts import CaseEvent

# Source records are shown on the case, not repeated in every timeline entry.
BULKY = ("source", "sources", "classification")


def entry(event: CaseEvent) -> dict[str, Any]:
    """The timeline entry of ``event``: what the events index stores and the API shows."""
    data = {k: v for k, v in event.data.items() if k not in BULKY}
    if "source" in event.data:
        data["source_id"] = event.data["source"]["source_id"]
    if "sources" in event.data:
        data["source_ids"] = [s["source_id"] for s in event.data["sources"]]
    return {
        "event_id": event.event_id,
        "case_id": event.case_id,
        "seq": event.seq,
        "kind": event.kind.value,
        "state": event.state,
        "at": event.at.isoformat(),
        "actor": event.actor.model_dump(mode="json", exclude_none=True),
        "command_id": event.command_id,
        "reason": event.reason,
        "evidence": event.evidence.model_dump(mode="json"),
        "data": data,
    }
