"""Hotspots: a place where the same problem keeps coming back. Pure.

A place is a watched asset (when the case's first source names one) or a unit grid cell,
with a class: ``E0503|grid:nanhui_xincheng-012`` or ``E0507|asset:JG-0042``. Every new case
(an ``opened`` event; not a source joining a case, which is the same problem again) counts
once at its place. When K or more cases of that place opened within the window, the place
is a hotspot: one proactive case ("近30天第4次道路积水：<place>") goes to the responsible
department. The next hotspot of the same place needs a window without one.

The state per place keeps the opening times of at most ``MAX_KEPT`` recent cases, the
hotspots raised, and when the last one was: bounded whatever the history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter

from cityops.contracts import (
    SYSTEM_ACTOR,
    CaseClassified,
    CaseSource,
    Classification,
    GeoPoint,
    SourceType,
)

MAX_KEPT = 32


class Opening(BaseModel):
    """A new case at a place (internal topic ``sensors.places``, keyed by ``place``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    place: str
    case_id: str
    category: str
    at: datetime
    location: GeoPoint
    town: str | None = None
    grid: str | None = None
    label: str  # the place as people name it: the address, the asset, or the grid


@dataclass(frozen=True, slots=True)
class PlaceState:
    opened: tuple[tuple[datetime, str], ...] = ()  # (opened at, case id), oldest first
    hotspots: int = 0
    last_hotspot_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Hotspot:
    place: str
    number: int  # hotspots of this place so far
    count: int  # cases at the place within the window
    at: datetime
    opening: Opening


_CODEC: TypeAdapter[PlaceState] = TypeAdapter(PlaceState)


def encode(state: PlaceState) -> bytes:
    return _CODEC.dump_json(state)


def decode(raw: bytes) -> PlaceState:
    return _CODEC.validate_json(raw)


def opening_of(raw: bytes) -> Opening | None:
    """The opening an encoded ``CaseEvent`` reports, if it is a new case with a place.

    Proactive cases (hotspots themselves) are not counted again."""
    try:
        event: dict[str, Any] = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if event.get("kind") != "opened" or not isinstance(event.get("data"), dict):
        return None
    source, cls = event["data"].get("source") or {}, event["data"].get("classification") or {}
    if source.get("source_type") == SourceType.PROACTIVE.value or not cls.get("category"):
        return None
    asset, grid = source.get("asset_id"), cls.get("grid")
    if asset:
        place, label = f"{cls['category']}|asset:{asset}", source.get("address") or f"部件 {asset}"
    elif grid:
        place, label = f"{cls['category']}|grid:{grid}", source.get("address") or f"网格 {grid}"
    else:
        return None
    try:
        return Opening(
            place=place,
            case_id=str(event["case_id"]),
            category=cls["category"],
            at=event["at"],
            location=source["location"],
            town=cls.get("town"),
            grid=grid,
            label=label,
        )
    except (KeyError, ValueError):
        return None


def observe(
    state: PlaceState, opening: Opening, k: int, window: timedelta
) -> tuple[PlaceState, Hotspot | None]:
    """Count ``opening`` at its place; a :class:`Hotspot` when it makes K within the window
    and the place has had none within the window."""
    if any(case_id == opening.case_id for _, case_id in state.opened):
        return state, None  # a redelivered event counts once
    kept = sorted([*state.opened, (opening.at, opening.case_id)])[-MAX_KEPT:]
    state = replace(state, opened=tuple(kept))
    since = opening.at - window
    count = sum(1 for at, _ in kept if since < at <= opening.at)
    recent = state.last_hotspot_at is not None and state.last_hotspot_at > since
    if count < k or recent:
        return state, None
    number = state.hotspots + 1
    state = replace(state, hotspots=number, last_hotspot_at=opening.at)
    return state, Hotspot(opening.place, number, count, opening.at, opening)


def text(hotspot: Hotspot, category_name: str, window: timedelta) -> str:
    days = window.total_seconds() / 86400
    span = f"{days:g}天" if days >= 1 else f"{window.total_seconds() / 3600:g}小时"
    return f"近{span}第{hotspot.count}次{category_name}：{hotspot.opening.label}"


def source(hotspot: Hotspot, category_name: str, window: timedelta) -> CaseSource:
    o = hotspot.opening
    return CaseSource(
        source_type=SourceType.PROACTIVE,
        source_id=f"hotspot:{hotspot.place}:{hotspot.number}",
        text=text(hotspot, category_name, window),
        location=o.location,
        category_hint=o.category,
        reporter=SYSTEM_ACTOR,
        asset_id=o.place.split("|asset:", 1)[1] if "|asset:" in o.place else None,
        occurred_at=hotspot.at,
        received_at=hotspot.at,
    )


def proactive_case(
    hotspot: Hotspot, classified_as: Classification, window: timedelta, now: datetime
) -> CaseClassified:
    """``classified_as``: the class at the place (:func:`alarms.classification_of`)."""
    src = source(hotspot, classified_as.category_name, window)
    return CaseClassified(source=src, classification=classified_as, classified_at=now)
