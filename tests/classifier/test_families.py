"""Model families of a custom model: inner folds that keep rare classes, the choice by
inner macro-F1, and each family's probabilities."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from services.classifier.model.families import (
    CANDIDATES,
    Family,
    describe,
    inner_splits,
    select,
    selectable,
)
from services.classifier.model.model import RouterModel

TOPICS = {
    "roads": ["路面有个大坑", "马路塌陷了", "道路破损严重", "人行道砖松动", "路面积水坑洼"],
    "lights": ["路灯不亮了", "晚上路灯坏了", "一排路灯全黑", "路灯一直闪", "灯杆歪了路灯不亮"],
    "noise": ["楼上半夜很吵", "工地夜间施工噪音", "广场舞声音太大", "酒吧音乐吵人", "噪音扰民"],
}


def _data(copies: int) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for n in range(copies):
        for label, lines in TOPICS.items():
            for line in lines:
                texts.append(f"{line}，第{n}次反映")
                labels.append(label)
    return texts, labels


def test_inner_splits_keep_rare_rows_in_every_training_part_and_no_test_part() -> None:
    labels = ["a"] * 9 + ["b"] * 9 + ["rare"] * 2
    splits = inner_splits(labels, 3, seed=0)
    assert len(splits) == 3
    rare = {18, 19}
    tested: list[int] = []
    for train, test in splits:
        assert rare <= set(train)
        assert not rare & set(test)
        assert not set(train) & set(test)
        assert Counter(labels[i] for i in test) == {"a": 3, "b": 3}
        tested += test
    assert sorted(tested) == list(range(18))


def test_selectable_needs_rows_and_two_labels_with_an_example_in_every_fold() -> None:
    assert selectable(["a"] * 60 + ["b"] * 60, 120)
    assert not selectable(["a"] * 60 + ["b"] * 60, 99)
    assert not selectable(["a"] * 118 + ["b"] * 2, 120)


def test_select_returns_a_candidate_and_prefers_the_earlier_on_a_tie() -> None:
    texts, labels = _data(8)
    chosen = select(texts, labels, seed=0)
    assert chosen in CANDIDATES
    same = [Family("svm", 0.3), Family("svm", 0.3)]
    assert select(texts, labels, 0, same) is same[0]


def test_a_rare_class_does_not_stop_the_choice_and_is_still_learned() -> None:
    texts, labels = _data(8)
    texts += ["垃圾桶满了没人清运", "垃圾堆在路边发臭"]
    labels += ["waste", "waste"]
    model = RouterModel.fit(texts, labels, seed=0, candidates=[Family("svm", 0.1, lead=True)])
    assert model.family == {"kind": "svm", "C": 0.1, "lead": True, "words": False}
    assert "waste" in model.labels


@pytest.mark.parametrize(
    "family",
    [
        Family("svm", 0.3),
        Family("cnb", 0.03),
        Family("logreg", 1.0),
        Family("svm", 0.1, True, True),
    ],
)
def test_every_family_gives_probabilities_with_the_classifiers_ranking(family: Family) -> None:
    texts, labels = _data(8)
    model = RouterModel.fit(texts, labels, seed=0, candidates=[family])
    described = model.family
    assert described["kind"] == family.kind and described["words"] == family.words
    proba = model.probabilities(["晚上路灯坏了", "楼上半夜很吵"])
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert model.predict(["晚上路灯坏了", "楼上半夜很吵"]) == ["lights", "noise"]
    assert 0.0 < model.familiarity(["晚上路灯坏了"])[0] <= 1.0
    assert describe(model.pipeline) == described
