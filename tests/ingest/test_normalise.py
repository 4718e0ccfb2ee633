from datetime import UTC, datetime, timedelta

import pytest

from cityops.contracts import SourceType
from services.ingest.models import ReportCreate
from services.ingest.normalise import RejectedReport, clean_text, report_id_for, to_event

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


def body(**over: object) -> ReportCreate:
    data: dict[str, object] = {
        "idempotency_key": "key-00000001",
        "text": "  环湖西二路 路灯不亮\t\t了 ",
        "location": {"lat": 30.905, "lon": 121.93},
        "reporter": {"id": "gw-001", "role": "grid_worker"},
    }
    data.update(over)
    return ReportCreate.model_validate(data)


def test_same_reporter_and_key_give_the_same_report_id() -> None:
    assert report_id_for("gw-001", "k1") == report_id_for("gw-001", "k1")
    assert report_id_for("gw-001", "k1") != report_id_for("gw-002", "k1")
    assert report_id_for("gw-001", "k1") != report_id_for("gw-001", "k2")


def test_event_is_normalised() -> None:
    event = to_event(body(), NOW)
    assert event.text == "环湖西二路 路灯不亮 了"
    assert event.source_type is SourceType.GRID_WORKER
    assert event.occurred_at == NOW and event.received_at == NOW
    assert event.report_id == report_id_for("gw-001", "key-00000001")


def test_control_characters_are_removed() -> None:
    assert clean_text("a\x00b\x1fc") == "abc"


def test_whitespace_only_text_is_rejected() -> None:
    with pytest.raises(RejectedReport) as info:
        to_event(body(text=" \n\t "), NOW)
    assert info.value.field == "text"


@pytest.mark.parametrize("where", [{"lat": 0, "lon": 0}, {"lat": 39.9, "lon": 116.4}])
def test_locations_outside_shanghai_are_rejected(where: dict[str, float]) -> None:
    with pytest.raises(RejectedReport, match="服务范围"):
        to_event(body(location=where), NOW)


def test_future_and_stale_occurrence_times_are_rejected() -> None:
    with pytest.raises(RejectedReport, match="晚于"):
        to_event(body(occurred_at=(NOW + timedelta(hours=1)).isoformat()), NOW)
    with pytest.raises(RejectedReport, match="30 天"):
        to_event(body(occurred_at=(NOW - timedelta(days=31)).isoformat()), NOW)
    with pytest.raises(RejectedReport, match="时区"):
        to_event(body(occurred_at="2026-11-28T01:00:00"), NOW)


def test_roles_that_cannot_report_are_refused_by_the_schema() -> None:
    with pytest.raises(ValueError, match="cannot submit"):
        body(reporter={"id": "x", "role": "manager"})
