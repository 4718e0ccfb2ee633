"""Router metrics and corpus diversity. Pure functions over plain lists."""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from typing import Any

from sklearn.metrics import accuracy_score, classification_report, f1_score


def scores(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    return {
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(float(f1_score(truth, predicted, average="macro", zero_division=0)), 4),
    }


def per_class(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    report: dict[str, Any] = classification_report(
        truth, predicted, output_dict=True, zero_division=0
    )
    return report


def distinct_ngrams(texts: Sequence[str], n: int) -> float:
    """Distinct character n-grams over all n-grams (distinct-n); higher is more varied."""
    total, seen = 0, set()
    for text in texts:
        grams = [text[i : i + n] for i in range(len(text) - n + 1)]
        total += len(grams)
        seen.update(grams)
    return round(len(seen) / total, 4) if total else 0.0


def diversity(texts: Sequence[str]) -> dict[str, Any]:
    lengths = sorted(len(t) for t in texts)

    def pct(p: float) -> int:
        return lengths[min(len(lengths) - 1, int(p * len(lengths)))]

    return {
        "texts": len(texts),
        "distinct_texts": len(set(texts)),
        "distinct_1": distinct_ngrams(texts, 1),
        "distinct_2": distinct_ngrams(texts, 2),
        "distinct_3": distinct_ngrams(texts, 3),
        "length": {
            "min": lengths[0],
            "p10": pct(0.1),
            "median": int(statistics.median(lengths)),
            "p90": pct(0.9),
            "max": lengths[-1],
            "mean": round(statistics.fmean(lengths), 1),
            "stdev": round(statistics.pstdev(lengths), 1),
        },
    }


# What real letters to a message board do that short written reports rarely do: open with a
# salutation, and name several problems (numbered points, 一是/二是, 另外/此外/还有).
_GREETING = re.compile(
    r"(尊敬的|领导|书记|市长|区长|主任|局长|同志)[^，,。]{0,6}(您好|你好|好)|^(您好|你好)"
)
_SEVERAL = re.compile(
    r"(^|[^0-9.])[1-9][、.．](?![0-9])|[一二三四五][是、]|另外|此外|还有|其次|同时"
)


# A title before the body (a message board's subject line, then a space), the writer saying
# who they are, and a named local place (a name, then 路/街/小区/村/镇…): any city's names.
_TITLE = re.compile(r"^\S{4,30} \S")
_SELF = re.compile(r"我是|我们是|本人|业主|居民|村民|家长")
_PLACE = re.compile(
    r"[\u4e00-\u9fff]{2,}(路|街|大道|弄|小区|花园|家园|佳园|苑|新村|村|镇|街道|公寓|广场|新城|园区)"
)


def _share(pattern: re.Pattern[str], texts: Sequence[str], head: int | None = None) -> float:
    return round(sum(bool(pattern.search(t[:head])) for t in texts) / (len(texts) or 1), 4)


def text_profile(texts: Sequence[str]) -> dict[str, Any]:
    """Length spread, and the share of texts with a salutation, naming several problems,
    opening with a title, saying who writes, or naming a local place."""
    return {
        "texts": len(texts),
        "length": diversity(texts)["length"] if texts else {},
        "greeting_share": _share(_GREETING, texts, 30),
        "several_issues_share": _share(_SEVERAL, texts),
        "title_share": _share(_TITLE, texts),
        "self_intro_share": _share(_SELF, texts),
        "place_share": _share(_PLACE, texts),
    }
