"""Does a new source join an open case? Pure, and blind to the source's type.

A source joins a case when all hold:
- the case opened within the class's merge window (hours) before the source;
- the classes are the same or related (the taxonomy's ``merge.related``);
- it is within the class's merge radius (metres), or on the same watched asset;
- the texts are alike enough for the distance (the closer, the less they must agree),
  unless one side is a sensor alarm or they share an asset (a machine's text says
  nothing about "which pothole").

Text similarity is the Jaccard overlap of character bigrams, digits included, so "门口
12号的坑" and "门口58号的坑" on the same street score lower than two wordings of one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from cityops.contracts import CaseSource, Classification, SourceType
from cityops.taxonomy import Taxonomy
from services.dispatch import candidates
from services.dispatch.candidates import CandidateRef

# Text similarity a source needs at the edge of the merge radius; the need falls linearly
# to nothing at the same spot: the closer two reports are, the less their words must agree.
SAME_CLASS_MIN_SIMILARITY = 0.2
RELATED_CLASS_MIN_SIMILARITY = 0.3


# What matching reads of a case; kept in the candidate index (:mod:`candidates`).
OpenCaseRef = CandidateRef


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


def bigrams(text: str) -> set[str]:
    t = "".join(ch for ch in text if not ch.isspace())
    return {t[i : i + 2] for i in range(len(t) - 1)}


def similarity(a: str, b: str) -> float:
    x, y = bigrams(a), bigrams(b)
    return len(x & y) / len(x | y) if x and y else 0.0


def score(
    source: CaseSource, cl: Classification, ref: OpenCaseRef, taxonomy: Taxonomy
) -> float | None:
    """How well ``source`` fits ``ref`` (higher is better), or None when it must not join."""
    leaf = taxonomy.leaf(cl.category)
    related = ref.category == cl.category or ref.category in leaf.merge.related
    if not related:
        return None
    age_h = (source.occurred_at - ref.opened_at).total_seconds() / 3600
    if not -1.0 <= age_h <= leaf.merge.window_hours:
        return None
    same_asset = source.asset_id is not None and source.asset_id == ref.asset_id
    metres = distance_m(source.location.lat, source.location.lon, ref.lat, ref.lon)
    sensor = ref.sensor or source.source_type is SourceType.SENSOR
    same_grid = sensor and cl.grid is not None and cl.grid == ref.grid
    if not (same_asset or same_grid or metres <= leaf.merge.radius_m):
        return None
    if same_asset or sensor:
        return 1.0 + (1.0 - min(metres, 1000.0) / 1000.0)
    text = similarity(source.text, ref.text)
    edge = (
        SAME_CLASS_MIN_SIMILARITY if ref.category == cl.category else RELATED_CLASS_MIN_SIMILARITY
    )
    need = edge * min(metres, leaf.merge.radius_m) / leaf.merge.radius_m
    if text < need:
        return None
    return text + 0.5 * (1.0 - metres / leaf.merge.radius_m)


def find_match(
    source: CaseSource, cl: Classification, refs: Iterable[OpenCaseRef], taxonomy: Taxonomy
) -> OpenCaseRef | None:
    best: tuple[float, str] | None = None
    chosen = None
    for ref in refs:
        if source.source_id in ref.source_ids:
            return ref  # redelivery: the source already belongs to this case
        s = score(source, cl, ref, taxonomy)
        if s is not None and (best is None or (s, ref.case_id) > best):
            best, chosen = (s, ref.case_id), ref
    return chosen


def assign(
    items: Iterable[tuple[CaseSource, Classification]], taxonomy: Taxonomy
) -> dict[str, str]:
    """Source id → case id for a stream of sources, as the dispatch app assigns them: the
    candidate index keyed by (cell, class), each new case written into its cell and the
    ring around it, the first source of a case naming it."""
    shelf = candidates.Shelf(candidates.DictStore())
    places = candidates.Places(taxonomy)
    owner: dict[str, str] = {}
    for source, cl in items:
        home = places.cell_of(source.location, cl.category)
        found = candidates.read_keys(shelf, places, home, cl.category, source.occurred_at)
        match = find_match(source, cl, (f.ref for f in found), taxonomy)
        if match is None:
            ref = CandidateRef.of(source.source_id, source, cl)
            for cell in places.cover(source.location, cl.category):
                shelf.add(candidates.key(cell, cl.category), ref)
            owner[source.source_id] = source.source_id
        else:
            where = next(f for f in found if f.ref is match)
            shelf.replace(where, match.with_source(source.source_id))
            owner[source.source_id] = match.case_id
    return owner
