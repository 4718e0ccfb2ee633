import json
from typing import Any

import pytest

from cityops.contracts import (
    CaseClassified,
    CaseCommand,
    CaseEvent,
    DeadLetter,
    DispatchCase,
    ReportSubmitted,
    SensorReading,
    Topics,
)
from cityops.contracts.events import TOPIC_MODELS
from cityops.errors import InvalidMessage, UnsupportedSchema
from cityops.kafka import decode, encode
from tests.conftest import DATA

GOLDEN = [
    ("report_submitted.v1.json", ReportSubmitted),
    ("sensor_reading.v1.json", SensorReading),
    ("case_classified.v1.json", CaseClassified),
    ("case_command.dispatch.v1.json", CaseCommand),
    ("case_event.dispatched.v1.json", CaseEvent),
    ("dead_letter.v1.json", DeadLetter),
]


@pytest.mark.parametrize(("name", "model"), GOLDEN)
def test_golden_examples_decode_and_round_trip(name: str, model: type) -> None:
    raw = (DATA / name).read_bytes()
    parsed = decode(model, raw)
    assert decode(model, encode(parsed)) == parsed
    # Comparing the model with itself cannot see a field that was renamed, dropped or
    # rewritten on the way: compare the bytes on the wire with the golden file instead.
    assert_same_json(json.loads(raw), json.loads(encode(parsed)), name)


def assert_same_json(golden: Any, encoded: Any, where: str) -> None:
    """Equal, except that optional fields the golden file leaves out are encoded as null."""
    if isinstance(golden, dict):
        assert isinstance(encoded, dict), where
        for key in golden.keys() | encoded.keys():
            if key not in golden:
                assert encoded[key] is None, f"{where}.{key}"
            else:
                assert key in encoded, f"{where}.{key} is not encoded"
                assert_same_json(golden[key], encoded[key], f"{where}.{key}")
    elif isinstance(golden, list):
        assert isinstance(encoded, list) and len(encoded) == len(golden), where
        for i, (g, e) in enumerate(zip(golden, encoded, strict=True)):
            assert_same_json(g, e, f"{where}[{i}]")
    else:
        assert encoded == golden, where


def test_every_topic_has_one_model_with_a_schema_version() -> None:
    base_topics = {t for t in Topics().all() if not t.startswith("deadletter.")}
    assert set(TOPIC_MODELS) == base_topics
    for model in TOPIC_MODELS.values():
        assert "schema_version" in model.model_fields


def test_unknown_schema_version_is_refused_with_reason() -> None:
    data = json.loads((DATA / "report_submitted.v1.json").read_text())
    data["schema_version"] = 2
    with pytest.raises(UnsupportedSchema, match="schema_version 2"):
        decode(ReportSubmitted, json.dumps(data).encode())


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json", "not JSON"),
        (b"[1]", "not a JSON object"),
        (None, "tombstone"),
        (b'{"schema_version": 1}', "report_id"),
    ],
)
def test_bad_values_raise_invalid_message(raw: bytes | None, reason: str) -> None:
    with pytest.raises(InvalidMessage, match=reason):
        decode(ReportSubmitted, raw)


def test_naive_timestamps_are_rejected() -> None:
    data = json.loads((DATA / "report_submitted.v1.json").read_text())
    data["occurred_at"] = "2026-11-28T09:12:00"
    with pytest.raises(InvalidMessage, match="timezone"):
        decode(ReportSubmitted, json.dumps(data).encode())


def test_command_body_is_discriminated_by_kind() -> None:
    command = decode(CaseCommand, (DATA / "case_command.dispatch.v1.json").read_bytes())
    assert isinstance(command.body, DispatchCase)
    assert command.body.department == "water"


def test_topic_prefix_applies_to_every_topic() -> None:
    topics = Topics("t1.")
    assert "reports.submitted" in Topics().all()  # so the comparison below is not of empties
    assert sorted(topics.all()) == sorted(f"t1.{name}" for name in Topics().all())
    assert topics.dead_letter("classifier") == "t1.deadletter.classifier"
    with pytest.raises(ValueError):
        topics.dead_letter("nobody")
