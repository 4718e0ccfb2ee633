"""Text features that suit Chinese: character unigrams and bigrams.

Character n-grams need no word segmenter and survive typos, homophones and missing
spaces; a bigram already spans most two-character words. TF-IDF with sublinear term
frequency, so one repeated word does not drown a message.

Trigrams and jieba words were tried and dropped for the taxonomy model: with about ten
examples a class they add many features seen once, which dilute the unigram and bigram
evidence after length normalisation (5-fold CV on the corpus, category level: char 1–2
0.68, char 1–3 0.63, char 1–3 + words 0.57 accuracy; see bench/README.md). A custom model
(a city's own, longer messages) may choose a second block of jieba words beside the
characters (:func:`build_words`) by inner cross-validation (``model/families.py``).
"""

from __future__ import annotations

import functools
import re
import unicodedata

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

_NOISE = re.compile(r"[\s\u3000]+")
_DIGITS = re.compile(r"\d+")


def normalise(text: str) -> str:
    """Fold full-width forms (NFKC), lower-case, squeeze whitespace, and fold digit runs
    (house numbers carry no class)."""
    text = unicodedata.normalize("NFKC", text).lower()
    return _DIGITS.sub("0", _NOISE.sub(" ", text)).strip()


# A salutation that opens a letter to officials (尊敬的领导您好, 书记好, 各位领导：…): it
# names no problem, and long letters to a message board often start with one.
_GREETING = re.compile(
    r"^(尊敬的)?(各位)?(领导|书记|市长|区长|县长|镇长|主任|局长|同志|工作人员|相关部门)?们?"
    r"(您好|你好|你们好|好)[,，:：!！。 ]*"
)
_LEAD_END = re.compile(r"[ ,，。!！?？;；]")


def normalise_lead(text: str) -> str:
    """:func:`normalise`, without an opening salutation, and with the lead (the title or
    first clause, which usually names the problem) written twice so it weighs more."""
    body = _GREETING.sub("", normalise(text))
    lead = _LEAD_END.split(body, maxsplit=1)[0]
    return f"{lead} {body}" if lead and lead != body else body


def build_features(min_df: int = 1, lead: bool = False) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char",
        ngram_range=(1, 2),
        sublinear_tf=True,
        min_df=min_df,
        preprocessor=normalise_lead if lead else normalise,
        dtype=np.float32,
    )


@functools.lru_cache(maxsize=65536)
def _segment(text: str) -> tuple[str, ...]:
    import jieba  # loads its dictionary (about a second) only when a word model is used

    jieba.setLogLevel(60)  # its "Building prefix dict" lines would go to stderr on every load
    return tuple(word for word in jieba.lcut(text) if word.strip())


def words(text: str) -> list[str]:
    """jieba words of an already normalised text (cached: inner cross-validation segments
    the same texts many times)."""
    return list(_segment(text))


def build_words(lead: bool = False) -> TfidfVectorizer:
    """jieba word unigrams, TF-IDF with sublinear term frequency, after :func:`normalise`
    (or :func:`normalise_lead`)."""
    return TfidfVectorizer(
        analyzer="word",
        tokenizer=words,
        token_pattern=None,
        lowercase=False,
        sublinear_tf=True,
        preprocessor=normalise_lead if lead else normalise,
        dtype=np.float32,
    )
