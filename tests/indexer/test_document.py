from datetime import UTC, datetime

from cityops import taxonomy
from services.dispatch.case_ids import open_command
from services.dispatch.workflow import decide
from services.indexer.document import fold, fold_all
from tests.dispatch.test_workflow import classified, dispatch

TAX = taxonomy.load()


def events_of_a_dispatched_case() -> list:
    opened = decide(None, open_command(classified(abstained=True)), TAX)
    assert opened.case is not None
    dispatched = decide(opened.case, dispatch(opened.case.case_id), TAX)
    return opened.events + dispatched.events


def test_fold_builds_the_document_with_a_timeline() -> None:
    doc = fold_all(None, events_of_a_dispatched_case())
    assert doc is not None
    assert doc["state"] == "dispatched" and doc["seq"] == 3
    assert doc["department"] == "water" and doc["auto_dispatched"] is False
    assert [t["kind"] for t in doc["timeline"]] == ["opened", "registered", "dispatched"]
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
