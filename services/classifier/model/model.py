"""The router model: character TF-IDF, a class-balanced linear SVM, temperature-scaled
probabilities, and the taxonomy's own words as prior examples.

- **Prior examples.** When the labels are taxonomy classes (or departments), every class
  name and keyword in ``taxonomy.yaml`` is added as a short training example of its class
  (or of its class's department). The taxonomy is written by domain experts for any
  citizen text, not for one corpus, and it matters most where labelled examples are few.
  Custom labels get no prior.
- **Probabilities.** One temperature ``T`` turns the SVM's decision values into a softmax,
  fitted on cross-validated decision values of the real examples only. A single parameter
  cannot overfit ten examples a class the way one sigmoid per class can, and it keeps the
  SVM's ranking, so the most probable class is the SVM's own choice.
- **Family.** A custom model (a city's own history) chooses its classifier (linear SVM,
  logistic regression, complement naive Bayes), its regularisation, whether to weigh the
  message's lead and whether to add jieba words to the characters, by inner
  cross-validation on its own training data (``families.select``): nested inside any outer
  CV, never tuned on the data it is scored on. Taxonomy models keep the default family.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from cityops import taxonomy
from services.classifier.model.familiarity import familiarity
from services.classifier.model.families import (
    CANDIDATES,
    Family,
    ScaledSVC,
    char_features,
    describe,
    select,
    selectable,
)
from services.classifier.model.features import build_features

# ScaledSVC is imported here too: the shipped artifacts pickled it as
# services.classifier.model.model.ScaledSVC.
__all__ = ["CALIBRATION_FOLDS", "Family", "RouterModel", "ScaledSVC", "taxonomy_prior"]

Ranked = list[tuple[str, float]]
CALIBRATION_FOLDS = 3


def taxonomy_prior(labels: set[str]) -> tuple[list[str], list[str]]:
    """Class names and keywords as examples, when every label is a class or a department."""
    tax = taxonomy.load()
    if all(tax.has_leaf(label) for label in labels):
        label_of = {leaf.code: leaf.code for leaf in tax.leaves if leaf.code in labels}
    elif labels <= {d.code for d in tax.departments}:
        label_of = {leaf.code: leaf.department for leaf in tax.leaves}
    else:
        return [], []
    texts, out = [], []
    for leaf in tax.leaves:
        if leaf.code in label_of:
            for text in (leaf.name, *leaf.keywords):
                texts.append(text)
                out.append(label_of[leaf.code])
    return texts, out


class RouterModel:
    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    @property
    def labels(self) -> list[str]:
        return [str(c) for c in self.pipeline.classes_]

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        seed: int = 0,
        prior: bool = True,
        candidates: Sequence[Family] = CANDIDATES,
    ) -> RouterModel:
        """``prior=False`` leaves out the taxonomy's examples (for measuring what they add);
        ``candidates`` are the families a custom model chooses among (families.select)."""
        texts, labels = list(texts), list(labels)
        extra = taxonomy_prior(set(labels)) if prior else ([], [])
        rarest = min(Counter(labels).values())
        if rarest < 2:  # a class with one example cannot be cross-validated; LR is probabilistic
            clf = LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000)
            pipeline = Pipeline([("features", build_features()), ("clf", clf)])
            pipeline.fit(texts + extra[0], labels + extra[1])
            return cls(pipeline)
        family = Family()
        if not extra[0] and selectable(labels, len(texts)):
            family = select(texts, labels, seed, candidates)
        pipeline = family.pipeline(texts + extra[0], labels + extra[1], seed)
        clf = pipeline.named_steps["clf"]
        k = min(CALIBRATION_FOLDS, rarest)
        clf.temperature_ = _temperature(texts, labels, extra, k, seed, family)
        if isinstance(clf, LinearSVC):  # half the artifact, the same decisions to 1e-6
            clf.coef_ = clf.coef_.astype(np.float32)
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

    @property
    def family(self) -> dict[str, object]:
        return describe(self.pipeline)

    def familiarity(self, texts: Sequence[str]) -> np.ndarray:
        """Share of each text's character bigrams the model saw in training (familiarity.py)."""
        return familiarity(char_features(self.pipeline), list(texts))

    def predict(self, texts: Sequence[str]) -> list[str]:
        return [ranked[0][0] for ranked in self.rank(texts, k=1)]


def _temperature(
    texts: list[str],
    labels: list[str],
    prior: tuple[list[str], list[str]],
    k: int,
    seed: int,
    family: Family,
) -> float:
    """The temperature that minimises the log-loss of out-of-fold decision values."""
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    logits: list[np.ndarray] = []
    truth: list[int] = []
    for train_idx, test_idx in splitter.split(texts, labels):
        part = family.pipeline(
            [texts[i] for i in train_idx] + prior[0],
            [labels[i] for i in train_idx] + prior[1],
            seed,
        )
        features, clf = part.named_steps["features"], part.named_steps["clf"]
        logits.append(clf.logits(features.transform([texts[i] for i in test_idx])))
        column = {label: j for j, label in enumerate(clf.classes_)}
        truth.extend(column[labels[i]] for i in test_idx)
    scores, rows = np.vstack(logits), np.asarray(truth)

    def loss(log_t: float) -> float:
        return float(
            -log_softmax(scores / np.exp(log_t), axis=1)[np.arange(len(rows)), rows].mean()
        )

    return float(np.exp(minimize_scalar(loss, bounds=(-5.0, 3.0), method="bounded").x))
