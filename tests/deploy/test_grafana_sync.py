"""``cityops grafana sync`` drives grafana-client against a small HTTP endpoint that records
what it is sent. No Grafana server can run here: this checks the calls and bodies the
client makes (folder looked up, created when missing, one POST per dashboard, the token
as a bearer), not Grafana's answers, which the endpoint only imitates in shape."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from cityctl import grafana
from cityctl.cli import main


class Recorder(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, str | None, Any]]

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _record(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.seen.append((self.command, self.path, self.headers.get("Authorization"), body))
        return body

    def do_GET(self) -> None:
        self._record()
        self._answer(404, {"message": "folder not found"})

    def do_POST(self) -> None:
        body = self._record()
        if self.path == "/api/folders":
            self._answer(200, {"uid": body["uid"], "title": body["title"]})
        else:
            uid = body["dashboard"]["uid"]
            self._answer(200, {"status": "success", "uid": uid, "url": f"/d/{uid}/x"})

    def log_message(self, *args: Any) -> None:  # keep the test output quiet
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[Any]]]:
    seen: list[Any] = []
    handler = type("Handler", (Recorder,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_sync_creates_the_folder_and_posts_every_dashboard(
    recorder: tuple[str, list[Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    url, seen = recorder
    assert main(["grafana", "sync", "--url", url, "--token", "sa-token"]) == 0
    assert [(m, p) for m, p, _, _ in seen[:2]] == [
        ("GET", "/api/folders/cityops"),
        ("POST", "/api/folders"),
    ]
    assert seen[1][3] == {"title": grafana.FOLDER, "uid": "cityops"}
    posted = [body for method, path, _, body in seen if path == "/api/dashboards/db"]
    assert posted == grafana.sync_payloads("cityops")
    assert {auth for _, _, auth, _ in seen} == {"Bearer sa-token"}
    assert capsys.readouterr().out.split() == [
        f"/d/{m['uid']}/x" for m in grafana.dashboards().values()
    ]
