"""Which cases a principal sees, and which commands they may send: pure, no I/O.

- dispatcher, manager, admin: every case;
- department: the cases routed to its department in its town;
- grid worker: the cases of their own reports, and the cases in their grids that wait for
  on-site verification (核查), which are their tasks. Which cases hold their reports is
  read from the sources index (``reporter``), at most ``OWN_CASES`` of the latest, and
  passed in as ``own_cases``.

The same rule exists twice, as an Elasticsearch filter for lists (:func:`case_filter`) and
as a predicate on one document (:func:`can_see`); ``tests/api/test_scope.py`` keeps them
in step.
"""

from __future__ import annotations

from typing import Any

from cityops.contracts import CommandKind, Role
from services.api.auth.principal import Principal

VERIFY_STATE = "reported_back"
OWN_CASES = 500

# What each role may send at all; the workflow (services/dispatch/permissions.py) still
# decides from the case's state, and refuses with its reason.
COMMANDS_BY_ROLE: dict[Role, frozenset[CommandKind]] = {
    Role.DISPATCHER: frozenset(
        {
            CommandKind.REGISTER,
            CommandKind.REJECT,
            CommandKind.DISPATCH,
            CommandKind.REROUTE,
            CommandKind.DECIDE_EXTENSION,
            CommandKind.DEFER,
            CommandKind.RESUME,
            CommandKind.VERIFY,
            CommandKind.CLOSE,
            CommandKind.MERGE,
            CommandKind.SPLIT,
        }
    ),
    Role.DEPARTMENT: frozenset(
        {
            CommandKind.ACCEPT,
            CommandKind.RETURN,
            CommandKind.REQUEST_EXTENSION,
            CommandKind.REPORT_BACK,
        }
    ),
    Role.GRID_WORKER: frozenset({CommandKind.VERIFY}),
    Role.MANAGER: frozenset(),
}
COMMANDS_BY_ROLE[Role.ADMIN] = COMMANDS_BY_ROLE[Role.DISPATCHER]

Query = dict[str, Any]


def case_filter(principal: Principal, own_cases: frozenset[str] = frozenset()) -> list[Query]:
    """Elasticsearch ``filter`` clauses that keep only the cases ``principal`` sees."""
    if principal.reads_everything:
        return []
    if principal.role == Role.DEPARTMENT:
        return [
            {"term": {"department": principal.department or "-"}},
            {"term": {"town": principal.town or "-"}},
        ]
    if principal.role == Role.GRID_WORKER:
        mine: list[Query] = [{"ids": {"values": sorted(own_cases)}}] if own_cases else []
        if principal.grids:
            mine.append(
                {
                    "bool": {
                        "filter": [
                            {"term": {"state": VERIFY_STATE}},
                            {"terms": {"grid": list(principal.grids)}},
                        ]
                    }
                }
            )
        if not mine:
            return [{"match_none": {}}]
        return [{"bool": {"should": mine, "minimum_should_match": 1}}]
    return [{"match_none": {}}]


def can_see(
    principal: Principal, case: dict[str, Any], own_cases: frozenset[str] = frozenset()
) -> bool:
    """The same rule as :func:`case_filter`, on one case document."""
    if principal.reads_everything:
        return True
    if principal.role == Role.DEPARTMENT:
        return (
            principal.department is not None
            and case.get("department") == principal.department
            and case.get("town") == principal.town
        )
    if principal.role == Role.GRID_WORKER:
        if case.get("case_id") in own_cases:
            return True
        return case.get("state") == VERIFY_STATE and case.get("grid") in principal.grids
    return False


def command_refusal(
    principal: Principal,
    kind: CommandKind,
    case: dict[str, Any],
    own_cases: frozenset[str] = frozenset(),
) -> str | None:
    """Why ``principal`` may not send ``kind`` to ``case`` (``None``: they may)."""
    allowed = COMMANDS_BY_ROLE.get(principal.role, frozenset())
    if kind not in allowed:
        return f"角色 {principal.role.value} 不能执行 {kind.value}"
    if not can_see(principal, case, own_cases):
        return "无权操作此案件"
    if principal.role == Role.GRID_WORKER and case.get("grid") not in principal.grids:
        return "只能核查自己网格内的案件"
    return None
