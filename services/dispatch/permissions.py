"""Who may issue which command, and from which states. Data, checked by the workflow."""

from __future__ import annotations

from cityops.contracts import CommandKind, Role
from cityops.contracts.states import TERMINAL, CaseState

S = CaseState
OPEN_STATES = frozenset(CaseState) - TERMINAL
DISPATCHERS = frozenset({Role.DISPATCHER, Role.ADMIN})
DEPARTMENT = frozenset({Role.DEPARTMENT})
SYSTEM = frozenset({Role.SYSTEM})
DEVICES = frozenset({Role.DEVICE}) | SYSTEM

RULES: dict[CommandKind, tuple[frozenset[Role], frozenset[CaseState]]] = {
    CommandKind.REGISTER: (DISPATCHERS, frozenset({S.PENDING})),
    CommandKind.REJECT: (DISPATCHERS, frozenset({S.PENDING, S.REGISTERED})),
    CommandKind.DISPATCH: (DISPATCHERS, frozenset({S.PENDING, S.REGISTERED})),
    CommandKind.REROUTE: (DISPATCHERS, frozenset({S.DISPATCHED, S.IN_PROGRESS})),
    CommandKind.ACCEPT: (DEPARTMENT, frozenset({S.DISPATCHED})),
    CommandKind.RETURN: (DEPARTMENT, frozenset({S.DISPATCHED, S.IN_PROGRESS})),
    CommandKind.REQUEST_EXTENSION: (DEPARTMENT, frozenset({S.IN_PROGRESS})),
    CommandKind.DECIDE_EXTENSION: (DISPATCHERS, frozenset({S.IN_PROGRESS})),
    CommandKind.DEFER: (DISPATCHERS, frozenset({S.DISPATCHED, S.IN_PROGRESS})),
    CommandKind.RESUME: (DISPATCHERS, frozenset({S.DEFERRED})),
    CommandKind.REPORT_BACK: (DEPARTMENT, frozenset({S.IN_PROGRESS})),
    CommandKind.VERIFY: (DISPATCHERS | {Role.GRID_WORKER}, frozenset({S.REPORTED_BACK})),
    CommandKind.CLOSE: (DISPATCHERS, frozenset({S.VERIFIED})),
    CommandKind.MERGE: (DISPATCHERS, OPEN_STATES),
    CommandKind.SPLIT: (DISPATCHERS, OPEN_STATES),
    CommandKind.ATTACH: (SYSTEM | DISPATCHERS, frozenset(CaseState)),  # a merge's second half
    CommandKind.SLA_ALERT: (SYSTEM, OPEN_STATES - {S.DEFERRED}),
    # every state: on a closed case a relapse opens a follow-up case (sensing.sensor_signal)
    CommandKind.SENSOR_SIGNAL: (DEVICES, frozenset(CaseState)),
}

# Commands that need a reason, because the people who read the timeline will ask why.
NEEDS_REASON = frozenset(
    {
        CommandKind.REJECT,
        CommandKind.RETURN,
        CommandKind.DEFER,
        CommandKind.REROUTE,
        CommandKind.REQUEST_EXTENSION,
    }
)
