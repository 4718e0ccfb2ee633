"""Folding case events into the case document. Pure: the same events give the same document.

The document's ``seq`` is the last event folded in; an event at or below it is already in
the document and changes nothing, which makes replays and redeliveries idempotent.
"""

from __future__ import annotations

from typing import Any

from cityops import taxonomy
from cityops.contracts import CaseEvent, EventKind
from cityops.taxonomy import PRIORITY_RANK

Doc = dict[str, Any]
SLA_RANK = {"breached": 0, "warning": 1, "ok": 2}
E = EventKind


def fold(doc: Doc | None, event: CaseEvent) -> Doc:
    if doc is not None and event.seq <= doc["seq"]:
        return doc
    new = _blank(event) if doc is None else {**doc}
    if "deadline" in event.data:
        new.update(deadline=event.data["deadline"], stage=event.data.get("stage"))
        _sla(new, "ok")
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
        "stage": None,
        "deadline": None,
        "sla_state": "ok",
        "sla_rank": SLA_RANK["ok"],
        "rework_count": 0,
        "returned_count": 0,
        "merged_into": None,
        "closed_at": None,
        "closed_on_time": None,
        "suggestions": [],
        "sources": [],
        "timeline": [],
    }


def _sla(doc: Doc, state: str) -> None:
    doc["sla_state"], doc["sla_rank"] = state, SLA_RANK[state]


def _set_category(doc: Doc, code: str | None) -> None:
    if not code:
        return
    leaf = taxonomy.load().leaf(code)
    doc.update(category=code, category_name=leaf.name, dimension=leaf.dimension)


def _set_priority(doc: Doc, priority: str) -> None:
    doc.update(priority=priority, priority_rank=PRIORITY_RANK.get(priority))


def _opened(doc: Doc, event: CaseEvent) -> None:
    cls = event.data["classification"]
    source = event.data["source"]
    doc.update(
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
    _set_priority(doc, cls["priority"])
    _add_sources(doc, [source])


def _add_sources(doc: Doc, sources: list[dict[str, Any]]) -> None:
    for source in sources:
        if source["source_id"] in doc["source_ids"]:
            continue
        doc["source_ids"] = [*doc["source_ids"], source["source_id"]]
        doc["source_types"] = sorted({*doc["source_types"], source["source_type"]})
        brief = {k: source.get(k) for k in ("source_id", "source_type", "text", "received_at")}
        brief["reporter"] = source["reporter"]["id"]
        doc["sources"] = [*doc["sources"], brief]
    doc["report_count"] = len(doc["source_ids"])


def _attached(doc: Doc, event: CaseEvent) -> None:
    _add_sources(doc, [event.data["source"]])


def _merged_in(doc: Doc, event: CaseEvent) -> None:
    _add_sources(doc, event.data["sources"])


def _detached(doc: Doc, event: CaseEvent) -> None:
    gone = event.data["source_id"]
    doc["source_ids"] = [s for s in doc["source_ids"] if s != gone]
    doc["sources"] = [s for s in doc["sources"] if s["source_id"] != gone]
    doc["source_types"] = sorted({s["source_type"] for s in doc["sources"]})
    doc["report_count"] = len(doc["source_ids"])


def _classified(doc: Doc, event: CaseEvent) -> None:
    _set_category(doc, event.data.get("category"))
    if "department" in event.data:
        doc["department"] = event.data["department"]
    if event.kind is E.DISPATCHED:
        doc["auto_dispatched"] = bool(event.data.get("auto"))


def _returned(doc: Doc, event: CaseEvent) -> None:
    doc["returned_count"] += 1


def _rework(doc: Doc, event: CaseEvent) -> None:
    doc["rework_count"] = event.data["rework_count"]


def _closed(doc: Doc, event: CaseEvent) -> None:
    doc.update(
        closed_at=event.at.isoformat(),
        closed_on_time=event.data.get("on_time"),
        stage=None,
        deadline=None,
    )


def _merged_into(doc: Doc, event: CaseEvent) -> None:
    doc.update(merged_into=event.data["target_case_id"], stage=None, deadline=None)


def _warning(doc: Doc, event: CaseEvent) -> None:
    _sla(doc, "warning")


def _breached(doc: Doc, event: CaseEvent) -> None:
    _sla(doc, "breached")
    _set_priority(doc, event.data["priority"])


def _stopped(doc: Doc, event: CaseEvent) -> None:
    doc.update(stage=None, deadline=None)


def _noop(doc: Doc, event: CaseEvent) -> None:
    return None


_APPLY = {
    E.OPENED: _opened,
    E.SOURCE_ATTACHED: _attached,
    E.SOURCES_MERGED: _merged_in,
    E.SOURCE_DETACHED: _detached,
    E.REGISTERED: _classified,
    E.DISPATCHED: _classified,
    E.REROUTED: _classified,
    E.RETURNED: _returned,
    E.REWORK: _rework,
    E.CLOSED: _closed,
    E.MERGED_INTO: _merged_into,
    E.SLA_WARNING: _warning,
    E.SLA_BREACHED: _breached,
    E.INVALIDATED: _stopped,
    E.REPORTED_BACK: _stopped,
}


def _timeline_entry(event: CaseEvent) -> dict[str, Any]:
    data = {k: v for k, v in event.data.items() if k not in ("source", "sources", "classification")}
    if "source" in event.data:
        data["source_id"] = event.data["source"]["source_id"]
    if "sources" in event.data:
        data["source_ids"] = [s["source_id"] for s in event.data["sources"]]
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
