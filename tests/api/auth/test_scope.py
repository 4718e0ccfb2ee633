"""What each role sees and may do: the Elasticsearch filter and the one-document predicate
must agree, and commands follow the role table."""

from __future__ import annotations

from typing import Any

from cityops.contracts import CommandKind, Role
from services.api.auth.principal import Principal
from services.api.auth.scope import can_see, case_filter, command_refusal

DEPT = Principal("d1", Role.DEPARTMENT, department="water", town="t1")
GW = Principal("g1", Role.GRID_WORKER, town="t1", grids=("t1-001",))
MANAGER = Principal("m1", Role.MANAGER)
DISPATCHER = Principal("p1", Role.DISPATCHER)

CASES = [
    {"case_id": "A", "department": "water", "town": "t1", "grid": "t1-001", "state": "dispatched"},
    {"case_id": "B", "department": "water", "town": "t2", "grid": "t2-001", "state": "dispatched"},
    {
        "case_id": "C",
        "department": "roads",
        "town": "t1",
        "grid": "t1-001",
        "state": "reported_back",
    },
    {
        "case_id": "D",
        "department": "roads",
        "town": "t1",
        "grid": "t1-009",
        "state": "reported_back",
    },
    {"case_id": "E", "department": "roads", "town": "t1", "grid": "t1-009", "state": "pending"},
]


def matches(clause: dict[str, Any], doc: dict[str, Any]) -> bool:
    """A tiny evaluator of the clause kinds case_filter uses (term, terms, ids, bool)."""
    kind, body = next(iter(clause.items()))
    if kind == "term":
        field, value = next(iter(body.items()))
        return doc.get(field) == value
    if kind == "terms":
        field, values = next(iter(body.items()))
        return doc.get(field) in values
    if kind == "ids":
        return doc["case_id"] in body["values"]
    if kind == "match_none":
        return False
    if kind == "bool":
        ok = all(matches(c, doc) for c in body.get("filter", []))
        should = body.get("should", [])
        return ok and (not should or any(matches(c, doc) for c in should))
    raise AssertionError(kind)


def seen(principal: Principal, own: frozenset[str] = frozenset()) -> set[str]:
    clauses = case_filter(principal, own)
    by_filter = {c["case_id"] for c in CASES if all(matches(q, c) for q in clauses)}
    by_predicate = {c["case_id"] for c in CASES if can_see(principal, c, own)}
    assert by_filter == by_predicate
    return by_filter


def test_each_role_sees_what_it_should() -> None:
    assert seen(MANAGER) == seen(DISPATCHER) == {"A", "B", "C", "D", "E"}
    assert seen(DEPT) == {"A"}  # its department, in its town only
    assert seen(GW) == {"C"}  # a verification task in its grid
    assert seen(GW, frozenset({"E"})) == {"C", "E"}  # and the case of its own report
    assert seen(Principal("x", Role.DEPARTMENT)) == set()


def test_commands_follow_the_role_table_and_the_scope() -> None:
    a, c, d = CASES[0], CASES[2], CASES[3]
    assert command_refusal(DEPT, CommandKind.ACCEPT, a) is None
    assert command_refusal(DEPT, CommandKind.DISPATCH, a) is not None
    assert command_refusal(DEPT, CommandKind.ACCEPT, CASES[1]) is not None  # other town
    assert command_refusal(MANAGER, CommandKind.CLOSE, a) is not None  # reads, never acts
    assert command_refusal(GW, CommandKind.VERIFY, c) is None
    assert command_refusal(GW, CommandKind.VERIFY, d) is not None  # not its grid
    assert command_refusal(GW, CommandKind.CLOSE, c) is not None
    assert command_refusal(DISPATCHER, CommandKind.MERGE, d) is None
