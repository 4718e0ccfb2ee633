"""Photos kept by id: upload, read, and claim for a report or a case command.

Raises (all ``ValueError``):

    ImageRefused   the upload is not an image we keep (images.py; 413/415/422)
    PhotoRefused   a claimed id is unknown or was uploaded by someone else (422)
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime

from services.api.auth.principal import Principal
from services.api.photos import images
from services.api.photos.models import PhotoRecord, is_photo_id, new_photo_id
from services.api.photos.store import BlobStore

MAX_CLAIM = 20  # photos one report or command may carry


class PhotoRefused(ValueError):
    """A report or command names a photo it may not use; the message says which and why."""


class PhotoService:
    def __init__(
        self, store: BlobStore, max_bytes: int, max_pixels: int = images.MAX_PIXELS
    ) -> None:
        self.store, self.max_bytes, self.max_pixels = store, max_bytes, max_pixels

    async def upload(self, data: bytes, owner: Principal) -> PhotoRecord:
        """Checks, cleans and keeps ``data``; raises :class:`images.ImageRefused`."""
        # Pillow's decode and re-encode take tens of milliseconds: off the event loop
        cleaned = await asyncio.to_thread(images.clean, data, self.max_bytes, self.max_pixels)
        record = PhotoRecord(
            photo_id=new_photo_id(),
            owner=owner.user_id,
            content_type=cleaned.content_type,
            width=cleaned.width,
            height=cleaned.height,
            bytes=len(cleaned.data),
            created_at=datetime.now(UTC),
        )
        await self._put(f"{record.photo_id}.image", cleaned.data, cleaned.content_type)
        await self._put(f"{record.photo_id}.thumb", cleaned.thumb, images.JPEG)
        await self._save(record)  # last: a record exists only for a photo whose bytes do
        return record

    async def record(self, photo_id: str) -> PhotoRecord | None:
        if not is_photo_id(photo_id):
            return None
        raw = await asyncio.to_thread(self.store.get, f"{photo_id}.meta")
        return PhotoRecord.model_validate_json(raw) if raw is not None else None

    async def content(self, record: PhotoRecord, thumb: bool = False) -> bytes | None:
        kind = "thumb" if thumb else "image"
        return await asyncio.to_thread(self.store.get, f"{record.photo_id}.{kind}")

    async def claim(
        self,
        photo_ids: Iterable[str],
        principal: Principal,
        case_id: str | None = None,
        report_id: str | None = None,
    ) -> list[PhotoRecord]:
        """Attaches the photos to a case and/or report; only their uploader may.

        Every id is checked before any is changed, so a refused claim changes nothing.
        Claiming again for the same case or report is harmless (a retried request).
        """
        ids = list(dict.fromkeys(photo_ids))
        if len(ids) > MAX_CLAIM:
            raise PhotoRefused(f"一次最多附带 {MAX_CLAIM} 张照片")
        records = [await self._claimable(photo_id, principal) for photo_id in ids]
        for record in records:
            record.case_id = case_id or record.case_id
            record.report_id = report_id or record.report_id
            await self._save(record)
        return records

    async def _claimable(self, photo_id: str, principal: Principal) -> PhotoRecord:
        record = await self.record(photo_id)
        if record is None:
            raise PhotoRefused(f"照片 {photo_id} 不存在，请先上传照片")
        if record.owner != principal.user_id:
            raise PhotoRefused(f"照片 {photo_id} 不是您上传的，不能使用")
        return record

    async def _save(self, record: PhotoRecord) -> None:
        await self._put(
            f"{record.photo_id}.meta", record.model_dump_json().encode(), "application/json"
        )

    async def _put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self.store.put, key, data, content_type)
