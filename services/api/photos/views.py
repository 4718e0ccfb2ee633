from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, HTTPException, Path, Request, UploadFile
from fastapi.responses import Response

from cityops.contracts import Role
from services.api.auth.deps import Caller, require
from services.api.auth.principal import Principal
from services.api.photos.access import may_view
from services.api.photos.images import JPEG, ImageRefused, too_large
from services.api.photos.models import PHOTO_ID_PATTERN, PhotoPublic
from services.api.photos.service import PhotoService

router = APIRouter(prefix="/api/v1", tags=["photos"])

Uploader = Annotated[
    Principal,
    Depends(require(Role.GRID_WORKER, Role.DEPARTMENT, Role.DISPATCHER, Role.ADMIN)),
]
PhotoId = Annotated[str, Path(pattern=PHOTO_ID_PATTERN, description="照片编号")]
CHUNK = 64 * 1024
# Private: a photo of a case is for the people who may see the case, not for shared caches.
CACHE = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}


def photo_service(request: Request) -> PhotoService:
    service: PhotoService = request.app.state.photos
    return service


Photos = Annotated[PhotoService, Depends(photo_service)]


@router.post("/photos", status_code=201, response_model=PhotoPublic, summary="上传照片")
async def upload(
    file: Annotated[UploadFile, File(description="JPEG、PNG 或 WebP 照片")],
    principal: Uploader,
    photos: Photos,
) -> PhotoPublic:
    try:
        data = await read_at_most(file, photos.max_bytes)
        record = await photos.upload(data, principal)
    except ImageRefused as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    return PhotoPublic.of(record)


@router.get("/photos/{photo_id}", summary="查看照片", response_class=Response)
async def photo(photo_id: PhotoId, principal: Caller, photos: Photos, request: Request) -> Response:
    return await serve(request, photos, principal, photo_id, thumb=False)


@router.get("/photos/{photo_id}/thumb", summary="查看照片缩略图", response_class=Response)
async def thumb(photo_id: PhotoId, principal: Caller, photos: Photos, request: Request) -> Response:
    return await serve(request, photos, principal, photo_id, thumb=True)


async def serve(
    request: Request, photos: PhotoService, principal: Principal, photo_id: str, thumb: bool
) -> Response:
    # Unknown and not-yours answer alike, so photo ids cannot be probed.
    record = await photos.record(photo_id)
    if record is None or not await may_view(request.app.state.cases, principal, record):
        raise HTTPException(404, f"照片 {photo_id} 不存在")
    content = await photos.content(record, thumb=thumb)
    if content is None:
        raise HTTPException(404, f"照片 {photo_id} 不存在")
    media_type = JPEG if thumb else record.content_type
    return Response(content, media_type=media_type, headers=CACHE)


async def read_at_most(file: UploadFile, max_bytes: int) -> bytes:
    """The upload's bytes, refused as soon as they pass ``max_bytes`` (not all read)."""
    parts: list[bytes] = []
    size = 0
    while chunk := await file.read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise too_large(max_bytes)
        parts.append(chunk)
    return b"".join(parts)
