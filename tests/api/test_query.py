from datetime import UTC, datetime

from services.api.cases.models import CaseFilters
from services.api.cases.query import case_query


def test_no_filters_matches_all() -> None:
    assert case_query(CaseFilters()) == {"bool": {"filter": [], "must": [{"match_all": {}}]}}


def test_filters_become_term_clauses() -> None:
    q = case_query(
        CaseFilters(
            state=["pending"],
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
