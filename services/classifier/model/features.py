"""Text features that suit Chinese: character n-grams plus jieba words.

Character n-grams survive typos, homophones and missing spaces; words add the meaning of
multi-character terms. Both are TF-IDF with sublinear term frequency, so one repeated
word does not drown a message.
"""

from __future__ import annotations

import logging
import re

import jieba
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

jieba.setLogLevel(logging.WARNING)

_NOISE = re.compile(r"[\s\u3000]+")
_DIGITS = re.compile(r"\d+")


def normalise(text: str) -> str:
    """Lower-case, squeeze whitespace, and fold digit runs (house numbers carry no class)."""
    return _DIGITS.sub("0", _NOISE.sub(" ", text.lower())).strip()


def words(text: str) -> list[str]:
    return [w for w in jieba.lcut(text) if w.strip()]


def build_features(min_df: int = 2, max_features: int = 40_000) -> FeatureUnion:
    chars = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(1, 3),
        sublinear_tf=True,
        min_df=min_df,
        preprocessor=normalise,
        max_features=max_features,
        dtype=_float32(),
    )
    tokens = TfidfVectorizer(
        analyzer="word",
        tokenizer=words,
        preprocessor=normalise,
        token_pattern=None,
        ngram_range=(1, 2),
        sublinear_tf=True,
        min_df=min_df,
        max_features=max_features // 2,
        lowercase=False,
        dtype=_float32(),
    )
    return FeatureUnion([("chars", chars), ("words", tokens)])


def _float32() -> type:
    import numpy as np

    return np.float32
