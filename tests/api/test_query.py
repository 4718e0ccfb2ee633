from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from services.api.cases.models import CaseFilters
from services.api.cases.query import case_query


def test_no_filters_shows_the_work_to_do() -> None:
    assert case_query(CaseFilters()) == {
        "bool": {
            "filter": [],
            "must": [{"match_all": {}}],
            "must_not": [{"terms": {"state": ["closed", "invalid", "merged"]}}],
        }
    }


def test_a_state_filter_can_find_finished_cases() -> None:
    q = case_query(CaseFilters(state=["closed", "merged"]))  # type: ignore[list-item]  # pydantic parses the strings
    assert q["bool"]["filter"] == [{"terms": {"state": ["closed", "merged"]}}]
    assert "must_not" not in q["bool"]


def test_unknown_filter_values_are_refused_with_the_allowed_ones() -> None:
    for field, value in (("state", ["bogus"]), ("sla_state", "late"), ("priority", "asap")):
        with pytest.raises(ValidationError) as caught:
            CaseFilters(**{field: value})
        assert "Input should be" in str(caught.value)


def test_filters_become_term_clauses() -> None:
    q = case_query(
        CaseFilters(
            state=["pending"],  # type: ignore[list-item]  # pydantic parses the strings
            department="water",
            town="nicheng",
            auto_dispatched=False,
            created_from=datetime(2026, 11, 1, tzinfo=UTC),
        )
    )
    clauses = q["bool"]["filter"]
    assert {"terms": {"state": ["pending"]}} in clauses
    assert {"term": {"department": "water"}} in clauses
    assert {"term": {"town": "nicheng"}} in clauses
    assert {"term": {"auto_dispatched": False}} in clauses
    assert {"range": {"created_at": {"gte": "2026-11-01T00:00:00+00:00"}}} in clauses


def test_user_text_is_only_ever_a_match_value() -> None:
    hostile = 'x" OR state:* } {"script": 1'
    q = case_query(CaseFilters(q=hostile))
    assert q["bool"]["must"] == [{"multi_match": {"query": hostile, "fields": ["text", "address"]}}]
