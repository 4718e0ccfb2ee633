"""The routing decision: which class, which department, where. Pure, no I/O.

A :class:`Scorer` ranks taxonomy classes for a text; :func:`route` turns the ranking and
the location into a :class:`~cityops.contracts.Classification`, abstaining when the top
class is below the auto-dispatch threshold or the location is outside every town.
"""

from __future__ import annotations

from typing import Protocol

from cityops.contracts import CaseSource, Classification, Suggestion
from cityops.jurisdiction import Jurisdictions
from cityops.taxonomy import Taxonomy

TOP_K = 3


class Scorer(Protocol):
    version: str

    def rank(self, text: str, hint: str | None) -> list[tuple[str, float]]:
        """Leaf codes with probabilities, best first (probabilities sum to at most 1)."""


class KeywordScorer:
    """The first router: counts taxonomy keywords in the text.

    It is a stand-in until a trained model ships (``cityops router train``); its
    confidence is a share of keyword hits, not a calibrated probability.
    """

    version = "keywords-1"

    def __init__(self, taxonomy: Taxonomy, fallback: str | None = None) -> None:
        self.taxonomy = taxonomy
        self.fallback = fallback or taxonomy.leaves[-1].code
        self._keywords = [(leaf.code, leaf.keywords) for leaf in taxonomy.leaves]

    def rank(self, text: str, hint: str | None) -> list[tuple[str, float]]:
        scores: dict[str, float] = {}
        for code, words in self._keywords:
            hits = sum(len(w) for w in words if w in text)
            if hits:
                scores[code] = float(hits)
        if hint and self.taxonomy.has_leaf(hint):
            scores[hint] = scores.get(hint, 0.0) + 2.0
        if not scores:
            return [(self.fallback, 0.0)]
        total = sum(scores.values()) + 1.0  # the +1 leaves room for "none of these"
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
        return [(code, score / total) for code, score in ranked]


def route(
    source: CaseSource,
    scorer: Scorer,
    taxonomy: Taxonomy,
    places: Jurisdictions,
    threshold: float,
) -> Classification:
    ranked = scorer.rank(source.text, source.category_hint)[:TOP_K]
    top = tuple(
        Suggestion(
            category=code,
            category_name=taxonomy.leaf(code).name,
            department=taxonomy.leaf(code).department,
            confidence=round(min(max(p, 0.0), 1.0), 4),
        )
        for code, p in ranked
    )
    best = taxonomy.leaf(top[0].category)
    where = places.locate(source.location.lat, source.location.lon)
    return Classification(
        category=best.code,
        category_name=best.name,
        department=best.department,
        dimension=best.dimension,
        priority=best.priority,
        town=where.town.code if where else None,
        grid=where.grid.code if where and where.grid else None,
        confidence=top[0].confidence,
        top=top,
        abstained=top[0].confidence < threshold or where is None,
        model_version=scorer.version,
    )
