"""Which case holds a sensor incident: learned from the cases' own events. Pure.

A sensor incident's source goes into the pipeline without a case id: dispatch opens a case
for it or merges it into one (a grid worker's report of the same cover, say). The sensors
service must later address that case (核查, 返工), so it reads ``cases.events`` and picks
out every event that puts a sensor source in a case: ``opened``, ``source_attached``,
``sources_merged`` (a merge moved it) and ``source_detached`` (a split gave it its own
case). Each becomes a :class:`Nudge` keyed by the device id, on the partition that holds
the device's state. The same internal topic carries the heartbeat timer's checks, so every
write of a device's state happens in a stream step on its own partition.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

PREFIX = "sensor:"
_KINDS = frozenset({"opened", "source_attached", "sources_merged", "source_detached"})


class Nudge(BaseModel):
    """An internal record for a device's state (topic ``sensors.nudges``, keyed by device)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["link", "check"]
    device_id: str
    condition: str | None = None
    number: int | None = None
    case_id: str | None = None
    at: datetime | None = None  # a check: the timer's clock


def parse_source_id(source_id: str) -> tuple[str, str, int] | None:
    """``sensor:<device>:<condition>:<number>`` → its parts (a device id may hold ':')."""
    if not source_id.startswith(PREFIX):
        return None
    parts = source_id[len(PREFIX) :].rsplit(":", 2)
    if len(parts) != 3 or not parts[2].isdigit() or not parts[0]:
        return None
    return parts[0], parts[1], int(parts[2])


def _link(source_id: str, case_id: str) -> Nudge | None:
    parsed = parse_source_id(source_id)
    if parsed is None:
        return None
    device, condition, number = parsed
    return Nudge(kind="link", device_id=device, condition=condition, number=number, case_id=case_id)


def links_of(raw: bytes) -> list[Nudge]:
    """The links an encoded ``CaseEvent`` makes; nothing for the many that make none.

    Only the few fields needed are read, and the kind first: most events are not about a
    sensor, and this runs for every event of every case."""
    try:
        event: dict[str, Any] = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return []
    kind = event.get("kind")
    if kind not in _KINDS or not isinstance(event.get("data"), dict):
        return []
    data, case_id = event["data"], str(event.get("case_id", ""))
    ids: list[tuple[str, str]] = []
    if kind in ("opened", "source_attached"):
        source = data.get("source") or {}
        ids.append((str(source.get("source_id", "")), case_id))
    elif kind == "sources_merged":
        ids += [(str(s.get("source_id", "")), case_id) for s in data.get("sources") or []]
    else:  # source_detached: the source now has its own case
        ids.append((str(data.get("source_id", "")), str(data.get("new_case_id", ""))))
    out = [_link(source_id, case) for source_id, case in ids if case]
    return [n for n in out if n is not None]
