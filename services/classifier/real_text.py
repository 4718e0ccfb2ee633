"""Measuring the router on real citizen messages that are not in this repository.

A real set is a CSV (``id,text,label``) whose labels are a platform's own fields (领域),
not our departments. ``data/router/real/topics.yaml`` maps each department onto one of
those labels; it was fixed before any prediction was seen and is never tuned.

The set is split in two by a hash of each message's id: the **calibration** half may choose
settings (a threshold, a familiarity floor), the **report** half gives the figures quoted.
The folder is optional (``CITYOPS_ROUTER_REAL_DEV``, default ``../shared/data/real_dev``
beside the checkout): :func:`real_sets` returns nothing when it is absent.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from services.classifier.model import conformal
from services.classifier.model.calibration import RealCheck
from services.classifier.model.familiarity import gate
from services.classifier.model.predictor import Predictor
from services.classifier.model.threshold import at_threshold
from services.classifier.model.training import Dataset, read_csv
from services.classifier.routing import Decision, Ranked

ROOT = Path(__file__).resolve().parents[2]
TOPICS_FILE = ROOT / "data" / "router" / "real" / "topics.yaml"
DEFAULT_DIR = ROOT.parent / "shared" / "data" / "real_dev"


@dataclass(frozen=True)
class RealSet:
    name: str
    ids: list[str]
    data: Dataset

    def half(self, part: str) -> RealSet:
        """``calibration`` or ``report``: two disjoint halves, stable under reordering."""
        keep = [i for i, key in enumerate(self.ids) if split_of(key) == part]
        return RealSet(f"{self.name}:{part}", [self.ids[i] for i in keep], self.data.subset(keep))


def split_of(key: str) -> str:
    return "calibration" if hashlib.sha256(key.encode()).digest()[0] % 2 == 0 else "report"


def real_dir() -> Path:
    return Path(os.environ.get("CITYOPS_ROUTER_REAL_DEV", str(DEFAULT_DIR)))


def real_sets(directory: Path | None = None) -> list[RealSet]:
    """Every ``*.csv`` of the real folder; [] when the folder is absent."""
    folder = directory or real_dir()
    if not folder.is_dir():
        return []
    return [_read(path) for path in sorted(folder.glob("*.csv"))]


def _read(path: Path) -> RealSet:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        ids = [row.get("id") or str(n) for n, row in enumerate(csv.DictReader(handle)) if _ok(row)]
    return RealSet(path.stem, ids, read_csv([path], "text", "label"))


def _ok(row: dict[str, str]) -> bool:
    return bool((row.get("text") or "").strip() and (row.get("label") or "").strip())


def topic_map(path: Path = TOPICS_FILE) -> dict[str, str]:
    """Department code → real label, as fixed in ``topics.yaml``."""
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in loaded["labels"].items()}


@dataclass(frozen=True)
class ZeroShot:
    """Topic-level outcome of the router's decisions on one real set."""

    confidence: list[float]
    correct: list[bool]

    def accuracy(self) -> float:
        return sum(self.correct) / len(self.correct) if self.correct else 0.0

    def at(self, threshold: float) -> dict[str, float]:
        """Precision and coverage of auto-dispatch, and ``misrouted``: the share of all
        messages dispatched by themselves to the wrong place (what costs a 退单)."""
        point = at_threshold(self.confidence, self.correct, threshold)
        wrong = sum(
            not ok for c, ok in zip(self.confidence, self.correct, strict=True) if c >= threshold
        )
        return {
            "threshold": round(threshold, 4),
            "precision": round(point.precision, 4),
            "coverage": round(point.coverage, 4),
            "misrouted": round(wrong / len(self.correct), 4) if self.correct else 0.0,
        }


def zero_shot(
    decisions: Sequence[Decision], labels: Sequence[str], topics: dict[str, str]
) -> ZeroShot:
    correct = [topics.get(d.department) == y for d, y in zip(decisions, labels, strict=True)]
    return ZeroShot([d.confidence for d in decisions], correct)


def curve(outcome: ZeroShot, points: int = 50) -> list[dict[str, float]]:
    """Precision and coverage when auto-dispatching the most confident 1/points, 2/points…"""
    ranked = sorted(outcome.confidence, reverse=True)
    out = []
    for k in range(1, points + 1):
        cut = ranked[max(0, round(k * len(ranked) / points) - 1)]
        out.append(outcome.at(cut))
    return out


def reliability(outcome: ZeroShot, bins: int = 10) -> list[dict[str, float]]:
    """Mean confidence against the share right, per equal-width confidence bin."""
    rows = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        inside = [
            (c, ok)
            for c, ok in zip(outcome.confidence, outcome.correct, strict=True)
            if low <= c < high or (b == bins - 1 and c == 1.0)
        ]
        if inside:
            rows.append(
                {
                    "low": low,
                    "high": high,
                    "count": len(inside),
                    "confidence": round(sum(c for c, _ in inside) / len(inside), 4),
                    "accuracy": round(sum(ok for _, ok in inside) / len(inside), 4),
                }
            )
    return rows


def mapped(sets: Sequence[RealSet], topics: dict[str, str]) -> list[RealSet]:
    """The sets the topic map speaks of: at least half their rows carry a mapped label. A
    set labelled with another platform's fields needs a map of its own, written first."""
    known = set(topics.values())
    return [r for r in sets if sum(y in known for y in r.data.labels) * 2 >= len(r.data)]


def calibration_check(sets: Sequence[RealSet], topics: dict[str, str]) -> RealCheck | None:
    """The calibration halves of the :func:`mapped` sets as one :class:`RealCheck`; None
    without any."""
    sets = mapped(sets, topics)
    if not sets:
        return None
    halves = [real.half("calibration") for real in sets]
    return RealCheck(
        "+".join(h.name for h in halves),
        [t for h in halves for t in h.data.texts],
        [y for h in halves for y in h.data.labels],
        topics,
    )


def report_measure(
    predictor: Predictor, sets: Sequence[RealSet], topics: dict[str, str]
) -> dict[str, Any]:
    """Topic accuracy and auto-dispatch on the report halves (never used to choose)."""
    out: dict[str, Any] = {}
    for real in mapped(sets, topics):
        half = real.half("report")
        outcome = zero_shot(predictor.decide(half.data.texts), half.data.labels, topics)
        out[half.name] = {
            "rows": len(half.data),
            "topic_accuracy": round(outcome.accuracy(), 4),
            "auto_dispatch": outcome.at(predictor.threshold),
        }
    return out


CONFORMAL_ALPHAS = (0.05, 0.1, 0.2)


def conformal_measure(
    predictor: Predictor,
    real: RealSet,
    topics: dict[str, str],
    written: tuple[list[Ranked], list[float], list[str]],
    alphas: Sequence[float] = CONFORMAL_ALPHAS,
) -> list[dict[str, Any]]:
    """Auto-dispatch of "singleton" department sets (model/conformal.py) on the report half.

    ``written`` is the written training split ranked out of fold (ungated), its
    familiarity and its true departments; the shipped gate is applied to it here. The
    quantile comes from the written scores, the calibration half's topic scores, or both;
    for each, the report half's precision, coverage and misrouted share when a singleton
    set alone dispatches and when the shipped threshold must hold too, and how often the
    set holds a department of the right field."""
    floor, department_of = predictor.manifest.familiarity_floor, predictor.mapping
    ranked, familiar, truth = written
    written_scores = [
        conformal.score(conformal.by_department(gate(r, f, floor), department_of), t)
        for r, f, t in zip(ranked, familiar, truth, strict=True)
    ]
    calibration, report = real.half("calibration"), real.half("report")
    cal_probs = _department_probabilities(predictor, calibration.data.texts)
    real_scores = [
        conformal.topic_score(p, y, topics)
        for p, y in zip(cal_probs, calibration.data.labels, strict=True)
    ]
    probs = _department_probabilities(predictor, report.data.texts)
    top = [max(p, key=lambda d: p[d]) for p in probs]
    correct = [topics.get(d) == y for d, y in zip(top, report.data.labels, strict=True)]
    sources = {
        "written": written_scores,
        "real": real_scores,
        "written+real": written_scores + real_scores,
    }
    rows = []
    for alpha in alphas:
        for source, scores in sources.items():
            qhat = conformal.quantile(scores, alpha)
            sets = [conformal.prediction_set(p, qhat) for p in probs]
            alone = [1.0 if len(s) == 1 else 0.0 for s in sets]
            gated = [
                a * (p[d] >= predictor.threshold) for a, p, d in zip(alone, probs, top, strict=True)
            ]
            covered = [
                any(topics.get(d) == y for d in s)
                for s, y in zip(sets, report.data.labels, strict=True)
            ]
            rows.append(
                {
                    "alpha": alpha,
                    "scores_from": source,
                    "calibration_scores": len(scores),
                    "qhat": round(qhat, 4),
                    "set_covers_topic": round(sum(covered) / len(covered), 4),
                    "mean_set_size": round(sum(len(s) for s in sets) / len(sets), 2),
                    "singleton": ZeroShot(alone, correct).at(1.0),
                    "singleton_and_threshold": ZeroShot(gated, correct).at(1.0),
                }
            )
    return rows


def _department_probabilities(predictor: Predictor, texts: list[str]) -> list[dict[str, float]]:
    return [conformal.by_department(r, predictor.mapping) for r in predictor.rank_many(texts)]
