"""A batch of commands being applied: the cases it changed and what each must send.

Commands of one batch are decided one after the other on the batch's working copies, so
two commands for one case in the same batch see each other's effect. A case's outbox holds
everything its commands of the batch send, in order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import faust

from cityops.tables import as_current
from services.dispatch.states import CaseRecord, Outgoing

__all__ = ["Batch", "as_current"]


@dataclass
class Batch:
    changed: dict[str, CaseRecord] = field(default_factory=dict)
    sends: dict[str, list[Outgoing]] = field(default_factory=dict)
    event_of: dict[str, faust.EventT] = field(default_factory=dict)
    loose: list[Outgoing] = field(default_factory=list)

    def case(self, case_id: str, table: Mapping[str, Any]) -> CaseRecord | None:
        """The batch's working copy of a case, else the table's."""
        if case_id in self.changed:
            return self.changed[case_id]
        stored = table.get(case_id)
        return CaseRecord.model_validate_json(stored) if stored else None

    def add_sends(self, case_id: str, sends: list[Outgoing]) -> None:
        self.sends.setdefault(case_id, []).extend(sends)
