"""The API's request metrics: labelled by route template, bounded, counted whatever the answer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from services.api.limits import BodyLimit
from services.api.metrics import OTHER, RequestMetrics, method_label, route_label


def tiny_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(BodyLimit, max_bytes=1024)
    app.add_middleware(RequestMetrics)

    @app.get("/t/cases/{case_id}")
    async def case(case_id: str) -> dict[str, str]:
        if case_id == "missing":
            raise HTTPException(404, "no such case")
        return {"case_id": case_id}

    @app.post("/t/reports")
    async def report() -> dict[str, str]:
        return {}

    @app.get("/t/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    return app


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(tiny_app(), raise_server_exceptions=False) as c:
        yield c


def requests(route: str, method: str, status: str) -> float:
    labels = {"route": route, "method": method, "status": status}
    return REGISTRY.get_sample_value("cityops_http_requests_total", labels) or 0.0


def timed(route: str, method: str) -> float:
    labels = {"route": route, "method": method}
    return REGISTRY.get_sample_value("cityops_http_request_duration_seconds_count", labels) or 0.0


def test_a_path_with_an_id_counts_under_its_route_template(client: TestClient) -> None:
    before = requests("/t/cases/{case_id}", "GET", "200")
    timed_before = timed("/t/cases/{case_id}", "GET")
    for case_id in ("LG1", "LG2", "LG3"):
        assert client.get(f"/t/cases/{case_id}").status_code == 200
    assert requests("/t/cases/{case_id}", "GET", "200") == before + 3
    assert timed("/t/cases/{case_id}", "GET") == timed_before + 3
    assert (
        REGISTRY.get_sample_value(
            "cityops_http_requests_total",
            {"route": "/t/cases/LG1", "method": "GET", "status": "200"},
        )
        is None
    )


def test_error_answers_keep_their_route_and_status(client: TestClient) -> None:
    not_found = requests("/t/cases/{case_id}", "GET", "404")
    refused = requests("/t/cases/{case_id}", "DELETE", "405")
    crashed = requests("/t/boom", "GET", "500")
    assert client.get("/t/cases/missing").status_code == 404
    assert client.delete("/t/cases/x").status_code == 405
    assert client.get("/t/boom").status_code == 500
    assert requests("/t/cases/{case_id}", "GET", "404") == not_found + 1
    assert requests("/t/cases/{case_id}", "DELETE", "405") == refused + 1
    assert requests("/t/boom", "GET", "500") == crashed + 1


def test_a_body_refused_before_routing_still_has_its_route(client: TestClient) -> None:
    before = requests("/t/reports", "POST", "413")
    assert client.post("/t/reports", content=b"x" * 4096).status_code == 413
    assert requests("/t/reports", "POST", "413") == before + 1


def test_unmatched_paths_and_odd_methods_share_one_label(client: TestClient) -> None:
    before = requests(OTHER, "GET", "404")
    for n in range(5):
        assert client.get(f"/no/such/path/{n}").status_code == 404
    assert requests(OTHER, "GET", "404") == before + 5
    assert method_label("BREW") == OTHER
    assert method_label("PATCH") == "PATCH"


def test_route_label_reads_the_router_match_first() -> None:
    app = tiny_app()
    matched = {"type": "http", "path": "/x", "method": "GET", "route": app.routes[-1]}
    assert route_label(matched, app.routes) == "/t/boom"
    unrouted = {"type": "http", "path": "/t/cases/7", "method": "GET", "root_path": ""}
    assert route_label(unrouted, app.routes) == "/t/cases/{case_id}"
    nowhere = {"type": "http", "path": "/elsewhere", "method": "GET", "root_path": ""}
    assert route_label(nowhere, app.routes) == OTHER
