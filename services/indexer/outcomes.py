"""What became of each command: the commands index, ``_id`` = ``{case_id}:{command_id}``.

One command can have several outcomes over time: ``unknown_case`` and later ``applied``
when it is resent once the case exists, ``applied`` and then ``duplicate`` for a resend.
The document keeps the most telling one: ``version`` ranks the statuses and writes use
``version_type=external_gte``, so a decision (applied, rejected) replaces ``unknown_case``
or ``duplicate``, a later decision replaces an earlier one (they arrive in order: one case,
one partition), and ``duplicate`` never hides the decision it repeats.
"""

from __future__ import annotations

from typing import Any

from cityops.contracts import CommandOutcome, OutcomeStatus

RANK = {
    OutcomeStatus.DUPLICATE: 1,
    OutcomeStatus.UNKNOWN_CASE: 2,
    OutcomeStatus.REJECTED: 3,
    OutcomeStatus.APPLIED: 3,
}


def version(outcome: CommandOutcome) -> int:
    return RANK[outcome.status]


def document(outcome: CommandOutcome) -> dict[str, Any]:
    doc = outcome.model_dump(mode="json", exclude={"schema_version"})
    doc["actor"] = outcome.actor.model_dump(mode="json", exclude_none=True)
    return doc
