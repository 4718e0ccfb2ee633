"""The photo routes over HTTP: who may upload, who may see, and the body limit on uploads.

The app here is the photo package alone with the real auth dependencies; tokens map to
principals, and the cases are a dictionary (the access rule reads two methods of them).
"""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image

from cityops.contracts import Role
from services.api import photos, problems
from services.api.auth.principal import Principal
from services.api.auth.tokens import InvalidToken
from services.api.cases.models import ReportStatus
from services.api.limits import BodyLimit
from services.api.photos import PhotoRefused, PhotoService
from services.api.settings import ApiSettings

PEOPLE = {
    "gw1": Principal("u-gw1", Role.GRID_WORKER, grids=("g1",)),
    "gw2": Principal("u-gw2", Role.GRID_WORKER, grids=("g9",)),
    "dept": Principal("u-dept", Role.DEPARTMENT, department="D01", town="T1"),
    "dept-other": Principal("u-dept2", Role.DEPARTMENT, department="D01", town="T2"),
    "disp": Principal("u-disp", Role.DISPATCHER),
    "mgr": Principal("u-mgr", Role.MANAGER),
}
CASE = {"case_id": "LGAAAAAAAAAAAA", "state": "dispatched", "department": "D01", "town": "T1"}
MAX_PHOTO = 3 * 1024 * 1024


class Tokens:
    def verify(self, token: str, kind: str = "access") -> Principal:
        if token not in PEOPLE:
            raise InvalidToken("unknown")
        return PEOPLE[token]


class Cases:
    async def document(self, case_id: str) -> dict[str, Any] | None:
        return CASE if case_id == CASE["case_id"] else None

    async def report_status(self, report_id: str) -> ReportStatus | None:
        if report_id != "r-1":
            return None
        return ReportStatus(
            report_id="r-1", case_id=CASE["case_id"], state="dispatched", state_label="已派遣"
        )

    async def own_cases(self, principal: Principal) -> frozenset[str]:
        return frozenset()  # nobody here reported the case


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = ApiSettings(photo_dir=str(tmp_path / "photos"), photo_max_bytes=MAX_PHOTO)
    app = FastAPI()
    problems.install(app)
    app.add_middleware(BodyLimit, max_bytes=settings.api_max_body_bytes)
    photos.install(app, settings)
    app.state.verifier, app.state.admin_token, app.state.cases = Tokens(), None, Cases()

    @app.post("/api/v1/echo")
    async def echo(body: dict[str, Any]) -> dict[str, Any]:
        return body

    with TestClient(app) as c:
        yield c


def as_(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {who}"}


def png(size: tuple[int, int] = (40, 30), noise: bool = False) -> bytes:
    image = (
        Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
        if noise
        else Image.new("RGB", size, "blue")
    )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def upload(client: TestClient, who: str, data: bytes, name: str = "x.jpg") -> Any:
    files = {"file": (name, data, "image/jpeg")}
    return client.post("/api/v1/photos", files=files, headers=as_(who))


def test_an_upload_answers_the_photo_and_its_urls(client: TestClient) -> None:
    answer = upload(client, "gw1", png())
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["photo_id"].startswith("ph_") and body["content_type"] == "image/png"
    assert (body["width"], body["height"]) == (40, 30) and body["bytes"] > 0
    assert body["url"] == f"/api/v1/photos/{body['photo_id']}"
    assert body["thumb_url"] == body["url"] + "/thumb"
    got = client.get(body["url"], headers=as_("gw1"))
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    assert got.headers["cache-control"].startswith("private")
    thumb = client.get(body["thumb_url"], headers=as_("gw1"))
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"


def test_who_may_upload(client: TestClient) -> None:
    assert upload(client, "mgr", png()).status_code == 403
    assert client.post("/api/v1/photos", files={"file": ("a.png", png())}).status_code == 401
    for who in ("gw1", "dept", "disp"):
        assert upload(client, who, png()).status_code == 201, who


def test_not_an_image_is_415_with_a_reason(client: TestClient) -> None:
    answer = upload(client, "gw1", b"just text, though it says image/jpeg")
    assert answer.status_code == 415
    assert answer.headers["content-type"] == "application/problem+json"
    assert "JPEG" in answer.json()["detail"]


def test_an_upload_may_pass_the_api_body_limit_up_to_the_photo_limit(
    client: TestClient,
) -> None:
    big = png((700, 700), noise=True)  # ~1.4 MiB: over the 1 MiB API limit
    assert 1024 * 1024 < len(big) < MAX_PHOTO
    assert upload(client, "gw1", big).status_code == 201
    over = upload(client, "gw1", big * 3)
    assert over.status_code == 413 and over.json()["title"] == "请求过大"
    # every other route keeps the API's limit
    assert client.post("/api/v1/echo", json={"x": "a" * 1024 * 1024}).status_code == 413


def test_a_photo_is_seen_by_the_people_who_see_its_case(client: TestClient) -> None:
    url = upload(client, "gw1", png()).json()["url"]
    photo_id = url.rsplit("/", 1)[1]

    def status(who: str) -> int:
        return int(client.get(url, headers=as_(who)).status_code)

    # attached to nothing yet: its uploader and the staff who read everything
    assert [status(w) for w in ("gw1", "disp", "mgr", "gw2", "dept")] == [200, 200, 200, 404, 404]
    service: PhotoService = client.app.state.photos  # type: ignore[attr-defined]
    asyncio.run(service.claim([photo_id], PEOPLE["gw1"], report_id="r-1"))
    # the report became CASE, routed to D01 in T1
    assert [status(w) for w in ("dept", "dept-other", "gw2")] == [200, 404, 404]
    # an unknown id and a photo one may not see answer alike: ids cannot be probed
    unknown_id = "ph_" + "0" * 32
    unknown = client.get(f"/api/v1/photos/{unknown_id}", headers=as_("disp"))
    hidden = client.get(url, headers=as_("gw2"))
    assert unknown.json()["detail"] == f"照片 {unknown_id} 不存在"
    assert hidden.json()["detail"] == f"照片 {photo_id} 不存在"
    assert client.get("/api/v1/photos/ph_x", headers=as_("disp")).status_code == 422


def test_claims_only_of_ones_own_existing_photos(client: TestClient) -> None:
    service: PhotoService = client.app.state.photos  # type: ignore[attr-defined]
    mine = upload(client, "gw1", png()).json()["photo_id"]
    theirs = upload(client, "dept", png()).json()["photo_id"]
    with pytest.raises(PhotoRefused, match="不是您上传的"):
        asyncio.run(service.claim([mine, theirs], PEOPLE["gw1"], case_id=CASE["case_id"]))
    with pytest.raises(PhotoRefused, match="不存在"):
        asyncio.run(service.claim(["ph_" + "1" * 32], PEOPLE["gw1"]))
    with pytest.raises(PhotoRefused):
        asyncio.run(service.claim(["../etc/passwd"], PEOPLE["gw1"]))
    record = asyncio.run(service.record(mine))
    assert record is not None and record.case_id is None  # a refused claim changes nothing
    claimed = asyncio.run(service.claim([mine, mine], PEOPLE["gw1"], case_id=CASE["case_id"]))
    assert [r.photo_id for r in claimed] == [mine] and claimed[0].case_id == CASE["case_id"]


def test_the_public_surface() -> None:
    assert set(photos.__all__) == {
        "ImageRefused", "PhotoPublic", "PhotoRecord", "PhotoRefused", "PhotoService", "install",
    }  # fmt: skip
    assert issubclass(PhotoRefused, ValueError)
