"""A device's incidents and their cases: which signal goes now, which waits. Pure.

An incident's case id is learned after the incident opens (:mod:`links`). A recovery or
relapse that happens before the link arrives is held in the condition's state
(:class:`Pending`, at most ``MAX_PENDING``) and sent when it does. A new incident number
forgets the previous incident's case: its source is a new one and will be linked anew.
"""

from __future__ import annotations

from dataclasses import replace

from services.sensors.links import Nudge
from services.sensors.state import MAX_PENDING, ConditionState, DeviceState, Pending


def forget_replaced(before: DeviceState, after: DeviceState) -> DeviceState:
    """``after``, with the case link dropped for every condition whose incident number
    moved on (a new incident opened: its case is not known yet)."""
    changed = {
        name: replace(cond, case_id=None, pending=())
        for name, cond in after.conditions.items()
        if cond.number != before.condition(name).number and cond.case_id is not None
    }
    if not changed:
        return after
    return replace(after, conditions={**after.conditions, **changed})


def hold_or_send(cond: ConditionState, signal: Pending) -> tuple[ConditionState, list[Pending]]:
    """Send ``signal`` now when the case is known; otherwise hold it (the oldest held
    signal gives way past ``MAX_PENDING``: the newest say what the sensor sees now)."""
    if cond.case_id is not None:
        return cond, [signal]
    held = (*cond.pending, signal)[-MAX_PENDING:]
    return replace(cond, pending=held), []


def link(cond: ConditionState, nudge: Nudge) -> tuple[ConditionState, list[Pending]]:
    """The condition once ``nudge`` names the case of its incident, and the held signals
    to send to it. A link for an older incident changes nothing; a link for the current
    one may move (a merge or a split moved the source to another case)."""
    if nudge.case_id is None or nudge.number != cond.number or cond.number == 0:
        return cond, []
    held = [p for p in cond.pending if p.number == cond.number]
    return replace(cond, case_id=nudge.case_id, pending=()), held
