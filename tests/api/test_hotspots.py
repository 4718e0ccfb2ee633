"""Hotspots and the source-type filter, without a server: the query and the reading back of
a hotspot's place and count from what the sensors service wrote."""

from datetime import UTC, datetime, timedelta

from services.api.cases.models import CaseFilters
from services.api.cases.query import case_query
from services.api.hotspots.place import Count, Place, count_of, place_of
from services.api.hotspots.query import hotspot_query
from services.api.hotspots.service import hotspot_of
from services.sensors.hotspots import Hotspot, Opening, source, text


def test_the_queue_filters_by_any_of_the_source_types() -> None:
    q = case_query(CaseFilters(source_type=["sensor", "proactive"]))  # type: ignore[list-item]  # pydantic parses the strings
    assert {"terms": {"source_types": ["sensor", "proactive"]}} in q["bool"]["filter"]
    assert "source_types" not in str(case_query(CaseFilters()))


def test_open_hotspots_are_proactive_cases_still_to_do() -> None:
    [proactive, still_open] = hotspot_query(None)["bool"]["filter"]
    assert proactive == {"term": {"source_types": "proactive"}}
    assert still_open == {
        "bool": {"must_not": [{"terms": {"state": ["closed", "invalid", "merged"]}}]}
    }


def test_recently_closed_hotspots_are_closed_since_the_given_time() -> None:
    since = datetime(2026, 11, 1, tzinfo=UTC)
    [_, either] = hotspot_query(since)["bool"]["filter"]
    still_open, closed = either["bool"]["should"]
    assert either["bool"]["minimum_should_match"] == 1 and "must_not" in still_open["bool"]
    assert {"range": {"closed_at": {"gte": since.isoformat()}}} in closed["bool"]["filter"]


def opening(place: str) -> Opening:
    return Opening(
        place=place, case_id="LGAAAAAAAAAAAA", category="E0503",
        at=datetime(2026, 11, 30, tzinfo=UTC), location={"lat": 30.9, "lon": 121.9},  # type: ignore[arg-type]  # pydantic parses it
        grid="nanhui_xincheng-012", label="网格 nanhui_xincheng-012",
    )  # fmt: skip


def test_what_the_sensors_service_writes_reads_back() -> None:
    for place, kind, ident in (
        ("E0503|grid:nanhui_xincheng-012", "grid", "nanhui_xincheng-012"),
        ("C0101|asset:JG-0042", "asset", "JG-0042"),
    ):
        spot = Hotspot(place, 2, 4, datetime(2026, 11, 30, tzinfo=UTC), opening(place))
        src = source(spot, "道路积水", timedelta(days=30))
        assert place_of(src.source_id) == Place(place.split("|")[0], kind, ident, 2)
        assert count_of(src.text) == Count("30天", 4, "网格 nanhui_xincheng-012")
        assert text(spot, "道路积水", timedelta(hours=6)).startswith("近6小时第4次")


def test_other_sources_are_no_hotspot() -> None:
    assert place_of("sensor:wl-001:waterlogging:1") is None and place_of("r-1") is None
    assert count_of("路灯不亮") is None


def test_a_hotspot_case_shows_its_place_and_count() -> None:
    doc = {
        "case_id": "LGAAAAAAAAAAAA", "state": "dispatched", "category": "E0503",
        "category_name": "道路积水", "town": "nanhui_xincheng", "grid": "nanhui_xincheng-012",
        "text": "近30天第3次道路积水：临港大道 100 号", "location": {"lat": 30.9, "lon": 121.9},
        "report_count": 2, "created_at": "2026-11-30T09:00:00+08:00",
        "sources": [
            {"source_id": "hotspot:E0503|grid:nanhui_xincheng-012:1", "source_type": "proactive",
             "text": "近30天第3次道路积水：临港大道 100 号"},
            {"source_id": "r-9", "source_type": "citizen_app", "text": "又积水了"},
        ],
    }  # fmt: skip
    spot = hotspot_of(doc, "南汇新城镇")
    assert (spot.place_kind, spot.place_id, spot.place) == (
        "grid", "nanhui_xincheng-012", "临港大道 100 号",
    )  # fmt: skip
    assert (spot.count, spot.window, spot.state_label, spot.town_name) == (
        3,
        "30天",
        "已派遣",
        "南汇新城镇",
    )
    bare = hotspot_of({**doc, "sources": [], "text": "积水"}, None)
    assert bare.place_kind is None and bare.count is None and bare.text == "积水"
