"""The live case feed (Server-Sent Events) for the screens."""

from __future__ import annotations

from fastapi import FastAPI

from services.api.settings import ApiSettings


def install(app: FastAPI, settings: ApiSettings) -> None:
    """Adds the live routes to ``app`` (being built by the live-feed work)."""
