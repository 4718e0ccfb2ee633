"""A place where the same problem keeps coming back opens one proactive case."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

from cityops.contracts import GeoPoint, SourceType
from services.sensors.hotspots import (
    MAX_KEPT,
    Opening,
    PlaceState,
    decode,
    encode,
    observe,
    opening_of,
    source,
)

T = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
WINDOW = timedelta(days=30)


def opening(case_id: str, at: datetime) -> Opening:
    return Opening(
        place="E0503|grid:g-1",
        case_id=case_id,
        category="E0503",
        at=at,
        location=GeoPoint(lat=30.9, lon=121.9),
        town="nanhui_xincheng",
        grid="g-1",
        label="网格 g-1",
    )


def run(times: list[datetime], k: int = 3) -> list[int]:
    state, hits = PlaceState(), []
    for i, at in enumerate(times):
        state, hot = observe(state, opening(f"LG{i}", at), k, WINDOW)
        if hot is not None:
            hits.append(i)
        state = decode(encode(state))  # as the table keeps it
    return hits


def test_the_kth_case_within_the_window_makes_one_hotspot() -> None:
    assert run([T, T + timedelta(days=5), T + timedelta(days=9), T + timedelta(days=12)]) == [2]


def test_cases_spread_wider_than_the_window_make_none() -> None:
    assert run([T, T + timedelta(days=20), T + timedelta(days=40), T + timedelta(days=60)]) == []


def test_a_place_that_keeps_flooding_makes_a_new_hotspot_after_a_quiet_window() -> None:
    weekly = [T + timedelta(days=7 * i) for i in range(12)]
    hits = run(weekly)
    assert hits[0] == 2 and len(hits) >= 2
    assert all((weekly[b] - weekly[a]) > WINDOW for a, b in itertools.pairwise(hits))


def test_a_redelivered_opening_counts_once_and_the_state_is_bounded() -> None:
    state = PlaceState()
    for _ in range(3):
        state, hot = observe(state, opening("LG1", T), 2, WINDOW)
        assert hot is None
    for i in range(MAX_KEPT * 3):
        state, _ = observe(state, opening(f"LG{i + 10}", T + timedelta(hours=i)), 3, WINDOW)
    assert len(state.opened) == MAX_KEPT


def test_the_proactive_source_says_what_and_where() -> None:
    state = PlaceState()
    for i in range(3):
        state, hot = observe(state, opening(f"LG{i}", T + timedelta(days=i)), 3, WINDOW)
    assert hot is not None
    made = source(hot, "道路积水", WINDOW)
    assert made.text == "近30天第3次道路积水：网格 g-1"
    assert made.source_type is SourceType.PROACTIVE
    assert made.source_id == "hotspot:E0503|grid:g-1:1"


def test_only_new_cases_with_a_place_count_and_hotspots_never_count_themselves() -> None:
    def opened(source: dict[str, object], cls: dict[str, object]) -> bytes:
        return json.dumps(
            {
                "kind": "opened",
                "case_id": "LG1",
                "at": T.isoformat(),
                "data": {"source": source, "classification": cls},
            }
        ).encode()

    base = {"source_type": "sensor", "location": {"lat": 30.9, "lon": 121.9}}
    cls = {"category": "E0503", "grid": "g-1", "town": "t"}
    assert opening_of(opened(base, cls)).place == "E0503|grid:g-1"  # type: ignore[union-attr]
    with_asset = opening_of(opened({**base, "asset_id": "JG-1"}, {**cls, "category": "E0507"}))
    assert with_asset is not None and with_asset.place == "E0507|asset:JG-1"
    assert opening_of(opened({**base, "source_type": "proactive"}, cls)) is None
    assert opening_of(opened(base, {**cls, "grid": None})) is None
    assert opening_of(b'{"kind": "source_attached", "data": {}}') is None
