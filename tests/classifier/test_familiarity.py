"""Familiarity (share of a text's bigrams the model knows) and the gate it drives."""

from __future__ import annotations

import pytest

from cityops import taxonomy
from services.classifier.model.artifact import Manifest
from services.classifier.model.familiarity import gate, weight
from services.classifier.model.features import normalise_lead
from services.classifier.model.model import RouterModel
from services.classifier.model.predictor import Predictor

TEXTS = ["路面有坑", "马路塌陷", "路面破损", "楼上太吵", "半夜噪音", "音响很吵"]
LABELS = ["roads"] * 3 + ["noise"] * 3


def model() -> RouterModel:
    return RouterModel.fit(TEXTS, LABELS)


def manifest(floor: float, threshold: float = 0.5) -> Manifest:
    return Manifest(
        version="v",
        label_kind="custom",
        labels=["noise", "roads"],
        data_sha256="0",
        train_rows=6,
        created_at="2026-12-01T00:00:00+00:00",
        threshold=threshold,
        threshold_target=0.95,
        sklearn="x",
        familiarity_floor=floor,
    )


def test_familiarity_is_the_share_of_known_bigrams() -> None:
    familiar = model().familiarity(["路面有坑", "路面很冷", "今天天气晴朗", "路"])
    assert familiar[0] == 1.0  # every bigram seen in training
    assert familiar[1] == pytest.approx(1 / 3)  # 路面 seen; 面很, 很冷 not
    assert familiar[2] == 0.0
    assert familiar[3] == 1.0  # no bigram at all: nothing unfamiliar to judge


def test_the_gate_scales_only_below_the_floor_and_keeps_the_ranking() -> None:
    ranked = [("a", 0.8), ("b", 0.2)]
    assert gate(ranked, 0.9, floor=0.6) == ranked
    assert gate(ranked, 0.3, floor=0.6) == [("a", pytest.approx(0.24)), ("b", pytest.approx(0.06))]
    assert weight(0.3, 0.0) == 1.0  # floor 0: gating off


def test_a_predictor_sends_unfamiliar_text_to_a_dispatcher() -> None:
    tax = taxonomy.load()
    fitted = model()
    gated = Predictor(fitted, manifest(floor=0.6), tax)
    ungated = Predictor(fitted, manifest(floor=0.0), tax)
    text = "路面有坑洼，今天天气晴朗"  # a known problem inside unfamiliar words
    assert gated.decide([text])[0].department == ungated.decide([text])[0].department
    assert ungated.decide([text])[0].confidence > gated.decide([text])[0].confidence
    assert gated.decide([text])[0].confidence <= fitted.familiarity([text])[0]
    assert gated.decide(["路面有坑"])[0].confidence == ungated.decide(["路面有坑"])[0].confidence


def test_normalise_lead_drops_the_salutation_and_weighs_the_lead() -> None:
    assert normalise_lead("尊敬的领导您好：路灯不亮，晚上很黑") == "路灯不亮 路灯不亮,晚上很黑"
    assert normalise_lead("路灯不亮") == "路灯不亮"
    assert normalise_lead("书记好! 井盖坏了") == "井盖坏了"
