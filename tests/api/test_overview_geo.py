"""The overview map's outlines, without a server: simplified, rounded, closed rings for
every town and grid, small enough to send to a board."""

import json

from fastapi import FastAPI
from fastapi.testclient import TestClient
from shapely.geometry import Point, Polygon

from cityops import jurisdiction
from cityops.contracts import Role
from services.api.auth.deps import current_principal
from services.api.auth.principal import Principal
from services.api.overview.geo import outlines, simplified_ring
from services.api.overview.views import router


def test_a_ring_is_simplified_rounded_and_closed() -> None:
    circle = Point(121.9, 30.9).buffer(0.01, quad_segs=64)  # 257 points
    ring = simplified_ring(circle, tolerance=0.0005, digits=4)
    assert 8 < len(ring) < 64
    assert ring[0] == ring[-1]
    assert all(round(c, 4) == c for point in ring for c in point)
    assert abs(Polygon(ring).area - circle.area) / circle.area < 0.05


def test_a_polygon_smaller_than_the_tolerance_keeps_its_own_ring() -> None:
    tiny = Polygon([(121.9, 30.9), (121.90001, 30.9), (121.90001, 30.90001)])
    ring = simplified_ring(tiny, tolerance=0.01, digits=6)
    assert len(ring) == 4 and Polygon(ring).area > 0


def test_outlines_hold_every_town_and_grid_of_the_jurisdictions() -> None:
    places = jurisdiction.load()
    found = outlines(places)
    kinds = [(f["properties"]["kind"], f["properties"]["code"]) for f in found["features"]]
    assert sorted(c for k, c in kinds if k == "town") == sorted(places.towns)
    assert sorted(c for k, c in kinds if k == "grid") == sorted(places.grids)
    assert found["version"] == places.version
    for f in found["features"]:
        [ring] = f["geometry"]["coordinates"]
        assert ring[0] == ring[-1] and len(ring) >= 4
        assert f["properties"]["town"] in places.towns
    assert len(json.dumps(found, ensure_ascii=False)) < 200_000


def test_the_grids_endpoint_answers_geojson_with_a_cache_header() -> None:
    app = FastAPI()
    app.include_router(router)
    # who may call it is the authorization matrix's business (tests/e2e/test_authorization.py)
    app.dependency_overrides[current_principal] = lambda: Principal("gw", Role.GRID_WORKER)
    with TestClient(app) as client:
        answer = client.get("/api/v1/geo/grids")
        page = client.get("/overview")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/geo+json")
    assert "max-age" in answer.headers["cache-control"]
    assert answer.json()["type"] == "FeatureCollection"
    assert page.status_code == 200 and "管理总览" in page.text
