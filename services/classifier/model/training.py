"""Training, cross-validation and threshold choice for the router.

Progress goes to a callback (the CLI prints it to stderr); results are plain dicts.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sklearn
from sklearn.model_selection import StratifiedKFold

from cityops.taxonomy import Taxonomy
from services.classifier.model import calibration
from services.classifier.model.artifact import Manifest, data_hash
from services.classifier.model.calibration import RealCheck
from services.classifier.model.metrics import scores
from services.classifier.model.model import RouterModel
from services.classifier.model.threshold import Scored
from services.classifier.routing import Ranked, decide

Progress = Callable[[str], None]
TARGET_PRECISION = 0.95


class DataError(ValueError):
    """A training or evaluation file cannot be used; the message says why."""


@dataclass
class Dataset:
    texts: list[str]
    labels: list[str]

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, index: Iterable[int]) -> Dataset:
        idx = list(index)
        return Dataset([self.texts[i] for i in idx], [self.labels[i] for i in idx])


def read_csv(paths: Sequence[Path], text_col: str, label_col: str) -> Dataset:
    texts, labels = [], []
    for path in paths:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = {text_col, label_col} - set(reader.fieldnames or [])
            if missing:
                raise DataError(f"{path}: no column {sorted(missing)}; has {reader.fieldnames}")
            for row in reader:
                text, label = (row[text_col] or "").strip(), (row[label_col] or "").strip()
                if text and label:
                    texts.append(text)
                    labels.append(label)
    if len(set(labels)) < 2:
        raise DataError("need at least two distinct labels to train")
    return Dataset(texts, labels)


def label_map(labels: Iterable[str], taxonomy: Taxonomy) -> tuple[str, dict[str, str]]:
    """('taxonomy', class → department) when every label is a taxonomy class, else
    ('custom', label → label): a custom model answers with its own labels."""
    labels = set(labels)
    if all(taxonomy.has_leaf(label) for label in labels):
        return "taxonomy", {label: taxonomy.leaf(label).department for label in labels}
    return "custom", {label: label for label in labels}


def folds(data: Dataset, k: int, seed: int) -> list[tuple[list[int], list[int]]]:
    rarest = min(Counter(data.labels).values())
    if rarest < k:
        raise DataError(f"--cv {k} needs at least {k} examples of every label; rarest has {rarest}")
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [(list(a), list(b)) for a, b in splitter.split(data.texts, data.labels)]


def cross_validate(
    data: Dataset,
    k: int,
    seed: int,
    progress: Progress,
    fit: Callable[[Dataset], Callable[[list[str]], list[str]]] | None = None,
) -> dict[str, Any]:
    """K-fold accuracy and macro-F1 on the labels as given. ``fit`` swaps in another model."""
    fit = fit or (lambda d: RouterModel.fit(d.texts, d.labels, seed).predict)
    results = []
    for i, (train_idx, test_idx) in enumerate(folds(data, k, seed), start=1):
        progress(f"fold {i}/{k}: training on {len(train_idx)}, testing on {len(test_idx)}")
        predict = fit(data.subset(train_idx))
        test = data.subset(test_idx)
        results.append(scores(test.labels, predict(test.texts)))
        progress(f"fold {i}/{k}: {results[-1]}")
    mean = {m: round(sum(r[m] for r in results) / k, 4) for m in ("accuracy", "macro_f1")}
    return {"folds": results, "mean": mean}


def out_of_fold(
    data: Dataset, k: int, seed: int, progress: Progress
) -> tuple[list[Ranked], list[float]]:
    """Each text ranked, and its familiarity measured, by a model that never saw it."""
    ranked: list[Ranked] = [[] for _ in range(len(data))]
    familiar = [1.0] * len(data)
    for i, (train_idx, test_idx) in enumerate(folds(data, k, seed), start=1):
        progress(f"calibration fold {i}/{k}")
        part = data.subset(train_idx)
        model = RouterModel.fit(part.texts, part.labels, seed)
        texts = [data.texts[t] for t in test_idx]
        for j, r, f in zip(test_idx, model.rank(texts), model.familiarity(texts), strict=True):
            ranked[j], familiar[j] = r, float(f)
    return ranked, familiar


def train(
    data: Dataset,
    taxonomy: Taxonomy,
    version: str,
    seed: int,
    progress: Progress,
    target: float = TARGET_PRECISION,
    real: RealCheck | None = None,
) -> tuple[RouterModel, Manifest]:
    """Train on ``data``. ``real`` (taxonomy models only) calibrates the threshold and the
    familiarity floor on real messages too; the weights never see them."""
    kind, mapping = label_map(data.labels, taxonomy)
    k = max(2, min(5, min(Counter(data.labels).values())))
    oof, familiar = out_of_fold(data, k, seed, progress)
    decisions = [decide(r, mapping) for r in oof]
    truth = [mapping[label] for label in data.labels]
    correct = [d.department == t for d, t in zip(decisions, truth, strict=True)]
    written = Scored([d.confidence for d in decisions], familiar, correct)
    progress(f"training the final model on {len(data)} examples")
    model = RouterModel.fit(data.texts, data.labels, seed)
    if real is not None and kind == "taxonomy":
        chosen = calibration.with_real(model, mapping, written, real, target)
    else:
        chosen = calibration.written_only(written, target)
    progress(
        f"threshold {chosen.threshold:.3f}, familiarity floor {chosen.floor:.3f}: out-of-fold "
        f"precision {chosen.written_precision:.3f}, coverage {chosen.written_coverage:.3f}"
    )
    manifest = Manifest(
        version=version,
        label_kind=kind,  # type: ignore[arg-type]
        labels=model.labels,
        data_sha256=data_hash(data.texts, data.labels),
        train_rows=len(data),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        threshold=round(chosen.threshold, 4),
        threshold_target=target,
        sklearn=sklearn.__version__,
        taxonomy_version=taxonomy.version if kind == "taxonomy" else None,
        metrics={
            "out_of_fold": {
                **scores(truth, [d.department for d in decisions]),
                "auto_precision": round(chosen.written_precision, 4),
                "auto_coverage": round(chosen.written_coverage, 4),
            },
            "family": model.family,
        },
        familiarity_floor=round(chosen.floor, 4),
        calibration=chosen.provenance,
    )
    return model, manifest
