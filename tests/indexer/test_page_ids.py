from cityops.search import timeline_page_ids as page_ids


def test_the_latest_page_and_pages_further_back() -> None:
    assert page_ids("LGA", 120, None, 50) == [f"LGA:{s}" for s in range(71, 121)]
    assert page_ids("LGA", 120, 71, 50) == [f"LGA:{s}" for s in range(21, 71)]
    assert page_ids("LGA", 120, 21, 50) == [f"LGA:{s}" for s in range(1, 21)]
    assert page_ids("LGA", 120, 1, 50) == []
    assert page_ids("LGA", 3, 1000, 50) == ["LGA:1", "LGA:2", "LGA:3"]
