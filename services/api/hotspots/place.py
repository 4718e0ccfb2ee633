"""What a hotspot case says about its place, read back from its source. Pure.

The sensors service names a hotspot's source ``hotspot:<class>|grid:<grid>:<n>`` or
``hotspot:<class>|asset:<asset>:<n>`` and writes its text as "近30天第3次道路积水：<place>"
(``services/sensors/hotspots.py``); these functions undo exactly that and nothing more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SOURCE = re.compile(r"^hotspot:(?P<category>[^|]+)\|(?P<kind>grid|asset):(?P<id>.+):(?P<n>\d+)$")
_TEXT = re.compile(r"^近(?P<window>.+?)第(?P<count>\d+)次(?P<what>.+?)：(?P<label>.+)$", re.S)


@dataclass(frozen=True, slots=True)
class Place:
    category: str
    kind: str  # "grid" or "asset"
    id: str
    number: int  # the place's n-th hotspot


@dataclass(frozen=True, slots=True)
class Count:
    window: str  # "30天", "6小时"
    count: int  # cases at the place within the window
    label: str  # the place as people name it


def place_of(source_id: str) -> Place | None:
    found = _SOURCE.match(source_id)
    if found is None:
        return None
    return Place(found["category"], found["kind"], found["id"], int(found["n"]))


def count_of(text: str) -> Count | None:
    found = _TEXT.match(text.strip())
    if found is None:
        return None
    return Count(found["window"], int(found["count"]), found["label"].strip())
