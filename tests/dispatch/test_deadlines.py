"""The deadline index: the timer sees only the cases due, each once per scheduled time."""

from __future__ import annotations

from datetime import datetime, timedelta

from cityops import taxonomy
from services.dispatch import escalation
from services.dispatch.case_ids import open_command
from services.dispatch.deadlines import DeadlineIndex
from services.dispatch.workflow import decide
from tests.dispatch.test_workflow import classified

TAX = taxonomy.load()
T0 = datetime.fromisoformat("2026-11-30T10:00:00+08:00")


def test_due_returns_only_what_is_due_in_time_order_and_forgets_rescheduled_entries() -> None:
    index = DeadlineIndex()
    for i in range(1000):
        index.schedule(f"c{i}", T0 + timedelta(minutes=i))
    index.schedule("c5", T0 + timedelta(days=1))  # moved later: its old entry must not fire
    index.schedule("c7", None)  # no clock any more
    due = index.due(T0 + timedelta(minutes=9))
    assert due == ["c0", "c1", "c2", "c3", "c4", "c6", "c8", "c9"]
    assert index.due(T0 + timedelta(minutes=9)) == []  # popped: each due once
    assert len(index) == 1000 - 8 - 1  # eight popped, c7 gone, c5 still scheduled


def test_stale_entries_do_not_pile_up() -> None:
    index = DeadlineIndex()
    for k in range(50):
        for i in range(100):
            index.schedule(f"c{i}", T0 + timedelta(minutes=k + i))
    assert len(index) == 100
    assert len(index._heap) <= 2 * 100 + 64  # compacted, not 5,000 entries


def test_next_check_is_the_warning_then_the_deadline_then_nothing() -> None:
    first = open_command(classified(abstained=False)).model_copy(update={"issued_at": T0})
    case = decide(None, first, TAX).case
    assert case is not None and case.clock is not None
    warn_at = escalation.next_check(case, 0.8, TAX)
    assert warn_at is not None and warn_at < case.clock.deadline
    assert escalation.due_alert(case, warn_at - timedelta(seconds=3), 0.8, TAX) is None
    alert = escalation.due_alert(case, warn_at, 0.8, TAX)
    assert alert is not None and alert.level == "warning"
    warned = decide(case, escalation.alert_command(case, alert, warn_at), TAX).case
    assert warned is not None
    assert escalation.next_check(warned, 0.8, TAX) == warned.clock.deadline  # type: ignore[union-attr]
    breach = escalation.due_alert(warned, warned.clock.deadline, 0.8, TAX)  # type: ignore[union-attr]
    assert breach is not None
    breached = decide(
        warned, escalation.alert_command(warned, breach, warned.clock.deadline), TAX
    ).case  # type: ignore[union-attr]
    assert breached is not None and escalation.next_check(breached, 0.8, TAX) is None


def test_a_restart_reads_the_stored_next_check_and_computes_it_for_older_records() -> None:
    first = open_command(classified(abstained=False)).model_copy(update={"issued_at": T0})
    case = decide(None, first, TAX).case
    assert case is not None
    expected = escalation.next_check(case, 0.8, TAX)
    older = case.model_dump_json(exclude={"next_check"}).encode()  # written before the field
    assert escalation.stored_next_check(older, 0.8, TAX) == expected
    # stored: read as written, not recomputed (a different value proves which one is used)
    stored = case.model_copy(update={"next_check": T0 + timedelta(days=9)})
    assert escalation.stored_next_check(
        stored.model_dump_json().encode(), 0.8, TAX
    ) == T0 + timedelta(days=9)
    none = case.model_copy(update={"next_check": None})
    assert escalation.stored_next_check(none.model_dump_json().encode(), 0.8, TAX) is None
