"""Accounts and sign-in against real Kafka and Elasticsearch: the CLI's accounts reach the
API through people.users, tokens refresh, a disabled account stops at once, failed
sign-ins are limited, and the admin API makes accounts."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from cityctl import users
from cityctl.users import Seat
from cityops.contracts import Role
from cityops.kafka import ensure_topics
from services.api.settings import ApiSettings
from tests.conftest import Infra
from tests.people import ADMIN_TOKEN, PASSWORD, api_client, seed_people

pytestmark = pytest.mark.integration


@pytest.fixture
def api_settings(infra: Infra, prefix: str) -> ApiSettings:
    settings = ApiSettings(
        **infra.settings(prefix, admin_token=ADMIN_TOKEN, login_attempts=3)  # type: ignore[arg-type]
    )
    ensure_topics(settings, settings.topics.all())
    return settings


@pytest.fixture
def client(api_settings: ApiSettings) -> Iterator[TestClient]:
    with api_client(api_settings, who=None) as c:
        yield c


def eventually_signs_in(client: TestClient, user_id: str, password: str) -> dict[str, object]:
    """Waits until the API has read the account back from the topic (asking the admin API,
    so that no failed sign-in is spent), then signs in."""
    for _ in range(200):
        listed = client.get("/api/v1/users", headers={"X-Admin-Token": ADMIN_TOKEN})
        if listed.status_code == 200 and user_id in {u["user_id"] for u in listed.json()}:
            break
        time.sleep(0.05)
    r = client.post("/api/v1/auth/token", data={"username": user_id, "password": password})
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_a_cli_account_signs_in_refreshes_and_stops_when_disabled(
    client: TestClient, api_settings: ApiSettings
) -> None:
    seat = Seat("wang.fang", "王芳", Role.GRID_WORKER, town="nanhui_xincheng", grids=("g-1",))
    users.add(api_settings, seat, "Wangfang-2026")
    assert "wang.fang" in users.table(users.read_all(api_settings).values())
    tokens = eventually_signs_in(client, "wang.fang", "Wangfang-2026")
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    me = client.get("/api/v1/auth/me", headers=bearer).json()
    assert (me["role"], me["town"], me["grids"]) == ("grid_worker", "nanhui_xincheng", ["g-1"])
    fresh = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert fresh.status_code == 200 and fresh.json()["access_token"]
    users.set_disabled(api_settings, "wang.fang", True)
    for _ in range(100):  # takes effect on the first request after the API reads it
        if client.get("/api/v1/auth/me", headers=bearer).status_code == 401:
            break
        time.sleep(0.1)
    assert client.get("/api/v1/auth/me", headers=bearer).status_code == 401
    again = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert again.status_code == 401
    with pytest.raises(users.UsersError, match="已存在"):
        users.add(api_settings, seat, "Wangfang-2026")


def test_signing_out_everywhere_and_the_admins_forced_sign_out(
    client: TestClient, api_settings: ApiSettings
) -> None:
    """A person's 退出所有设备 ends every token they hold (the one used included); signing in
    again works. An admin's 强制下线 does the same to someone else."""
    seed_people(api_settings)
    phone = eventually_signs_in(client, "gw1", PASSWORD)
    laptop = eventually_signs_in(client, "gw1", PASSWORD)
    bearer = {"Authorization": f"Bearer {laptop['access_token']}"}
    assert client.post("/api/v1/auth/logout", headers=bearer).status_code == 204
    for tokens in (phone, laptop):
        me = client.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert me.status_code == 401 and "所有设备" in me.json()["detail"], me.text
        refresh = client.post(
            "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert refresh.status_code == 401, refresh.text
    again = eventually_signs_in(client, "gw1", PASSWORD)
    bearer = {"Authorization": f"Bearer {again['access_token']}"}
    assert client.get("/api/v1/auth/me", headers=bearer).status_code == 200
    admin = {"X-Admin-Token": ADMIN_TOKEN}
    forced = client.post("/api/v1/users/gw1/sign-out", headers=admin)
    assert forced.status_code == 200 and not forced.json()["disabled"], forced.text
    assert client.get("/api/v1/auth/me", headers=bearer).status_code == 401
    assert client.post("/api/v1/users/nobody.here/sign-out", headers=admin).status_code == 404
    assert client.post("/api/v1/auth/logout", headers=admin).status_code == 400  # no session
    latest = eventually_signs_in(client, "gw1", PASSWORD)
    bearer = {"Authorization": f"Bearer {latest['access_token']}"}
    users.sign_out(api_settings, "gw1")  # the CLI's, through people.users
    for _ in range(100):  # takes effect on the first request after the API reads it
        if client.get("/api/v1/auth/me", headers=bearer).status_code == 401:
            break
        time.sleep(0.1)
    assert client.get("/api/v1/auth/me", headers=bearer).status_code == 401


def test_failed_sign_ins_are_limited_with_retry_after(
    client: TestClient, api_settings: ApiSettings
) -> None:
    seed_people(api_settings)
    eventually_signs_in(client, "disp1", PASSWORD)  # read back by the API (one success)
    wrong = {"username": "disp1", "password": "not-the-password-1"}
    answers = [client.post("/api/v1/auth/token", data=wrong) for _ in range(4)]
    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    assert int(answers[-1].headers["retry-after"]) >= 1
    assert "次数过多" in answers[-1].json()["detail"]
    right = client.post("/api/v1/auth/token", data={"username": "disp1", "password": PASSWORD})
    assert right.status_code == 429  # the account waits, even with the right password


def test_the_admin_api_makes_accounts_and_refuses_bad_ones(client: TestClient) -> None:
    admin = {"X-Admin-Token": ADMIN_TOKEN}
    body = {
        "user_id": "roads.laogang",
        "name": "建设交通（老港）",
        "role": "department",
        "department": "roads_infrastructure",
        "town": "laogang",
        "password": "Roads-2026x",
    }
    for _ in range(100):  # 503 while the accounts are being read
        made = client.post("/api/v1/users", json=body, headers=admin)
        if made.status_code != 503:
            break
        time.sleep(0.1)
    assert made.status_code == 201, made.text
    assert "password" not in made.text and "argon2" not in made.text
    assert client.post("/api/v1/users", json=body, headers=admin).status_code == 409
    weak = client.post(
        "/api/v1/users", json={**body, "user_id": "x.weak", "password": "12345678"}, headers=admin
    )
    assert weak.status_code == 422 and "字母" in weak.json()["detail"]
    unbound = client.post(
        "/api/v1/users", json={**body, "user_id": "x.unbound", "town": None}, headers=admin
    )
    assert unbound.status_code == 422 and "town" in unbound.json()["detail"]
    tokens = eventually_signs_in(client, "roads.laogang", "Roads-2026x")
    assert tokens["user"]["department"] == "roads_infrastructure"  # type: ignore[index]
