"""The accounts the tests sign in with: one per role, all with ``PASSWORD``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from fastapi.testclient import TestClient

from cityctl.users import Seat, seed
from cityops.contracts import Role
from cityops.settings import CommonSettings
from services.api.settings import ApiSettings

PASSWORD = "Cityops-e2e-1"
ADMIN_TOKEN = "e2e-operator-token-0123456789"
AUTH_SECRET = "e2e-token-secret-" + "0123456789" * 3
TOWN = "nanhui_xincheng"
# The department's seat is roads in Nanhui Xincheng; a test that needs another makes it
# through the admin API.
SEATS = {
    Role.ADMIN: Seat("admin1", "管理员甲", Role.ADMIN),
    Role.DISPATCHER: Seat("disp1", "派遣员甲", Role.DISPATCHER),
    Role.MANAGER: Seat("mgr1", "主任甲", Role.MANAGER),
    Role.GRID_WORKER: Seat(
        "gw1",
        "网格员甲",
        Role.GRID_WORKER,
        town=TOWN,
        grids=tuple(f"{TOWN}-{n:03d}" for n in range(1, 200)),
    ),
    Role.DEPARTMENT: Seat("dept1", "建设交通甲", Role.DEPARTMENT, "roads_infrastructure", TOWN),
}


def user_of(who: Role | str) -> str:
    return SEATS[who].user_id if isinstance(who, Role) else who


def seed_people(settings: CommonSettings) -> None:
    """Writes the seats to ``people.users`` (those not there yet)."""
    seed(settings, SEATS.values(), PASSWORD)


def sign_in(
    client: httpx.Client | TestClient, who: Role | str, timeout_s: float = 30
) -> dict[str, str]:
    """Headers of a signed-in ``who``. Waits while the API is still reading the accounts
    (503) or has not read this one yet (401)."""
    deadline = time.monotonic() + timeout_s
    while True:
        r = client.post("/api/v1/auth/token", data={"username": user_of(who), "password": PASSWORD})
        if r.status_code == 200:
            return {"Authorization": f"Bearer {r.json()['access_token']}"}
        if r.status_code not in (401, 503) or time.monotonic() > deadline:
            raise AssertionError(f"sign-in as {user_of(who)} failed: {r.status_code} {r.text}")
        time.sleep(0.2)


@contextmanager
def api_client(
    settings: ApiSettings, who: Role | str | None = Role.DISPATCHER
) -> Iterator[TestClient]:
    """An API (``create_app``) on ``settings`` with the seats seeded, signed in as ``who``
    (``None``: nobody)."""
    from services.api.main import create_app  # the API's imports are heavy: only when used

    if who is not None:
        seed_people(settings)
    with TestClient(create_app(settings)) as client:
        if who is not None:
            client.headers.update(sign_in(client, who))
        yield client
