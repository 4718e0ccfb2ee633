"""The candidate index by place: bounded values, cover of the merge radius, following the case."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from cityops import taxonomy
from cityops.contracts import Actor, CaseSource, Classification, GeoPoint, Role, SourceType
from cityops.contracts.states import CaseState
from services.dispatch import candidates, dedup
from services.dispatch.candidates import CandidateRef, UpdateKind
from services.dispatch.states import CaseRecord

TAX = taxonomy.load()
T0 = datetime.fromisoformat("2026-11-30T08:00:00+08:00")


def source(sid: str, lat: float = 30.912, lon: float = 121.914, minutes: int = 0) -> CaseSource:
    at = T0 + timedelta(minutes=minutes)
    return CaseSource(
        source_type=SourceType.CITIZEN_APP,
        source_id=sid,
        text="门口污水井盖碎了，很危险" * 20,
        location=GeoPoint(lat=lat, lon=lon),
        reporter=Actor(id="p1", role=Role.CITIZEN),
        occurred_at=at,
        received_at=at,
    )


def classification(category: str = "C0102") -> Classification:
    leaf = TAX.leaf(category)
    return Classification(
        category=leaf.code,
        category_name=leaf.name,
        department=leaf.department,
        dimension=leaf.dimension,
        priority=leaf.priority,
        town="nanhui_xincheng",
        grid=None,
        confidence=0.9,
        top=(),
        abstained=False,
        model_version="t",
    )


def case(status: CaseState = CaseState.DISPATCHED, category: str = "C0102") -> CaseRecord:
    s = source("s1")
    return CaseRecord(
        case_id="LGCASE",
        status=status,
        seq=3,
        category=category,
        department="water",
        priority="normal",
        sources=[s],
        classification=classification(category),
        opened_at=T0,
        updated_at=T0,
    )


PLACES = candidates.Places(TAX)


def families_by_reach() -> dict[int, tuple[str, float]]:
    """One class per resolution in use, with the largest radius any class reading it has."""
    reach: dict[int, tuple[str, float]] = {}
    for leaf in TAX.leaves:
        res = PLACES.resolution[leaf.code]
        readers = [x.merge.radius_m for x in TAX.leaves if PLACES.resolution[x.code] == res]
        reach.setdefault(res, (leaf.code, max(readers)))
    return reach


def test_the_ring_covers_every_point_within_the_merge_radius_of_each_family() -> None:
    rng = random.Random(3)
    reach = families_by_reach()
    assert len(reach) >= 3  # fine cells for small radii, coarse for large
    for category, radius in reach.values():
        for _ in range(1500):
            lat, lon = 30.85 + rng.random() * 0.1, 121.8 + rng.random() * 0.15
            here = GeoPoint(lat=lat, lon=lon)
            # a point at the family's largest radius, in any direction
            dlat = radius / 111_000 * rng.uniform(-1, 1)
            dlon = (radius**2 / 111_000**2 - dlat**2) ** 0.5 / 0.857 * rng.choice([-1, 1])
            there = GeoPoint(lat=lat + dlat, lon=lon + dlon)
            assert dedup.distance_m(lat, lon, there.lat, there.lon) <= radius * 1.01
            assert PLACES.cell_of(there, category) in PLACES.cover(here, category)


def test_related_classes_share_a_resolution_and_small_radii_get_fine_cells() -> None:
    for leaf in TAX.leaves:
        for other in leaf.merge.related:
            assert PLACES.resolution[other] == PLACES.resolution[leaf.code]
    fine = [leaf for leaf in TAX.leaves if PLACES.resolution[leaf.code] == 10]
    assert fine and all(leaf.merge.radius_m <= 60 for leaf in fine)


def ref(i: int, category: str = "C0102") -> CandidateRef:
    s = source(f"s{i}", minutes=i)
    return CandidateRef.of(f"C{i}", s, classification(category))


def test_a_key_never_holds_more_than_the_cap_and_keeps_the_newest() -> None:
    store = candidates.DictStore()
    shelf = candidates.Shelf(store)
    k = candidates.key("cell", "C0102")
    n = candidates.MAX_REFS * 3
    for i in range(n):
        shelf.add(k, ref(i))
    found = shelf.read(k, T0 + timedelta(minutes=n))
    assert len(found) == candidates.MAX_REFS
    assert found[0].ref.case_id == f"C{n - 1}"  # newest first
    assert found[-1].ref.case_id == f"C{n - candidates.MAX_REFS}"
    # a key is its head and at most MAX_BUCKETS buckets: old buckets are deleted, not kept
    assert len(store.data) == candidates.MAX_BUCKETS + 1


def test_a_write_rewrites_one_small_bucket_whatever_the_number_of_cases() -> None:
    """What fills the broker is the bytes written per new case: they must not grow."""

    class Counting(candidates.DictStore):
        written = 0

        def put(self, key: str, value: bytes) -> None:
            Counting.written += len(value)
            super().put(key, value)

    store = Counting()
    shelf = candidates.Shelf(store)
    k = candidates.key("cell", "C0102")
    per_case = []
    for i in range(candidates.MAX_REFS * 2):
        before = Counting.written
        shelf.add(k, ref(i))
        per_case.append(Counting.written - before)
    one_bucket = max(len(v) for kk, v in store.data.items() if "#" in kk)
    assert max(per_case) <= one_bucket + 16  # a bucket, and a head now and then
    early, late = per_case[: candidates.BUCKET_REFS * 4], per_case[-candidates.BUCKET_REFS * 4 :]
    assert sum(late) <= sum(early) * 1.1


def test_the_worst_bucket_is_far_below_the_message_limit() -> None:
    worst = [
        ref(i).model_copy(
            update={
                "text": "井" * candidates.TEXT_CHARS,
                "source_ids": tuple(f"{i:036d}" for i in range(candidates.MAX_SOURCE_IDS)),
                "asset_id": "A" * 64,
                "grid": "nanhui_xincheng-123",
            }
        )
        for i in range(candidates.BUCKET_REFS)
    ]
    stored = candidates.Bucket.dump_json(worst)
    assert len(stored) < 10_000
    assert candidates.Bucket.validate_json(stored) == worst


def test_upsert_replaces_the_same_case_and_keeps_its_known_sources() -> None:
    shelf = candidates.Shelf(candidates.DictStore())
    k = candidates.key("cell", "C0102")
    first = ref(1)
    shelf.add(k, first.with_source("s2"))
    shelf.add(k, first)
    found = shelf.read(k, T0)
    assert len(found) == 1
    assert set(found[0].ref.source_ids) == {"s1", "s2"}


def test_an_unchanged_ref_is_not_written_again() -> None:
    class Counting(candidates.DictStore):
        puts = 0

        def put(self, key: str, value: bytes) -> None:
            Counting.puts += 1
            super().put(key, value)

    shelf = candidates.Shelf(Counting())
    k = candidates.key("cell", "C0102")
    shelf.add(k, ref(1))
    before = Counting.puts
    shelf.add(k, ref(1))  # the upsert a new case's own cell gets after matching stored it
    assert Counting.puts == before
    shelf.add(k, ref(1).with_source("s9"))
    assert Counting.puts == before + 1


def test_a_withdrawn_case_is_gone_from_every_bucket() -> None:
    shelf = candidates.Shelf(candidates.DictStore())
    k = candidates.key("cell", "C0102")
    shelf.add(k, ref(0))
    for i in range(1, candidates.BUCKET_REFS * 3):
        shelf.add(k, ref(i))
    shelf.add(k, ref(0))  # upserted again after its bucket was rolled past: a second copy
    now = T0 + timedelta(hours=1)
    assert [f.ref.case_id for f in shelf.read(k, now)].count("C0") == 1
    shelf.remove(k, "C0")
    ids = [f.ref.case_id for f in shelf.read(k, now)]
    assert "C0" not in ids and len(ids) == candidates.BUCKET_REFS * 3 - 1


def test_reading_stops_at_buckets_older_than_the_longest_window() -> None:
    shelf = candidates.Shelf(candidates.DictStore())
    k = candidates.key("cell", "C0102")
    for i in range(candidates.BUCKET_REFS * 2):
        shelf.add(k, ref(i))
    later = T0 + timedelta(hours=candidates.MAX_WINDOW_H + 1)
    assert shelf.read(k, later) == []
    fresh = CandidateRef.of(
        "NEW", source("sn", minutes=int(candidates.MAX_WINDOW_H * 60)), classification()
    )
    shelf.add(k, fresh)
    assert [f.ref.case_id for f in shelf.read(k, later)] == ["NEW"]


def test_closed_merged_or_rejected_cases_are_not_candidates() -> None:
    assert candidates.ref_of_case(case()) is not None
    for status in (CaseState.CLOSED, CaseState.MERGED, CaseState.INVALID):
        assert candidates.ref_of_case(case(status)) is None


def test_changes_follow_the_case() -> None:
    open_ref = candidates.ref_of_case(case())
    assert open_ref is not None
    opened = candidates.changes(None, open_ref, T0, PLACES)
    assert [u.kind for u in opened] == [UpdateKind.UPSERT] * 7
    assert {u.cell for u in opened} == set(PLACES.cover(open_ref.point, open_ref.category))
    assert candidates.changes(open_ref, open_ref, T0, PLACES) == []
    closed = candidates.changes(open_ref, None, T0, PLACES)
    assert [u.kind for u in closed] == [UpdateKind.WITHDRAW] * 7
    assert all(u.case_id == "LGCASE" and u.category == "C0102" for u in closed)
    moved = candidates.ref_of_case(case(category="C0101"))
    reclassified = candidates.changes(open_ref, moved, T0, PLACES)
    kinds = [u.kind for u in reclassified]
    assert kinds.count(UpdateKind.WITHDRAW) == 7 and kinds.count(UpdateKind.UPSERT) == 7
    assert {u.category for u in reclassified if u.kind is UpdateKind.WITHDRAW} == {"C0102"}


def test_splitting_off_the_first_source_moves_the_ref() -> None:
    two = case()
    other = source("s2", lat=30.95, lon=121.95)
    two.add_sources([other])
    before = candidates.ref_of_case(two)
    two.drop_source("s1")
    after = candidates.ref_of_case(two)
    assert before is not None and after is not None and (after.lat, after.lon) == (30.95, 121.95)
    moved = candidates.changes(before, after, T0, PLACES)
    withdrawn = {u.cell for u in moved if u.kind is UpdateKind.WITHDRAW}
    upserted = {u.cell for u in moved if u.kind is UpdateKind.UPSERT}
    assert withdrawn == set(PLACES.cover(before.point, before.category))
    assert upserted == set(PLACES.cover(after.point, after.category))
    assert candidates.changes(after, after.with_source("s9"), T0, PLACES) == []


def test_a_report_after_closure_opens_one_new_case_not_one_per_report() -> None:
    cl = classification()
    first = source("a")
    shelf = candidates.Shelf(candidates.DictStore())
    ref = CandidateRef.of("CASE-A", first, cl)
    for u in candidates.changes(None, ref, T0, PLACES):
        shelf.add(candidates.key(u.cell, ref.category), ref)
    for u in candidates.changes(ref, None, T0, PLACES):  # the case closes
        shelf.remove(candidates.key(u.cell, u.category or ""), u.case_id or "")
    later = [source(f"b{i}", minutes=60 + i) for i in range(3)]
    home = candidates.key(PLACES.cell_of(later[0].location, cl.category), cl.category)
    assert shelf.read(home, later[0].occurred_at) == []
    owners = []
    for s in later:
        found = shelf.read(home, s.occurred_at)
        match = dedup.find_match(s, cl, (f.ref for f in found), TAX)
        if match is None:
            new = CandidateRef.of(s.source_id, s, cl)
            shelf.add(home, new)
            owners.append(new.case_id)
        else:
            owners.append(match.case_id)
    assert owners == ["b0", "b0", "b0"]


def test_a_proactive_case_attracts_no_source() -> None:
    """A hotspot's case is about the place's history: no incident's source joins it."""
    incident = case()
    assert candidates.ref_of_case(incident) is not None
    first = incident.sources[0].model_copy(update={"source_type": SourceType.PROACTIVE})
    hotspot = incident.model_copy(update={"sources": [first]})
    assert candidates.ref_of_case(hotspot) is None
