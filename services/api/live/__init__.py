"""The live case feed (Server-Sent Events) for the screens.

``GET /api/v1/live/cases`` streams ``ready``, then ``case`` frames (a case summary, as in
the case list) for the cases the caller may see, ``ping`` every 15 s, and ``resync`` when
the client fell too far behind. One :class:`CaseFeed` per process reads the case index for
every subscriber (``app.state.live``).
"""

from __future__ import annotations

from fastapi import FastAPI

from services.api.live.feed import CaseFeed, CaseSource
from services.api.live.views import router
from services.api.settings import ApiSettings

__all__ = ["CaseFeed", "install"]


def install(app: FastAPI, settings: ApiSettings) -> None:
    """Adds the live routes and ``app.state.live`` (polling starts with the first client)."""

    def cases() -> CaseSource:
        source: CaseSource = app.state.cases  # made when the app starts (main.lifespan)
        return source

    app.state.live = CaseFeed(cases)
    app.include_router(router)
