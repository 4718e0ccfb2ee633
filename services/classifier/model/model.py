"""The router model: TF-IDF features, a class-balanced linear SVM, sigmoid calibration.

Calibration is fitted on cross-validated decision values (``ensemble=False``): one SVM on
all the data, with calibrators that never saw their own training predictions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from services.classifier.model.features import build_features

Ranked = list[tuple[str, float]]


class RouterModel:
    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    @property
    def labels(self) -> list[str]:
        return [str(c) for c in self.pipeline.classes_]

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[str], seed: int = 0) -> RouterModel:
        rarest = min(Counter(labels).values())
        if rarest >= 2:
            svm = LinearSVC(C=0.5, class_weight="balanced", random_state=seed)
            clf: object = CalibratedClassifierCV(
                svm, method="sigmoid", cv=min(3, rarest), ensemble=False
            )
        else:  # a class with one example cannot be cross-validated; LR is probabilistic
            clf = LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000)
        pipeline = Pipeline([("features", build_features()), ("clf", clf)])
        pipeline.fit(list(texts), list(labels))
        _compact(pipeline.named_steps["clf"])
        return cls(pipeline)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        proba: np.ndarray = self.pipeline.predict_proba(list(texts))
        return proba

    def rank(self, texts: Sequence[str], k: int | None = None) -> list[Ranked]:
        proba = self.probabilities(texts)
        labels = self.labels
        order = np.argsort(-proba, axis=1)[:, :k] if k else np.argsort(-proba, axis=1)
        return [
            [(labels[j], float(row[j])) for j in idx] for row, idx in zip(proba, order, strict=True)
        ]

    def predict(self, texts: Sequence[str]) -> list[str]:
        return [ranked[0][0] for ranked in self.rank(texts, k=1)]


def _compact(clf: object) -> None:
    """Store linear weights as float32: half the artifact, the same decisions to 1e-6."""
    estimators = [c.estimator for c in getattr(clf, "calibrated_classifiers_", [])] or [clf]
    for estimator in estimators:
        if hasattr(estimator, "coef_"):
            estimator.coef_ = estimator.coef_.astype(np.float32)
