"""The case states named in ``CaseEvent.state``, and their Chinese labels for screens."""

from __future__ import annotations

from enum import StrEnum


class CaseState(StrEnum):
    PENDING = "pending"  # 待立案: waiting for a dispatcher (the router was unsure)
    REGISTERED = "registered"  # 已立案
    DISPATCHED = "dispatched"  # 已派遣


STATE_LABELS: dict[str, str] = {
    CaseState.PENDING: "待立案",
    CaseState.REGISTERED: "已立案",
    CaseState.DISPATCHED: "已派遣",
}


def label(state: str) -> str:
    return STATE_LABELS.get(state, state)
