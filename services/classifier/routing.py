"""The routing decision: which class, which department, where. Pure, no I/O.

A :class:`Scorer` gives class probabilities for a text. :func:`decide` adds them up per
department (the department is what a dispatch gets right or wrong), picks the most
likely department and its most likely class, and keeps the top classes as suggestions.
:func:`route` adds the jurisdiction and abstains when the department's probability is
under the auto-dispatch threshold or the location is outside every town.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from cityops.contracts import CaseSource, Classification, Suggestion
from cityops.jurisdiction import Jurisdictions
from cityops.taxonomy import Taxonomy

TOP_K = 3
HINT_WEIGHT = 2.0  # a reporter's category hint doubles that class's odds, then renormalise

Ranked = list[tuple[str, float]]


class Scorer(Protocol):
    @property
    def version(self) -> str:
        """The model version recorded on every case it routes."""

    def rank(self, text: str) -> Ranked:
        """Taxonomy leaf codes with probabilities, best first (summing to at most 1)."""

    def rank_many(self, texts: Sequence[str]) -> list[Ranked]:
        """``rank`` of each text, in one call: a model scores a batch several times faster
        than the same texts one by one."""


@dataclass(frozen=True)
class Decision:
    category: str
    department: str
    confidence: float  # probability that the department is right
    top: list[tuple[str, str, float]]  # (category, department, probability)


def apply_hint(ranked: Ranked, hint: str | None) -> Ranked:
    if not hint or hint not in {code for code, _ in ranked}:
        return ranked
    boosted = [(c, p * HINT_WEIGHT if c == hint else p) for c, p in ranked]
    total = sum(p for _, p in boosted) or 1.0
    mass = sum(p for _, p in ranked)  # keep the "none of these" share a scorer left
    return sorted(((c, p / total * mass) for c, p in boosted), key=lambda cp: -cp[1])


def decide(ranked: Ranked, department_of: dict[str, str]) -> Decision:
    by_department: dict[str, float] = defaultdict(float)
    for code, p in ranked:
        by_department[department_of[code]] += p
    department = max(by_department, key=lambda d: (by_department[d], d))
    category = next(code for code, _ in ranked if department_of[code] == department)
    top = [(code, department_of[code], p) for code, p in ranked[:TOP_K]]
    return Decision(category, department, min(1.0, by_department[department]), top)


class KeywordScorer:
    """The fallback router: counts taxonomy keywords in the text.

    Its confidence is a share of keyword hits, not a calibrated probability; the trained
    model (``cityops router train``) replaces it.
    """

    version = "keywords-1"

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.fallback = taxonomy.leaves[-1].code
        self._keywords = [(leaf.code, leaf.keywords) for leaf in taxonomy.leaves]

    def rank(self, text: str) -> Ranked:
        scores = {}
        for code, words in self._keywords:
            hits = sum(len(w) for w in words if w in text)
            if hits:
                scores[code] = float(hits)
        if not scores:
            return [(self.fallback, 0.0)]
        total = sum(scores.values()) + 1.0  # the +1 leaves room for "none of these"
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
        return [(code, score / total) for code, score in ranked]

    def rank_many(self, texts: Sequence[str]) -> list[Ranked]:
        return [self.rank(text) for text in texts]


def route(
    source: CaseSource,
    scorer: Scorer,
    taxonomy: Taxonomy,
    places: Jurisdictions,
    threshold: float,
) -> Classification:
    return route_ranked(
        source, scorer.rank(source.text), scorer.version, taxonomy, places, threshold
    )


def route_ranked(
    source: CaseSource,
    ranked: Ranked,
    model_version: str,
    taxonomy: Taxonomy,
    places: Jurisdictions,
    threshold: float,
) -> Classification:
    """:func:`route` for a text the scorer already ranked (in a batch)."""
    ranked = apply_hint(ranked, source.category_hint)
    decision = decide(ranked, taxonomy.department_of)
    best = taxonomy.leaf(decision.category)
    where = places.locate(source.location.lat, source.location.lon)
    return Classification(
        category=best.code,
        category_name=best.name,
        department=decision.department,
        dimension=best.dimension,
        priority=best.priority,
        town=where.town.code if where else None,
        grid=where.grid.code if where and where.grid else None,
        confidence=round(decision.confidence, 4),
        top=tuple(
            Suggestion(
                category=c,
                category_name=taxonomy.leaf(c).name,
                department=d,
                confidence=round(min(max(p, 0.0), 1.0), 4),
            )
            for c, d, p in decision.top
        ),
        abstained=decision.confidence < threshold or where is None,
        model_version=model_version,
    )
