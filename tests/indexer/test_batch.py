"""Planning the bulk request of one batch: pure, no Elasticsearch."""

from cityops.search import ReadModel
from services.indexer.batch import Targets, operations, plan
from services.indexer.document import fold_all
from tests.indexer.builders import event, opened, outcome, source

TO = Targets.aliases(ReadModel("p"))


def by_index(writes):  # type: ignore[no-untyped-def]
    found: dict[str, list] = {}
    for w in writes:
        found.setdefault(w.meta["_index"], []).append(w)
    return found


def test_one_case_write_per_case_per_batch_and_one_create_per_event() -> None:
    items = [
        opened("LGA", "ra"),
        event("LGA", 2, "registered", "registered", 1),
        opened("LGB", "rb"),
        event("LGA", 3, "dispatched", "dispatched", 2, department="water"),
        event("LGA", 3, "dispatched", "dispatched", 2, department="water"),  # redelivered
    ]
    found = by_index(plan(items, {}, TO))
    cases = {w.meta["_id"]: w for w in found["p-cases"]}
    assert set(cases) == {"LGA", "LGB"}
    assert cases["LGA"].doc["seq"] == 3 and cases["LGA"].meta["version"] == 3
    assert cases["LGA"].origins == (0, 1, 3, 4)
    events = found["p-events"]
    assert sorted(w.meta["_id"] for w in events) == ["LGA:1", "LGA:2", "LGA:3", "LGB:1"]
    assert all(w.op == "create" for w in events)
    assert next(w for w in events if w.meta["_id"] == "LGA:1").doc["data"]["source_id"] == "ra"
    assert {w.meta["_id"]: w.doc["case_id"] for w in found["p-sources"]} == {
        "ra": "LGA",
        "rb": "LGB",
    }


def test_events_already_folded_write_no_case_document() -> None:
    items = [opened("LGA", "ra"), event("LGA", 2, "registered", "registered", 1)]
    current = {"LGA": fold_all(None, items)}
    found = by_index(plan(items, current, TO))  # type: ignore[arg-type]
    assert "p-cases" not in found and len(found["p-events"]) == 2


def test_a_merged_source_goes_to_the_case_that_received_it_last() -> None:
    merged = event("LGB", 2, "sources_merged", "pending", 30, from_case_id="LGA",
                   sources=[source("ra")], report_count=2)  # fmt: skip
    for items in ([opened("LGA", "ra"), merged], [merged, opened("LGA", "ra")]):
        [write] = by_index(plan(items, {}, TO))["p-sources"]
        assert write.doc["case_id"] == "LGB" and write.meta["version_type"] == "external"
        assert write.meta["version"] == int(merged.at.timestamp() * 1_000_000)


def test_a_decision_outranks_unknown_case_and_duplicate() -> None:
    items = [
        outcome("LGA", "c1", "unknown_case"),
        outcome("LGA", "c1", "applied", first_seq=4, last_seq=5),
        outcome("LGA", "c1", "duplicate"),
    ]
    [write] = by_index(plan(items, {}, TO))["p-commands"]
    assert write.meta["_id"] == "LGA:c1" and write.doc["status"] == "applied"
    assert write.meta["version_type"] == "external_gte" and write.origins == (1,)
    assert write.doc["first_seq"] == 4 and write.doc["actor"]["role"] == "system"
    [dup] = plan([items[2]], {}, TO)
    assert dup.meta["version"] < write.meta["version"]


def test_operations_pair_each_action_with_its_document() -> None:
    writes = plan([opened("LGA", "ra")], {}, TO)
    ops = operations(writes)
    assert len(ops) == 2 * len(writes)
    assert ops[0] == {"index": writes[0].meta} and ops[1] is writes[0].doc
