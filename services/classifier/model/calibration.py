"""Choosing the auto-dispatch threshold and the familiarity floor of a taxonomy model.

Without real messages the threshold is chosen on the written corpus alone (out-of-fold
decisions, :func:`threshold.choose`) and gating is off. With a :class:`RealCheck` (real
citizen messages, labelled with a platform's own fields, and a fixed map from our
departments onto them) both are chosen by :func:`threshold.choose_gate`: precision on the
written out-of-fold decisions and on those real messages must both reach their targets.
The model's weights never see the real messages; only these two figures do, and the
manifest records where they came from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from services.classifier.model.model import RouterModel
from services.classifier.model.threshold import REAL_MIN_COUNT, Scored, choose, choose_gate
from services.classifier.routing import decide

REAL_TARGET = 0.90
FLOOR_QUANTILES = [q / 20 for q in range(1, 20)]


@dataclass(frozen=True)
class RealCheck:
    """Real messages for calibration: ``labels`` are the platform's, ``topics`` maps each
    of our departments onto one of them."""

    name: str
    texts: Sequence[str]
    labels: Sequence[str]
    topics: dict[str, str]


@dataclass(frozen=True)
class Calibrated:
    threshold: float
    floor: float
    written_precision: float
    written_coverage: float
    provenance: dict[str, Any]


def written_only(written: Scored, target: float) -> Calibrated:
    chosen = choose(written.confidence, written.correct, target)
    provenance = {"threshold": "written training corpus, out of fold", "floor": "off"}
    return Calibrated(chosen.threshold, 0.0, chosen.precision, chosen.coverage, provenance)


def with_real(
    model: RouterModel,
    department_of: dict[str, str],
    written: Scored,
    real: RealCheck,
    written_target: float,
    real_target: float = REAL_TARGET,
) -> Calibrated:
    decisions = [decide(r, department_of) for r in model.rank(real.texts)]
    scored = Scored(
        [d.confidence for d in decisions],
        list(model.familiarity(real.texts)),
        [real.topics.get(d.department) == y for d, y in zip(decisions, real.labels, strict=True)],
    )
    floors = [0.0, *np.quantile(scored.familiar, FLOOR_QUANTILES).round(4)]
    floors += list(np.quantile(written.familiar, FLOOR_QUANTILES[:4]).round(4))
    gate = choose_gate(written, scored, floors, written_target, real_target)
    provenance = {
        "threshold": "strictest of: the written training corpus out of fold at the written "
        f"target; the real messages '{real.name}' at {real_target}, judged from "
        f"{REAL_MIN_COUNT} dispatched up (fewer may pass); the familiarity floor",
        "floor": f"chosen with the threshold on real messages '{real.name}'",
        "real_messages": len(real.texts),
        "real_texts_sha256": hashlib.sha256("\n".join(real.texts).encode()).hexdigest(),
        "real_target": real_target,
        "real_precision": round(gate.real.precision, 4),
        "real_coverage": round(gate.real.coverage, 4),
        "real_dispatched": round(gate.real.coverage * len(real.texts)),
    }
    return Calibrated(
        gate.threshold, gate.floor, gate.written.precision, gate.written.coverage, provenance
    )
