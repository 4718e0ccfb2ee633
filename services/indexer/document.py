"""Folding case events into the case document. Pure: the same events give the same document.

The document's ``seq`` is the last event folded in; an event at or below it is already in
the document and changes nothing, which makes replays and redeliveries idempotent.
"""

from __future__ import annotations

from typing import Any

from cityops.contracts import CaseEvent, EventKind
from cityops.taxonomy import PRIORITY_RANK

Doc = dict[str, Any]


def fold(doc: Doc | None, event: CaseEvent) -> Doc:
    if doc is not None and event.seq <= doc["seq"]:
        return doc
    new = _blank(event) if doc is None else {**doc}
    _APPLY.get(event.kind, _noop)(new, event)
    new["seq"] = event.seq
    new["state"] = event.state
    new["updated_at"] = event.at.isoformat()
    new["timeline"] = [*new["timeline"], _timeline_entry(event)]
    return new


def fold_all(doc: Doc | None, events: list[CaseEvent]) -> Doc | None:
    for event in sorted(events, key=lambda e: e.seq):
        doc = fold(doc, event)
    return doc


def _blank(event: CaseEvent) -> Doc:
    return {
        "case_id": event.case_id,
        "seq": 0,
        "state": event.state,
        "priority": None,
        "priority_rank": None,
        "category": None,
        "category_name": None,
        "dimension": None,
        "department": None,
        "town": None,
        "grid": None,
        "text": None,
        "address": None,
        "location": None,
        "source_ids": [],
        "source_types": [],
        "report_count": 0,
        "auto_dispatched": False,
        "confidence": None,
        "model_version": None,
        "created_at": event.at.isoformat(),
        "updated_at": event.at.isoformat(),
        "suggestions": [],
        "sources": [],
        "timeline": [],
    }


def _opened(doc: Doc, event: CaseEvent) -> None:
    cls = event.data["classification"]
    source = event.data["source"]
    doc.update(
        priority=cls["priority"],
        priority_rank=PRIORITY_RANK.get(cls["priority"]),
        category=cls["category"],
        category_name=cls["category_name"],
        dimension=cls["dimension"],
        department=cls["department"],
        town=cls["town"],
        grid=cls["grid"],
        text=source["text"],
        address=source.get("address"),
        location=source["location"],
        confidence=cls["confidence"],
        model_version=cls["model_version"],
        suggestions=cls["top"],
    )
    _attach(doc, event)


def _attach(doc: Doc, event: CaseEvent) -> None:
    source = event.data["source"]
    if source["source_id"] in doc["source_ids"]:
        return
    doc["source_ids"] = [*doc["source_ids"], source["source_id"]]
    doc["source_types"] = sorted({*doc["source_types"], source["source_type"]})
    doc["report_count"] = len(doc["source_ids"])
    brief = {k: source.get(k) for k in ("source_id", "source_type", "text", "received_at")}
    brief["reporter"] = source["reporter"]["id"]
    doc["sources"] = [*doc["sources"], brief]


def _registered(doc: Doc, event: CaseEvent) -> None:
    doc["category"] = event.data.get("category", doc["category"])


def _dispatched(doc: Doc, event: CaseEvent) -> None:
    doc["department"] = event.data["department"]
    doc["auto_dispatched"] = bool(event.data.get("auto"))


def _noop(doc: Doc, event: CaseEvent) -> None:
    return None


_APPLY = {
    EventKind.OPENED: _opened,
    EventKind.SOURCE_ATTACHED: _attach,
    EventKind.REGISTERED: _registered,
    EventKind.DISPATCHED: _dispatched,
}


def _timeline_entry(event: CaseEvent) -> dict[str, Any]:
    data = {k: v for k, v in event.data.items() if k not in ("source", "classification")}
    if "source" in event.data:
        data["source_id"] = event.data["source"]["source_id"]
    return {
        "seq": event.seq,
        "event_id": event.event_id,
        "kind": event.kind.value,
        "state": event.state,
        "at": event.at.isoformat(),
        "actor": event.actor.model_dump(mode="json", exclude_none=True),
        "reason": event.reason,
        "evidence": event.evidence.model_dump(mode="json"),
        "data": data,
    }
