"""Random command sequences through the state machine (hypothesis).

Every reachable state is valid, every rejected command says why and changes nothing but
the timeline, events are numbered without gaps, the read model agrees with the state
machine, and the metrics count each case in exactly one state.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from cityops import taxonomy
from cityops.contracts import CaseCommand, EventKind
from cityops.contracts.states import TERMINAL, CaseState
from services.api.stats.service import with_timeline
from services.dispatch import clocks, metrics
from services.dispatch.case_ids import open_command
from services.dispatch.escalation import alert_command, due_alert
from services.dispatch.sla import SHANGHAI
from services.dispatch.states import CaseRecord
from services.dispatch.workflow import decide
from services.indexer.document import fold_all
from tests.dispatch.builders import BODIES, DISPATCHER, GRID, cmd, dept
from tests.dispatch.test_workflow import classified

TAX = taxonomy.load()
T0 = datetime(2026, 9, 28, 9, 0, tzinfo=SHANGHAI)  # the week before National Day
ACTORS = {
    "dispatcher": DISPATCHER,
    "grid": GRID,
    "water": dept("water"),
    "roads": dept("roads_infrastructure"),
    "police": dept("police"),
}

steps = st.lists(
    st.tuples(
        st.sampled_from([*sorted(BODIES), "tick"]),
        st.sampled_from(sorted(ACTORS)),
        st.integers(min_value=0, max_value=72),  # hours since the previous step
        st.booleans(),  # with a reason
    ),
    max_size=25,
)


def play(abstained: bool, script: list[tuple[str, str, int, bool]]):  # type: ignore[no-untyped-def]
    first = open_command(classified(abstained=abstained)).model_copy(update={"issued_at": T0})
    d = decide(None, first, TAX)
    case, events, now = d.case, list(d.events), T0
    assert case is not None
    for name, who, hours, reason in script:
        now += timedelta(hours=hours)
        command: CaseCommand | None
        if name == "tick":
            alert = due_alert(case, now, 0.8, TAX)
            command = alert_command(case, alert, now) if alert else None
        else:
            command = cmd(
                case.case_id, BODIES[name](), ACTORS[who], at=now, reason="原因" if reason else None
            )
        if command is None:
            continue
        before = case
        d = decide(case, command, TAX)
        assert d.case is not None
        check_step(before, d, command)
        case = d.case
        events += d.events
    return case, events, now


def check_step(before: CaseRecord, d, command: CaseCommand) -> None:  # type: ignore[no-untyped-def]
    after = d.case
    assert after.status in set(CaseState)
    if d.rejected is not None:
        assert d.rejected.strip(), "a rejection must say why"
        assert after.status is before.status
        assert [e.kind for e in d.events] in ([], [EventKind.COMMAND_REJECTED])
    if before.status in TERMINAL:
        assert after.status is before.status, "nothing leaves a terminal state"
    if d.events:
        assert after.status.value == d.events[-1].state
    if after.status in TERMINAL - {CaseState.CLOSED}:
        assert after.clock is None
    if after.status is CaseState.DEFERRED:
        assert after.clock is None or after.clock.paused_remaining_h is not None
    redelivered = decide(after, command, TAX)
    assert redelivered.events == [] and redelivered.case == after


@settings(max_examples=300, deadline=None)
@given(abstained=st.booleans(), script=steps)
def test_random_command_sequences_keep_the_case_valid(abstained: bool, script) -> None:  # type: ignore[no-untyped-def]
    case, events, _ = play(abstained, script)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    doc = fold_all(None, events)
    assert doc is not None
    # the read model's deadline state is the worker's, whatever path the case took
    # (rework, resume, extension, reroute after a breach): one definition, carried by events
    assert doc["sla_state"] == clocks.sla_state(case)
    assert doc["department"] == case.department and doc["category"] == case.category
    assert doc["report_count"] == case.source_count


@settings(max_examples=60, deadline=None)
@given(scripts=st.lists(st.tuples(st.booleans(), steps), min_size=1, max_size=6))
def test_metrics_count_each_case_in_exactly_one_state(scripts) -> None:  # type: ignore[no-untyped-def]
    docs, finals, end = [], [], T0
    for i, (abstained, script) in enumerate(scripts):
        case, events, now = play(abstained, script)
        doc = fold_all(None, events)
        assert doc is not None
        docs.append({**doc, "case_id": f"{doc['case_id']}-{i}"})
        finals.append(case)
        end = max(end, now)
    end += timedelta(seconds=1)
    (group,) = metrics.compute([metrics.from_document(with_timeline(d)) for d in docs], T0, end)
    # expected figures come from the state machine's own cases, not from the documents
    expected = Counter(c.status.value for c in finals)
    assert {k: v for k, v in group.figures.states.items() if v} == dict(expected)
    assert group.figures.cases == len(finals)
    assert group.figures.closed == expected.get("closed", 0)
