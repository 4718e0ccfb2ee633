"""Which case holds a sensor incident, read from the cases' own events."""

from __future__ import annotations

import json

from services.sensors.links import links_of, parse_source_id


def event(kind: str, case_id: str, **data: object) -> bytes:
    return json.dumps({"kind": kind, "case_id": case_id, "data": data}).encode()


def test_source_ids_parse_from_the_right_so_device_ids_may_hold_colons() -> None:
    assert parse_source_id("sensor:wl-1:waterlogging:3") == ("wl-1", "waterlogging", 3)
    assert parse_source_id("sensor:gw:7:wl-1:fire:12") == ("gw:7:wl-1", "fire", 12)
    assert parse_source_id("report-123") is None
    assert parse_source_id("sensor:wl-1:waterlogging:x") is None
    assert parse_source_id("sensor::fire:1") is None


def test_an_opened_case_links_its_sensor_source() -> None:
    (link,) = links_of(event("opened", "LG1", source={"source_id": "sensor:wl-1:waterlogging:2"}))
    assert (link.device_id, link.condition, link.number, link.case_id) == (
        "wl-1",
        "waterlogging",
        2,
        "LG1",
    )


def test_a_merge_links_every_moved_sensor_source_to_the_target() -> None:
    raw = event(
        "sources_merged",
        "LG9",
        sources=[
            {"source_id": "sensor:wl-1:waterlogging:1"},
            {"source_id": "rep-1"},
            {"source_id": "sensor:mc-2:cover_tilted:4"},
        ],
    )
    assert [(n.device_id, n.case_id) for n in links_of(raw)] == [("wl-1", "LG9"), ("mc-2", "LG9")]


def test_a_split_links_the_source_to_its_new_case() -> None:
    raw = event("source_detached", "LG1", source_id="sensor:wl-1:waterlogging:1", new_case_id="LG2")
    assert [n.case_id for n in links_of(raw)] == ["LG2"]


def test_other_events_and_bad_bytes_link_nothing() -> None:
    assert links_of(event("dispatched", "LG1", department="water")) == []
    assert links_of(event("opened", "LG1", source={"source_id": "rep-1"})) == []
    assert links_of(b"\xff not json") == []
    assert links_of(b'{"kind": "opened", "data": "oops"}') == []
