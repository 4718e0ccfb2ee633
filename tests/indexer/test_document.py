import json
from datetime import UTC, datetime

from cityops import taxonomy
from cityops.search import MAX_MILESTONES, MAX_SOURCE_BRIEFS
from services.dispatch.case_ids import open_command
from services.dispatch.workflow import decide
from services.indexer.document import fold, fold_all
from services.indexer.timeline import entry
from tests.dispatch.test_workflow import classified, dispatch
from tests.indexer.builders import event, opened, sensor_context, sensor_source, source

TAX = taxonomy.load()


def events_of_a_dispatched_case() -> list:
    opened = decide(None, open_command(classified(abstained=True)), TAX)
    assert opened.case is not None
    dispatched = decide(opened.case, dispatch(opened.case.case_id), TAX)
    return opened.events + dispatched.events


def test_fold_builds_the_case_document_without_a_timeline() -> None:
    doc = fold_all(None, events_of_a_dispatched_case())
    assert doc is not None
    assert doc["state"] == "dispatched" and doc["seq"] == 3
    assert doc["department"] == "water" and doc["auto_dispatched"] is False
    assert "timeline" not in doc and "source_ids" not in doc
    assert [m["kind"] for m in doc["milestones"]] == ["opened", "registered", "dispatched"]
    assert doc["report_count"] == 1 and doc["town"] == "nanhui_xincheng"


def test_fold_ignores_events_already_in_the_document() -> None:
    events = events_of_a_dispatched_case()
    doc = fold_all(None, events)
    assert fold_all(doc, events) == doc
    assert fold(doc, events[0]) is doc


def test_fold_order_of_delivery_does_not_matter_within_a_batch() -> None:
    events = events_of_a_dispatched_case()
    assert fold_all(None, events[::-1]) == fold_all(None, events)


def test_attached_sources_count_reports() -> None:
    first = decide(None, open_command(classified(source_id="r1")), TAX)
    cmd = open_command(classified(source_id="r2")).model_copy(
        update={"case_id": first.case.case_id, "issued_at": datetime(2026, 11, 28, 5, tzinfo=UTC)}  # type: ignore[union-attr]
    )
    second = decide(first.case, cmd, TAX)
    doc = fold_all(None, first.events + second.events)
    assert doc is not None and doc["report_count"] == 2
    assert [s["source_id"] for s in doc["sources"]] == ["r1", "r2"]


def test_the_document_stays_bounded_however_long_the_case_lives() -> None:
    """500 attached reports and 500 events: the document keeps the first report and the
    latest ones, counts them all, and keeps a bounded digest of the timeline."""
    events = [opened("LGA", "r0")]
    for n in range(1, 500):
        events.append(
            event("LGA", n + 1, "source_attached", "pending", n, source=source(f"r{n}"),
                  report_count=n + 1)
        )  # fmt: skip
    doc = fold_all(None, events)
    assert doc is not None and doc["report_count"] == 500
    shown = [s["source_id"] for s in doc["sources"]]
    assert len(shown) == MAX_SOURCE_BRIEFS and shown[0] == "r0" and shown[-1] == "r499"
    assert len(doc["milestones"]) == MAX_MILESTONES
    assert doc["milestones"][0]["kind"] == "opened" and doc["milestones"][-1]["seq"] == 500
    assert len(repr(doc)) < 20_000


def test_a_detached_source_leaves_the_document() -> None:
    events = [
        opened("LGA", "r0"),
        event("LGA", 2, "source_attached", "pending", 1, source=source("r1", "sensor"),
              report_count=2),
        event("LGA", 3, "source_detached", "pending", 2, source_id="r1", report_count=1),
    ]  # fmt: skip
    doc = fold_all(None, events)
    assert doc is not None and doc["report_count"] == 1
    assert [s["source_id"] for s in doc["sources"]] == ["r0"]
    assert doc["source_types"] == ["citizen_app"]


def test_sla_state_comes_from_the_event_data() -> None:
    deadline = "2026-11-30T17:00:00+08:00"
    base = [opened("LGA", "r0", stage="register", deadline=deadline, sla_state="ok")]
    warned = [*base, event("LGA", 2, "sla_warning", "pending", 5, sla_state="warning")]
    doc = fold_all(None, warned)
    assert doc is not None and (doc["sla_state"], doc["sla_rank"]) == ("warning", 1)
    # an event with a deadline but no sla_state (an older event) keeps the current value
    later = event("LGA", 3, "registered", "registered", 6, stage="dispatch", deadline=deadline)
    assert fold(doc, later)["sla_state"] == "warning"
    # the workflow says a new clock is fine: the document follows it
    fresh = event("LGA", 3, "registered", "registered", 6, stage="dispatch", deadline=deadline,
                  sla_state="ok")  # fmt: skip
    assert fold(doc, fresh)["sla_state"] == "ok"
    breached = event("LGA", 3, "sla_breached", "pending", 7, priority="urgent",
                     sla_state="breached")  # fmt: skip
    assert fold(doc, breached)["sla_state"] == "breached"


def test_a_sensor_source_keeps_its_readings_for_the_chart() -> None:
    alarm = sensor_source("sensor:wl-001:waterlogging:1")
    events = [
        opened("LGA", "r0"),
        event("LGA", 2, "source_attached", "pending", 1, source=alarm, report_count=2),
    ]
    doc = fold_all(None, events)
    assert doc is not None and doc["source_types"] == ["citizen_app", "sensor"]
    human, sensor = doc["sources"]
    assert "sensor" not in human and human["occurred_at"]
    assert sensor["sensor"] == sensor_context("wl-001") and len(sensor["sensor"]["readings"]) == 64
    assert sensor["reporter"] == "wl-001"


def test_ten_sensor_briefs_stay_small() -> None:
    events = [opened("LGA", "r0")]
    for n in range(1, 30):
        src = sensor_source(f"sensor:wl-{n:03d}:waterlogging:1", f"wl-{n:03d}")
        events.append(event("LGA", n + 1, "source_attached", "pending", n, source=src))
    doc = fold_all(None, events)
    assert doc is not None and len(doc["sources"]) == MAX_SOURCE_BRIEFS
    assert len(json.dumps(doc, ensure_ascii=False)) < 80_000


def test_a_sensor_verified_entry_keeps_its_readings() -> None:
    readings = sensor_context()["readings"]
    verified = event("LGA", 5, "sensor_verified", "dispatched", 5, source_id="sensor:wl-001:w:1",
                     text="积水已退", by="sensor", device_id="wl-001", metric="water_depth_cm",
                     unit="cm", threshold=15.0, readings=readings)  # fmt: skip
    data = entry(verified)["data"]
    assert data["readings"] == readings and data["threshold"] == 15.0 and data["unit"] == "cm"
    assert data["device_id"] == "wl-001"
