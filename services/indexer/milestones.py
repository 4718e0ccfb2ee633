"""The bounded digest of a case's timeline that the case figures need. Pure.

``services/dispatch/metrics.py`` computes the figures of a window from each case's timeline
entries (kind, state, time, and a few data keys). The case document cannot hold the whole
timeline (it grows with every event), so it keeps this digest: one small entry per event
that can move a figure, at most ``MAX_MILESTONES`` of them. Past that, the first entry of
each kind is kept (first dispatch, first return, the opening, ...: the figures read them)
and the most recent entries fill the rest (the current state and clock). Only a case with
more than ``MAX_MILESTONES`` figure-moving events loses middle entries, and then only the
figures of windows in that middle can differ from those of the full timeline.
"""

from __future__ import annotations

from typing import Any

from cityops.contracts import CaseEvent, EventKind
from cityops.search import MAX_MILESTONES

Milestone = dict[str, Any]

# The data keys the figures read: the clock (stage, deadline), automatic dispatch, on time.
DATA_KEYS = ("stage", "deadline", "auto", "on_time")
# Events that never move a figure by themselves (the state is unchanged, no clock named).
# A sensor's signals are observations: the state changes they cause come as their own
# events (verified, closed, rework), and a flapping sensor must not crowd those out.
SILENT = frozenset(
    {EventKind.COMMAND_REJECTED, EventKind.SENSOR_VERIFIED, EventKind.SENSOR_RELAPSED}
)


def milestone(event: CaseEvent) -> Milestone:
    data = {k: event.data[k] for k in DATA_KEYS if k in event.data}
    return {
        "seq": event.seq,
        "kind": event.kind.value,
        "state": event.state,
        "at": event.at.isoformat(),
        "data": data,
    }


def add_milestone(milestones: list[Milestone], event: CaseEvent) -> list[Milestone]:
    """The digest with ``event`` in it (events arrive in ``seq`` order)."""
    if event.kind in SILENT and "stage" not in event.data:
        return milestones
    return bounded([*milestones, milestone(event)])


def bounded(milestones: list[Milestone]) -> list[Milestone]:
    if len(milestones) <= MAX_MILESTONES:
        return milestones
    firsts: dict[str, int] = {}
    for i, m in enumerate(milestones):
        firsts.setdefault(m["kind"], i)
    keep = set(firsts.values())
    room = MAX_MILESTONES - len(keep)
    for i in range(len(milestones) - 1, -1, -1):
        if room <= 0:
            break
        if i not in keep:
            keep.add(i)
            room -= 1
    return [m for i, m in enumerate(milestones) if i in keep]
