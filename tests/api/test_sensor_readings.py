"""services/api/sensors/readings.py: each reading of a batch judged on its own."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cityops.contracts.devices import Device, DeviceRegistered
from services.api.sensors.directory import Directory
from services.api.sensors.readings import Refusal, Verdict, judge
from tests.sensors.builders import device

NOW = datetime(2026, 7, 1, 4, 0, tzinfo=UTC)


def item(**kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reading_id": "r-1",
        "device_id": "wl-1",
        "device_type": "water_level",
        "metric": "water_depth_cm",
        "value": 12.5,
        "unit": "cm",
        "observed_at": "2026-07-01T11:59:00+08:00",
    }
    return {**body, **kw}


def directory(*records: DeviceRegistered) -> Directory:
    found = Directory()
    for record in records:
        found.apply(record)
    return found


def registered(dev: Device, retired: bool = False) -> DeviceRegistered:
    return DeviceRegistered(device=dev, registered_at=NOW, retired=retired)


def run(body: dict[str, Any], known: Directory, allowed: bool = True) -> Verdict:
    return judge(0, body, NOW, known.get, lambda _: allowed)


def test_a_good_reading_is_accepted_with_received_at_filled_in() -> None:
    verdict = run(item(), directory(registered(device())))
    assert verdict.reason is None and verdict.reading is not None
    assert verdict.reading.received_at == NOW and verdict.authorised
    given = run(item(received_at="2026-07-01T12:00:01+08:00"), directory(registered(device())))
    assert given.reading is not None and given.reading.received_at != NOW


def test_a_malformed_reading_is_refused_with_the_field() -> None:
    verdict = run(item(value="deep", extra=1), directory(registered(device())))
    assert verdict.reason == Refusal.MALFORMED and verdict.reading_id == "r-1"
    assert verdict.detail is not None and "value" in verdict.detail and "extra" in verdict.detail
    assert run(item(observed_at="2026-07-01T12:00:00"), directory()).reason == Refusal.MALFORMED


def test_unknown_retired_unauthorised_and_mistyped_devices_are_refused() -> None:
    known = directory(registered(device()), registered(device(device_id="wl-9"), retired=True))
    assert run(item(device_id="nope"), known).reason == Refusal.UNKNOWN_DEVICE
    assert run(item(device_id="wl-9"), known).reason == Refusal.DEVICE_RETIRED
    denied = run(item(), known, allowed=False)
    assert denied.reason == Refusal.NOT_AUTHORISED and not denied.authorised
    assert run(item(device_type="noise_meter"), known).reason == Refusal.WRONG_TYPE


def test_a_retired_device_is_refused_as_retired_only_to_its_key_holder() -> None:
    known = directory(registered(device(), retired=True))
    assert run(item(), known, allowed=False).reason == Refusal.NOT_AUTHORISED
