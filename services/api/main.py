"""``cityops serve api``: the HTTP API, the intake routes and the dispatcher console."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from cityops import jurisdiction, logs, taxonomy
from cityops.fetching import install_quiet_fetch
from cityops.kafka import BackgroundProducer, make_producer
from cityops.search import ReadModel, intake_index, make_async_client
from services.api import live, photos, problems, web
from services.api import metrics as api_metrics
from services.api.auth.accounts import Accounts, AccountService, accounts_feed
from services.api.auth.tokens import LocalVerifier, OidcVerifier, TokenIssuer, TokenVerifier
from services.api.auth.views import LoginGuard
from services.api.auth.views import router as auth_router
from services.api.cases.commands import CommandService
from services.api.cases.service import CaseService
from services.api.cases.views import router as cases_router
from services.api.catalogue import router as catalogue_router
from services.api.hotspots.views import router as hotspots_router
from services.api.limits import BodyLimit
from services.api.overview.views import router as overview_router
from services.api.reports import router as ingest_router
from services.api.sensors import views as sensor_views
from services.api.sensors.service import SensorServices
from services.api.settings import ApiSettings
from services.api.stats.service import StatsService
from services.api.stats.views import router as stats_router
from services.ingest.ledger import IntakeLedger
from services.ingest.service import IngestService

log = logging.getLogger(__name__)


def create_app(settings: ApiSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        producer = BackgroundProducer(make_producer(settings))
        es = make_async_client(settings)
        producer.start()  # connects in the background; intake answers 503 until then
        model = ReadModel(settings.index_prefix)
        app.state.ingest = IngestService(
            producer, settings.topics, IntakeLedger(es, intake_index(settings.index_prefix))
        )
        app.state.cases = CaseService(es, model, taxonomy.load(), jurisdiction.load())
        app.state.commands = CommandService(producer, settings.topics, app.state.cases)
        app.state.stats = StatsService(es, model.cases.alias, taxonomy.load(), jurisdiction.load())
        app.state.es = es
        app.state.producer = producer
        sensors = SensorServices.build(settings, producer)
        sensors.feed.start()  # reads the device registry; sensor routes answer 503 until read
        app.state.registry, app.state.sensor_intake = sensors.registry, sensors.intake
        app.state.admin_token = settings.admin_token
        accounts = Accounts()
        people = accounts_feed(settings, accounts)
        people.start()  # sign-in answers 503 until the accounts are read
        app.state.accounts, app.state.accounts_loaded = accounts, people.caught_up
        app.state.account_service = AccountService(producer, settings.topics, accounts)
        app.state.issuer, app.state.verifier = _identity(settings, accounts)
        app.state.login_guard = LoginGuard(settings.login_attempts, settings.login_window_s)
        lag = asyncio.ensure_future(api_metrics.export_lag(settings, settings.lag_scrape_s))
        log.info("service started", extra={"port": settings.api_port})
        try:
            yield
        finally:
            lag.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await lag
            await sensors.feed.stop()
            await people.stop()
            await producer.stop()  # flushes reports still in flight
            await es.close()
            log.info("service stopped")

    app = FastAPI(title="cityops 一网统管", version="1", lifespan=lifespan)
    problems.install(app)
    app.add_middleware(BodyLimit, max_bytes=settings.api_max_body_bytes)
    app.add_middleware(api_metrics.RequestMetrics)  # outermost: it also sees 413s
    app.include_router(auth_router)
    app.include_router(catalogue_router)
    app.include_router(ingest_router)
    app.include_router(cases_router)
    app.include_router(hotspots_router)
    app.include_router(stats_router)
    app.include_router(overview_router)
    sensor_views.install(app)
    photos.install(app, settings)
    live.install(app, settings)
    web.install(app, settings.map_tile_url, web.frontend_root(settings.frontend_dir))

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": "api"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        search_up = bool(await request.app.state.es.ping())
        kafka_up = request.app.state.producer.ready.is_set()
        ok = search_up and kafka_up
        return JSONResponse(
            {"status": "ok" if ok else "degraded", "elasticsearch": search_up, "kafka": kafka_up},
            status_code=200 if ok else 503,
        )

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app


def _identity(
    settings: ApiSettings, accounts: Accounts
) -> tuple[TokenIssuer | None, TokenVerifier]:
    """The local login's issuer and verifier, or an external OIDC provider's verifier."""
    if settings.oidc_issuer:
        jwks = (
            settings.oidc_jwks_url
            or settings.oidc_issuer.rstrip("/") + "/protocol/openid-connect/certs"
        )
        return None, OidcVerifier(settings.oidc_issuer, settings.oidc_audience, jwks)
    if settings.auth_secret is None:
        log.warning("CITYOPS_AUTH_SECRET unset: tokens are signed with a key of this process only")
        secret = secrets.token_bytes(32)
    else:
        secret = settings.auth_secret.get_secret_value().encode()
    issuer = TokenIssuer(secret, settings.access_token_ttl_s, settings.refresh_token_ttl_s)
    return issuer, LocalVerifier(secret, accounts)


def main(settings: ApiSettings | None = None) -> None:
    settings = settings or ApiSettings()
    logs.setup("api", settings.log_level)
    # the device directory's consumer is aiokafka's: without this an idle broker that
    # answers empty fetches at once keeps the API busy (see cityops/fetching.py)
    install_quiet_fetch()
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        timeout_graceful_shutdown=10,
    )
