"""Choosing the auto-dispatch threshold from out-of-fold predictions. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from services.classifier.model.familiarity import weight

# Real cut-offs that dispatch fewer messages than this are not judged: their precision is noise.
REAL_MIN_COUNT = 20


@dataclass(frozen=True)
class Operating:
    threshold: float
    precision: float
    coverage: float


def at_threshold(confidence: Sequence[float], correct: Sequence[bool], t: float) -> Operating:
    chosen = [ok for c, ok in zip(confidence, correct, strict=True) if c >= t]
    precision = sum(chosen) / len(chosen) if chosen else 1.0
    return Operating(t, precision, len(chosen) / len(confidence) if confidence else 0.0)


def choose(
    confidence: Sequence[float], correct: Sequence[bool], target: float, min_count: int = 1
) -> Operating:
    """The lowest threshold above which precision stays at or over ``target``.

    "Stays" means for every stricter threshold too, so one lucky cut-off is not chosen;
    cut-offs that dispatch fewer than ``min_count`` texts are not judged (the precision of
    two or three texts is noise).
    """
    pairs = sorted(zip(confidence, correct, strict=True), key=lambda p: -p[0])
    best = 1.0
    hits = 0
    judged_from = min(min_count, len(pairs))
    for i, (c, ok) in enumerate(pairs, start=1):
        hits += ok
        if i < judged_from:
            continue  # too few to judge, and too few to be chosen
        if hits / i < target:
            break
        best = c
    return at_threshold(confidence, correct, best)


@dataclass(frozen=True)
class Scored:
    """Out-of-sample decisions: confidence, familiarity and whether each was right."""

    confidence: Sequence[float]
    familiar: Sequence[float]
    correct: Sequence[bool]

    def gated(self, floor: float) -> list[float]:
        return [c * weight(f, floor) for c, f in zip(self.confidence, self.familiar, strict=True)]


@dataclass(frozen=True)
class Gate:
    threshold: float
    floor: float
    written: Operating
    real: Operating


def choose_gate(
    written: Scored,
    real: Scored,
    floors: Sequence[float],
    written_target: float,
    real_target: float,
) -> Gate:
    """The familiarity floor and threshold that auto-dispatch the most, within both targets.

    For each floor the threshold is the strictest of the two :func:`choose` thresholds
    (written out-of-fold at ``written_target``, real calibration messages at
    ``real_target``) and the floor itself (so nothing under the floor is dispatched). The
    best floor is within the real target, then covers the most real messages, then the most
    written ones (:func:`_key`); ties go to the lower floor.
    """
    best: Gate | None = None
    for floor in sorted(floors):
        w, r = written.gated(floor), real.gated(floor)
        written_cut = choose(w, written.correct, written_target).threshold
        t = max(written_cut, _real_cut(r, real, real_target), floor)
        gate = Gate(t, floor, at_threshold(w, written.correct, t), at_threshold(r, real.correct, t))
        if best is None or _key(gate, len(r), real_target) > _key(best, len(r), real_target):
            best = gate
    assert best is not None, "floors must not be empty"
    return best


def _real_cut(gated: list[float], real: Scored, target: float) -> float:
    """:func:`choose` on the real messages, judged from ``REAL_MIN_COUNT`` up; when no
    cut-off reaches ``target``, the lowest threshold that dispatches fewer than
    ``REAL_MIN_COUNT`` of them (their precision would be noise; not 1.0, which would stop
    the written ones too)."""
    chosen = choose(gated, real.correct, target, REAL_MIN_COUNT)
    if chosen.coverage > 0 or len(gated) < REAL_MIN_COUNT:
        return chosen.threshold
    kth = sorted(gated, reverse=True)[REAL_MIN_COUNT - 1]
    return min(1.0, float(np.nextafter(kth, 2.0)))


def _key(gate: Gate, real_rows: int, real_target: float) -> tuple[bool, float, float]:
    """Within the real target first; then real coverage (to 0.01, and only once at least
    ``REAL_MIN_COUNT`` real texts are dispatched: fewer is noise); then written coverage."""
    judged = gate.real.coverage * real_rows >= REAL_MIN_COUNT
    feasible = not judged or gate.real.precision >= real_target
    return (feasible, round(gate.real.coverage, 2) if judged else 0.0, gate.written.coverage)
