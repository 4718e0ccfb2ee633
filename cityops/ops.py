"""Health and metrics over HTTP for the processes that are not web servers themselves."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

HealthCheck = Callable[[], Awaitable[dict[str, object]]]


class HealthServer:
    """Serves ``/healthz`` (200 while ``check`` reports ok, else 503) and ``/metrics``."""

    def __init__(self, host: str, port: int, check: HealthCheck) -> None:
        self.host, self.port, self.check = host, port, check
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._health)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _health(self, _: web.Request) -> web.Response:
        report = await self.check()
        status = 200 if report.get("status") == "ok" else 503
        return web.json_response(report, status=status)

    async def _metrics(self, _: web.Request) -> web.Response:
        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})
