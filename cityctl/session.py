"""Signed-in HTTP for the command-line tools and the demo's simulated people.

:class:`Session` is an httpx client signed in as one account, signing in again when its
token has expired. :class:`SimPeople` are the demo's simulated people: accounts made through
the admin API with the operator's token (``CITYOPS_ADMIN_TOKEN``), all with one password
derived from that token, so that a restarted simulator signs in to the accounts it made.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from typing import Any

import httpx

from cityctl.users import Seat
from cityops.contracts import Role

log = logging.getLogger(__name__)

HOTLINE = Seat("sim-hotline", "12345 话务员（模拟）", Role.DISPATCHER)
DISPATCHER = Seat("sim-dispatcher", "派遣员（模拟）", Role.DISPATCHER)


class SignInFailed(RuntimeError):
    pass


class Session:
    def __init__(self, client: httpx.Client, user_id: str, password: str) -> None:
        self.client, self.user_id, self._password = client, user_id, password
        self._token: str | None = None

    def _sign_in(self) -> None:
        r = self.client.post(
            "/api/v1/auth/token", data={"username": self.user_id, "password": self._password}
        )
        if r.status_code != 200:
            raise SignInFailed(f"sign-in as {self.user_id}: {r.status_code} {r.text[:200]}")
        self._token = r.json()["access_token"]

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        for attempt in range(2):
            if self._token is None:
                self._sign_in()
            headers = {**kwargs.pop("headers", {}), "Authorization": f"Bearer {self._token}"}
            r = self.client.request(method, path, headers=headers, **kwargs)
            if r.status_code != 401 or attempt:
                return r
            self._token = None  # expired: sign in again, once
        return r


def sim_password(admin_token: str) -> str:
    digest = hmac.new(admin_token.encode(), b"cityops-simulated-people", hashlib.sha256)
    return "Sim-" + digest.hexdigest()[:20]


class SimPeople:
    """The demo's simulated people, made on first use (a 409 means made before)."""

    def __init__(self, client: httpx.Client, admin_token: str) -> None:
        self.client, self.admin_token = client, admin_token
        self.password = sim_password(admin_token)
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def session(self, seat: Seat) -> Session:
        with self._lock:
            if seat.user_id not in self._sessions:
                self._ensure(seat)
                self._sessions[seat.user_id] = Session(self.client, seat.user_id, self.password)
            return self._sessions[seat.user_id]

    def _ensure(self, seat: Seat) -> None:
        body = {
            "user_id": seat.user_id,
            "name": seat.name,
            "role": seat.role.value,
            "password": self.password,
            "department": seat.department,
            "town": seat.town,
            "grids": list(seat.grids),
        }
        r = self.client.post(
            "/api/v1/users", json=body, headers={"X-Admin-Token": self.admin_token}
        )
        if r.status_code not in (201, 409):
            raise SignInFailed(f"cannot make {seat.user_id}: {r.status_code} {r.text[:200]}")

    def grid_worker(self, town: str, grids: tuple[str, ...]) -> Session:
        return self.session(
            Seat(f"sim-gw.{town}", "网格员（模拟）", Role.GRID_WORKER, town=town, grids=grids)
        )

    def department(self, department: str, town: str) -> Session:
        name = f"{department}（模拟）"
        return self.session(
            Seat(f"sim.{department}.{town}", name, Role.DEPARTMENT, department, town)
        )
