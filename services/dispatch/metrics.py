"""The case figures moved to :mod:`cityops.figures` (one definition, on the ground floor).

Kept as a re-export for readers of the old path; new code imports ``cityops.figures``.
"""

from __future__ import annotations

from cityops.figures import (
    ALL,
    GROUP_BYS,
    STAGES,
    CaseTimeline,
    Entry,
    Figures,
    Group,
    GroupBy,
    StageTime,
    compute,
    from_document,
    group_key,
    on_time_rate,
)

__all__ = [
    "ALL",
    "GROUP_BYS",
    "STAGES",
    "CaseTimeline",
    "Entry",
    "Figures",
    "Group",
    "GroupBy",
    "StageTime",
    "compute",
    "from_document",
    "group_key",
    "on_time_rate",
]
