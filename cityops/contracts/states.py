"""The case states named in ``CaseEvent.state``, and their Chinese labels for screens."""

from __future__ import annotations

from enum import StrEnum


class CaseState(StrEnum):
    PENDING = "pending"  # 待立案: waiting for a dispatcher (the router was unsure)
    REGISTERED = "registered"  # 已立案, waiting to be dispatched (also after 退单)
    DISPATCHED = "dispatched"  # 已派遣, waiting for the department to accept
    IN_PROGRESS = "in_progress"  # 处置中
    DEFERRED = "deferred"  # 缓办: clock paused
    REPORTED_BACK = "reported_back"  # 已反馈, waiting for 核查
    VERIFIED = "verified"  # 核查通过, waiting for 结案
    CLOSED = "closed"  # 已结案
    INVALID = "invalid"  # 不予立案
    MERGED = "merged"  # 已合并 into another case


TERMINAL = frozenset({CaseState.CLOSED, CaseState.INVALID, CaseState.MERGED})

STATE_LABELS: dict[str, str] = {
    CaseState.PENDING: "待立案",
    CaseState.REGISTERED: "已立案",
    CaseState.DISPATCHED: "已派遣",
    CaseState.IN_PROGRESS: "处置中",
    CaseState.DEFERRED: "缓办",
    CaseState.REPORTED_BACK: "待核查",
    CaseState.VERIFIED: "核查通过",
    CaseState.CLOSED: "已结案",
    CaseState.INVALID: "不予立案",
    CaseState.MERGED: "已合并",
}


def label(state: str) -> str:
    return STATE_LABELS.get(state, state)
