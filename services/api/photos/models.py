"""Photo ids, the stored record of a photo, and the API shape of an upload."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from pydantic import BaseModel

# The only names a photo ever has: generated here, never taken from the client's filename.
PHOTO_ID = re.compile(r"ph_[0-9a-f]{32}")
PHOTO_ID_PATTERN = f"^{PHOTO_ID.pattern}$"


def new_photo_id() -> str:
    return "ph_" + secrets.token_hex(16)


def is_photo_id(value: str) -> bool:
    return PHOTO_ID.fullmatch(value) is not None


class PhotoRecord(BaseModel):
    """What the store keeps beside a photo (a small JSON blob, ``<photo_id>.meta``)."""

    photo_id: str
    owner: str  # the uploader's user id
    content_type: str
    width: int
    height: int
    bytes: int
    created_at: datetime
    case_id: str | None = None
    report_id: str | None = None


class PhotoPublic(BaseModel):
    photo_id: str
    url: str
    thumb_url: str
    content_type: str
    width: int
    height: int
    bytes: int

    @classmethod
    def of(cls, record: PhotoRecord) -> PhotoPublic:
        url = f"/api/v1/photos/{record.photo_id}"
        return cls(
            photo_id=record.photo_id,
            url=url,
            thumb_url=f"{url}/thumb",
            content_type=record.content_type,
            width=record.width,
            height=record.height,
            bytes=record.bytes,
        )
