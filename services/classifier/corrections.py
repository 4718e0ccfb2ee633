"""Dispatcher corrections as labelled examples, read from ``cases.events``. Pure.

A case whose category a dispatcher set to something other than the router's choice
yields one example: the case's first text, labelled with the dispatcher's category.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cityops.contracts import CaseEvent, EventKind, Role


@dataclass(frozen=True)
class Correction:
    case_id: str
    text: str
    router_category: str
    label: str


def corrections(events: Iterable[CaseEvent]) -> list[Correction]:
    text: dict[str, str] = {}
    router: dict[str, str] = {}
    final: dict[str, str] = {}
    for event in sorted(events, key=lambda e: (e.case_id, e.seq)):
        if event.kind is EventKind.OPENED:
            text[event.case_id] = event.data["source"]["text"]
            router[event.case_id] = event.data["classification"]["category"]
        elif event.actor.role is not Role.SYSTEM and "category" in event.data:
            final[event.case_id] = event.data["category"]
    return [
        Correction(case_id, text[case_id], router[case_id], label)
        for case_id, label in sorted(final.items())
        if case_id in text and label != router[case_id]
    ]


def export(events: Iterable[CaseEvent], path: Path) -> int:
    """Write the corrections in ``events`` as a CSV that ``cityops router retrain
    --corrections`` reads (columns text, label, case_id, router_category)."""
    rows = corrections(events)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "case_id", "router_category"])
        for row in rows:
            writer.writerow([row.text, row.label, row.case_id, row.router_category])
    return len(rows)
