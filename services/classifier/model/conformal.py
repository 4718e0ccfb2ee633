"""Split-conformal department sets: "auto only when one department is certain". Pure.

The score of a calibration example is ``1 - p``, where ``p`` is the model's (gated)
probability of its true department; for a real message labelled only with a platform's
field, ``p`` is the largest probability of a department that maps onto that field (so the
set "covers" the message when it holds a department of the right field). With ``n`` scores
and error rate ``alpha`` the quantile ``qhat`` is the ⌈(n+1)(1-alpha)⌉-th smallest score,
and a message's set is every department with probability at least ``1 - qhat``: on data
exchangeable with the calibration set it holds the true department with probability at
least ``1 - alpha``. A message whose set has exactly one department may be dispatched by
itself (together with the threshold and familiarity gate).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

Ranked = list[tuple[str, float]]


def by_department(ranked: Ranked, department_of: dict[str, str]) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for code, p in ranked:
        out[department_of[code]] += p
    return dict(out)


def score(probabilities: dict[str, float], truth: str) -> float:
    return 1.0 - probabilities.get(truth, 0.0)


def topic_score(probabilities: dict[str, float], topic: str, topics: dict[str, str]) -> float:
    """``1 -`` the largest probability of a department that maps onto ``topic``."""
    inside = [p for d, p in probabilities.items() if topics.get(d) == topic]
    return 1.0 - max(inside, default=0.0)


def quantile(scores: Sequence[float], alpha: float) -> float:
    """The conformal quantile: the ⌈(n+1)(1-alpha)⌉-th smallest score; 1.0 (every
    department in every set) when there are too few scores for ``alpha``."""
    rank = math.ceil((len(scores) + 1) * (1.0 - alpha))
    if rank > len(scores):
        return 1.0
    return sorted(scores)[rank - 1]


def prediction_set(probabilities: dict[str, float], qhat: float) -> list[str]:
    """Departments with probability at least ``1 - qhat``, most probable first."""
    cut = 1.0 - qhat
    return sorted(
        (d for d, p in probabilities.items() if p >= cut), key=lambda d: -probabilities[d]
    )


def singleton(probabilities: dict[str, float], qhat: float) -> bool:
    return len(prediction_set(probabilities, qhat)) == 1
