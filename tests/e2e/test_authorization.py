"""The authorization matrix: every endpoint, asked by every role and by nobody, against the
whole system as processes. Exactly the intended ones get past sign-in and role checks (any
answer but 401/403; a 404 or 422 means the request reached the route's own logic).

The table is printed in docs/security.md; ``CITYOPS_WRITE_MATRIX=1`` rewrites it there."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from cityops.contracts import Role
from tests.e2e.conftest import Stack
from tests.people import ADMIN_TOKEN

pytestmark = pytest.mark.e2e

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"
START, END = "<!-- matrix:start -->", "<!-- matrix:end -->"
CALLERS = ("nobody", "grid_worker", "department", "dispatcher", "manager", "admin", "operator")
EVERYONE = frozenset(CALLERS)
PEOPLE = EVERYONE - {"nobody"}
STAFF = frozenset({"dispatcher", "manager", "admin", "operator"})
ADMINS = frozenset({"admin", "operator"})
REPORTERS = frozenset({"grid_worker", "dispatcher", "admin", "operator"})
ACTORS = frozenset({"grid_worker", "department", "dispatcher", "admin", "operator"})
UPLOADERS = frozenset({"grid_worker", "department", "dispatcher", "admin", "operator"})
NONE: frozenset[str] = frozenset()

CASE = "LGABCDEFGHIJKL"
PHOTO = "ph_" + "0" * 32
# (method, path) → who gets through. Every route of the OpenAPI document must be here.
EXPECTED: dict[tuple[str, str], frozenset[str]] = {
    ("POST", "/api/v1/auth/token"): EVERYONE,
    ("POST", "/api/v1/auth/refresh"): EVERYONE,
    ("GET", "/api/v1/auth/me"): PEOPLE,
    ("GET", "/api/v1/users"): ADMINS,
    ("POST", "/api/v1/users"): ADMINS,
    ("POST", "/api/v1/users/{user_id}/disable"): ADMINS,
    ("POST", "/api/v1/users/{user_id}/enable"): ADMINS,
    ("POST", "/api/v1/users/{user_id}/sign-out"): ADMINS,
    ("PUT", "/api/v1/users/{user_id}/password"): ADMINS,
    ("GET", "/api/v1/taxonomy"): PEOPLE,
    ("POST", "/api/v1/reports"): REPORTERS,
    ("GET", "/api/v1/reports/{report_id}"): PEOPLE,
    ("GET", "/api/v1/cases"): PEOPLE,
    ("GET", "/api/v1/cases/{case_id}"): PEOPLE,
    ("GET", "/api/v1/cases/{case_id}/timeline"): PEOPLE,
    ("GET", "/api/v1/cases/{case_id}/similar"): STAFF,
    ("POST", "/api/v1/cases/{case_id}/commands"): ACTORS,
    ("GET", "/api/v1/cases/{case_id}/commands/{command_id}"): PEOPLE,
    ("GET", "/api/v1/me/reports"): REPORTERS,
    ("GET", "/api/v1/me/tasks"): frozenset({"grid_worker"}),
    ("GET", "/api/v1/live/cases"): PEOPLE,
    ("GET", "/api/v1/hotspots"): STAFF,
    ("GET", "/api/v1/stats"): STAFF,
    ("GET", "/api/v1/geo/grids"): PEOPLE,
    ("GET", "/api/v1/overview/open-cases"): STAFF,
    ("GET", "/api/v1/devices"): STAFF,
    ("POST", "/api/v1/devices"): ADMINS,
    ("POST", "/api/v1/devices/import"): ADMINS,
    ("GET", "/api/v1/devices/{device_id}"): STAFF,
    ("DELETE", "/api/v1/devices/{device_id}"): ADMINS,
    ("POST", "/api/v1/gateways"): ADMINS,
    ("POST", "/api/v1/sensors/readings"): NONE,  # a device's or gateway's key, never a person
    ("POST", "/api/v1/photos"): UPLOADERS,
    ("GET", "/api/v1/photos/{photo_id}"): PEOPLE,
    ("GET", "/api/v1/photos/{photo_id}/thumb"): PEOPLE,
    # outside the OpenAPI document: probes, metrics and the screens' shells (no data in them)
    ("GET", "/healthz"): EVERYONE,
    ("GET", "/readyz"): EVERYONE,
    ("GET", "/metrics"): EVERYONE,
    ("GET", "/overview"): EVERYONE,
    ("GET", "/console/"): EVERYONE,
    ("GET", "/department/"): EVERYONE,
    ("GET", "/app/"): EVERYONE,
    # last: it ends the sessions the rows above use (the operator has none: 400)
    ("POST", "/api/v1/auth/logout"): PEOPLE,
}
VALUES = {
    "case_id": CASE,
    "report_id": "00000000-0000-0000-0000-000000000000",
    "command_id": "matrix-0000001",
    "device_id": "matrix-device",
    "user_id": "matrix-nobody",
    "photo_id": PHOTO,
}
ROLES = {
    "grid_worker": Role.GRID_WORKER,
    "department": Role.DEPARTMENT,
    "dispatcher": Role.DISPATCHER,
    "manager": Role.MANAGER,
    "admin": Role.ADMIN,
}


def credentials(stack: Stack, caller: str) -> dict[str, str]:
    if caller == "nobody":
        return {}
    if caller == "operator":
        return {"X-Admin-Token": ADMIN_TOKEN}
    return stack.auth(ROLES[caller])


def passes(
    client: httpx.Client, method: str, path: str, caller: str, headers: dict[str, str]
) -> bool:
    url = path.format(**VALUES)
    body: dict[str, object] | None = {} if method in ("POST", "PUT") else None
    if path.endswith("/auth/token"):  # a form, and a wrong password is the route's own 401
        form = {"username": f"matrix-{caller}", "password": "x"}  # one name each: the limit
        r = client.post(url, data=form, headers=headers)
        return r.status_code == 401 and "用户名或密码错误" in r.text
    if path.endswith("/sensors/readings"):  # well formed, so that only the key is judged
        body = {"readings": [{"device_id": "matrix-device"}]}
    with client.stream(method, url, json=body, headers=headers) as r:  # the feed never ends
        return r.status_code not in (401, 403)


def table(observed: dict[tuple[str, str], frozenset[str]]) -> str:
    head = "| 方法 | 路径 | " + " | ".join(CALLERS) + " |"
    rule = "|" + "---|" * (len(CALLERS) + 2)
    rows = [
        f"| {method} | `{path}` | " + " | ".join("✓" if c in who else "·" for c in CALLERS) + " |"
        for (method, path), who in observed.items()
    ]
    return "\n".join([head, rule, *rows])


def test_exactly_the_intended_callers_get_through(stack: Stack) -> None:
    with httpx.Client(base_url=stack.api_url, timeout=30) as client:
        documented = {
            (method.upper(), path)
            for path, ops in client.get("/openapi.json").json()["paths"].items()
            for method in ops
        }
        assert documented <= set(EXPECTED), (
            f"routes missing from the matrix: {documented - set(EXPECTED)}"
        )
        heads = {caller: credentials(stack, caller) for caller in CALLERS}
        observed = {
            key: frozenset(c for c in CALLERS if passes(client, *key, c, heads[c]))
            for key in EXPECTED
        }
    wrong = {
        f"{m} {p}": sorted(observed[(m, p)] ^ EXPECTED[(m, p)])
        for m, p in EXPECTED
        if observed[(m, p)] != EXPECTED[(m, p)]
    }
    assert not wrong, f"callers that differ from the intent: {wrong}"
    printed = table(observed)
    text = DOC.read_text()
    if os.environ.get("CITYOPS_WRITE_MATRIX") == "1":
        before, rest = text.split(START)
        DOC.write_text(f"{before}{START}\n{printed}\n{END}{rest.split(END)[1]}")
        text = DOC.read_text()
    assert f"{START}\n{printed}\n{END}" in text, (
        "docs/security.md's table is stale (CITYOPS_WRITE_MATRIX=1)"
    )
