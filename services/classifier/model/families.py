"""Model families a custom router model (a city's own history) chooses among, and the
inner cross-validation that chooses.

A **family** is a classifier (a class-balanced linear SVM, a class-balanced multinomial
logistic regression, or complement naive Bayes), its regularisation (``C``; for naive
Bayes the smoothing ``alpha``), whether the message's lead is weighed
(``features.normalise_lead``) and whether jieba words join the character n-grams as a
second TF-IDF block (one linear model over both blocks: the char and word evidence are
weighed together, not voted). Every classifier answers ``predict_proba`` as
``softmax(logits / temperature_)``, with one temperature fitted out of fold
(``model.RouterModel.fit``).

:func:`select` scores every candidate by macro-F1 over inner folds of the training data
alone, so inside ``train --cv`` the choice is nested in each outer fold. Classes with fewer
examples than inner folds are never scored there but stay in every inner training part, so
a rare class neither blocks the choice nor is left out of it. The features of each inner
fold are built once and shared by every candidate that uses them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy.sparse import hstack
from scipy.special import softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.naive_bayes import ComplementNB
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from services.classifier.model.features import build_features, build_words, normalise_lead

Kind = Literal["svm", "logreg", "cnb"]
SVM_C = 1.0
SELECT_FOLDS, SELECT_MIN_ROWS = 3, 100


class _Temperature:
    """``predict_proba`` as ``softmax(logits / temperature_)``."""

    temperature_: float = 1.0

    def logits(self, X: object) -> np.ndarray:
        raise NotImplementedError

    def predict_proba(self, X: object) -> np.ndarray:
        proba: np.ndarray = softmax(self.logits(X) / self.temperature_, axis=1)
        return proba


def _two_columns(decision: np.ndarray) -> np.ndarray:
    if decision.ndim == 1:  # two classes: one margin, positive means classes_[1]
        decision = np.column_stack([np.zeros_like(decision), decision])
    return decision


class ScaledSVC(_Temperature, LinearSVC):
    """A linear SVM; its logits are its decision values."""

    def logits(self, X: object) -> np.ndarray:
        return _two_columns(np.asarray(self.decision_function(X), dtype=np.float64))


class ScaledLogistic(_Temperature, LogisticRegression):
    """Multinomial logistic regression; its logits are its decision values."""

    def logits(self, X: object) -> np.ndarray:
        return _two_columns(np.asarray(self.decision_function(X), dtype=np.float64))


class ScaledNB(_Temperature, ComplementNB):
    """Complement naive Bayes; its logits are its joint log-likelihoods."""

    def logits(self, X: object) -> np.ndarray:
        return np.asarray(self.predict_joint_log_proba(X), dtype=np.float64)


@dataclass(frozen=True)
class Family:
    """The settings a custom model chooses by inner cross-validation (:func:`select`)."""

    kind: Kind = "svm"
    c: float = SVM_C  # C of the SVM and the logistic regression; alpha of naive Bayes
    lead: bool = False
    words: bool = False

    def classifier(self, seed: int) -> _Temperature:
        if self.kind == "logreg":
            return ScaledLogistic(C=self.c, class_weight="balanced", max_iter=1000)
        if self.kind == "cnb":
            return ScaledNB(alpha=self.c)
        return ScaledSVC(C=self.c, class_weight="balanced", random_state=seed)

    def features(self) -> TfidfVectorizer | FeatureUnion:
        chars = build_features(lead=self.lead)
        if not self.words:
            return chars
        return FeatureUnion([("chars", chars), ("words", build_words(lead=self.lead))])

    def pipeline(self, texts: list[str], labels: list[str], seed: int) -> Pipeline:
        steps = [("features", self.features()), ("clf", self.classifier(seed))]
        return Pipeline(steps).fit(texts, labels)


# Ordered from the simplest and most regularised: ties go to the earlier. Nested 5-fold
# on the real development set (bench/README.md, router_real.py): naive Bayes never wins an
# inner choice and costs little, so it stays; char+word models and logistic regression are
# measured but not candidates. With the char+word SVMs as candidates one outer fold chose
# one and lost (mean macro-F1 0.5061 -> 0.5020); logistic regression never won an inner
# choice and fits 10-80 times slower than the SVM.
CANDIDATES = [
    *(Family("svm", c, lead) for c in (0.1, 0.3, 1.0) for lead in (False, True)),
    Family("cnb", 0.03),
]
WORD_CANDIDATES = [Family("svm", c, lead, True) for c in (0.1, 0.3, 1.0) for lead in (False, True)]
LOGISTIC_CANDIDATES = [Family("logreg", 1.0)]


def describe(pipeline: Pipeline) -> dict[str, Any]:
    """The family of a fitted pipeline, as the manifest records it (``metrics.family``)."""
    clf = pipeline.named_steps["clf"]
    kind = (
        "cnb"
        if isinstance(clf, ComplementNB)
        else "logreg"
        if isinstance(clf, LogisticRegression)
        else "svm"
    )
    out: dict[str, Any] = {"kind": kind, "C": getattr(clf, "C", None)}
    if kind == "cnb":
        out["alpha"] = clf.alpha
    features = pipeline.named_steps["features"]
    out["lead"] = char_features(pipeline).preprocessor is normalise_lead
    out["words"] = isinstance(features, FeatureUnion)
    return out


def char_features(pipeline: Pipeline) -> TfidfVectorizer:
    """The character n-gram vectorizer (familiarity is measured on its bigrams)."""
    features = pipeline.named_steps["features"]
    if isinstance(features, FeatureUnion):
        return dict(features.transformer_list)["chars"]
    vectorizer: TfidfVectorizer = features
    return vectorizer


def selectable(labels: Sequence[str], rows: int) -> bool:
    """Enough rows, and at least two labels with an example in every inner fold."""
    common = [n for n in Counter(labels).values() if n >= SELECT_FOLDS]
    return rows >= SELECT_MIN_ROWS and len(common) >= 2


def inner_splits(labels: Sequence[str], k: int, seed: int) -> list[tuple[list[int], list[int]]]:
    """Stratified folds over the labels with at least ``k`` examples; the rows of rarer
    labels join every training part and no test part."""
    counts = Counter(labels)
    common = [i for i, y in enumerate(labels) if counts[y] >= k]
    rare = [i for i, y in enumerate(labels) if counts[y] < k]
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [
        (sorted([common[j] for j in a] + rare), [common[j] for j in b])
        for a, b in splitter.split(common, [labels[i] for i in common])
    ]


def select(
    texts: list[str], labels: list[str], seed: int, candidates: Sequence[Family] = CANDIDATES
) -> Family:
    """The candidate with the best mean macro-F1 over inner folds of ``texts`` (ties: the
    earlier)."""
    totals = np.zeros(len(candidates))
    for train_idx, test_idx in inner_splits(labels, SELECT_FOLDS, seed):
        blocks = _blocks(texts, train_idx, test_idx, candidates)
        train_y = [labels[i] for i in train_idx]
        test_y = [labels[i] for i in test_idx]
        for n, family in enumerate(candidates):
            train_x, test_x = _matrices(blocks, family)
            clf: Any = family.classifier(seed)
            predicted = clf.fit(train_x, train_y).predict(test_x)
            totals[n] += f1_score(test_y, predicted, average="macro", zero_division=0)
    best = int(np.flatnonzero(totals >= totals.max() - 1e-9)[0])
    return candidates[best]


Block = tuple[Any, Any]


def _blocks(
    texts: list[str], train_idx: list[int], test_idx: list[int], candidates: Sequence[Family]
) -> dict[tuple[str, bool], Block]:
    """Each feature block the candidates need, fitted on the training part once."""
    train_t, test_t = [texts[i] for i in train_idx], [texts[i] for i in test_idx]
    out: dict[tuple[str, bool], Block] = {}
    for family in candidates:
        for name in ("chars", "words") if family.words else ("chars",):
            if (name, family.lead) not in out:
                build = build_words if name == "words" else build_features
                vectorizer = build(lead=family.lead)
                out[name, family.lead] = (
                    vectorizer.fit_transform(train_t),
                    vectorizer.transform(test_t),
                )
    return out


def _matrices(blocks: dict[tuple[str, bool], Block], family: Family) -> Block:
    chars = blocks["chars", family.lead]
    if not family.words:
        return chars
    words = blocks["words", family.lead]
    return (
        hstack([chars[0], words[0]], format="csr"),
        hstack([chars[1], words[1]], format="csr"),
    )
