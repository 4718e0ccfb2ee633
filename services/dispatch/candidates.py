"""The duplicate-candidate index: which open cases a new source may join, kept by place.

A source may only join a case within its class's merge radius (≤ 500 m in the taxonomy),
or in the same unit grid when a sensor is involved. So the index is keyed by
``(H3 cell, category)``: cells of resolution :data:`RESOLUTION` (about 1.4 km edges), and
each open case is written into its own cell *and the ring of neighbours around it*, which
covers at least ~1.2 km around any point of the centre cell. A new source then reads only
the keys of its own cell (its class and the classes related to it): what it reads is
bounded by what is near it, never by how many cases a town has open.

Every key holds at most :data:`MAX_REFS` refs, pruned after the longest merge window
(:data:`MAX_WINDOW_H`; each class's own window is applied when matching), each with at most
:data:`TEXT_CHARS` characters of text and :data:`MAX_SOURCE_IDS` source ids. Faust's JSON
codec writes each Chinese character as six bytes: at worst about 0.6 KB a ref, 80 KB a
value (``tests/dispatch/test_candidates.py`` measures it). The cap is a limit: a cell
with more than :data:`MAX_REFS` open cases of one class inside the window forgets the
oldest, and a late duplicate of one of those opens a new case. Pure: the faust agents in
:mod:`app` do the I/O.

The internal topic ``cases.candidates`` carries :class:`CandidateUpdate` records keyed by
cell. Sources to match and changes to refs travel on it, so everything about one cell
is in order on one partition, written by one worker.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

import h3
from pydantic import BaseModel, ConfigDict, TypeAdapter

from cityops.contracts import CaseClassified, CaseSource, Classification, SourceType
from cityops.contracts.common import AwareDatetime, GeoPoint
from cityops.contracts.states import TERMINAL
from cityops.taxonomy import Taxonomy
from services.dispatch.states import CaseRecord

RESOLUTION = 7
RING = 1
MAX_REFS = 128
TEXT_CHARS = 40
MAX_SOURCE_IDS = 4  # the latest sources a ref remembers, to recognise a redelivered source
MAX_WINDOW_H = 168.0


def cell_of(point: GeoPoint) -> str:
    return str(h3.latlng_to_cell(point.lat, point.lon, RESOLUTION))


def cover(point: GeoPoint) -> list[str]:
    """The cells a case at ``point`` is written into: its own first, then the ring."""
    home = cell_of(point)
    return [home, *sorted(c for c in h3.grid_disk(home, RING) if c != home)]


def key(cell: str, category: str) -> str:
    return f"{cell}/{category}"


def keys_to_read(cell: str, category: str, taxonomy: Taxonomy) -> list[str]:
    related = taxonomy.leaf(category).merge.related
    return [key(cell, c) for c in dict.fromkeys((category, *related))]


class CandidateRef(BaseModel):
    """What duplicate matching remembers of one open case."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    category: str
    lat: float
    lon: float
    grid: str | None
    asset_id: str | None
    opened_at: datetime
    text: str
    sensor: bool
    source_ids: tuple[str, ...]

    @classmethod
    def of(cls, case_id: str, source: CaseSource, cl: Classification) -> CandidateRef:
        return cls(
            case_id=case_id,
            category=cl.category,
            lat=source.location.lat,
            lon=source.location.lon,
            grid=cl.grid,
            asset_id=source.asset_id,
            opened_at=source.occurred_at,
            text=source.text[:TEXT_CHARS],
            sensor=source.source_type is SourceType.SENSOR,
            source_ids=(source.source_id,),
        )

    @property
    def point(self) -> GeoPoint:
        return GeoPoint(lat=self.lat, lon=self.lon)

    def with_source(self, source_id: str) -> CandidateRef:
        if source_id in self.source_ids:
            return self
        kept = (*self.source_ids, source_id)[-MAX_SOURCE_IDS:]
        return self.model_copy(update={"source_ids": kept})


RefList = TypeAdapter(list[CandidateRef])  # a key's value


def ref_of_case(case: CaseRecord | None) -> CandidateRef | None:
    """The ref a case stands for in the index, or None when it must not attract sources:
    closed, rejected, merged, or not yet opened. Its class follows reclassification."""
    if case is None or case.status in TERMINAL or not case.sources:
        return None
    first = case.sources[0]
    return CandidateRef(
        case_id=case.case_id,
        category=case.category,
        lat=first.location.lat,
        lon=first.location.lon,
        grid=case.classification.grid,
        asset_id=next((s.asset_id for s in case.sources if s.asset_id), None),
        opened_at=first.occurred_at,
        text=first.text[:TEXT_CHARS],
        sensor=any(s.source_type is SourceType.SENSOR for s in case.sources),
        source_ids=tuple(s.source_id for s in case.sources)[-MAX_SOURCE_IDS:],
    )


# ── the index's values: plain lists of refs per key ─────────────────────────────────────


def upsert(refs: Iterable[CandidateRef], ref: CandidateRef, now: datetime) -> list[CandidateRef]:
    """``refs`` with ``ref`` in place of any ref of the same case (remembered source ids
    are kept), pruned by window and capped to the newest :data:`MAX_REFS`."""
    kept: list[CandidateRef] = []
    for r in refs:
        if r.case_id == ref.case_id:
            for sid in r.source_ids:
                if sid not in ref.source_ids:
                    ref = ref.with_source(sid)
        else:
            kept.append(r)
    return prune([*kept, ref], now)


def remove(refs: Iterable[CandidateRef], case_id: str) -> list[CandidateRef]:
    return [r for r in refs if r.case_id != case_id]


def prune(refs: Iterable[CandidateRef], now: datetime) -> list[CandidateRef]:
    horizon = now - timedelta(hours=MAX_WINDOW_H)
    live = [r for r in refs if r.opened_at >= horizon]
    live.sort(key=lambda r: (r.opened_at, r.case_id))
    return live[-MAX_REFS:]


# ── the internal topic ──────────────────────────────────────────────────────────────────


class UpdateKind(StrEnum):
    MATCH = "match"  # a classified source: join a case in this cell or open one
    UPSERT = "upsert"  # a case's ref is (again) a candidate in this cell
    WITHDRAW = "withdraw"  # a case stopped being a candidate under this class


class CandidateUpdate(BaseModel):
    """``cases.candidates`` (internal), keyed by cell."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = 1
    kind: UpdateKind
    cell: str
    at: AwareDatetime
    classified: CaseClassified | None = None
    ref: CandidateRef | None = None
    case_id: str | None = None
    category: str | None = None


def _matching_view(ref: CandidateRef) -> tuple[object, ...]:
    """What matching reads of a ref, but its remembered sources (those only grow)."""
    return (ref.category, ref.lat, ref.lon, ref.grid, ref.asset_id, ref.text, ref.sensor)


def changes(
    before: CandidateRef | None, after: CandidateRef | None, at: datetime
) -> list[CandidateUpdate]:
    """What the index must hear when a case's ref goes from ``before`` to ``after``.

    Only changes that matter to matching are sent: a case appearing, leaving (closed,
    merged, rejected), changing class, or changing its first source (split off). New
    sources of a case do not move its ref."""
    if before is not None and after is not None and _matching_view(before) == _matching_view(after):
        return []
    out: list[CandidateUpdate] = []
    if before is not None:
        out += [
            CandidateUpdate(
                kind=UpdateKind.WITHDRAW,
                cell=c,
                at=at,
                case_id=before.case_id,
                category=before.category,
            )
            for c in cover(before.point)
        ]
    if after is not None:
        out += [
            CandidateUpdate(kind=UpdateKind.UPSERT, cell=c, at=at, ref=after)
            for c in cover(after.point)
        ]
    return out
