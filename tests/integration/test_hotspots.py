"""Sensor-born and hotspot cases read back from the stand-in: a sensor source keeps its
readings (stored, never searched), the queue filters by source type, and the hotspots
endpoint lists the proactive cases with their place and count."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from cityops.search import make_client
from services.api.settings import ApiSettings
from tests.conftest import Infra
from tests.indexer.builders import (
    classification,
    event,
    proactive_source,
    sensor_context,
    sensor_source,
    source,
)
from tests.integration.conftest import index_items
from tests.people import api_client

pytestmark = pytest.mark.integration
SENSOR_CASE, HUMAN_CASE = "LGSENSORAAAAAA", "LGHUMANAAAAAAA"
HOTSPOT, OLD_HOTSPOT, DONE_LONG_AGO = "LGHOTSPOTAAAAA", "LGHOTSPOTBBBBB", "LGHOTSPOTCCCCC"
ALARM = "sensor:wl-001:waterlogging:1"


@pytest.fixture
def api_settings(infra: Infra, prefix: str) -> ApiSettings:
    return ApiSettings(**infra.settings(prefix))  # type: ignore[arg-type]


@pytest.fixture
def client(api_settings: ApiSettings) -> Iterator[TestClient]:
    with api_client(api_settings) as c:
        yield c


def opened_with(case_id: str, src: dict[str, object], minutes: float = 0) -> object:
    return event(
        case_id, 1, "opened", "pending", minutes, source=src, classification=classification()
    )


def sensor_case() -> list:  # type: ignore[type-arg]
    readings = sensor_context()["readings"]
    return [
        opened_with(SENSOR_CASE, sensor_source(ALARM)),
        event(SENSOR_CASE, 2, "sensor_verified", "pending", 30, source_id=ALARM, text="积水已退",
              by="sensor", device_id="wl-001", metric="water_depth_cm", unit="cm",
              threshold=15.0, readings=readings),
    ]  # fmt: skip


def hotspots() -> list:  # type: ignore[type-arg]
    place = "E0503|grid:nanhui_xincheng-012"
    text = "近30天第3次道路积水：网格 nanhui_xincheng-012"
    return [
        opened_with(HOTSPOT, proactive_source(place, 2, text), 10),
        opened_with(OLD_HOTSPOT, proactive_source(place, 1, text), 5),
        event(OLD_HOTSPOT, 2, "closed", "closed", 6, on_time=True),
        opened_with(DONE_LONG_AGO, proactive_source("C0101|asset:JG-1", 1, "近7天第3次井盖：JG-1")),
        event(DONE_LONG_AGO, 2, "closed", "closed", 1),
    ]  # fmt: skip


def test_a_sensor_case_keeps_its_readings_stored_but_unsearched(
    client: TestClient, api_settings: ApiSettings
) -> None:
    asyncio.run(index_items(api_settings, sensor_case()))
    case = client.get(f"/api/v1/cases/{SENSOR_CASE}").json()
    [alarm] = case["sources"]
    assert alarm["source_type"] == "sensor" and alarm["sensor"] == sensor_context()
    verified = case["timeline"][-1]
    assert verified["kind"] == "sensor_verified"
    assert verified["data"]["readings"] == sensor_context()["readings"]

    es = make_client(api_settings)
    try:
        alias = f"{api_settings.index_prefix}-cases"
        mapping = next(iter(es.indices.get_mapping(index=alias).values()))["mappings"]
        assert "sensor" not in str(mapping["properties"]["sources"])  # no field was made for it
        hits = es.search(index=alias, query={"term": {"sources.sensor.device_id": "wl-001"}})
        assert hits["hits"]["total"]["value"] == 0  # stored, not searchable
    finally:
        es.close()


def test_the_queue_filters_by_source_type(client: TestClient, api_settings: ApiSettings) -> None:
    items = [*sensor_case(), opened_with(HUMAN_CASE, source("r-1")), *hotspots()]
    asyncio.run(index_items(api_settings, items))

    def ids(**params: object) -> list[str]:
        body = client.get("/api/v1/cases", params=params).json()  # type: ignore[arg-type]
        return sorted(c["case_id"] for c in body["items"])

    assert ids(source_type="sensor") == [SENSOR_CASE]
    assert ids(source_type="citizen_app") == [HUMAN_CASE]
    assert ids(source_type=["sensor", "proactive"]) == sorted([SENSOR_CASE, HOTSPOT])
    refused = client.get("/api/v1/cases", params={"source_type": "telepathy"})
    assert refused.status_code == 422


def test_hotspots_list_open_and_recently_closed_proactive_cases(
    client: TestClient, api_settings: ApiSettings
) -> None:
    asyncio.run(index_items(api_settings, [*hotspots(), opened_with(HUMAN_CASE, source("r-1"))]))
    body = client.get("/api/v1/hotspots").json()
    assert body["total"] == 1
    [spot] = body["items"]
    assert spot["case_id"] == HOTSPOT and spot["state_label"] == "待立案"
    assert (spot["place_kind"], spot["place_id"], spot["count"]) == (
        "grid", "nanhui_xincheng-012", 3,
    )  # fmt: skip
    assert spot["place"] == "网格 nanhui_xincheng-012" and spot["window"] == "30天"
    assert spot["category_name"] and spot["text"].startswith("近30天第3次")

    # The events are from 2026-11-30: closed "recently" means within the asked days of now.
    wide = client.get("/api/v1/hotspots", params={"include_closed": "true", "days": 365}).json()
    assert [s["case_id"] for s in wide["items"]] == [HOTSPOT, OLD_HOTSPOT, DONE_LONG_AGO]
    assert wide["items"][1]["state"] == "closed" and wide["items"][1]["closed_at"]
    assert wide["items"][2]["place_kind"] == "asset" and wide["items"][2]["place_id"] == "JG-1"
    narrow = client.get("/api/v1/hotspots", params={"include_closed": "true", "days": 1}).json()
    assert [s["case_id"] for s in narrow["items"]] == [HOTSPOT]  # closed before the last day
    assert client.get("/api/v1/hotspots", params={"days": 0}).status_code == 422
