"""The router's pure pieces (threshold rule, metrics, label kinds, data hash, taxonomy
prior, probabilities) and a held-out check of the shipped model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cityops import taxonomy
from services.classifier.evaluation import measure
from services.classifier.model.artifact import data_hash
from services.classifier.model.metrics import distinct_ngrams, diversity, text_profile
from services.classifier.model.model import RouterModel, taxonomy_prior
from services.classifier.model.predictor import Predictor
from services.classifier.model.threshold import at_threshold, choose
from services.classifier.model.training import label_map, read_csv

TAX = taxonomy.load()
TEST_SPLIT = Path(__file__).resolve().parents[2] / "data" / "router" / "test"


# --- threshold.choose: the lowest threshold above which precision *stays* on target


def test_choose_stops_at_the_first_stricter_cut_that_falls_below_target() -> None:
    confidence = [0.9, 0.8, 0.7, 0.6, 0.5]
    correct = [True, True, False, True, True]
    # at 0.5 precision is 4/5 = 0.8 >= 0.75, but at 0.7 it is 2/3: 0.5 is a lucky cut-off
    chosen = choose(confidence, correct, target=0.75)
    assert chosen.threshold == 0.8
    assert (chosen.precision, chosen.coverage) == (1.0, 0.4)
    assert at_threshold(confidence, correct, 0.5).precision == 0.8


def test_choose_takes_everything_when_all_is_right_and_nothing_when_the_top_is_wrong() -> None:
    everything = choose([0.3, 0.9, 0.6], [True, True, True], target=0.95)
    assert (everything.threshold, everything.coverage) == (0.3, 1.0)
    nothing = choose([0.9, 0.6, 0.3], [False, True, True], target=0.95)
    assert nothing.threshold == 1.0
    assert (nothing.precision, nothing.coverage) == (1.0, 0.0)


def test_choose_does_not_depend_on_input_order() -> None:
    pairs = [(0.5, True), (0.9, True), (0.7, False), (0.8, True), (0.6, True)]
    shuffled = [pairs[i] for i in (3, 0, 4, 1, 2)]
    first, second = (choose(*zip(*p, strict=True), target=0.75) for p in (pairs, shuffled))
    assert first == second
    assert first.threshold == 0.8


# --- metrics


def test_distinct_ngrams_is_distinct_over_all() -> None:
    assert distinct_ngrams(["abab"], 2) == round(2 / 3, 4)  # ab, ba, ab
    assert distinct_ngrams(["aaaa"], 1) == 0.25
    assert distinct_ngrams(["ab"], 3) == 0.0  # no trigram at all


def test_diversity_counts_texts_ngrams_and_lengths() -> None:
    stats = diversity(["aa", "abc", "abcd", "abc"])
    assert (stats["texts"], stats["distinct_texts"]) == (4, 3)
    assert stats["distinct_1"] == round(4 / 12, 4)
    assert stats["length"]["min"] == 2 and stats["length"]["max"] == 4
    assert stats["length"]["median"] == 3
    assert stats["length"]["mean"] == 3.0


def test_text_profile_counts_salutations_titles_writers_places_and_several_issues() -> None:
    texts = [
        "路灯不亮 领导您好，我是海洋一村的居民，门口路灯坏了。另外井盖也松了",
        "尊敬的领导您好！楼上太吵",
        "井盖没了",
        "古棕路上有坑",
    ]
    profile = text_profile(texts)
    assert profile["texts"] == 4
    assert (profile["greeting_share"], profile["several_issues_share"]) == (0.5, 0.25)
    assert (profile["title_share"], profile["self_intro_share"]) == (0.25, 0.25)
    assert profile["place_share"] == 0.5  # 海洋一村, 古棕路
    assert text_profile([])["place_share"] == 0.0


# --- training.label_map: taxonomy classes answer with departments, others with themselves


def test_label_map_of_taxonomy_classes_gives_their_departments() -> None:
    codes = [leaf.code for leaf in TAX.leaves[:5]]
    kind, mapping = label_map(codes, TAX)
    assert kind == "taxonomy"
    assert mapping == {code: TAX.leaf(code).department for code in codes}
    _, known = label_map(["C0102", "E0106"], TAX)  # 污水井盖, and a class of 市容环境类事件
    assert known == {"C0102": "water", "E0106": "sanitation_greening"}


def test_label_map_of_custom_or_mixed_labels_is_the_identity() -> None:
    assert label_map(["roads", "noise"], TAX) == ("custom", {"roads": "roads", "noise": "noise"})
    kind, mapping = label_map([TAX.leaves[0].code, "noise"], TAX)
    assert kind == "custom"
    assert mapping[TAX.leaves[0].code] == TAX.leaves[0].code


# --- artifact.data_hash: names the training data in every manifest, so it must not drift


def test_data_hash_is_stable_across_releases() -> None:
    texts, labels = ["井盖缺失", "路灯不亮"], ["C0101", "C0109"]
    assert data_hash(texts, labels) == (
        "844c472c83b98140c3134e95309b483a6a122ee3f04db8cdb4c446d6a6eba4d5"
    )
    assert data_hash(list(texts), list(labels)) == data_hash(tuple(texts), tuple(labels))


def test_data_hash_sees_order_labels_and_boundaries() -> None:
    base = data_hash(["ab", "c"], ["x", "y"])
    assert base != data_hash(["c", "ab"], ["y", "x"])
    assert base != data_hash(["ab", "c"], ["x", "z"])
    assert base != data_hash(["a", "bc"], ["x", "y"])


def test_data_hash_refuses_texts_and_labels_of_different_lengths() -> None:
    with pytest.raises(ValueError):
        data_hash(["a", "b"], ["x"])


# --- the model: taxonomy prior and probabilities


def test_taxonomy_prior_by_label_kind() -> None:
    leaf = TAX.leaves[0]
    texts, labels = taxonomy_prior({leaf.code, TAX.leaves[1].code})
    assert leaf.name in texts and set(leaf.keywords) <= set(texts)
    assert set(labels) == {leaf.code, TAX.leaves[1].code}
    texts, labels = taxonomy_prior({d.code for d in TAX.departments})
    assert len(texts) == sum(1 + len(lf.keywords) for lf in TAX.leaves)
    assert labels[texts.index(leaf.name)] == leaf.department
    assert taxonomy_prior({"roads", "noise"}) == ([], [])


def test_probabilities_keep_the_svms_ranking() -> None:
    texts = ["路面有坑", "马路塌陷", "路面破损", "楼上太吵", "半夜噪音", "音响很吵"]
    labels = ["roads"] * 3 + ["noise"] * 3
    model = RouterModel.fit(texts, labels)
    proba = model.probabilities(["路面有个坑", "晚上很吵"])
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert model.predict(["路面有个坑", "晚上很吵"]) == ["roads", "noise"]
    assert model.labels == ["noise", "roads"]
    decision = model.pipeline.decision_function(["路面有个坑", "晚上很吵"])
    assert list(np.sign(decision)) == [1.0, -1.0]  # a positive margin means classes_[1]


# --- the shipped model on the separately written test split


def test_shipped_model_on_the_held_out_split() -> None:
    predictor = Predictor.load(None, TAX)
    data = read_csv(sorted(TEST_SPLIT.glob("*.csv")), "text", "department")
    report = measure(predictor, data)[0]
    assert (report["level"], report["examples"]) == ("department", 850)
    assert report["accuracy"] >= 0.85
    assert report["auto_dispatch"]["precision"] >= 0.95
    assert report["auto_dispatch"]["coverage"] > 0.5
    # the figures recorded when the version was built (and quoted in docs/router.md): the
    # same model on the same texts must score exactly the same today
    recorded = predictor.manifest.metrics["holdout"]
    assert (report["accuracy"], report["macro_f1"]) == (
        recorded["department"]["accuracy"],
        recorded["department"]["macro_f1"],
    )
    assert report["auto_dispatch"] == recorded["auto_dispatch"]
    by_class = measure(predictor, read_csv(sorted(TEST_SPLIT.glob("*.csv")), "text", "category"))
    assert (by_class[0]["accuracy"], by_class[0]["macro_f1"]) == (
        recorded["accuracy"],
        recorded["macro_f1"],
    )
