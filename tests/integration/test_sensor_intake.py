"""Device registry and sensor reading intake over HTTP, against the stand-in broker:
registration answers the key once, a CSV import tells each refused row's line, a batch is
answered reading by reading and the accepted ones are on ``sensor.readings`` keyed by
device id; wrong keys, oversized batches and fast senders are refused."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cityops.contracts import SensorReading
from cityops.kafka import decode, ensure_topics, make_consumer
from services.api.settings import ApiSettings
from services.sensors import keys
from services.sensors.keys import Pepper
from tests.conftest import Infra
from tests.people import api_client

pytestmark = pytest.mark.integration

PEPPER = Pepper("p1", b"integration-pepper-0123456789abcdef")
GATEWAY_KEY, GATEWAY_HASH = keys.issue(PEPPER)
ADMIN = {"X-Admin-Token": "admin-secret"}
POINT = {"lat": 30.8991, "lon": 121.9102}


def make_settings(infra: Infra, prefix: str, **extra: Any) -> ApiSettings:
    settings = ApiSettings(
        **infra.settings(  # type: ignore[arg-type]
            prefix,
            admin_token="admin-secret",
            sensor_key_pepper=PEPPER.secret.decode(),
            sensor_gateway_keys={"gw-1": GATEWAY_HASH},
            **extra,
        )
    )
    ensure_topics(settings, settings.topics.all())
    return settings


def running(settings: ApiSettings) -> Iterator[TestClient]:
    with api_client(settings, who=None) as client:
        for _ in range(300):  # the producer connects and the registry is read in the background
            loaded = client.app.state.registry.loaded.is_set()  # type: ignore[attr-defined]
            if loaded and client.get("/readyz").status_code == 200:
                break
            time.sleep(0.1)
        yield client


@pytest.fixture
def api_settings(infra: Infra, prefix: str) -> ApiSettings:
    return make_settings(infra, prefix)


@pytest.fixture
def client(api_settings: ApiSettings) -> Iterator[TestClient]:
    yield from running(api_settings)


def water_level(device_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "device_id": device_id,
        "type": "water_level",
        "location": POINT,
        "maintainer": "临港水务",
        **extra,
    }


def reading(device_id: str, reading_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "reading_id": reading_id,
        "device_id": device_id,
        "device_type": "water_level",
        "metric": "water_depth_cm",
        "value": 12.5,
        "unit": "cm",
        "observed_at": "2026-11-28T01:00:00+08:00",
        **extra,
    }


def register(client: TestClient, device_id: str, **extra: Any) -> str:
    answer = client.post("/api/v1/devices", json=water_level(device_id, **extra), headers=ADMIN)
    assert answer.status_code == 201, answer.text
    key: str = answer.json()["api_key"]
    return key


async def read_readings(settings: ApiSettings, n: int) -> list[tuple[bytes, SensorReading]]:
    consumer = make_consumer(settings, "test-reader", [settings.topics.sensor_readings])
    await consumer.start()
    found: list[tuple[bytes, SensorReading]] = []
    try:
        for _ in range(60):
            batch = await consumer.getmany(timeout_ms=500)
            found += [
                (r.key or b"", decode(SensorReading, r.value)) for rs in batch.values() for r in rs
            ]
            if len(found) >= n:
                break
    finally:
        await consumer.stop()
    return found


def test_a_device_registers_once_with_its_key_shown_once(client: TestClient) -> None:
    assert client.post("/api/v1/devices", json=water_level("wl-a")).status_code == 401
    answer = client.post("/api/v1/devices", json=water_level("wl-a"), headers=ADMIN)
    assert answer.status_code == 201
    body = answer.json()
    assert body["api_key"].startswith(keys.KEY_PREFIX) and body["device"]["has_key"]
    assert body["device"]["device"]["town"] and "api_key" not in body["device"]["device"]
    shown = client.get("/api/v1/devices/wl-a", headers=ADMIN)
    assert shown.status_code == 200 and body["api_key"] not in shown.text
    assert "digest" not in shown.text and shown.json()["has_key"]
    again = client.post("/api/v1/devices", json=water_level("wl-a"), headers=ADMIN)
    assert again.status_code == 409 and "replace=true" in again.json()["detail"]
    replaced = client.post(
        "/api/v1/devices?replace=true",
        json=water_level("wl-a", maintainer="临港排水"),
        headers=ADMIN,
    )
    assert replaced.status_code == 201 and replaced.json()["api_key"] is None  # key kept
    assert replaced.json()["device"]["has_key"]
    far = client.post(
        "/api/v1/devices", json=water_level("wl-b", location={"lat": 0, "lon": 0},
                                            thresholds={"nope": {"raise": 1, "clear": 0}}),
        headers=ADMIN,
    )  # fmt: skip
    assert far.status_code == 422 and len(far.json()["errors"]) == 2
    assert client.get("/api/v1/devices/nope", headers=ADMIN).status_code == 404
    retired = client.delete("/api/v1/devices/wl-a", headers=ADMIN)
    assert retired.status_code == 200 and retired.json()["retired"]
    listed = client.get("/api/v1/devices?type=water_level&retired=true", headers=ADMIN).json()
    assert [d["device"]["device_id"] for d in listed] == ["wl-a"]


def test_a_csv_import_registers_good_rows_and_tells_each_bad_line(client: TestClient) -> None:
    csv = (
        "device_id,type,lat,lon,maintainer,api_key\n"
        "wl-c1,water_level,30.8991,121.9102,临港水务,\n"
        "wl-c2,water_level,abc,121.9102,临港水务,\n"
        f"wl-c3,water_level,30.8991,121.9102,临港水务,{'k' * 40}\n"
    )
    answer = client.post(
        "/api/v1/devices/import",
        content=csv.encode(),
        headers={**ADMIN, "content-type": "text/csv"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["registered"], body["refused"]) == (2, 1)
    rows = {r["line"]: r for r in body["results"]}
    assert rows[2]["status"] == "registered" and rows[2]["api_key"].startswith(keys.KEY_PREFIX)
    assert rows[3]["status"] == "refused" and rows[3]["device_id"] == "wl-c2"
    assert any("lat" in r for r in rows[3]["reasons"])
    assert rows[4]["status"] == "registered" and rows[4]["api_key"] is None  # its own key
    bad_header = client.post("/api/v1/devices/import", content=b"id,kind\n", headers=ADMIN)
    assert bad_header.status_code == 422 and "device_id" in bad_header.json()["detail"]


def test_a_batch_is_answered_reading_by_reading_and_accepted_ones_are_on_kafka(
    client: TestClient, api_settings: ApiSettings
) -> None:
    key = register(client, "wl-r1")
    other_key = register(client, "wl-r2")
    register(client, "wl-r3", gateway_id="gw-1", issue_key=False)
    batch = [
        reading("wl-r1", "r1-1"),
        reading("wl-r1", "r1-2", received_at="2026-11-28T01:00:02+08:00"),
        reading("wl-r1", "r1-3", value="deep"),
        reading("wl-zz", "zz-1"),
        reading("wl-r2", "r2-1"),
        reading("wl-r1", "r1-4", device_type="noise_meter"),
    ]
    answer = client.post("/api/v1/sensors/readings", json={"readings": batch},
                         headers={"X-Api-Key": key})  # fmt: skip
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["accepted"], body["refused"]) == (2, 4)
    reasons = [r["reason"] for r in body["results"]]
    assert reasons == [None, None, "malformed", "unknown_device", "not_authorised", "wrong_type"]
    assert [r["index"] for r in body["results"]] == list(range(6))
    through_gateway = client.post(
        "/api/v1/sensors/readings",
        json={"readings": [reading("wl-r3", "r3-1")]},
        headers={"X-Api-Key": GATEWAY_KEY},
    )
    assert through_gateway.status_code == 200 and through_gateway.json()["accepted"] == 1
    on_kafka = asyncio.run(read_readings(api_settings, 3))
    assert sorted((k.decode(), r.reading_id) for k, r in on_kafka) == [
        ("wl-r1", "r1-1"), ("wl-r1", "r1-2"), ("wl-r3", "r3-1")
    ]  # fmt: skip
    assert all(r.received_at is not None for _, r in on_kafka)
    for wrong in ({"X-Api-Key": other_key}, {"X-Api-Key": "cok_" + "0" * 64}, {}):
        refused = client.post(
            "/api/v1/sensors/readings", json={"readings": [reading("wl-r1", "x")]}, headers=wrong
        )
        assert refused.status_code == 401 and refused.json()["detail"]


def test_more_than_a_thousand_readings_are_refused_with_the_reason(client: TestClient) -> None:
    key = register(client, "wl-big")
    batch = [reading("wl-big", f"b-{i}") for i in range(1001)]
    answer = client.post("/api/v1/sensors/readings", json={"readings": batch},
                         headers={"X-Api-Key": key})  # fmt: skip
    assert answer.status_code == 413 and "1000" in answer.json()["detail"]
    assert client.post("/api/v1/sensors/readings", json={"readings": batch[:1000]},
                       headers={"X-Api-Key": key}).json()["accepted"] == 1000  # fmt: skip


def test_a_fast_sender_gets_429_with_retry_after(infra: Infra, prefix: str) -> None:
    settings = make_settings(infra, prefix, sensor_rate_per_s=0.5, sensor_burst=5)
    for client in running(settings):
        key = register(client, "wl-fast")
        batch = {"readings": [reading("wl-fast", f"f-{i}") for i in range(5)]}
        first = client.post("/api/v1/sensors/readings", json=batch, headers={"X-Api-Key": key})
        assert first.status_code == 200 and first.json()["accepted"] == 5
        again = client.post("/api/v1/sensors/readings", json=batch, headers={"X-Api-Key": key})
        assert again.status_code == 429 and int(again.headers["Retry-After"]) >= 9
        metrics = client.get("/metrics").text
        assert 'cityops_sensor_readings_received_total{result="accepted"}' in metrics


def test_a_gateway_key_is_issued_with_the_setting_that_stores_it(client: TestClient) -> None:
    answer = client.post("/api/v1/gateways", json={"gateway_id": "gw-9"}, headers=ADMIN)
    assert answer.status_code == 201
    body = answer.json()
    assert body["api_key"].startswith(keys.KEY_PREFIX)
    assert body["setting"].startswith('CITYOPS_SENSOR_GATEWAY_KEYS={"gw-9":')
    assert keys.verify(body["api_key"], keys.KeyHash(**body["key_hash"]), {"p1": PEPPER.secret})
