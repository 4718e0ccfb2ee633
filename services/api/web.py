"""The screens: ``frontend/`` served as static files, its npm packages under ``/vendor/``.

``frontend/`` is a small project of its own (frontend/README.md): one folder per screen,
plain ES modules that import ``preact``, ``htm`` and ``leaflet`` through an import map,
and ``node_modules/`` installed from the npm registry by ``make install`` (never copied
into the repository). Nothing is built: what is in the folder is what the browser gets.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

import services

log = logging.getLogger(__name__)

FRONTEND = Path(services.__file__).resolve().parents[1] / "frontend"
SCREENS = {"app": "网格员", "console": "派遣台", "department": "处置部门"}
VENDOR = ("preact", "htm", "leaflet")


def frontend_root(setting: str | None) -> Path:
    """``CITYOPS_FRONTEND_DIR``, else the repository's ``frontend/`` (an editable install)."""
    return Path(setting) if setting else FRONTEND


def install(app: FastAPI, tile_url: str | None, root: Path = FRONTEND) -> None:
    modules = root / "node_modules"
    missing = [name for name in VENDOR if not (modules / name).is_dir()]
    if missing:
        log.error(
            "front-end packages missing: run `make install` (npm ci in frontend/)",
            extra={"missing": missing, "dir": str(modules)},
        )
    for name in VENDOR:
        if (modules / name).is_dir():
            app.mount(
                f"/vendor/{name}", StaticFiles(directory=modules / name), name=f"vendor-{name}"
            )
    app.mount("/shared", StaticFiles(directory=root / "shared"), name="shared")
    for screen in SCREENS:
        if (root / screen).is_dir():
            app.mount(f"/{screen}", StaticFiles(directory=root / screen, html=True), name=screen)

    config = json.dumps({"tileUrl": tile_url})

    @app.get("/config.js", include_in_schema=False)
    async def ui_config() -> Response:
        body = f"export const config = {config};\n"
        return Response(body, media_type="text/javascript", headers={"Cache-Control": "no-cache"})

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/console/")
