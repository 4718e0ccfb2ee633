"""One batch of records in, one bulk request out. Pure: plans the writes, sends nothing.

Per batch: at most one write of each case document (all the batch's events of the case
folded into the current document), one create per event, one write per source record that
changed hands and one per command outcome. Each write names the positions of the batch
items it comes from, so a write Elasticsearch refuses dead-letters exactly those.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from cityops.contracts import CaseEvent, CommandOutcome
from cityops.search import ReadModel, outcome_id
from services.indexer import outcomes, sources, timeline
from services.indexer.document import Doc, fold_all

Item = CaseEvent | CommandOutcome


class Targets(NamedTuple):
    """The index (or alias) each kind of document is written to."""

    cases: str
    events: str
    sources: str
    commands: str

    @classmethod
    def aliases(cls, model: ReadModel) -> Targets:
        return cls(model.cases.alias, model.events.alias, model.sources.alias, model.commands.alias)


@dataclass(frozen=True)
class Write:
    op: str  # "index" or "create"
    meta: dict[str, Any]  # _index, _id and versioning
    doc: dict[str, Any]
    origins: tuple[int, ...]  # positions of the batch items it comes from
    case_id: str


def plan(items: Sequence[Item], current: Mapping[str, Doc], to: Targets) -> list[Write]:
    """The writes of a batch; ``current`` holds the case documents the index has now."""
    events: dict[str, list[tuple[int, CaseEvent]]] = defaultdict(list)
    found: list[tuple[int, CommandOutcome]] = []
    for pos, item in enumerate(items):
        if isinstance(item, CaseEvent):
            events[item.case_id].append((pos, item))
        else:
            found.append((pos, item))
    writes: list[Write] = []
    for case_id, pairs in events.items():
        writes += case_writes(case_id, pairs, current.get(case_id), to)
    writes += source_writes([p for pairs in events.values() for p in pairs], to)
    writes += outcome_writes(found, to)
    return writes


def case_writes(
    case_id: str, pairs: list[tuple[int, CaseEvent]], before: Doc | None, to: Targets
) -> list[Write]:
    out: list[Write] = []
    doc = fold_all(before, [e for _, e in pairs])
    if doc is not None and (before is None or doc["seq"] > before["seq"]):
        meta = {"_index": to.cases, "_id": case_id, "version": doc["seq"]}
        meta["version_type"] = "external"
        out.append(Write("index", meta, doc, tuple(p for p, _ in pairs), case_id))
    seen: set[str] = set()
    for pos, event in pairs:
        if event.event_id not in seen:
            seen.add(event.event_id)
            meta = {"_index": to.events, "_id": event.event_id}
            out.append(Write("create", meta, timeline.entry(event), (pos,), case_id))
    return out


def source_writes(pairs: list[tuple[int, CaseEvent]], to: Targets) -> list[Write]:
    latest: dict[str, tuple[int, int, dict[str, Any], str]] = {}
    for pos, event in pairs:
        v = sources.version(event.at)
        for doc in sources.assignments(event):
            held = latest.get(doc["source_id"])
            if held is None or v >= held[0]:
                latest[doc["source_id"]] = (v, pos, doc, event.case_id)
    return [
        Write(
            "index",
            {"_index": to.sources, "_id": sid, "version": v, "version_type": "external"},
            doc,
            (pos,),
            case_id,
        )
        for sid, (v, pos, doc, case_id) in latest.items()
    ]


def outcome_writes(pairs: list[tuple[int, CommandOutcome]], to: Targets) -> list[Write]:
    latest: dict[str, tuple[int, CommandOutcome]] = {}
    for pos, outcome in pairs:
        oid = outcome_id(outcome.case_id, outcome.command_id)
        held = latest.get(oid)
        if held is None or outcomes.version(outcome) >= outcomes.version(held[1]):
            latest[oid] = (pos, outcome)
    return [
        Write(
            "index",
            {
                "_index": to.commands,
                "_id": oid,
                "version": outcomes.version(o),
                "version_type": "external_gte",
            },
            outcomes.document(o),
            (pos,),
            o.case_id,
        )
        for oid, (pos, o) in latest.items()
    ]


def operations(writes: Sequence[Write]) -> list[dict[str, Any]]:
    """The body of a bulk request (action line, then document) for ``writes``."""
    ops: list[dict[str, Any]] = []
    for w in writes:
        ops += [{w.op: w.meta}, w.doc]
    return ops
