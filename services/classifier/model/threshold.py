"""Choosing the auto-dispatch threshold from out-of-fold predictions. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Operating:
    threshold: float
    precision: float
    coverage: float


def at_threshold(confidence: Sequence[float], correct: Sequence[bool], t: float) -> Operating:
    chosen = [ok for c, ok in zip(confidence, correct, strict=True) if c >= t]
    precision = sum(chosen) / len(chosen) if chosen else 1.0
    return Operating(t, precision, len(chosen) / len(confidence) if confidence else 0.0)


def choose(confidence: Sequence[float], correct: Sequence[bool], target: float) -> Operating:
    """The lowest threshold above which precision stays at or over ``target``.

    "Stays" means for every stricter threshold too, so one lucky cut-off is not chosen.
    """
    pairs = sorted(zip(confidence, correct, strict=True), key=lambda p: -p[0])
    best = 1.0
    hits = 0
    for i, (c, ok) in enumerate(pairs, start=1):
        hits += ok
        if hits / i < target:
            break
        best = c
    return at_threshold(confidence, correct, best)
