"""deploy/elasticsearch: the services' least-privilege role, and the one-shot script that
creates it and their user, run against a recording HTTP server standing in for
Elasticsearch's security API."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

ROOT = Path(__file__).resolve().parents[2]
SETUP = ROOT / "deploy" / "elasticsearch"
ROLE = json.loads((SETUP / "cityops-role.json").read_text())


def test_the_role_reaches_only_cityops_indices() -> None:
    (grant,) = ROLE["indices"]
    assert grant["names"] == ["cityops-*"]
    assert set(grant["privileges"]) == {"create_index", "read", "write", "manage"}
    assert not grant["allow_restricted_indices"]
    # Read-only cluster info (ping) and the case index template; nothing that manages
    # the cluster, security or other indices.
    assert set(ROLE["cluster"]) == {"monitor", "manage_index_templates"}
    assert "run_as" not in ROLE and "applications" not in ROLE


class Recorder(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, Any]]] = []

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        auth = base64.b64decode(self.headers["Authorization"].split()[1]).decode()
        self.seen.append({"path": self.path, "auth": auth, "body": json.loads(body)})
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"created": true}')

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_es() -> Iterator[str]:
    Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is missing (make test-deps)")
def test_setup_creates_the_role_and_the_user(fake_es: str) -> None:
    tricky = 'p"a\\ss w0rd'
    result = subprocess.run(
        ["bash", str(SETUP / "setup-security.sh")],
        env={
            "PATH": "/usr/bin:/bin",
            "ES_URL": fake_es,
            "ELASTIC_PASSWORD": "super$ecret\\",
            "CITYOPS_ES_USERNAME": "cityops",
            "CITYOPS_ES_PASSWORD": tricky,
        },
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    role, user = Recorder.seen
    assert role["path"] == "/_security/role/cityops_service"
    assert role["body"] == ROLE
    assert user["path"] == "/_security/user/cityops"
    assert user["body"]["password"] == tricky
    assert user["body"]["roles"] == ["cityops_service"]
    assert {role["auth"], user["auth"]} == {"elastic:super$ecret\\"}
    assert tricky not in result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is missing (make test-deps)")
def test_setup_creates_grafanas_read_only_user_when_given_its_password(fake_es: str) -> None:
    result = subprocess.run(
        ["bash", str(SETUP / "setup-security.sh")],
        env={
            "PATH": "/usr/bin:/bin",
            "ES_URL": fake_es,
            "ELASTIC_PASSWORD": "super",
            "CITYOPS_ES_USERNAME": "cityops",
            "CITYOPS_ES_PASSWORD": "service-secret",
            "GRAFANA_ES_PASSWORD": "reader-secret",
        },
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    _, _, role, user = Recorder.seen
    assert role["path"] == "/_security/role/cityops_reader"
    privileges = {p for block in role["body"]["indices"] for p in block["privileges"]}
    assert privileges <= {"read", "view_index_metadata"}  # reads, never writes
    assert [i["names"] for i in role["body"]["indices"]] == [["cityops-*"]]
    assert user["path"] == "/_security/user/grafana"
    assert user["body"] == {
        "password": "reader-secret",
        "roles": ["cityops_reader"],
        "full_name": "Grafana case boards",
    }


def test_setup_refuses_to_run_without_its_passwords() -> None:
    result = subprocess.run(
        ["bash", str(SETUP / "setup-security.sh")],
        env={"PATH": "/usr/bin:/bin", "CITYOPS_ES_USERNAME": "cityops"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0 and "ELASTIC_PASSWORD" in result.stderr
