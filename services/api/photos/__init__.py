"""Photos: upload, checks, thumbnails and access by case."""

from __future__ import annotations

from fastapi import FastAPI

from services.api.settings import ApiSettings


def install(app: FastAPI, settings: ApiSettings) -> None:
    """Adds the photo routes and ``app.state.photos`` (being built by the photo work)."""
