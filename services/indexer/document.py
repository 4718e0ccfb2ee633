"""Folding case events into the case document. Pure: the same events give the same document.

The document's ``seq`` is the last event folded in; an event at or below it is already in
the document and changes nothing, which makes replays and redeliveries idempotent.

The document is bounded whatever the case lives through: no timeline (the events index
holds it, ``services/indexer/entries.py``), at most ``MAX_SOURCE_BRIEFS`` source briefs (the
first and the most recent; ``report_count`` counts them all) and at most ``MAX_MILESTONES``
milestones (``services/indexer/milestones.py``). A sensor source's brief keeps its
``sensor`` context for the console's chart: at most 64 readings by contract, about 5 KB,
so ten such briefs add at most about 50 KB. The deadline state (``sla_state``) is the
one dispatch writes into every event's data; an event without it (older events) keeps the
current value, except the explicit SLA events.
"""

from __future__ import annotations

from typing import Any

from cityops import taxonomy
from cityops.contracts import CaseEvent, EventKind
from cityops.search import MAX_SOURCE_BRIEFS
from cityops.taxonomy import PRIORITY_RANK
from services.indexer.milestones import add_milestone

Doc = dict[str, Any]
SLA_RANK = {"breached": 0, "warning": 1, "ok": 2}
E = EventKind


def fold(doc: Doc | None, event: CaseEvent) -> Doc:
    if doc is not None and event.seq <= doc["seq"]:
        return doc
    new = _blank(event) if doc is None else {**doc}
    if "deadline" in event.data:
        new.update(deadline=event.data["deadline"], stage=event.data.get("stage"))
    _APPLY.get(event.kind, _noop)(new, event)
    if event.data.get("sla_state") in SLA_RANK:
        _sla(new, event.data["sla_state"])
    new["seq"] = event.seq
    new["state"] = event.state
    new["updated_at"] = event.at.isoformat()
    new["milestones"] = add_milestone(new["milestones"], event)
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
        "milestones": [],
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
    _add_sources(doc, [source], None)


def _add_sources(doc: Doc, sources: list[dict[str, Any]], count: int | None) -> None:
    known = {s["source_id"] for s in doc["sources"]}
    added = [s for s in sources if s["source_id"] not in known]
    briefs = [*doc["sources"], *(_brief(s) for s in added)]
    doc["sources"] = _bounded(briefs)
    doc["source_types"] = sorted({*doc["source_types"], *(s["source_type"] for s in added)})
    doc["report_count"] = count if count is not None else doc["report_count"] + len(added)


BRIEF_FIELDS = (
    "source_id",
    "source_type",
    "text",
    "occurred_at",
    "received_at",
    "photos",
    "category_hint",  # the class the reporter picked, if any: shown beside the router's
)


def _brief(source: dict[str, Any]) -> dict[str, Any]:
    brief = {k: source.get(k) for k in BRIEF_FIELDS}
    brief["reporter"] = source["reporter"]["id"]
    if source.get("sensor"):
        brief["sensor"] = source["sensor"]
    return brief


def _bounded(briefs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first source (the one that opened the case) and the most recent others."""
    if len(briefs) <= MAX_SOURCE_BRIEFS:
        return briefs
    return [briefs[0], *briefs[-(MAX_SOURCE_BRIEFS - 1) :]]


def _count(event: CaseEvent) -> int | None:
    count = event.data.get("report_count")
    return count if isinstance(count, int) else None


def _attached(doc: Doc, event: CaseEvent) -> None:
    _add_sources(doc, [event.data["source"]], _count(event))


def _merged_in(doc: Doc, event: CaseEvent) -> None:
    _add_sources(doc, event.data["sources"], _count(event))


def _detached(doc: Doc, event: CaseEvent) -> None:
    gone = event.data["source_id"]
    doc["sources"] = [s for s in doc["sources"] if s["source_id"] != gone]
    count = _count(event)
    doc["report_count"] = count if count is not None else max(doc["report_count"] - 1, 0)
    if len(doc["sources"]) >= doc["report_count"]:  # every source is known: recount types
        doc["source_types"] = sorted({s["source_type"] for s in doc["sources"]})


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
