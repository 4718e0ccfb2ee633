from datetime import UTC, datetime

from cityops import jurisdiction, taxonomy
from cityops.contracts import Actor, CaseSource, GeoPoint, Role, SourceType
from services.classifier.routing import KeywordScorer, apply_hint, decide, route

TAX = taxonomy.load()
PLACES = jurisdiction.load()
NOW = datetime(2026, 11, 28, tzinfo=UTC)


def source(
    text: str, lat: float = 30.905, lon: float = 121.935, hint: str | None = None
) -> CaseSource:
    return CaseSource(
        source_type=SourceType.CITIZEN_APP,
        source_id="r1",
        text=text,
        location=GeoPoint(lat=lat, lon=lon),
        category_hint=hint,
        reporter=Actor(id="c1", role=Role.CITIZEN),
        occurred_at=NOW,
        received_at=NOW,
    )


def leaf_with_keyword() -> tuple[str, str]:
    leaf = next(leaf for leaf in TAX.leaves if leaf.keywords)
    return leaf.code, leaf.keywords[0]


def test_keyword_routes_to_its_class_department_and_town() -> None:
    code, word = leaf_with_keyword()
    result = route(source(f"门口{word}，请处理"), KeywordScorer(TAX), TAX, PLACES, 0.3)
    assert result.category == code
    assert result.department == TAX.leaf(code).department
    assert result.town == "nanhui_xincheng"
    assert result.grid is not None
    assert 1 <= len(result.top) <= 3
    assert result.top[0].confidence == result.confidence


def test_text_without_any_keyword_abstains() -> None:
    result = route(source("嗯嗯嗯"), KeywordScorer(TAX), TAX, PLACES, 0.3)
    assert result.abstained
    assert result.confidence == 0.0


def test_location_outside_every_town_abstains_without_guessing() -> None:
    _, word = leaf_with_keyword()
    result = route(source(word, lat=31.2304, lon=121.4737), KeywordScorer(TAX), TAX, PLACES, 0.0)
    assert result.town is None and result.grid is None
    assert result.abstained


def test_category_hint_raises_its_class() -> None:
    ranked = [("A", 0.4), ("B", 0.35), ("C", 0.05)]
    boosted = apply_hint(ranked, "B")
    assert boosted[0][0] == "B"
    assert abs(sum(p for _, p in boosted) - 0.8) < 1e-9
    assert apply_hint(ranked, "Z") == ranked and apply_hint(ranked, None) == ranked


def test_department_probability_adds_up_its_classes() -> None:
    ranked = [("A", 0.4), ("B", 0.35), ("C", 0.25)]
    decision = decide(ranked, {"A": "water", "B": "police", "C": "police"})
    assert decision.department == "police" and decision.category == "B"
    assert abs(decision.confidence - 0.6) < 1e-9
    assert [t[0] for t in decision.top] == ["A", "B", "C"]
