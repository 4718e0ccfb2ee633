"""services/sensors/refusals.py: malformed readings are refused with a reason, never lost."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from cityops.contracts import SensorReading
from services.sensors.refusals import Reason, Refused, parse, unknown_device
from tests.sensors.builders import T0, device, reading, run

GOLDEN = Path(__file__).parents[1] / "data" / "sensor_reading.v1.json"


def golden(**change: object) -> bytes:
    data = json.loads(GOLDEN.read_text())
    data.update(change)
    return json.dumps(data).encode()


def test_the_golden_reading_parses() -> None:
    assert isinstance(parse(GOLDEN.read_bytes()), SensorReading)


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (None, "tombstone"),
        (golden(schema_version=2), "schema_version"),
        (golden(observed_at="2026-11-28T01:00:00"), "timezone"),
        (golden(value="deep"), "value"),
        (golden(extra_field=1), "extra"),
    ],
)
def test_a_malformed_record_is_refused_with_the_reason(raw: bytes | None, words: str) -> None:
    refused = parse(raw)
    assert isinstance(refused, Refused) and refused.reason is Reason.MALFORMED
    assert words.lower() in refused.detail.lower()


def test_a_record_without_its_reading_id_is_refused() -> None:
    data = json.loads(GOLDEN.read_text())
    del data["reading_id"]
    refused = parse(json.dumps(data).encode())
    assert isinstance(refused, Refused) and "reading_id" in refused.detail


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"value": float("nan")}, Reason.NOT_FINITE),
        ({"value": float("inf")}, Reason.NOT_FINITE),
        ({"value": -1.0}, Reason.OUT_OF_RANGE),
        ({"value": 301.0}, Reason.OUT_OF_RANGE),
        ({"unit": "mm"}, Reason.WRONG_UNIT),
        ({"reading_id": "x" * 129}, Reason.MALFORMED),
        ({"observed_at": T0 + timedelta(minutes=10)}, Reason.FUTURE),
    ],
)
def test_a_reading_the_rule_cannot_use_is_refused(
    change: dict[str, object], reason: Reason
) -> None:
    dev = device()
    r = reading(dev, 10, T0, received_at=T0).model_copy(update=change)
    _state, out = run(dev, [r])
    assert len(out) == 1 and isinstance(out[0], Refused) and out[0].reason is reason
    assert out[0].reading_id == r.reading_id and out[0].device_id == dev.device_id


def test_nan_in_json_is_refused_not_judged() -> None:
    r = parse(golden(value=float("nan")))
    assert isinstance(r, SensorReading)  # the contract lets NaN through ...
    dev = device(device_id="wl-0042")
    _, out = run(dev, [r])
    assert (
        isinstance(out[0], Refused) and out[0].reason is Reason.NOT_FINITE
    )  # ... the rules do not


def test_a_reading_without_a_unit_is_taken_in_the_rule_unit() -> None:
    dev = device()
    _, out = run(dev, [reading(dev, 10, T0, unit=None)])
    assert out == []


def test_an_unknown_device_is_refused_by_name() -> None:
    r = parse(GOLDEN.read_bytes())
    assert isinstance(r, SensorReading)
    refused = unknown_device(r)
    assert (refused.reason, refused.device_id) == (Reason.UNKNOWN_DEVICE, "wl-0042")
