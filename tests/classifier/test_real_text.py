"""Measuring on real messages: the fixed topic map, the two halves, the outcome figures,
and (when the real folder is on this machine) the shipped model's recorded figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cityops import taxonomy
from services.classifier.model.predictor import Predictor
from services.classifier.model.training import Dataset
from services.classifier.real_text import (
    RealSet,
    ZeroShot,
    calibration_check,
    conformal_measure,
    curve,
    mapped,
    real_sets,
    reliability,
    report_measure,
    split_of,
    topic_map,
    zero_shot,
)
from services.classifier.routing import Decision

TAX = taxonomy.load()


def test_every_department_maps_onto_exactly_one_real_label() -> None:
    topics = topic_map()
    assert set(topics) == {d.code for d in TAX.departments}
    assert all(isinstance(label, str) and label for label in topics.values())


def test_the_halves_are_disjoint_stable_and_about_even() -> None:
    keys = [str(i) for i in range(2000)]
    parts = [split_of(k) for k in keys]
    assert set(parts) == {"calibration", "report"}
    assert 900 < parts.count("calibration") < 1100
    assert parts == [split_of(k) for k in keys]  # a pure function of the id


def test_a_missing_folder_gives_no_sets(tmp_path: Path) -> None:
    assert real_sets(tmp_path / "absent") == []


def _decision(department: str, confidence: float) -> Decision:
    return Decision("C0101", department, confidence, [])


def test_zero_shot_counts_topics_and_misrouted_share() -> None:
    topics = {"water": "城建", "traffic_police": "交通"}
    decisions = [
        _decision("water", 0.9),
        _decision("traffic_police", 0.95),
        _decision("water", 0.4),
        _decision("traffic_police", 0.3),
    ]
    outcome = zero_shot(decisions, ["城建", "城建", "交通", "交通"], topics)
    assert outcome.correct == [True, False, False, True]
    assert outcome.accuracy() == 0.5
    assert outcome.at(0.8) == {
        "threshold": 0.8,
        "precision": 0.5,
        "coverage": 0.5,
        "misrouted": 0.25,
    }


def test_curve_and_reliability_of_a_known_outcome() -> None:
    outcome = ZeroShot([0.95, 0.85, 0.55, 0.15], [True, True, False, True])
    points = curve(outcome, points=4)
    assert [p["coverage"] for p in points] == [0.25, 0.5, 0.75, 1.0]
    assert [p["precision"] for p in points] == [1.0, 1.0, round(2 / 3, 4), 0.75]
    bins = reliability(outcome, bins=2)
    assert [(b["count"], b["accuracy"]) for b in bins] == [(1, 1.0), (3, round(2 / 3, 4))]


def test_the_shipped_model_scores_on_the_real_report_half_as_recorded() -> None:
    sets = real_sets()
    if not sets:
        pytest.skip("the real development messages are not on this machine")
    predictor = Predictor.load(None, TAX)
    recorded = predictor.manifest.metrics.get("real_report")
    assert recorded, "the shipped model was calibrated without the real messages"
    assert report_measure(predictor, sets, topic_map()) == recorded


def test_only_sets_labelled_with_mapped_fields_are_measured() -> None:
    topics = {"water": "城建", "traffic_police": "交通"}
    ours = RealSet("ours", ["1", "2", "3"], Dataset(["a", "b", "c"], ["城建", "交通", "其他"]))
    other = RealSet("other", ["1", "2"], Dataset(["a", "b"], ["roads", "parks"]))
    assert mapped([ours, other], topics) == [ours]
    assert calibration_check([other], topics) is None


def test_conformal_sets_from_the_calibration_half_hold_the_field_on_the_report_half() -> None:
    """Split-conformal sets keep their promise on exchangeable real messages, and a
    one-department set is not a pocket of right answers (docs/router.md, conformal)."""
    sets = mapped(real_sets(), topic_map())
    if not sets:
        pytest.skip("the real development messages are not on this machine")
    predictor = Predictor.load(None, TAX)
    no_written: tuple[list[Any], list[float], list[str]] = ([], [], [])
    rows = conformal_measure(predictor, sets[0], topic_map(), no_written, alphas=(0.1, 0.2))
    for row in (r for r in rows if r["scores_from"] == "real"):
        assert row["set_covers_topic"] >= 1 - row["alpha"] - 0.03
        assert row["singleton"]["precision"] < 0.8
