"""Letter-style reports written here (data/router/letters: salutation, context, several
problems, 57–138 characters) are not training data. The familiarity gate must not send
them to a dispatcher just for being long letters: it is for text unlike the city's words."""

from __future__ import annotations

from pathlib import Path

from cityops import taxonomy
from services.classifier.evaluation import measure
from services.classifier.model.predictor import Predictor
from services.classifier.model.training import read_csv

LETTERS = Path(__file__).resolve().parents[2] / "data" / "router" / "letters"


def test_the_shipped_model_routes_and_dispatches_written_letters() -> None:
    predictor = Predictor.load(None, taxonomy.load())
    data = read_csv(sorted(LETTERS.glob("*.csv")), "text", "department")
    report = measure(predictor, data)[0]
    assert report["examples"] == len(data) > 50
    assert report["accuracy"] >= 0.9
    assert report["auto_dispatch"]["precision"] >= 0.95
    assert report["auto_dispatch"]["coverage"] >= 0.8
    familiar = predictor.model.familiarity(data.texts)
    assert (familiar >= predictor.manifest.familiarity_floor).mean() >= 0.8
