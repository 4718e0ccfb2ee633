"""Split-conformal department sets (model/conformal.py)."""

from __future__ import annotations

import random

from services.classifier.model.conformal import (
    by_department,
    prediction_set,
    quantile,
    score,
    singleton,
    topic_score,
)


def test_quantile_is_the_finite_sample_rank() -> None:
    scores = [0.1 * i for i in range(1, 10)]  # 9 scores
    # ceil(10 * 0.8) = 8th smallest
    assert quantile(scores, 0.2) == scores[7]
    assert quantile(scores, 0.05) == 1.0  # ceil(10 * 0.95) = 10 > 9: too few for 5%


def test_sets_cover_at_least_one_minus_alpha_on_exchangeable_data() -> None:
    rng = random.Random(1)

    def example() -> tuple[dict[str, float], str]:
        p = rng.random()
        truth = "a" if rng.random() < p else "b"
        return {"a": p, "b": 1 - p}, truth

    calibration = [example() for _ in range(2000)]
    qhat = quantile([score(p, y) for p, y in calibration], 0.1)
    test = [example() for _ in range(2000)]
    covered = sum(y in prediction_set(p, qhat) for p, y in test) / len(test)
    assert covered >= 0.88


def test_sets_singletons_and_department_sums() -> None:
    ranked = [("c1", 0.5), ("c2", 0.3), ("c3", 0.15)]
    probabilities = by_department(ranked, {"c1": "water", "c2": "water", "c3": "police"})
    assert probabilities == {"water": 0.8, "police": 0.15}
    assert prediction_set(probabilities, 0.9) == ["water", "police"]
    assert not singleton(probabilities, 0.9)
    assert singleton(probabilities, 0.5)
    assert prediction_set(probabilities, 0.1) == []  # nothing is that certain: a dispatcher


def test_topic_score_takes_the_best_department_of_the_topic() -> None:
    probabilities = {"water": 0.2, "roads": 0.5, "police": 0.3}
    topics = {"water": "城建", "roads": "城建", "police": "治安"}
    assert topic_score(probabilities, "城建", topics) == 0.5
    assert round(topic_score(probabilities, "治安", topics), 6) == 0.7
    assert topic_score(probabilities, "金融", topics) == 1.0
