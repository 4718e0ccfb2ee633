from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from cityctl.processes import SERVICES, ServiceProcess, service_env, stop_together, wait_ready
from cityctl.users import seed
from cityops import standins
from cityops.contracts import Role
from cityops.provision import provision
from cityops.settings import CommonSettings
from tests.conftest import Infra
from tests.e2e.browser import chromium_path
from tests.people import ADMIN_TOKEN, AUTH_SECRET, PASSWORD, SEATS, user_of

pytestmark = pytest.mark.e2e


@dataclass
class Stack:
    api_url: str
    settings: CommonSettings
    processes: dict[str, ServiceProcess]
    log_dir: Path
    ports: dict[str, int]  # each service's health/metrics port (the API's is api_url's)
    _tokens: dict[str, str] = field(default_factory=dict)

    def token(self, who: Role | str) -> str:
        """An access token of the seeded account of role ``who`` (or of user id ``who``)."""
        user_id = user_of(who)
        if user_id not in self._tokens:
            r = httpx.post(
                f"{self.api_url}/api/v1/auth/token",
                data={"username": user_id, "password": PASSWORD},
                timeout=30,
            )
            r.raise_for_status()
            self._tokens[user_id] = r.json()["access_token"]
        return self._tokens[user_id]

    def auth(self, who: Role | str) -> dict[str, str]:
        """Headers for a request as ``who`` (a role's seeded account, or a user id)."""
        return {"Authorization": f"Bearer {self.token(who)}"}

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.log_path.read_text()[-3000:]}"
            for p in self.processes.values()
            if p.log_path.exists()
        )


@pytest.fixture
def stack(infra: Infra, prefix: str, tmp_path: Path) -> Iterator[Stack]:
    """The four services as separate processes, as in production, on fresh topics."""
    api_port = standins.free_port()
    ports = {
        "api": api_port,
        "classifier": standins.free_port(),
        "dispatch": standins.free_port(),
        "indexer": standins.free_port(),
        "sensors": standins.free_port(),
    }
    env = {
        "CITYOPS_KAFKA_BOOTSTRAP": infra.kafka.bootstrap,
        "CITYOPS_KAFKA_IDEMPOTENCE": str(infra.kafka.idempotence).lower(),
        "CITYOPS_ES_URL": infra.es_url,
        "CITYOPS_TOPIC_PREFIX": f"{prefix}.",
        "CITYOPS_INDEX_PREFIX": prefix,
        "CITYOPS_KAFKA_SESSION_TIMEOUT_MS": "6000",
        "CITYOPS_API_PORT": str(api_port),
        "CITYOPS_CLASSIFIER_HEALTH_PORT": str(ports["classifier"]),
        "CITYOPS_DISPATCH_WEB_PORT": str(ports["dispatch"]),
        "CITYOPS_INDEXER_HEALTH_PORT": str(ports["indexer"]),
        "CITYOPS_SENSORS_WEB_PORT": str(ports["sensors"]),
        "CITYOPS_SENSORS_DATA_DIR": str(tmp_path / "sensors"),
        "CITYOPS_SENSORS_HEARTBEAT_SCAN_S": "1",
        "CITYOPS_SENSORS_UNKNOWN_WAIT_S": "15",
        "CITYOPS_DISPATCH_DATA_DIR": str(tmp_path / "dispatch"),
        "CITYOPS_AUTH_SECRET": AUTH_SECRET,
        "CITYOPS_ADMIN_TOKEN": ADMIN_TOKEN,
        "CITYOPS_PHOTO_DIR": str(tmp_path / "photos"),
    }
    settings = CommonSettings(**infra.settings(prefix))  # type: ignore[arg-type]
    provision(settings)
    seed(settings, SEATS.values(), PASSWORD)
    procs = {
        name: ServiceProcess(name, service_env(env), tmp_path / "logs" / f"{name}.log")
        for name in SERVICES
    }
    for proc in procs.values():
        proc.start()
    wait_ready(f"http://127.0.0.1:{api_port}", timeout=90)
    stack = Stack(f"http://127.0.0.1:{api_port}", settings, procs, tmp_path / "logs", ports)
    try:
        yield stack
    finally:
        stop_together(list(procs.values()))


@pytest.fixture(scope="session")  # session: checked before the servers start
def browser_path() -> Path:
    """Debian's chromium for Playwright (tests/e2e/browser.py): a skip outside CI without
    it, a failure under ``CI=true``."""
    return chromium_path()
