"""Photos: upload, checks, thumbnails and access by case.

The report and command routes call :meth:`PhotoService.claim` (``app.state.photos``) with
the photo ids a request carries; it raises :class:`PhotoRefused` for an id that is unknown
or someone else's.
"""

from __future__ import annotations

from fastapi import FastAPI

from services.api.limits import allow_larger_body
from services.api.photos.images import ImageRefused
from services.api.photos.models import PhotoPublic, PhotoRecord
from services.api.photos.service import PhotoRefused, PhotoService
from services.api.photos.store import make_store
from services.api.photos.views import router
from services.api.settings import ApiSettings

__all__ = [
    "ImageRefused",
    "PhotoPublic",
    "PhotoRecord",
    "PhotoRefused",
    "PhotoService",
    "install",
]

MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around the one file


def install(app: FastAPI, settings: ApiSettings) -> None:
    """Adds the photo routes and ``app.state.photos``; uploads may pass the body limit."""
    app.state.photos = PhotoService(make_store(settings), settings.photo_max_bytes)
    allow_larger_body(app, "/api/v1/photos", settings.photo_max_bytes + MULTIPART_OVERHEAD)
    app.include_router(router)
