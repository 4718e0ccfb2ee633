"""Signals wait for their case's id, then go; a new incident forgets the old case."""

from __future__ import annotations

from datetime import UTC, datetime

from services.sensors.casework import forget_replaced, hold_or_send, link
from services.sensors.links import Nudge
from services.sensors.state import MAX_PENDING, ConditionState, DeviceState, Pending

T = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)


def pending(number: int, signal: str = "recovered") -> Pending:
    return Pending(signal=signal, number=number, observed_at=T, text="积水深度 1.0 cm")


def nudge(number: int, case_id: str | None = "LG1") -> Nudge:
    return Nudge(
        kind="link", device_id="wl-1", condition="waterlogging", number=number, case_id=case_id
    )


def test_a_signal_waits_for_the_link_then_goes_to_the_linked_case() -> None:
    cond = ConditionState(number=1)
    cond, now = hold_or_send(cond, pending(1))
    assert now == [] and cond.pending == (pending(1),)
    cond, ready = link(cond, nudge(1))
    assert ready == [pending(1)] and cond.case_id == "LG1" and cond.pending == ()
    cond, now = hold_or_send(cond, pending(1, "relapsed"))
    assert now == [pending(1, "relapsed")]


def test_held_signals_are_bounded_and_keep_the_newest() -> None:
    cond = ConditionState(number=1)
    for i in range(MAX_PENDING + 3):
        cond, _ = hold_or_send(cond, pending(1, "recovered" if i % 2 else "relapsed"))
    assert len(cond.pending) == MAX_PENDING


def test_a_link_for_an_older_incident_changes_nothing() -> None:
    cond = ConditionState(number=2, pending=(pending(2),))
    assert link(cond, nudge(1)) == (cond, [])
    assert link(ConditionState(), nudge(0)) == (ConditionState(), [])


def test_a_moved_source_moves_the_link() -> None:
    cond, _ = link(ConditionState(number=1), nudge(1, "LG1"))
    cond, _ = link(cond, nudge(1, "LG7"))  # merged into LG7
    assert cond.case_id == "LG7"


def test_a_new_incident_forgets_the_previous_case() -> None:
    before = DeviceState("wl-1", {"waterlogging": ConditionState(number=1, case_id="LG1")})
    same = DeviceState("wl-1", {"waterlogging": ConditionState(number=1, case_id="LG1", open=True)})
    assert forget_replaced(before, same) is same
    moved = DeviceState(
        "wl-1", {"waterlogging": ConditionState(number=2, case_id="LG1", open=True)}
    )
    assert forget_replaced(before, moved).condition("waterlogging").case_id is None
