"""The overview's open-case counts, without a server: the query counts what the queue
shows, and the worst classes are those with the most cases past their deadline."""

from types import SimpleNamespace
from typing import Any

from cityops import taxonomy
from services.api.overview.counts import ClassCount, by_dimension, by_grid, open_counts_query, worst
from services.api.overview.service import OverviewService


def aggs() -> dict[str, Any]:
    def cls(code: str, n: int, late: int) -> dict[str, Any]:
        return {"key": code, "doc_count": n, "breached": {"doc_count": late}}

    return {
        "grids": {"buckets": [
            {"key": "laogang-013", "doc_count": 3}, {"key": "nicheng-001", "doc_count": 1}]},
        "dimensions": {
            "buckets": [
                {"key": "宁", "doc_count": 9, "classes": {"buckets": [
                    cls("E0502", 5, 0), cls("C0201", 3, 2), cls("C0604", 1, 0)]}},
            ]
        },
    }  # fmt: skip


def test_open_means_what_the_queue_shows_without_a_state_filter() -> None:
    query = open_counts_query()["query"]
    assert query == {"bool": {"must_not": [{"terms": {"state": ["closed", "invalid", "merged"]}}]}}


def test_counts_per_grid_and_dimension_are_read_back() -> None:
    assert by_grid(aggs()) == {"laogang-013": 3, "nicheng-001": 1}
    [(dim, (n, classes))] = by_dimension(aggs()).items()
    assert (dim, n) == ("宁", 9)
    assert ClassCount("C0201", 3, 2) in classes
    assert by_grid({}) == {} and by_dimension({}) == {}


def test_the_worst_classes_are_past_deadline_first_then_most_open() -> None:
    classes = [ClassCount("B", 5, 0), ClassCount("A", 1, 1), ClassCount("C", 5, 0)]
    assert [c.category for c in worst(classes, 2)] == ["A", "B"]


def test_every_dimension_is_present_with_its_named_worst_classes() -> None:
    service = OverviewService(SimpleNamespace(taxonomy=taxonomy.load()))  # type: ignore[arg-type]  # only the taxonomy is read
    found = service.present(9, aggs(), worst=2)
    assert [d.dimension for d in found.dimensions] == ["净", "畅", "宁", "和", "美"]
    safe = found.dimensions[2]
    assert safe.open == 9
    assert [(c.category, c.breached) for c in safe.worst_classes] == [("C0201", 2), ("E0502", 0)]
    assert safe.worst_classes[0].category_name == taxonomy.load().leaf("C0201").name
    assert found.dimensions[0].open == 0 and found.dimensions[0].worst_classes == []
