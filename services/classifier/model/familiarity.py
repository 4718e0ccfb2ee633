"""Does a message look like anything the model was trained on? Pure but for the vectorizer.

**Familiarity** is the share of a text's distinct character bigrams (after the model's own
normalisation) that are in the model's vocabulary, i.e. were seen in its training texts or
its taxonomy prior. Reports written like the training corpus score high; long real
messages with greetings, context and local names score lower (docs/router.md has the
figures).

**Gating.** Below the familiarity ``floor`` a message's class probabilities are multiplied
by its familiarity: the model vouches for its answer only as far as it knows this kind of
text, and the share it cannot vouch for is the "none of these" mass that ``routing``
already keeps. The ranking does not change. The threshold is chosen at or above the floor
(``threshold.choose_gate``), so an unfamiliar message always goes to a dispatcher.
``floor = 0`` turns gating off.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

Ranked = list[tuple[str, float]]


def familiarity(vectorizer: TfidfVectorizer, texts: Sequence[str]) -> np.ndarray:
    analyse, vocabulary = vectorizer.build_analyzer(), vectorizer.vocabulary_
    out = np.empty(len(texts), dtype=np.float64)
    for i, text in enumerate(texts):
        bigrams = {gram for gram in analyse(text) if len(gram) == 2}
        out[i] = sum(gram in vocabulary for gram in bigrams) / len(bigrams) if bigrams else 1.0
    return out


def weight(familiar: float, floor: float) -> float:
    return 1.0 if familiar >= floor else familiar


def gate(ranked: Ranked, familiar: float, floor: float) -> Ranked:
    w = weight(familiar, floor)
    return ranked if w == 1.0 else [(code, p * w) for code, p in ranked]
