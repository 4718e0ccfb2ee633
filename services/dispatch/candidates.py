"""The duplicate-candidate index: which open cases a new source may join, kept by place.

A source may only join a case within its class's merge radius (≤ 500 m in the taxonomy).
So the index is keyed by ``(H3 cell, category)``, with cells as fine as the class's merge
family allows (:class:`Places`), and each open case is written into its own cell *and the
ring of neighbours around it*, which covers the family's largest radius around any point of
the centre cell. A new source then reads only the keys of its own cell (its class and the
classes related to it): what it reads is bounded by what is near it, never by how many
cases a town has open. (Sensor alarms also join on the same unit grid: the index finds
such a case when it lies within that reach.)

Each key keeps its refs in a chain of small buckets (:class:`Shelf`): a new ref rewrites one
bucket of at most :data:`BUCKET_REFS` refs, never the key's whole list, so the bytes the
changelog receives per new case do not grow with the cases around it. A key remembers at
most :data:`MAX_REFS` refs (the newest :data:`MAX_BUCKETS` buckets); each ref has at most
:data:`TEXT_CHARS` characters of text and :data:`MAX_SOURCE_IDS` source ids, stored as
UTF-8 JSON (``tests/dispatch/test_candidates.py`` measures the worst bucket). The cap is a
limit: a cell with more than :data:`MAX_REFS` open cases of one class inside the window
forgets the oldest, and a late duplicate of one of those opens a new case. Pure but for
the :class:`Store` it is given: the faust agents in :mod:`app` do the I/O.

The internal topic ``cases.candidates`` carries :class:`CandidateUpdate` records keyed by
cell. Sources to match and changes to refs travel on it, so everything about one cell
is in order on one partition, written by one worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal, Protocol

import h3
from pydantic import BaseModel, ConfigDict, TypeAdapter

from cityops.contracts import CaseClassified, CaseSource, Classification, SourceType
from cityops.contracts.common import AwareDatetime, GeoPoint
from cityops.contracts.states import TERMINAL
from cityops.taxonomy import Taxonomy
from services.dispatch.states import CaseRecord

RING = 1
# The finest H3 resolutions, and the distance the ring around a cell surely covers from any
# point inside it (0.8 of the average edge; measured at Lingang's latitude: at least 0.88,
# tests/dispatch/test_candidates.py checks the cover).
REACH_M = {10: 0.8 * 75.86, 9: 0.8 * 200.79, 8: 0.8 * 531.41, 7: 0.8 * 1406.48}
BUCKET_REFS = 8  # refs a bucket holds (the unit a write rewrites)
MAX_BUCKETS = 32  # buckets a key keeps
MAX_REFS = BUCKET_REFS * MAX_BUCKETS  # refs a key remembers: 256
TEXT_CHARS = 40
MAX_SOURCE_IDS = 4  # the latest sources a ref remembers, to recognise a redelivered source
MAX_WINDOW_H = 168.0


def key(cell: str, category: str) -> str:
    return f"{cell}/{category}"


class Places:
    """Which cells a class's candidates are kept in: the resolution of each merge family.

    Classes that may merge with each other (the taxonomy's ``merge.related``, taken both
    ways and transitively) form a family and share one resolution, so a new source reads all
    its keys in one cell, on one partition. The resolution is the finest whose ring covers
    the family's largest merge radius: 50 m classes use cells of ~76 m edges, 500 m ones
    ~1.4 km. The finer the cells, the fewer cases share a key, and the fewer a crowded key
    forgets (:data:`MAX_REFS`)."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        family = {leaf.code: leaf.code for leaf in taxonomy.leaves}

        def root(code: str) -> str:
            while family[code] != code:
                code = family[code]
            return code

        for leaf in taxonomy.leaves:
            for other in leaf.merge.related:
                family[root(other)] = root(leaf.code)
        radius: dict[str, float] = {}
        for leaf in taxonomy.leaves:
            r = root(leaf.code)
            radius[r] = max(radius.get(r, 0.0), leaf.merge.radius_m)
        finest = {
            r: next((res for res, m in REACH_M.items() if m >= v), None) for r, v in radius.items()
        }
        too_wide = sorted(r for r, res in finest.items() if res is None)
        if too_wide:
            raise ValueError(f"merge radius wider than {max(REACH_M.values()):.0f} m: {too_wide}")
        self.resolution = {leaf.code: finest[root(leaf.code)] or 7 for leaf in taxonomy.leaves}

    def cell_of(self, point: GeoPoint, category: str) -> str:
        """The cell a source of ``category`` is matched in (and the topic key it travels by)."""
        return str(h3.latlng_to_cell(point.lat, point.lon, self.resolution[category]))

    def cover(self, point: GeoPoint, category: str) -> list[str]:
        """The cells a case of ``category`` at ``point`` is written into: its own first,
        then the ring around it."""
        home = self.cell_of(point, category)
        return [home, *sorted(c for c in h3.grid_disk(home, RING) if c != home)]

    def keys_to_read(self, cell: str, category: str) -> list[str]:
        related = self.taxonomy.leaf(category).merge.related
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


def ref_of_case(case: CaseRecord | None) -> CandidateRef | None:
    """The ref a case stands for in the index, or None when it must not attract sources:
    closed, rejected, merged, or not yet opened, or a proactive case (a hotspot is about the
    place's history, not one incident: nothing joins it). Its class follows reclassification."""
    if case is None or case.status in TERMINAL or not case.sources:
        return None
    if case.sources[0].source_type is SourceType.PROACTIVE:
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


# ── a key's refs: a chain of small buckets ──────────────────────────────────────────────

Bucket = TypeAdapter(list[CandidateRef])  # one bucket's value, UTF-8 JSON


class Store(Protocol):
    """Byte values by string key: the faust table in the app, a dict in simulations."""

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, value: bytes) -> None: ...

    def delete(self, key: str) -> None: ...


class DictStore:
    """A :class:`Store` in a dict, for simulations (:func:`dedup.assign`) and tests."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    def put(self, key: str, value: bytes) -> None:
        self.data[key] = value

    def delete(self, key: str) -> None:
        self.data.pop(key, None)


@dataclass(frozen=True)
class Found:
    ref: CandidateRef
    key: str  # the (cell, class) key it was read under
    bucket: int  # and its bucket there


class Shelf:
    """The refs of each (cell, class) key, as a chain of buckets in a :class:`Store`.

    ``key`` holds the number of the newest bucket; ``key#n`` holds bucket ``n``, at most
    :data:`BUCKET_REFS` refs. A new ref goes into the newest bucket, or starts the next one
    and deletes the one :data:`MAX_BUCKETS` back. So a write rewrites one small bucket,
    whatever the number of cases around (rewriting a whole list per new case was what
    filled the broker), a key keeps at most :data:`MAX_REFS` refs, and a read is at most
    :data:`MAX_BUCKETS` gets. A case may sit in two buckets for a while (its ref was
    upserted again after its bucket was rolled past); the newest copy wins when read, and
    a withdrawal removes every copy."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def head(self, key: str) -> int | None:
        raw = self.store.get(key)
        return int(raw) if raw else None

    def bucket(self, key: str, n: int) -> list[CandidateRef]:
        raw = self.store.get(f"{key}#{n}")
        return Bucket.validate_json(raw) if raw else []

    def _put(self, key: str, n: int, refs: list[CandidateRef]) -> None:
        if refs:
            self.store.put(f"{key}#{n}", Bucket.dump_json(refs))
        else:
            self.store.delete(f"{key}#{n}")

    def _numbers(self, key: str) -> range:
        head = self.head(key)
        return range(head, max(-1, head - MAX_BUCKETS), -1) if head is not None else range(0)

    def read(self, key: str, now: datetime) -> list[Found]:
        """The refs under ``key``, newest bucket first, one per case. Stops at a bucket all
        older than the longest merge window (buckets fill in time order)."""
        horizon = now - timedelta(hours=MAX_WINDOW_H)
        seen: set[str] = set()
        out: list[Found] = []
        for n in self._numbers(key):
            refs = self.bucket(key, n)
            if refs and max(r.opened_at for r in refs) < horizon:
                break
            for r in reversed(refs):
                if r.case_id not in seen:
                    seen.add(r.case_id)
                    out.append(Found(r, key, n))
        return out

    def replace(self, found: Found, ref: CandidateRef) -> None:
        """Put ``ref`` in place of ``found`` (same case), in the bucket it was read from."""
        refs = self.bucket(found.key, found.bucket)
        self._put(found.key, found.bucket, [ref if r.case_id == ref.case_id else r for r in refs])

    def add(self, key: str, ref: CandidateRef) -> None:
        """Upsert: replace the case's ref in the newest two buckets (keeping its known
        sources), else append it to the newest, rolling to a new bucket when full."""
        head = self.head(key)
        if head is None:
            self.store.put(key, b"0")
            self._put(key, 0, [ref])
            return
        for n in (head, head - 1):
            refs = self.bucket(key, n) if n >= 0 else []
            old = next((r for r in refs if r.case_id == ref.case_id), None)
            if old is not None:
                for sid in old.source_ids:
                    ref = ref.with_source(sid)
                if ref != old:  # the new case's own cell already has it from matching
                    self._put(key, n, [ref if r.case_id == ref.case_id else r for r in refs])
                return
        refs = self.bucket(key, head)
        if len(refs) < BUCKET_REFS:
            self._put(key, head, [*refs, ref])
            return
        self._put(key, head + 1, [ref])
        self.store.put(key, str(head + 1).encode())
        if head + 1 >= MAX_BUCKETS:
            self._put(key, head + 1 - MAX_BUCKETS, [])

    def remove(self, key: str, case_id: str) -> None:
        """Withdraw every copy of a case's ref from ``key``."""
        for n in self._numbers(key):
            refs = self.bucket(key, n)
            kept = [r for r in refs if r.case_id != case_id]
            if len(kept) != len(refs):
                self._put(key, n, kept)


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
    before: CandidateRef | None, after: CandidateRef | None, at: datetime, places: Places
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
            for c in places.cover(before.point, before.category)
        ]
    if after is not None:
        out += [
            CandidateUpdate(kind=UpdateKind.UPSERT, cell=c, at=at, ref=after)
            for c in places.cover(after.point, after.category)
        ]
    return out


def read_keys(shelf: Shelf, places: Places, cell: str, category: str, now: datetime) -> list[Found]:
    """Every ref a source of ``category`` in ``cell`` may join: its class and related ones."""
    return [f for k in places.keys_to_read(cell, category) for f in shelf.read(k, now)]
