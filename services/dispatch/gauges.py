"""The dispatch worker's figures for Prometheus, as plain functions over plain data.

The app (:mod:`services.dispatch.app`) feeds them and copies the results into its
metrics; they are tested here without a broker.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from cityops.contracts import CaseCommand, OpenCase, OutcomeStatus
from cityops.contracts.states import TERMINAL, CaseState
from services.dispatch.decision import Decision

OPEN_STATES: tuple[str, ...] = tuple(s.value for s in CaseState if s not in TERMINAL)


class OpenCases:
    """Open cases by state among the cases this worker owns: moved as cases change state,
    rebuilt from the table when it is recovered (after a start or a rebalance)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = dict.fromkeys(OPEN_STATES, 0)

    def rebuild(self, states: Iterable[str | None]) -> None:
        self.counts = dict.fromkeys(OPEN_STATES, 0)
        for state in states:
            if state in self.counts:
                self.counts[state] += 1

    def move(self, before: str | None, after: str | None) -> None:
        """A case went from ``before`` to ``after`` (None: it did not exist / is not ours)."""
        if before == after:
            return
        if before in self.counts:
            self.counts[before] = max(0, self.counts[before] - 1)
        if after in self.counts:
            self.counts[after] += 1


def stored_state(value: bytes) -> str | None:
    """The state of a case as stored in the table (its ``status`` field)."""
    status = json.loads(value).get("status")
    return status if isinstance(status, str) else None


def command_result(already_applied: bool, decision: Decision) -> OutcomeStatus:
    """What became of a command, in :class:`OutcomeStatus` terms, also for the system's
    own commands (which get no outcome record). ``already_applied``: the case remembered
    the command id before this decision."""
    if decision.case is None:
        return OutcomeStatus.UNKNOWN_CASE
    if already_applied:
        return OutcomeStatus.DUPLICATE
    if decision.rejected:
        return OutcomeStatus.REJECTED
    return OutcomeStatus.APPLIED


def report_to_case_s(command: CaseCommand, decision: Decision, now: datetime) -> float | None:
    """Seconds from a source's receipt to the case event that opened or joined it; None
    unless ``command`` is an open that produced events now (not a redelivery)."""
    body = command.body
    if not isinstance(body, OpenCase) or decision.rejected or not decision.events:
        return None
    return max(0.0, (now - body.source.received_at).total_seconds())
