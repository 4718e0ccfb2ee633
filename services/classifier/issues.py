"""Splitting a message that names several problems into candidate issues. Pure.

Letters to a message board often list several problems: numbered points (1、 2、,
（1）, ①), 一是/二是, 第一/第二, 首先/其次, or a new clause opening with 另外, 此外, 再者 or
最后, or a new sentence opening with 还有 or 同时. :func:`split` cuts the text where such a
marker opens a clause (at the start, or after punctuation or a space; for 还有 and 同时
only a sentence), so a marker inside a sentence (这一是…, 我还有…) is left alone.

What comes before the first marker is the first issue when it says something of its own
(门口路灯不亮。另外…), and only context when it introduces a list (存在以下问题：1、…), i.e.
when it ends with a colon; context is then put in front of every part, so each part keeps
the place and the title. A part shorter than :data:`MIN_CHARS` (after its marker) joins
the one before it. A message with one part comes back whole.

:func:`decide_parts` routes every part of the messages that have several, in one batch.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TypeVar

MIN_CHARS = 4

_CLAUSE = r"(?:^|(?<=[\s，。；;,!！?？：:]))"  # the start, or after punctuation or a space
_SENTENCE = r"(?:^|(?<=[\s。；;!！?？]))"  # the start, or after a sentence or a space
_MARKER = re.compile(
    _CLAUSE
    + r"(?:"
    + r"[1-9][、.．)）](?![0-9])"  # 1、 2. 3)
    + r"|[一二三四五六七八九十][是、]"  # 一是 二、
    + r"|第[一二三四五六七八九十][，,、:：是点]?"
    + r"|首先|其次|再次|再者|另外|此外|最后"
    + r")"
    # after a comma these usually go on with the same problem (…，同时影响休息)
    + r"|"
    + _SENTENCE
    + r"(?:还有|同时)"
    # bracketed and circled numbers mark a point wherever they stand
    + r"|[（(][1-9一二三四五六七八九十][）)]|[①②③④⑤⑥⑦⑧⑨⑩]"
)
_COLON = re.compile(r"[:：]\s*$")
_EDGE = " \t\r\n，,。；;、：:"

Decision = TypeVar("Decision")


def split(text: str) -> list[str]:
    """Candidate issues of ``text``, in order; ``[text]`` when it names one."""
    starts = [m.start() for m in _MARKER.finditer(text) if m.start() > 0 or m.end() < len(text)]
    if not starts or (len(starts) == 1 and starts[0] == 0):
        return [text]
    head = text[: starts[0]]
    pieces = [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]
    context = ""
    if _COLON.search(head):
        context = head.strip(_EDGE) + "："
    elif _substance(head):
        pieces.insert(0, head)
    parts: list[str] = []
    for piece in pieces:
        piece = piece.strip(_EDGE)
        if parts and not _substance(piece):
            parts[-1] = f"{parts[-1]}，{piece}".strip(_EDGE)
        elif piece:
            parts.append(piece)
    if len(parts) < 2:
        return [text]
    return [f"{context}{part}" for part in parts]


def _substance(piece: str) -> bool:
    """Whether a piece says more than its marker: at least MIN_CHARS other characters."""
    body = _MARKER.sub("", piece.strip(_EDGE), count=1)
    return len(body.strip(_EDGE)) >= MIN_CHARS


def decide_parts(
    decide: Callable[[list[str]], list[Decision]], texts: Sequence[str]
) -> list[list[tuple[str, Decision]]]:
    """For each text, its parts with their decisions when it has several, else []. One call
    of ``decide`` for all parts of all texts."""
    split_texts = [split(text) for text in texts]
    flat = [part for parts in split_texts if len(parts) > 1 for part in parts]
    decisions = iter(decide(flat) if flat else [])
    return [
        [(part, next(decisions)) for part in parts] if len(parts) > 1 else []
        for parts in split_texts
    ]
