"""The cityops router against a plain strong baseline, on the same cross-validation folds.

(a) the router exactly as ``cityops router train --cv K`` runs it
    (``RouterModel.fit(...).predict`` through ``training.cross_validate``);
(b) character 1–2-gram TF-IDF (sublinear) + ``LinearSVC(class_weight="balanced")``;
and, to show where the difference comes from, the router without its taxonomy prior
(``RouterModel.fit(..., prior=False)``), reported as ``router_no_prior``.

All see the folds of ``services.classifier.model.training.folds`` (same seed), then all are
trained on all of the training split and scored on the separately written test split.

    .venv/bin/python bench/router_vs_baseline.py --label-col category
    .venv/bin/python bench/router_vs_baseline.py --label-col department

Prints a compact table, then the JSON (also written to ``--out``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.svm import LinearSVC

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere in the checkout

from services.classifier.model.metrics import scores  # noqa: E402 (after sys.path)
from services.classifier.model.model import RouterModel  # noqa: E402
from services.classifier.model.training import (  # noqa: E402
    Dataset,
    cross_validate,
    read_csv,
)

METRICS = ("accuracy", "macro_f1")
Predict = Callable[[list[str]], list[str]]


def baseline_pipeline() -> Pipeline:
    return make_pipeline(
        TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True),
        LinearSVC(class_weight="balanced"),
    )


def fit_router(seed: int, prior: bool = True) -> Callable[[Dataset], Predict]:
    return lambda d: RouterModel.fit(d.texts, d.labels, seed, prior=prior).predict


def fit_baseline(d: Dataset) -> Predict:
    pipeline = baseline_pipeline().fit(d.texts, d.labels)
    return lambda texts: [str(p) for p in pipeline.predict(texts)]


def _paths(value: str) -> list[Path]:
    path = Path(value)
    return sorted(path.glob("*.csv")) if path.is_dir() else [path]


def _quiet(_: str) -> None:
    pass


def run(args: argparse.Namespace) -> dict[str, Any]:
    train = read_csv(_paths(args.data), "text", args.label_col)
    test = read_csv(_paths(args.test), "text", args.label_col)
    systems: dict[str, Callable[[Dataset], Predict]] = {
        "router": fit_router(args.seed),
        "baseline": fit_baseline,
        "router_no_prior": fit_router(args.seed, prior=False),
    }
    cv: dict[str, Any] = {}
    held: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    for name, fit in systems.items():
        started = time.perf_counter()
        cv[name] = cross_validate(train, args.folds, args.seed, _quiet, fit=fit)
        held[name] = scores(test.labels, fit(train)(test.texts))
        seconds[name] = round(time.perf_counter() - started, 1)
    router_folds, baseline_folds = cv["router"]["folds"], cv["baseline"]["folds"]
    return {
        "label_col": args.label_col,
        "train": {"path": args.data, "rows": len(train), "labels": len(set(train.labels))},
        "test": {"path": args.test, "rows": len(test), "labels": len(set(test.labels))},
        "folds": args.folds,
        "seed": args.seed,
        "router": cv["router"],
        "baseline": cv["baseline"],
        "difference": [
            {m: round(r[m] - b[m], 4) for m in METRICS}
            for r, b in zip(router_folds, baseline_folds, strict=True)
        ],
        "ratio": {
            m: round(cv["router"]["mean"][m] / cv["baseline"]["mean"][m], 4) for m in METRICS
        },
        "router_no_prior": {**cv["router_no_prior"], "test_split": held["router_no_prior"]},
        "router_wins": {
            m: sum(r[m] > b[m] for r, b in zip(router_folds, baseline_folds, strict=True))
            for m in METRICS
        },
        "test_split": {
            "router": held["router"],
            "baseline": held["baseline"],
            "ratio": {m: round(held["router"][m] / held["baseline"][m], 4) for m in METRICS},
        },
        "seconds": seconds,
    }


def table(result: dict[str, Any]) -> str:
    head = f"{'':<10}{'router acc':>11}{'base acc':>10}{'diff':>8}"
    head += f"{'router F1':>11}{'base F1':>10}{'diff':>8}"
    rows = [f"label: {result['label_col']}, {result['folds']}-fold CV", head]

    def row(name: str, r: dict[str, float], b: dict[str, float]) -> str:
        line = f"{name:<10}"
        for m in METRICS:
            line += f"{r[m]:>11.4f}{b[m]:>10.4f}{r[m] - b[m]:>+8.4f}"
        return line

    for i, (r, b) in enumerate(
        zip(result["router"]["folds"], result["baseline"]["folds"], strict=True), start=1
    ):
        rows.append(row(f"fold {i}", r, b))
    rows.append(row("mean", result["router"]["mean"], result["baseline"]["mean"]))
    held = result["test_split"]
    rows.append(row("test split", held["router"], held["baseline"]))
    wins, ratio = result["router_wins"], result["ratio"]
    cv_mean, test = result["router_no_prior"]["mean"], result["router_no_prior"]["test_split"]
    rows.append(
        f"router without taxonomy prior: CV accuracy {cv_mean['accuracy']:.4f}, "
        f"macro-F1 {cv_mean['macro_f1']:.4f}; test split accuracy "
        f"{test['accuracy']:.4f}, macro-F1 {test['macro_f1']:.4f}"
    )
    rows.append(
        f"router/baseline (CV means): accuracy {ratio['accuracy']:.4f}, "
        f"macro-F1 {ratio['macro_f1']:.4f}; router wins {wins['accuracy']}/{result['folds']} "
        f"folds on accuracy, {wins['macro_f1']}/{result['folds']} on macro-F1"
    )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT / "data/router/train"), help="training CSVs")
    parser.add_argument("--test", default=str(ROOT / "data/router/test"), help="test CSVs")
    parser.add_argument("--label-col", default="category", help="category or department")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="JSON results file (default: bench/results/<name>.json)")
    args = parser.parse_args(argv)
    result = run(args)
    out = Path(args.out or ROOT / f"bench/results/router_vs_baseline_{args.label_col}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, ensure_ascii=False, indent=1)
    out.write_text(text + "\n", encoding="utf-8")
    print(table(result))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
