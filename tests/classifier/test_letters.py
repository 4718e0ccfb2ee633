"""Letter-style reports written here are not training data: ``data/router/letters``
(salutation, context, several problems, 57–138 characters) and ``data/router/citizen``
(1,354 citizen-style messages: title, salutation, who writes, several problems, Lingang
places; 46–219 characters). The familiarity gate must not send them to a dispatcher just
for being long letters: it is for text unlike the city's words."""

from __future__ import annotations

from pathlib import Path

import pytest

from cityops import taxonomy
from services.classifier.evaluation import measure
from services.classifier.model.predictor import Predictor
from services.classifier.model.training import read_csv

DATA = Path(__file__).resolve().parents[2] / "data" / "router"


@pytest.mark.parametrize("folder", ["letters", "citizen"])
def test_the_shipped_model_routes_and_dispatches_written_letters(folder: str) -> None:
    predictor = Predictor.load(None, taxonomy.load())
    data = read_csv(sorted((DATA / folder).glob("*.csv")), "text", "department")
    report = measure(predictor, data)[0]
    assert report["examples"] == len(data) > 50
    assert report["accuracy"] >= 0.9
    assert report["auto_dispatch"]["precision"] >= 0.95
    assert report["auto_dispatch"]["coverage"] >= 0.8
    familiar = predictor.model.familiarity(data.texts)
    assert (familiar >= predictor.manifest.familiarity_floor).mean() >= 0.8
